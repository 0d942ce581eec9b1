"""The /proc readings the storm scenarios rest on (bench/load/procs.py)."""

import os

from bench.load import procs


def test_parse_stat_counts_fields_after_the_last_parenthesis():
    # A command name with spaces and a parenthesis of its own, as a thread may have.
    line = ("4242 (python (x) y) S 17 4242 4242 0 -1 4194304 100 0 0 0 "
            f"{3 * procs.TICKS} {2 * procs.TICKS} 0 0 20 0 3 0 12345 1000 100")
    ppid, cpu = procs.parse_stat(line)
    assert ppid == 17
    assert cpu == 5.0


def test_parse_status_reads_sizes_in_bytes():
    text = "Name:\tpython\nVmHWM:\t  2048 kB\nVmRSS:\t  1024 kB\nThreads:\t3\n"
    got = procs.parse_status(text)
    assert got["VmRSS"] == 1024 * 1024
    assert got["VmHWM"] == 2048 * 1024
    assert "Threads" not in got


def test_this_process_is_in_its_own_tree_with_cpu_and_memory():
    me = os.getpid()
    assert me in procs.tree(os.getppid())
    snap = procs.snapshot([me])
    assert snap.rss_total > 1024 * 1024
    assert snap.cpu_total > 0


def test_cpu_between_counts_only_processes_alive_at_the_end():
    a = procs.Snapshot(cpu={1: 1.0, 2: 5.0}, rss={})
    b = procs.Snapshot(cpu={1: 1.5, 3: 0.25}, rss={})
    assert procs.cpu_between(a, b) == 0.75
