"""CPU time and memory of the app's processes, read from /proc.

psutil works too, but a storm's figures rest on a few numbers and /proc says
exactly what they are: ``utime + stime`` (fields 14 and 15 of
``/proc/<pid>/stat``, in clock ticks) and ``VmRSS`` / ``VmHWM`` of
``/proc/<pid>/status``. The process tree is read from every
``/proc/<pid>/stat``'s parent pid, so a child that exits between two readings
drops out without an error.

The app as the load tool starts it: ``python -m reflex run`` (the root) ->
``python -m gunicorn --preload …`` (the master, which imported kyoso) ->
one uvicorn worker per ``KYOSO_WORKERS``, forked from the master; a worker
may have children of its own (text extraction, PDF previews). The *backend
workers* are the gunicorn master's children.
"""

from __future__ import annotations

import time

import os
from dataclasses import dataclass
from pathlib import Path

PROC = Path("/proc")
TICKS = os.sysconf("SC_CLK_TCK")


def parse_stat(text: str) -> tuple[int, float]:
    """(parent pid, CPU seconds user+system) from a /proc/<pid>/stat line.

    The second field, the command name in parentheses, may hold spaces and
    parentheses itself: the fields are counted after the last ')'."""
    rest = text[text.rindex(")") + 2:].split()
    # rest[0] is field 3 (state); ppid is field 4, utime 14, stime 15.
    ppid = int(rest[1])
    utime, stime = int(rest[11]), int(rest[12])
    return ppid, (utime + stime) / TICKS


def parse_status(text: str) -> dict[str, int]:
    """VmRSS, VmHWM, … of a /proc/<pid>/status, in bytes."""
    out: dict[str, int] = {}
    for line in text.splitlines():
        key, _, value = line.partition(":")
        parts = value.split()
        if key.startswith("Vm") or key.startswith("Rss"):
            if len(parts) == 2 and parts[1] == "kB":
                out[key] = int(parts[0]) * 1024
    return out


def _read(pid: int, name: str) -> str | None:
    try:
        return (PROC / str(pid) / name).read_text()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None


def cmdline(pid: int) -> str:
    raw = _read(pid, "cmdline") or ""
    return raw.replace("\0", " ").strip()


def children_map() -> dict[int, list[int]]:
    kids: dict[int, list[int]] = {}
    for entry in PROC.iterdir():
        if not entry.name.isdigit():
            continue
        text = _read(int(entry.name), "stat")
        if text is None:
            continue
        try:
            ppid, _ = parse_stat(text)
        except (ValueError, IndexError):
            continue
        kids.setdefault(ppid, []).append(int(entry.name))
    return kids


def tree(root: int) -> list[int]:
    """``root`` and all its descendants alive now."""
    kids = children_map()
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo.extend(kids.get(pid, ()))
    return out


def cpu_seconds(pid: int) -> float | None:
    text = _read(pid, "stat")
    return None if text is None else parse_stat(text)[1]


def rss_bytes(pid: int) -> int | None:
    text = _read(pid, "status")
    return None if text is None else parse_status(text).get("VmRSS")


def backend_workers(root: int) -> list[int]:
    """The uvicorn workers of the app started as ``root``: the children of
    the gunicorn master (the process in the tree whose command line runs
    gunicorn and whose parent does not). Empty when there is no gunicorn
    (another server): then the caller measures the whole tree."""
    kids = children_map()
    pids = tree(root)
    for pid in pids:
        if "gunicorn" in cmdline(pid):
            parent = next((p for p, ks in kids.items() if pid in ks), None)
            if parent is None or "gunicorn" not in cmdline(parent):
                return sorted(k for k in kids.get(pid, ()) if "gunicorn" in cmdline(k))
    return []


@dataclass
class Snapshot:
    """CPU seconds and RSS per pid at one moment."""

    cpu: dict[int, float]
    rss: dict[int, int]

    @property
    def cpu_total(self) -> float:
        return sum(self.cpu.values())

    @property
    def rss_total(self) -> int:
        return sum(self.rss.values())


def snapshot(pids: list[int]) -> Snapshot:
    cpu, rss = {}, {}
    for pid in pids:
        c, r = cpu_seconds(pid), rss_bytes(pid)
        if c is not None:
            cpu[pid] = c
        if r is not None:
            rss[pid] = r
    return Snapshot(cpu, rss)


def cpu_between(a: Snapshot, b: Snapshot) -> float:
    """CPU seconds used between two snapshots by the processes alive at both
    (a process that started in between counts from zero; one that ended
    before ``b`` is lost, so measure long-lived processes)."""
    return sum(b.cpu[pid] - a.cpu.get(pid, 0.0) for pid in b.cpu)


class Backend:
    """The app's processes, found once its workers are up; readings of the
    workers (where the joins run) and of the whole tree."""

    def __init__(self, root: int) -> None:
        self.root = root
        self.workers = backend_workers(root)

    def all(self) -> list[int]:
        return tree(self.root)

    def measured(self) -> list[int]:
        self.refresh()
        return self.workers or self.all()

    def refresh(self) -> bool:
        """Find the workers again when one has ended (gunicorn replaces an
        idle worker that has grown: kyoso/ops/recycle.py). True if they changed."""
        if not self.workers or all(rss_bytes(p) is not None for p in self.workers):
            return False
        found = backend_workers(self.root)
        for _ in range(40):  # the arbiter starts the new one within a second or so
            if len(found) >= len(self.workers):
                break
            time.sleep(0.25)
            found = backend_workers(self.root)
        changed = found != self.workers
        self.workers = found
        return changed

    def snap(self) -> Snapshot:
        return snapshot(self.all())

    def worker_rss(self, snap: Snapshot) -> int:
        return sum(snap.rss.get(p, 0) for p in self.measured())

    def describe(self) -> str:
        roles = []
        for pid in self.all():
            cmd = cmdline(pid)
            role = "worker" if pid in self.workers else (
                "gunicorn master" if "gunicorn" in cmd else
                "reflex run" if pid == self.root else "child")
            roles.append(f"{role} {pid}")
        return ", ".join(roles)


def pid_on_port(port: int) -> int | None:
    """The process listening on a TCP port (for an app given by --url), via
    /proc/net/tcp and the fds of the processes we may read."""
    inodes = set()
    for table in ("tcp", "tcp6"):
        text = _read_path(PROC / "net" / table) or ""
        for line in text.splitlines()[1:]:
            f = line.split()
            if len(f) > 9 and f[3] == "0A" and int(f[1].rsplit(":", 1)[1], 16) == port:
                inodes.add(f[9])
    if not inodes:
        return None
    for entry in PROC.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            for fd in (entry / "fd").iterdir():
                link = os.readlink(fd)
                if link.startswith("socket:[") and link[8:-1] in inodes:
                    return int(entry.name)
        except (FileNotFoundError, PermissionError, ProcessLookupError, NotADirectoryError):
            continue
    return None


def _read_path(path: Path) -> str | None:
    try:
        return path.read_text()
    except (FileNotFoundError, PermissionError):
        return None


def parent(pid: int) -> int | None:
    text = _read(pid, "stat")
    return None if text is None else parse_stat(text)[0]


def app_root(port: int) -> int | None:
    """For an app given by --url: the top of the process tree serving
    ``port`` (``reflex run`` above the gunicorn master), or None."""
    pid = pid_on_port(port)
    while pid is not None:
        up = parent(pid)
        if up is None or up <= 1 or not any(w in cmdline(up) for w in ("reflex", "gunicorn")):
            return pid
        pid = up
    return None
