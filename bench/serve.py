"""Start kyoso the way the load tool does and keep it running (for profiling,
or to run several loadgen commands against one app with --url/--db-url).

    python -m bench.serve [--workdir /tmp/kyoso-bench] [--port 3200] [--redis auto --workers 2] [--db-url URL]
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.load import peek, procs, server  # noqa: E402


def main() -> int:
    p = argparse.ArgumentParser(prog="python -m bench.serve")
    p.add_argument("--workdir", default="/tmp/kyoso-bench")
    p.add_argument("--port", type=int, default=3200)
    p.add_argument("--redis", default=None, help="URL, or 'auto' to start redis-server on loopback")
    p.add_argument("--workers", type=int, default=1)
    p.add_argument("--db-url", default=None, help="kyoso's database (default: a SQLite file in --workdir)")
    p.add_argument("--app-python", default=None, help="the interpreter to run kyoso with")
    p.add_argument("--no-inspect", action="store_true",
                   help="without bench/load/inspect_site (loadgen's --url runs then cannot read the "
                        "worker's states and rooms)")
    p.add_argument("--app-env", action="append", default=[], metavar="KEY=VALUE")
    args = p.parse_args()
    server.raise_fd_limit()
    workdir = Path(args.workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    db_url = args.db_url or f"sqlite:///{workdir / 'kyoso.db'}"
    redis_proc = None
    redis = args.redis
    if redis == "auto":
        redis, redis_proc = server.start_redis(workdir)
    env = dict(kv.split("=", 1) for kv in args.app_env)
    if not args.no_inspect:
        env.update(peek.app_env(workdir / "inspect", {"PYTHONPATH": os.environ.get("PYTHONPATH", "")}))
    app = server.start_kyoso(db_url, workdir, port=args.port, redis=redis, workers=args.workers,
                             python=args.app_python, extra_env=env)
    print(f"kyoso at {app.url}  --db-url {db_url}  redis={redis or '-'}", flush=True)
    print(f"processes: {procs.Backend(app.pid or 0).describe()}", flush=True)
    stop = False

    def _stop(*_: object) -> None:
        nonlocal stop
        stop = True

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    try:
        while not stop and app.proc is not None and app.proc.poll() is None:
            time.sleep(0.5)
    finally:
        app.stop()
        if redis_proc is not None:
            redis_proc.terminate()
    return 0


if __name__ == "__main__":
    sys.exit(main())
