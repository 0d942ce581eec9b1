"""Losing a node: kill -9 one of two kyoso nodes behind nginx while N headless
clients sit in one channel, spread over both; measure how long until every
client of the dead node is back (reconnected through nginx to the other
node, its page loaded again) and shows the truth (a post acknowledged
before the kill).

    python -m bench.nodekill --n 200
    python -m bench.nodekill --n 1000 --workers 2 --join-seconds 20

deploy/'s shape, started the way tests/deploy starts it
(bench/load/cluster.py): nginx running deploy/nginx/kyoso.conf, two nodes
with deploy/systemd/kyoso.service's command line, one Redis, one throwaway
PostgreSQL (or --db-url). A client reconnects as soon as its socket drops
(Reflex's browser client came back within 0.2-0.4 s in tests/deploy), with
the same tab token, retrying every 0.2 s. Exit 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import subprocess
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.load import cluster, kyoso_db, server  # noqa: E402
from bench.load.client import RxClient, reconnect  # noqa: E402
from bench.load.profiles import KyosoChannel  # noqa: E402
from bench.load.scenarios import Crowd  # noqa: E402
from bench.load.stats import Report  # noqa: E402
from kyoso.db import dispose_engines  # noqa: E402
from kyoso.ops import pgserver  # noqa: E402

TARGET_SECONDS = 10.0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.nodekill", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--n", type=int, default=200, help="clients (distinct members) in the room")
    p.add_argument("--workers", type=int, default=1, help="workers per node")
    p.add_argument("--join-seconds", type=float, default=10.0, help="arrivals paced over this many seconds")
    p.add_argument("--db-url", default=None, help="a PostgreSQL database (default: a throwaway server)")
    p.add_argument("--workdir", default="/tmp/kyoso-nodekill", help="build, logs, data")
    p.add_argument("--target-seconds", type=float, default=TARGET_SECONDS,
                   help="every client of the dead node back within this")
    return p.parse_args(argv)


async def run(args: argparse.Namespace, url: str, db_url: str, web: Path,
              nodes: list[cluster.Node]) -> Report:
    report = Report(f"node kill: N={args.n}, 2 nodes x {args.workers} worker(s), Redis, PostgreSQL")
    people = kyoso_db.prepare(db_url, args.n, "bench-room")
    profile = KyosoChannel(people.slug, people.channel_id, people.tokens, people.user_ids, web)
    fresh: list[RxClient] = []
    async with Crowd(url, profile, args.n) as crowd:
        join_ms, errors, _ = await crowd.join(crowd.clients, args.join_seconds)
        report.check("every client joined through nginx", not errors and len(join_ms) == args.n,
                     f"{len(join_ms)}/{args.n}" + (f" ({errors[0]})" if errors else ""))
        before = [cluster.connected(n) for n in nodes]
        report.facts["clients per node before the kill"] = before

        # A post acknowledged (its author's reply came back, everyone shows it).
        marker = f"落ちる前の投稿 {uuid.uuid4().hex[:8]}"
        author = crowd.clients[0]
        name, payload = profile.post_event(0, marker)
        await author.call(name, payload, reply_state=profile.post_reply_state(), timeout=30)
        for c in crowd.clients:
            c.watch("before", lambda v: profile.shows_text(v, marker))
        await crowd.wait_seen("before", crowd.clients, 15)
        report.check("the post before the kill reached everyone",
                     all("before" in c.seen for c in crowd.clients),
                     f"{sum('before' in c.seen for c in crowd.clients)}/{args.n}")

        victim_node = nodes[1]
        t0 = time.monotonic()
        victim_node.kill()
        # Every socket of the dead node drops; the others stay.
        deadline = t0 + 5
        while time.monotonic() < deadline and sum(c.disconnected for c in crowd.clients) < before[1]:
            await asyncio.sleep(0.05)
        victims = [c for c in crowd.clients if c.disconnected]
        report.facts["clients of the killed node"] = len(victims)
        back_deadline = t0 + max(60.0, args.target_seconds * 3)
        results = await asyncio.gather(*(reconnect(v, url, crowd.http, back_deadline) for v in victims))
        fresh = [c for c in results if c is not None]
        back_ms = [(c.t_joined - t0) * 1000 for c in fresh]
        report.dist("back after the kill (kill -> page loaded)", back_ms, expected=len(victims))
        all_back = max(back_ms) / 1000 if back_ms and len(fresh) == len(victims) else float("nan")
        report.check("every client of the killed node came back", len(fresh) == len(victims),
                     f"{len(fresh)}/{len(victims)}")
        report.at_most("all clients back", all_back, args.target_seconds, "s")
        truth = sum(profile.shows_text(c.view, marker) for c in fresh)
        report.check("each shows the post acknowledged before the kill", truth == len(fresh),
                     f"{truth}/{len(fresh)}")

        # And the room is one room again: a post now reaches everyone.
        after = f"落ちた後の投稿 {uuid.uuid4().hex[:8]}"
        everyone = [c for c in crowd.clients if not c.disconnected] + fresh
        for c in everyone:
            c.watch("after", lambda v: profile.shows_text(v, after))
        poster = everyone[0]
        name, payload = profile.post_event(poster.idx, after)
        t1 = time.monotonic()
        await poster.call(name, payload, reply_state=profile.post_reply_state(), timeout=30)
        await crowd.wait_seen("after", everyone, 15)
        reached = sum("after" in c.seen for c in everyone)
        report.dist("post after the kill -> shown", crowd.latencies("after", everyone, t1),
                    expected=len(everyone))
        report.check("a post after the kill reaches every client", reached == len(everyone),
                     f"{reached}/{len(everyone)}")
        report.facts["clients on the surviving node after"] = cluster.connected(nodes[0])
    for c in fresh:
        await c.close()
    return report


async def amain(args: argparse.Namespace) -> int:
    server.raise_fd_limit()
    workdir = Path(args.workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:
        workdir.chmod(0o755)
    pg = None
    procs: list[subprocess.Popen] = []
    nodes: list[cluster.Node] = []
    print(f"# bench.nodekill {' '.join(sys.argv[1:])}")
    print(f"# {platform.node()} {os.cpu_count()} cores, Python {platform.python_version()}")
    try:
        if args.db_url:
            db_url = args.db_url
        else:
            pg = pgserver.Throwaway(server.free_port()).start()
            db_url = pg.url
        redis_url, redis_proc = server.start_redis(workdir)
        procs.append(redis_proc)
        nginx_port = server.free_port()
        url = f"http://127.0.0.1:{nginx_port}"
        env = {k: v for k, v in os.environ.items() if not k.startswith(("GUNICORN_", "PROMETHEUS_"))}
        web = workdir / "web"
        env.update({"KYOSO_DATABASE_URL": db_url, "REFLEX_REDIS_URL": redis_url, "KYOSO_TRUSTED_PROXY_HOPS": "1",
                    "REFLEX_WEB_WORKDIR": str(web), "REFLEX_USE_NPM": "1", "REFLEX_TELEMETRY_ENABLED": "false",
                    "PATH": f"{Path(sys.executable).parent}:{env.get('PATH', '')}"})
        os.environ["KYOSO_DATABASE_URL"] = db_url
        subprocess.run([sys.executable, "-m", "kyoso.cli", "db", "upgrade"], env=env, check=True, cwd=ROOT,
                       stdout=subprocess.DEVNULL)
        if not (web / "build" / "client" / "index.html").exists():
            t = time.monotonic()
            cluster.build_frontend(web, url, env, workdir / "build.log")
            print(f"# frontend built in {time.monotonic() - t:.0f} s")
        for name in ("kyoso-a", "kyoso-b"):
            nodes.append(cluster.start_node(name, server.free_port(), env, workdir, workers=args.workers))
        procs.append(cluster.start_nginx(workdir / "nginx", nginx_port, nodes))
        report = await run(args, url, db_url, web, nodes)
    finally:
        for node in nodes:
            node.stop()
        for proc in reversed(procs):
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
        dispose_engines()
        if pg is not None:
            pg.stop()
    print(report.text())
    return 0 if report.ok else 1


def main(argv: list[str] | None = None) -> int:
    return asyncio.run(amain(parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())
