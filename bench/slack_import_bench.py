"""Time ``kyoso import slack`` on a generated export.

    python -m bench.slack_import_bench EXPORT [--db URL] [--fresh] [--profile] [--probe]

Prints the time, messages per second and the peak memory (RSS) of the
import, then the row counts. ``--fresh`` migrates an empty SQLite file next to
the export (or empties a PostgreSQL database) first. ``--probe`` runs, in
another process during the import, what a member's browser makes the app do
every 200 ms: open a channel's newest page (a read) and post a message (a
write), and prints their latencies.
"""

from __future__ import annotations

import argparse
import cProfile
import multiprocessing as mp
import pstats
import resource
import sys
import time
from pathlib import Path

import sqlalchemy as sa

from kyoso.db import get_engine
from kyoso.migrate import upgrade
from kyoso.services.slack_import import Options, run_import


def _probe(url: str, stop: mp.synchronize.Event, out: mp.Queue) -> None:  # type: ignore[name-defined]
    """In a spawned process (its own engine and caches): imports kept here."""
    from kyoso.db import read_scope, session_scope
    from kyoso.models import Channel, User
    from kyoso.services import messages
    from sqlmodel import select

    reads: list[float] = []
    writes: list[float] = []
    while not stop.is_set():
        t0 = time.perf_counter()
        with read_scope(url) as session:
            user = session.exec(select(User).where(User.email == "probe@city.sapporo.lg.jp")).one()
            channel = session.exec(select(Channel).where(Channel.slug == "probe")).one()
            messages.channel_page(session, user, channel.id or 0, limit=30)
        t1 = time.perf_counter()
        with session_scope(url) as session:
            user = session.exec(select(User).where(User.email == "probe@city.sapporo.lg.jp")).one()
            messages.post_message(session, user, channel.id or 0, "取り込み中の投稿です", rate_limited=False)
        t2 = time.perf_counter()
        reads.append((t1 - t0) * 1000)
        writes.append((t2 - t1) * 1000)
        time.sleep(0.2)
    out.put((reads, writes))


def _pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * p))] if values else 0.0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("export", type=Path)
    ap.add_argument("--db", default="")
    ap.add_argument("--fresh", action="store_true")
    ap.add_argument("--profile", action="store_true")
    ap.add_argument("--batch", type=int, default=0)
    ap.add_argument("--probe", action="store_true")
    a = ap.parse_args()
    url = a.db or f"sqlite:///{a.export.parent / 'bench.db'}"
    if a.fresh:
        if url.startswith("sqlite"):
            path = Path(sa.engine.make_url(url).database or "")
            for suffix in ("", "-wal", "-shm"):
                Path(str(path) + suffix).unlink(missing_ok=True)
        else:
            with get_engine(url).begin() as conn:
                conn.execute(sa.text("DROP SCHEMA public CASCADE; CREATE SCHEMA public;"))
        upgrade(url)
    engine = get_engine(url)
    probe = None
    if a.probe:
        from kyoso.db import session_scope
        from kyoso.services import accounts, channels

        with session_scope(url) as session:
            accounts.create_user(session, email="probe@city.sapporo.lg.jp", password="probe-password-1",
                                 name="計測 用", org_code="011002")
            channels.create_channel_unchecked(session, slug="probe", name="計測")
        ctx = mp.get_context("spawn")
        stop, queue = ctx.Event(), ctx.Queue()
        probe = ctx.Process(target=_probe, args=(url, stop, queue))
        probe.start()
        time.sleep(3)
    options = Options()
    if a.batch:
        options.batch = a.batch
    profiler = cProfile.Profile() if a.profile else None
    start = time.perf_counter()
    if profiler:
        profiler.enable()
    report = run_import(engine, str(a.export), options)
    if profiler:
        profiler.disable()
    seconds = time.perf_counter() - start
    if probe is not None:
        stop.set()
        reads, writes = queue.get()
        probe.join()
        print(f"during the import: {len(reads)} page reads p50={_pct(reads, .5):.0f} p95={_pct(reads, .95):.0f} "
              f"max={max(reads):.0f} ms; posts p50={_pct(writes, .5):.0f} p95={_pct(writes, .95):.0f} "
              f"max={max(writes):.0f} ms")
    usage = resource.getrusage(resource.RUSAGE_SELF)
    peak_mib, cpu = usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime
    n = report.new_messages
    print(f"engine={engine.dialect.name} messages={report.messages:,} written={n:,} "
          f"seconds={seconds:,.1f} cpu={cpu:,.1f}s messages/s={n / seconds if seconds else 0:,.0f} peak_rss={peak_mib:,.0f} MiB "
          f"warnings={len(report.warnings)}")
    with engine.connect() as conn:
        for table in ("message", "stamp", "search_doc", "membership", "user", "slack_import_message"):
            count = conn.execute(sa.text(f'SELECT count(*) FROM "{table}"')).scalar_one()
            print(f"  {table}: {count:,}")
    if profiler:
        pstats.Stats(profiler, stream=sys.stdout).sort_stats("cumulative").print_stats(35)


if __name__ == "__main__":
    main()
