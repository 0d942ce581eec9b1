"""Time ``kyoso import slack`` on a generated export.

    python -m bench.slack_import_bench EXPORT [--db URL] [--fresh] [--profile]

Prints the time, messages per second and the peak memory (RSS) of the
import, then the row counts. ``--fresh`` migrates an empty SQLite file next to
the export (or empties a PostgreSQL database) first.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import resource
import sys
import time
from pathlib import Path

import sqlalchemy as sa

from kyoso.db import get_engine
from kyoso.migrate import upgrade
from kyoso.services.slack_import import Options, run_import


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("export", type=Path)
    ap.add_argument("--db", default="")
    ap.add_argument("--fresh", action="store_true")
    ap.add_argument("--profile", action="store_true")
    ap.add_argument("--batch", type=int, default=0)
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
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    n = report.new_messages
    print(f"engine={engine.dialect.name} messages={report.messages:,} written={n:,} "
          f"seconds={seconds:,.1f} messages/s={n / seconds if seconds else 0:,.0f} peak_rss={peak_mib:,.0f} MiB "
          f"warnings={len(report.warnings)}")
    with engine.connect() as conn:
        for table in ("message", "stamp", "search_doc", "membership", "user", "slack_import_message"):
            count = conn.execute(sa.text(f'SELECT count(*) FROM "{table}"')).scalar_one()
            print(f"  {table}: {count:,}")
    if profiler:
        pstats.Stats(profiler, stream=sys.stdout).sort_stats("cumulative").print_stats(35)


if __name__ == "__main__":
    main()
