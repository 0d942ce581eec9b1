"""kyoso's realtime load tool: N headless Reflex clients in one room.

    python -m bench.loadgen --scenario join-burst,fanout --n 1000
    python -m bench.loadgen --scenario fanout --n 2000 --workers 2 --redis auto
    python -m bench.loadgen --scenario all --n 1000 --baseline      # + SharedState at 200
    python -m bench.loadgen --room briefing --n 1000                # the 説明会 room
    python -m bench.loadgen --db postgres --n 1000 --vote poll      # on a throwaway PostgreSQL
    python -m bench.loadgen --scenario arrival-storm --n 2000 --arrive-seconds 10 [--room briefing]
    python -m bench.loadgen --scenario reload-storm --n 1000        # drop and come back within 2 s
    python -m bench.loadgen --scenario come-and-go --runs 3 --n 1000

Starts kyoso (production build, one port) on a bench database unless --url is
given, makes N members with session tokens, opens N python-socketio clients
that hydrate /c/<slug> (or /briefings/<id>) like a browser tab, runs the scenarios, prints
p50/p95/p99/max and exits 1 when a target is missed. See bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import psutil  # noqa: E402

from bench.load import peek, procs, server, storms  # noqa: E402
from bench.load.profiles import KyosoBriefing, KyosoChannel, SharedStateRoom  # noqa: E402
from bench.load.scenarios import Crowd, Targets, fanout, join_burst, vote_burst  # noqa: E402
from bench.load.stats import Report, dumps, percentile  # noqa: E402
from kyoso.db import dispose_engines  # noqa: E402
from kyoso.ops import pgserver  # noqa: E402

SCENARIOS = ("join-burst", "fanout", "vote-burst")
# Issue 20's storms: each is its own run of the crowd (arrival-storm goes on
# with fanout and vote-burst at its N unless --storm-only).
STORMS = ("arrival-storm", "reload-storm", "come-and-go")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.loadgen", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--scenario", default="all",
                   help="comma list of join-burst, fanout, vote-burst, or all (default); or one "
                        "of the storms: arrival-storm, reload-storm, come-and-go")
    p.add_argument("--n", type=int, default=1000, help="clients (distinct members) in the room")
    p.add_argument("--workers", type=int, default=1, help="backend workers (more than 1 needs --redis)")
    p.add_argument("--redis", default=None,
                   help="REFLEX_REDIS_URL for the backend, or 'auto' to start redis-server on loopback")
    p.add_argument("--url", default=None, help="an already running kyoso (then also --db-url)")
    p.add_argument("--db-url", default=None, help="kyoso's database (default: a bench SQLite file)")
    p.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite",
                   help="without --db-url: a bench SQLite file (default), or postgres: a throwaway "
                        "PostgreSQL started for the run (Debian's server under /usr/lib/postgresql, "
                        "like .ci/run) and removed after it")
    p.add_argument("--pg-port", type=int, default=0, help="--db postgres: its port (default: a free one)")
    p.add_argument("--app-python", default=None,
                   help="the interpreter to run kyoso with (default: this one), e.g. a Python 3.12 venv")
    p.add_argument("--workdir", default="/tmp/kyoso-bench", help="database, logs, redis files")
    p.add_argument("--room", choices=("channel", "briefing"), default="channel",
                   help="channel: the page /c/<slug>; briefing: the live 説明会 room "
                        "/briefings/<id> (questions, upvotes, the organiser's live poll)")
    p.add_argument("--slug", default="bench-room", help="the channel the crowd is in")
    p.add_argument("--probes", type=int, default=5, help="join-burst: clients firing a cheap event")
    p.add_argument("--join-seconds", type=float, default=10.0,
                   help="join-burst: arrivals paced evenly over this many seconds")
    p.add_argument("--join-rate", type=float, default=50.0,
                   help="joins per second when join-burst is not among the scenarios")
    p.add_argument("--arrive-seconds", type=float, default=10.0,
                   help="arrival-storm: the N arrivals spread evenly over this many seconds")
    p.add_argument("--storm-only", action="store_true",
                   help="arrival-storm: stop after the arrivals (no fanout and vote-burst)")
    p.add_argument("--reconnect-seconds", type=float, default=2.0,
                   help="reload-storm: each dropped client comes back after a random pause up to this")
    p.add_argument("--drop", choices=("reset", "silent"), default="reset",
                   help="reload-storm: reset the TCP connections (default), or leave them open and "
                        "silent (the server learns nothing until engine.io's ping timeout)")
    p.add_argument("--linger-seconds", type=float, default=0.0,
                   help="reload-storm --drop silent: wait up to this long for the dropped sockets to leave")
    p.add_argument("--reactions-before", type=int, default=20,
                   help="reload-storm: stamps/upvotes acknowledged before the drop")
    p.add_argument("--runs", type=int, default=3, help="come-and-go: waves of N clients")
    p.add_argument("--settle-seconds", type=float, default=2.0,
                   help="come-and-go: wait after a wave's sockets are closed before reading memory")
    p.add_argument("--collect-after-wave", action="store_true",
                   help="come-and-go: ask the worker for a full gc.collect() after each wave (diagnosis)")
    p.add_argument("--app-env", action="append", default=[], metavar="KEY=VALUE",
                   help="more environment for the app (repeatable), e.g. "
                        "REFLEX_REDIS_TOKEN_EXPIRATION=30")
    p.add_argument("--no-inspect", action="store_true",
                   help="do not put bench/load/inspect_site on the app's PYTHONPATH (the worker's "
                        "states, sockets and rooms are then not reported)")
    p.add_argument("--messages", type=int, default=10, help="fanout: posts")
    p.add_argument("--stamps", type=int, default=10, help="fanout: stamp toggles")
    p.add_argument("--interval", type=float, default=0.5, help="fanout: pause between changes (s)")
    p.add_argument("--vote", default=None,
                   help="vote-burst: stamp (everyone presses one stamp on a fresh message), "
                        "poll (everyone answers a fresh poll through PollState.choose) or "
                        "custom (--vote-event/--vote-payload/--vote-final/--vote-db-sql); "
                        "default: stamp in a channel, poll in a briefing room")
    p.add_argument("--vote-seconds", type=float, default=10.0, help="vote-burst: votes paced over")
    p.add_argument("--vote-event", default=None, help="--vote custom: the event's full name")
    p.add_argument("--vote-payload", default="{}",
                   help='--vote custom: JSON payload; "$i", "$uid", "$n" are substituted')
    p.add_argument("--vote-reply-state", default=None,
                   help="--vote custom: the state whose update is the ack (default: the channel state)")
    p.add_argument("--vote-final", default=None,
                   help="--vote custom: STATE:var.path=VALUE that every client's final view must show "
                        "(VALUE is JSON or $n)")
    p.add_argument("--vote-db-sql", default=None,
                   help="--vote custom: SQL returning one number that must equal $n (exactly once)")
    p.add_argument("--baseline", action="store_true",
                   help="also run the same scenarios at --baseline-n on kyoso and on the naive "
                        "SharedState app (bench/sharedstate_app) and print the ratios")
    p.add_argument("--baseline-n", type=int, default=200)
    p.add_argument("--json", default=None, help="write the reports as JSON here")
    args = p.parse_args(argv)
    args.scenarios = SCENARIOS if args.scenario == "all" else tuple(
        s.strip() for s in args.scenario.split(",") if s.strip())
    bad = [s for s in args.scenarios if s not in SCENARIOS + STORMS]
    if bad:
        p.error(f"unknown scenario {bad}; choose from {SCENARIOS + STORMS}")
    storm = [s for s in args.scenarios if s in STORMS]
    if storm and len(args.scenarios) > 1:
        p.error(f"{storm[0]} runs alone (arrival-storm goes on with fanout and vote-burst itself)")
    args.storm = storm[0] if storm else None
    if args.storm == "arrival-storm" and not args.storm_only:
        args.scenarios = ("arrival-storm", "fanout", "vote-burst")
    if args.storm and args.baseline:
        p.error("--baseline is for the join-burst/fanout/vote-burst scenarios")
    if args.vote is None:
        args.vote = "poll" if args.room == "briefing" else "stamp"
    if args.room == "briefing" and args.vote == "stamp":
        p.error("a briefing room votes through its live poll: --vote poll (or custom)")
    if args.room == "briefing" and args.baseline:
        p.error("--baseline compares a channel with the SharedState app; run it without --room briefing")
    return args


def _busy() -> float:
    """CPU seconds the whole machine has been busy (all processes)."""
    t = psutil.cpu_times()
    return t.user + t.nice + t.system + t.irq + t.softirq + getattr(t, "steal", 0.0)


def memory_fn(pid: int | None, port: int | None):  # type: ignore[no-untyped-def]
    def measure() -> str:
        rows = server.backend_memory(pid, port)
        if not rows:
            return "unknown"
        parts = [f"{role} {pid_}: {rss / 2**20:.0f} MiB" for pid_, role, rss in rows]
        total = sum(r for _, _, r in rows)
        return f"{total / 2**20:.0f} MiB total ({'; '.join(parts)})"

    return measure


def rss_total(pid: int | None, port: int | None) -> float:
    return sum(r for _, _, r in server.backend_memory(pid, port)) / 2**20


async def run_crowd(label: str, url: str, profile: Any, n: int, args: argparse.Namespace,
                    targets: Targets, pid: int | None, port: int | None,
                    vote_spec_fn: Any, patience: float = 1.0,
                    watch: storms.Watch | None = None) -> list[Report]:
    reports: list[Report] = []
    mem = memory_fn(pid, port)
    rss_before = rss_total(pid, port)
    cpu_before = server.cpu_times(pid)
    me = psutil.Process()
    gen_before = sum(me.cpu_times()[:2])
    sys_before = _busy()
    phase = {"cpu": server.cpu_times(pid), "gen": sum(me.cpu_times()[:2]), "busy": _busy()}

    def done(r: Report, per: tuple[str, int] | None = None) -> None:
        if crowd.dropped:
            r.check("no client dropped its connection", False, f"{len(crowd.dropped)} dropped")
        cpu = server.cpu_times(pid) - phase["cpu"]
        gen = sum(me.cpu_times()[:2]) - phase["gen"]
        others = max(0.0, _busy() - phase["busy"] - cpu - gen)
        if pid is not None:
            text = f"backend {cpu:.1f} s, load generator {gen:.1f} s, other processes {others:.1f} s"
            if per and per[1]:
                text += f"; backend {cpu * 1000 / per[1]:.2f} ms per {per[0]}"
            r.facts["CPU in this phase"] = text
        phase.update(cpu=server.cpu_times(pid), gen=sum(me.cpu_times()[:2]), busy=_busy())
        reports.append(r)

    async with Crowd(url, profile, n) as crowd:
        crowd.patience = patience
        if args.storm == "arrival-storm":
            r = Report(f"{label}: arrival-storm, {n - args.probes} arrivals in {args.arrive_seconds:g} s")
            await storms.arrival_storm(crowd, r, probes=args.probes, seconds=args.arrive_seconds,
                                       targets=storms.StormTargets(), watch=watch or storms.Watch(None, None))
            done(r, ("join", n - args.probes))
        elif "join-burst" in args.scenarios:
            r = Report(f"{label}: join-burst, N={n}")
            await join_burst(crowd, r, probes=min(args.probes, n - 1), seconds=args.join_seconds,
                             targets=targets, memory=mem)
            done(r, ("join", n))
        else:
            r = Report(f"{label}: joining, N={n} (not a scenario)")
            ms, errors, span = await crowd.join(crowd.clients, max(1.0, n / args.join_rate))
            r.dist("join (connect -> on_load done)", ms, expected=n)
            r.facts["all joined after"] = f"{span:.1f} s"
            r.facts["backend memory at N clients"] = mem()
            r.check("every client joined", not errors, f"{len(ms)}/{n}" + (f"; {errors[0]}" if errors else ""))
            done(r, ("join", n))
        rss_joined = rss_total(pid, port)
        if rss_before and rss_joined > rss_before:
            reports[-1].facts["backend memory per client"] = (
                f"{(rss_joined - rss_before) * 1024 / max(1, len(crowd.joined)):.0f} KiB "
                f"({rss_before:.0f} MiB before the clients)")
        print(reports[-1].text(), flush=True)
        if "fanout" in args.scenarios:
            r = Report(f"{label}: fanout, N={len(crowd.joined)}")
            await fanout(crowd, r, messages=args.messages,
                         stamps=args.stamps if isinstance(profile, KyosoChannel) else 0,
                         interval=args.interval, targets=targets)
            changes = args.messages + (args.stamps if isinstance(profile, KyosoChannel) else 0)
            done(r, ("delivered update", changes * len(crowd.joined)))
            print(r.text(), flush=True)
        if "vote-burst" in args.scenarios:
            r = Report(f"{label}: vote-burst, N={len(crowd.joined)}")
            spec = await vote_spec_fn(crowd)
            await vote_burst(crowd, r, spec, seconds=args.vote_seconds, targets=targets)
            done(r, ("vote", len(crowd.joined)))
        reports[-1].facts["backend memory at the end"] = mem()
        cpu = server.cpu_times(pid) - cpu_before
        gen = sum(me.cpu_times()[:2]) - gen_before
        others = max(0.0, _busy() - sys_before - cpu - gen)
        if cpu:
            reports[-1].facts["CPU used by the run (backend / load generator / other processes)"] = \
                f"{cpu:.1f} s / {gen:.1f} s / {others:.1f} s"
        if "vote-burst" in args.scenarios:
            print(reports[-1].text(), flush=True)
        elif cpu:
            print(f"  CPU used by the run (backend / load generator / other processes): "
                  f"{cpu:.1f} s / {gen:.1f} s / {others:.1f} s")
    return reports


def kyoso_vote_spec(args: argparse.Namespace, db_url: str, profile: KyosoChannel):  # type: ignore[no-untyped-def]
    async def make(crowd: Crowd):  # type: ignore[no-untyped-def]
        if args.vote == "custom":
            from bench.load.profiles import CHANNEL, custom_vote

            if not args.vote_event or not args.vote_final:
                raise SystemExit("--vote custom needs --vote-event and --vote-final")
            return custom_vote(args.vote_event, args.vote_payload, args.vote_final,
                               args.vote_reply_state or CHANNEL, db_url, args.vote_db_sql,
                               profile.user_ids, len(crowd.joined))
        if args.vote == "poll":
            first = next((c for c in crowd.joined if c.idx == profile.organiser_idx), crowd.joined[0])
            question = f"vote{crowd.run_id} この方針に賛成ですか？"
            for c in crowd.joined:
                c.watch(question, lambda v: profile.poll_id(v, question) > 0)
            name, payload = profile.create_poll(question)
            await first.call(name, payload, reply_state=None)
            await crowd.wait_seen(question, crowd.joined, 15)
            return profile.poll_vote(db_url, profile.poll_id(first.view, question), len(crowd.joined))
        if args.vote != "stamp":
            raise SystemExit(f"unknown --vote {args.vote!r}: stamp, poll, custom, or a VoteSpec of yours")
        first = crowd.joined[0]
        marker = f"vote{crowd.run_id}"
        for c in crowd.joined:
            c.watch(marker, lambda v: profile.shows_text(v, marker))
        name, payload = profile.post_event(first.idx, f"{marker} 賛成の方はスタンプを押してください。")
        await first.call(name, payload, reply_state=profile.post_reply_state())
        await crowd.wait_seen(marker, crowd.joined, 10)
        mid = profile.message_id(first.view, marker)
        return profile.stamp_vote(db_url, mid, "賛成", voters=len(crowd.joined))

    return make


async def run_kyoso(args: argparse.Namespace, url: str, pid: int | None, port: int | None,
                    db_url: str, n: int, targets: Targets, label: str,
                    watch: storms.Watch | None = None) -> list[Report]:
    from bench.load import kyoso_db

    # The storms' N are the crowd the issue speaks of: N arrivals besides the
    # probe clients; N reloading clients besides the member who stays.
    extra = {"arrival-storm": args.probes, "reload-storm": 1}.get(args.storm or "", 0)
    people = kyoso_db.prepare(db_url, n + extra, args.slug)
    kyoso_db.clear_rate_hits(db_url, people.user_ids)
    profile: KyosoChannel
    if args.room == "briefing":
        briefing_id = kyoso_db.prepare_briefing(db_url, people)
        profile = KyosoBriefing(briefing_id, people.channel_id, people.tokens, people.user_ids,
                                ROOT / ".web")
    else:
        profile = KyosoChannel(people.slug, people.channel_id, people.tokens, people.user_ids,
                               ROOT / ".web")
    watch = watch or storms.Watch(None, None)
    if args.storm == "reload-storm":
        return [await run_reload_storm(label, url, profile, n, args, watch)]
    if args.storm == "come-and-go":
        return [await run_come_and_go(label, url, profile, n, args, watch)]
    return await run_crowd(label, url, profile, n + extra, args, targets, pid, port,
                           kyoso_vote_spec(args, db_url, profile), watch=watch)


async def run_reload_storm(label: str, url: str, profile: KyosoChannel, n: int,
                           args: argparse.Namespace, watch: storms.Watch) -> Report:
    from bench.load.client import RxClient

    r = Report(f"{label}: reload-storm, N={n}")
    fresh: list[Any] = []
    async with Crowd(url, profile, n) as crowd:
        writer = RxClient(n, url, crowd.page, profile.storage_vars(n), crowd.http)
        try:
            fresh = await storms.reload_storm(
                crowd, r, writer=writer, join_seconds=max(1.0, n / args.join_rate),
                reconnect_seconds=args.reconnect_seconds, reactions_before=args.reactions_before,
                targets=storms.StormTargets(), watch=watch, metrics_url=url,
                silent=args.drop == "silent", linger_seconds=args.linger_seconds)
        finally:
            for i in range(0, len(fresh), 200):
                await asyncio.gather(*(c.close() for c in fresh[i:i + 200]))
            await writer.close()
    if crowd.dropped and not fresh:
        r.check("no client dropped its connection", False, f"{len(crowd.dropped)} dropped")
    print(r.text(), flush=True)
    return r


async def run_come_and_go(label: str, url: str, profile: KyosoChannel, n: int,
                          args: argparse.Namespace, watch: storms.Watch) -> Report:
    r = Report(f"{label}: come-and-go, {args.runs} waves of N={n}")
    await storms.come_and_go(lambda: Crowd(url, profile, n), r, runs=args.runs,
                             join_seconds=max(1.0, n / args.join_rate), targets=storms.StormTargets(),
                             watch=watch, room=storms.room_of(profile), settle_seconds=args.settle_seconds,
                             collect=args.collect_after_wave)
    print(r.text(), flush=True)
    return r


async def run_baseline(args: argparse.Namespace, workdir: Path, targets: Targets) -> list[Report]:
    app = server.start_baseline(workdir)
    try:
        profile = SharedStateRoom()

        async def spec(crowd: Crowd):  # type: ignore[no-untyped-def]
            return profile.tally_vote(len(crowd.joined))

        return await run_crowd("SharedState baseline", app.url, profile, args.baseline_n, args,
                               targets, app.pid, None, spec, patience=4.0)
    finally:
        app.stop()


def _get(reports: list[Report], scenario: str, dist: str, stat: str) -> float:
    for r in reports:
        if scenario in r.title:
            for d in r.dists:
                if d.name == dist:
                    return d.summary()[stat]
    return float("nan")


def ratio_table(kyoso: list[Report], shared: list[Report]) -> str:
    rows = [
        ("join-burst", "join (connect -> on_load done)", "p95"),
        ("join-burst", "probe round trip during the burst", "max"),
        ("fanout", "message fan-out (post -> shown)", "p50"),
        ("fanout", "message fan-out (post -> shown)", "p95"),
        ("vote-burst", "vote ack", "p95"),
        ("vote-burst", "final view shown, after the last vote", "max"),
    ]
    out = ["== SharedState vs kyoso's room emit, same N, same run",
           f"  {'metric':<52} {'SharedState':>12} {'kyoso':>10} {'ratio':>8}"]
    for scen, dist, stat in rows:
        a = _get(shared, scen, dist, stat)
        b = _get(kyoso, scen, dist, stat)
        if a != a and b != b:
            continue
        ratio = a / b if b and b == b and a == a else float("nan")
        out.append(f"  {scen + ': ' + dist + ' ' + stat:<52} {a:10.1f}ms {b:8.1f}ms {ratio:7.1f}x")
    return "\n".join(out)


async def amain(args: argparse.Namespace) -> int:
    server.raise_fd_limit()
    workdir = Path(args.workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    pg = None
    if args.db_url:
        db_url = args.db_url
    elif args.db == "postgres":
        pg = pgserver.Throwaway(args.pg_port or server.free_port()).start()
        db_url = pg.url
        print(f"# throwaway PostgreSQL at {db_url} ({pg.data_dir})")
    else:
        db_url = f"sqlite:///{workdir / 'kyoso.db'}"
    os.environ["KYOSO_DATABASE_URL"] = db_url
    if pg is not None:
        pid_file = Path(pg.data_dir) / "postmaster.pid"
        args.db_pid = int(pid_file.read_text().split()[0]) if pid_file.exists() else None
    try:
        return await _amain(args, workdir, db_url)
    finally:
        if pg is not None:
            dispose_engines()
            pg.stop()


async def _amain(args: argparse.Namespace, workdir: Path, db_url: str) -> int:
    targets = Targets.for_run(args.workers, bool(args.redis))
    if args.storm == "arrival-storm":
        # Issue 20: fan-out and votes at the storm's N (2,000) as for scale-out.
        targets = Targets(join_within_s=storms.StormTargets.all_joined_s, fanout_p95_ms=400.0,
                          fanout_p99_ms=None)
    inspect_dir = workdir / "inspect"
    print(f"# bench.loadgen {' '.join(sys.argv[1:])}")
    if args.app_python:
        import subprocess

        ver = subprocess.run([args.app_python, "-c", "import platform; print(platform.python_version())"],
                             capture_output=True, text=True).stdout.strip()
        print(f"# app on Python {ver} ({args.app_python})")
    print(f"# {platform.node()} {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"scenarios {','.join(args.scenarios)}, N={args.n}, workers={args.workers}, "
          f"redis={'yes' if args.redis else 'no'}, db={db_url.split(':', 1)[0]}")
    redis_proc = app = None
    reports: list[Report] = []
    try:
        if args.url:
            if not args.db_url:
                raise SystemExit("--url needs --db-url (the running app's database)")
            url, pid = args.url.rstrip("/"), None
            port = int(url.rsplit(":", 1)[-1]) if url.rsplit(":", 1)[-1].isdigit() else None
        else:
            redis = args.redis
            if redis == "auto":
                redis, redis_proc = server.start_redis(workdir)
            t = time.monotonic()
            app_env = dict(kv.split("=", 1) for kv in args.app_env)
            if not args.no_inspect:
                app_env.update(peek.app_env(inspect_dir, {"PYTHONPATH": os.environ.get("PYTHONPATH", "")}))
            app = server.start_kyoso(db_url, workdir, redis=redis, workers=args.workers,
                                     python=args.app_python, extra_env=app_env)
            print(f"# kyoso started in {time.monotonic() - t:.0f} s at {app.url} (log {app.log})")
            url, pid, port = app.url, app.pid, None
        label = f"kyoso ({args.workers} worker{'s' if args.workers > 1 else ''}" \
                f"{', Redis' if args.redis else ''})"
        root = pid if pid is not None else (procs.app_root(port) if port else None)
        backend = procs.Backend(root) if root is not None else None
        if backend is not None:
            print(f"# app processes: {backend.describe()}")
        watch = storms.Watch(backend, None if args.no_inspect else inspect_dir,
                             db_pid=getattr(args, "db_pid", None),
                             traced=any(kv.startswith("PYTHONTRACEMALLOC=") for kv in args.app_env))
        main = await run_kyoso(args, url, pid, port, db_url, args.n, targets, label, watch)
        reports += main
        if args.baseline:
            small = await run_kyoso(args, url, pid, port, db_url, args.baseline_n, targets,
                                    label + " at baseline N")
            if app is not None:
                app.stop()
                app = None
            shared = await run_baseline(args, workdir, targets)
            print(ratio_table(small, shared))
            # The baseline is a comparison, not a target of kyoso's.
            reports += small
            for r in shared:
                r.checks = []
            reports += shared
    finally:
        if app is not None:
            app.stop()
        if redis_proc is not None:
            redis_proc.terminate()
    if args.json:
        Path(args.json).write_text(dumps(reports))
    ok = all(r.ok for r in reports)
    print(f"\n{'PASS' if ok else 'FAIL'}: " + ", ".join(
        f"{r.title} {'ok' if r.ok else 'MISSED'}" for r in reports))
    return 0 if ok else 1


def main(argv: list[str] | None = None) -> int:
    return asyncio.run(amain(parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())
