"""Arrival and reload storms, and clients that come and go (issue 20).

* ``arrival_storm``: N clients arrive (connect, hydrate, the page's on_load)
  spread evenly over S seconds while a few already-joined clients fire a
  cheap event in a loop; how long until all are in, each join's latency, the
  longest probe wait, the backend's CPU per join and memory per client (read
  from /proc, ``bench/load/procs.py``).
* ``reload_storm``: N joined clients lose their sockets at once (TCP reset,
  no close frame: a gateway blip) and reconnect with the same tab token,
  each after a random 0-``reconnect_seconds`` pause. Meanwhile a member who
  stayed connected posts and reacts; every client must come back and show
  the truth: the post and reactions acknowledged before the drop and the
  post and the exact tally made during it. Afterwards the room must hold
  exactly the clients that are connected (no subscription left behind by a
  dropped socket).
* ``come_and_go``: waves of N clients join and leave; the worker's memory
  after each wave against its memory before the first.
"""

from __future__ import annotations

import asyncio
import random
import socket
import struct
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from bench.load import peek, procs
from bench.load.client import RxClient, paced_join, reconnect
from bench.load.profiles import KyosoBriefing, KyosoChannel
from bench.load.scenarios import Crowd, quiet_gc
from bench.load.stats import Report, percentile

KiB = 1024
MiB = 1024 * 1024


@dataclass
class StormTargets:
    """Issue 20's targets (one worker, SQLite)."""

    all_joined_s: float = 12.0
    join_p95_ms: float = 1000.0
    probe_wait_max_ms: float = 250.0
    cpu_per_join_ms: float = 4.0
    memory_per_client_kib: float = 50.0
    reload_back_s: float = 10.0
    memory_return_ratio: float = 1.10


class Watch:
    """Readings of the app's processes (None when the app is not ours to read)."""

    def __init__(self, backend: procs.Backend | None, inspect_dir: Path | None,
                 db_pid: int | None = None, traced: bool = False) -> None:
        self.backend = backend
        self.inspect_dir = inspect_dir
        self.db_pid = db_pid  # a database server of this run (PostgreSQL's postmaster)
        self.traced = traced  # the app runs with PYTHONTRACEMALLOC

    def db_cpu(self) -> float | None:
        if self.db_pid is None:
            return None
        return procs.snapshot(procs.tree(self.db_pid)).cpu_total

    def snap(self) -> procs.Snapshot | None:
        return self.backend.snap() if self.backend else None

    def peek(self, **request: Any) -> dict[str, Any] | None:
        if self.backend is None or self.inspect_dir is None:
            return None
        self.backend.refresh()
        if not self.backend.workers:
            return None
        if len(self.backend.workers) != 1:
            return None  # one worker: the counts below are per worker
        request.setdefault("timeout", 120)  # a full collection of 1,000 clients' garbage takes a while
        return peek.peek(self.inspect_dir, self.backend.workers[0], **request)

    def worker_rss(self) -> int:
        if self.backend is None:
            return 0
        return sum(procs.rss_bytes(p) or 0 for p in self.backend.measured())


def room_of(profile: KyosoChannel) -> str:
    """The socket.io room every client of the page is in."""
    if isinstance(profile, KyosoBriefing):
        return f"briefing:{profile.briefing_id}"
    return f"channel:{profile.channel_id}"


def reaction_count(profile: KyosoChannel, view: dict, target: int) -> int:
    """How many reactions the view shows on ``target``: a 👍's count on a
    channel message, the votes of a briefing question."""
    if isinstance(profile, KyosoBriefing):
        for q in profile.questions(view):
            if q.get("id") == target:
                return int(q.get("votes") or 0)
        return 0
    return int((profile.stamp_of(view, target, "👍") or {}).get("count") or 0)


async def _probe_loop(clients: list[RxClient], name: str, payload: dict, reply_state: str | None,
                      rtts: list[float], stop: asyncio.Event, count: list[int]) -> None:
    async def one(c: RxClient) -> None:
        while not stop.is_set():
            try:
                rtts.append(await c.call(name, payload, reply_state=reply_state, timeout=60) * 1000)
            except asyncio.TimeoutError:
                rtts.append(60_000.0)
            count[0] += 1
            await asyncio.sleep(0.05)

    await asyncio.gather(*(one(c) for c in clients))


async def arrive(clients: list[RxClient], seconds: float, timeout: float = 90.0,
                 at_end: Callable[[], Any] | None = None) -> tuple[list[float], list[str], float, Any]:
    """Clients arrive evenly spread over ``seconds``. Returns (join ms, errors,
    seconds from the first connect to the last join, ``at_end()`` called the
    moment the last one has joined)."""
    results, errors, start, marked = await paced_join(clients, seconds, timeout, at_end)
    done = [c.t_joined for c in clients if c.t_joined]
    span = (max(done) - start) if done else float("nan")
    return [r for r in results if r is not None], errors, span, marked


# ---------------------------------------------------------------------------


async def arrival_storm(crowd: Crowd, report: Report, *, probes: int, seconds: float,
                        targets: StormTargets, watch: Watch) -> None:
    profile = crowd.profile
    rss_empty = watch.snap()
    if watch.traced:  # the app runs with PYTHONTRACEMALLOC: what the storm adds
        watch.peek(tracemalloc_base=True, timeout=120)
    probe_clients, arrivals = crowd.clients[:probes], crowd.clients[probes:]
    _, errors, _, _ = await arrive(probe_clients, 0.5)
    if errors:
        report.check("probe clients joined", False, "; ".join(errors[:3]))
        return
    rtts: list[float] = []
    count = [0]
    stop = asyncio.Event()
    name, payload = profile.probe_event
    task = asyncio.create_task(_probe_loop(probe_clients, name, payload, profile.probe_reply_state,
                                           rtts, stop, count))
    # The probes alone, before the storm: what they cost the backend per event.
    await asyncio.sleep(0.5)
    idle0, c0 = watch.snap(), count[0]
    await asyncio.sleep(2.0)
    idle1, c1 = watch.snap(), count[0]
    idle_rtts = list(rtts)
    rtts.clear()
    s0, k0, db0 = watch.snap(), count[0], watch.db_cpu()
    join_ms, errors, span, (s1, k1, db1) = await arrive(
        arrivals, seconds, at_end=lambda: (watch.snap(), count[0], watch.db_cpu()))
    await asyncio.sleep(0.5)
    stop.set()
    await task
    quiet_gc()
    await asyncio.sleep(0.5)
    s_settled = watch.snap()
    n = len(arrivals)
    report.facts["arrivals"] = f"{n} spread evenly over {seconds:g} s; {probes} probe clients already in"
    report.dist("join (connect -> on_load done)", join_ms, expected=n)
    report.dist("probe round trip before the storm", idle_rtts)
    report.dist("probe round trip during the storm", rtts)
    report.facts["all joined after"] = f"{span:.2f} s (first connect -> last join)"
    wrong = [c.idx for c in arrivals if c.t_joined and not profile.check_joined(c.view)]
    report.check("every client joined, showing its page", not errors and not wrong and len(join_ms) == n,
                 f"{len(join_ms)}/{n}" + (f"; {errors[0]}" if errors else "")
                 + (f"; {len(wrong)} with a wrong view" if wrong else ""))
    report.at_most("all joined within", span, targets.all_joined_s, "s")
    report.at_most("join p95", percentile(join_ms, 95), targets.join_p95_ms)
    report.at_most("probe wait (max round trip) during the storm",
                   max(rtts) if rtts else float("nan"), targets.probe_wait_max_ms)
    if not (s0 and s1 and idle0 and idle1 and rss_empty and s_settled):
        report.facts["CPU and memory"] = "not measured (the app is not a process of this run)"
        return
    storm_cpu = procs.cpu_between(s0, s1)
    probe_cpu_each = procs.cpu_between(idle0, idle1) / max(1, c1 - c0)
    probes_in_storm = k1 - k0
    net = storm_cpu - probe_cpu_each * probes_in_storm
    workers = watch.backend.measured() if watch.backend else []
    worker_cpu = sum(s1.cpu.get(p, 0) - s0.cpu.get(p, 0) for p in workers)
    report.facts["backend CPU during the storm"] = (
        f"{storm_cpu:.2f} s in {span:.1f} s (workers {worker_cpu:.2f} s); the probes' "
        f"{probes_in_storm} events at {probe_cpu_each * 1000:.2f} ms each (measured before) "
        f"= {probe_cpu_each * probes_in_storm:.2f} s")
    per_join = net * 1000 / max(1, len(join_ms))
    report.facts["backend CPU per join"] = (
        f"{per_join:.2f} ms net of the probes ({storm_cpu * 1000 / max(1, len(join_ms)):.2f} ms with them)")
    report.at_most("backend CPU per join", per_join, targets.cpu_per_join_ms)
    if db0 is not None and db1 is not None:
        report.facts["database server CPU during the storm"] = (
            f"{db1 - db0:.2f} s, {(db1 - db0) * 1000 / max(1, len(join_ms)):.2f} ms per join "
            "(PostgreSQL's processes; not in the backend's figure)")
    growth = s_settled.rss_total - rss_empty.rss_total
    per_client = growth / KiB / max(1, len(join_ms) + probes)
    report.facts["backend memory"] = (
        f"{rss_empty.rss_total / MiB:.0f} MiB before any client -> {s_settled.rss_total / MiB:.0f} MiB "
        f"1 s after the last join (all app processes: "
        + ", ".join(f"{pid} {rss / MiB:.0f}" for pid, rss in sorted(s_settled.rss.items())) + " MiB)")
    report.facts["backend memory per client"] = f"{per_client:.1f} KiB"
    report.at_most("memory per connected client", per_client, targets.memory_per_client_kib, "KiB")
    held = watch.peek(rooms=[room_of(profile)], state_bytes=20)
    if held:
        report.facts["the worker holds"] = peek.summary(held)
        if held.get("tracemalloc_top"):  # the app ran with PYTHONTRACEMALLOC=N
            report.facts["traced memory"] = peek.traced(held, clients=crowd.n)


# ---------------------------------------------------------------------------


def abort(c: RxClient, silent: bool = False) -> bool:
    """Drop the client's connection the hard way: a TCP reset, no websocket
    close frame (a gateway losing its state and resetting both sides).

    ``silent``: the server is told nothing at all (a gateway that drops
    packets): the client stops reading and leaves the connection open, so
    the server keeps the old socket until engine.io's ping timeout."""
    ws = getattr(getattr(c.sio, "eio", None), "ws", None)
    conn = getattr(ws, "_conn", None)
    transport = getattr(conn, "transport", None) or getattr(getattr(ws, "_writer", None), "transport", None)
    if transport is None:
        return False
    if silent:
        transport.pause_reading()
        c.disconnected = True
        return True
    sock = transport.get_extra_info("socket")
    if sock is not None:
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass
    transport.abort()
    return True




async def reload_storm(crowd: Crowd, report: Report, *, writer: RxClient, join_seconds: float,
                       reconnect_seconds: float, reactions_before: int, targets: StormTargets,
                       watch: Watch, metrics_url: str | None, silent: bool = False,
                       linger_seconds: float = 0.0) -> list[RxClient]:
    """Returns the clients that came back (the caller closes them)."""
    profile: KyosoChannel = crowd.profile  # type: ignore[assignment]
    n = len(crowd.clients)
    join_ms, errors, span, _ = await arrive([writer, *crowd.clients], join_seconds)
    quiet_gc()
    report.facts["joined before the drop"] = f"{len(join_ms)}/{n + 1} in {span:.1f} s (N + 1 writer who stays)"
    if errors:
        report.check("every client joined before the drop", False, f"{len(errors)} failed: {errors[0]}")
        return []
    tag = uuid.uuid4().hex[:6]
    # Acknowledged before the drop: a post and reactions on it from other members.
    before = f"reload{tag} 落ちる前の投稿"
    for c in crowd.clients:
        c.watch("before", lambda v: profile.shows_text(v, before))
    name, payload = profile.post_event(crowd.clients[0].idx, before)
    await crowd.clients[0].call(name, payload, reply_state=profile.post_reply_state())
    await crowd.wait_seen("before", crowd.clients, 15)
    target = profile.reaction_target(crowd.clients[0].view, before)
    reactors = crowd.clients[1:1 + reactions_before]
    for c in reactors:
        name, payload = profile.reaction_event(target)
        await c.call(name, payload, reply_state=profile.post_reply_state())
    acked = len(reactors)
    report.facts["acknowledged before the drop"] = f"1 post and {acked} {profile.reaction}s on it"

    # The drop.
    s0 = watch.snap()
    t0 = time.monotonic()
    aborted = sum(abort(c, silent) for c in crowd.clients)
    # During it: the member who stayed posts and reacts (the truth to show).
    during = f"reload{tag} 瞬断中の投稿"
    name, payload = profile.post_event(writer.idx, during)
    await writer.call(name, payload, reply_state=profile.post_reply_state())
    name, payload = profile.reaction_event(target)
    await writer.call(name, payload, reply_state=profile.post_reply_state())
    t_truth = time.monotonic() - t0
    expected = acked + 1

    def truth(v: dict) -> bool:
        return (profile.shows_text(v, before) and profile.shows_text(v, during)
                and reaction_count(profile, v, target) == expected)

    for c in crowd.clients:
        c.pending = {"truth": truth}
    rng = random.Random(20)
    deadline = t0 + max(60.0, targets.reload_back_s * 3)
    back = await asyncio.gather(*(reconnect(c, crowd.url, crowd.http, deadline,
                                            delay=rng.uniform(0, reconnect_seconds)) for c in crowd.clients))
    fresh = [c for c in back if c is not None]
    s1 = watch.snap()
    t_back = time.monotonic() - t0
    # Any update still on its way lands by now.
    last = time.monotonic()
    while time.monotonic() - last < 15 and any("truth" not in c.seen for c in fresh):
        await asyncio.sleep(0.05)
    quiet_gc()
    back_ms = [(c.t_joined - t0) * 1000 for c in fresh]
    truth_ms = [(c.seen["truth"] - t0) * 1000 for c in fresh if "truth" in c.seen]
    how = "left open and silent (the server is told nothing)" if silent else "reset at once"
    report.facts["dropped"] = f"{aborted}/{n} sockets {how}; each back after a random 0-{reconnect_seconds:g} s"
    report.facts["the writer's post and reaction during the drop, acknowledged"] = f"{t_truth * 1000:.0f} ms after it"
    if s0 and s1:
        cpu = procs.cpu_between(s0, s1)
        report.facts["backend CPU from the drop until all were back"] = (
            f"{cpu:.2f} s in {t_back:.1f} s: {cpu * 1000 / max(1, len(fresh)):.2f} ms per client back "
            f"(the writer's changes included)")
    report.dist("back (drop -> page loaded again)", back_ms, expected=n)
    report.dist("showing the truth (drop -> view right)", truth_ms, expected=n)
    report.check("every client came back", len(fresh) == n, f"{len(fresh)}/{n}")
    all_true = max(truth_ms) / 1000 if truth_ms and len(truth_ms) == n else float("nan")
    report.at_most("all back and showing the truth", all_true, targets.reload_back_s, "s")
    lost = [c.idx for c in fresh if not (profile.shows_text(c.view, before)
                                         and reaction_count(profile, c.view, target) >= acked)]
    report.check("nothing acknowledged before the drop is lost", not lost,
                 f"{len(fresh) - len(lost)}/{len(fresh)} show the post and its {acked} {profile.reaction}s"
                 + (f" (e.g. client {lost[0]})" if lost else ""))
    wrong = [c.idx for c in fresh if not truth(c.view)]
    report.check("every client ends on the truth", not wrong,
                 f"{len(fresh) - len(wrong)}/{len(fresh)} show both posts and {expected} {profile.reaction}s")

    # No subscription left behind: one room member per connected client.
    await asyncio.sleep(1.0)
    connected = len(fresh) + 1  # and the writer
    held = watch.peek(rooms=[room_of(profile)])
    if held is not None:
        room = room_of(profile)
        in_room = held.get("room_sizes", {}).get(room)
        hub_hold = held.get("hub_holding", {}).get(room)
        report.facts["the worker after the storm"] = peek.summary(held) + f"; hub clients holding {room}: {hub_hold}"
        report.check(f"socket.io room {room} holds exactly the connected clients", in_room == connected,
                     f"{in_room} members, {connected} connected")
        report.check("no socket left over", held.get("eio_sockets") == connected,
                     f"{held.get('eio_sockets')} sockets, {connected} connected")
        # kyoso's hub keeps its own note of each socket's topics (``Hub._groups``):
        # a dropped socket's note is a duplicate of its tab's new one.
        report.check(f"the hub's groups: clients holding {room} == connected (no duplicate)",
                     hub_hold == connected,
                     f"{hub_hold} held, {connected} connected; hub clients {held.get('hub_clients')}")
    if metrics_url:
        gauge = read_connected(metrics_url)
        report.facts["/metrics kyoso_connected_clients"] = gauge
        if held is None:
            report.check("/metrics: connected clients == connected", gauge == connected,
                         f"{gauge}, {connected} connected")
    if silent and linger_seconds and held is not None:
        # How long the server keeps the dropped sockets (engine.io's ping timeout).
        t_wait = time.monotonic()
        room = room_of(profile)
        while time.monotonic() - t_wait < linger_seconds:
            now = watch.peek(rooms=[room])
            if now is not None and now.get("room_sizes", {}).get(room) == connected:
                report.facts["the dropped sockets left the room"] = (
                    f"{time.monotonic() - t0:.0f} s after the drop ({peek.summary(now)})")
                break
            await asyncio.sleep(2.0)
        else:
            report.facts["the dropped sockets left the room"] = f"not within {linger_seconds:g} s"
    # And one update now reaches each client once.
    after = f"reload{tag} 復帰後の投稿"
    seen_before = {c.idx: c.updates for c in fresh}
    for c in fresh:
        c.watch("after", lambda v: profile.shows_text(v, after))
    name, payload = profile.post_event(writer.idx, after)
    t1 = time.monotonic()
    await writer.call(name, payload, reply_state=profile.post_reply_state())
    await crowd.wait_seen("after", fresh, 10)
    after_ms = crowd.latencies("after", fresh, t1)
    await asyncio.sleep(0.5)
    report.dist("a post after the storm, fan-out", after_ms, expected=len(fresh))
    extra = [c.idx for c in fresh if c.updates - seen_before[c.idx] > 1]
    report.check("the post after the storm reached every client once", len(after_ms) == len(fresh) and not extra,
                 f"{len(after_ms)}/{len(fresh)}; {len(extra)} got more than one update")
    return fresh


def read_connected(base_url: str) -> int | None:
    import re
    import urllib.request

    try:
        with urllib.request.urlopen(f"{base_url}/metrics", timeout=10) as r:
            text = r.read().decode()
    except OSError:
        return None
    m = re.search(r"^kyoso_connected_clients(?:\{[^}]*\})? ([0-9.e+]+)$", text, re.M)
    return int(float(m.group(1))) if m else None


# ---------------------------------------------------------------------------


async def come_and_go(make_crowd: Callable[[], Crowd], report: Report, *, runs: int, join_seconds: float,
                      targets: StormTargets, watch: Watch, room: str, settle_seconds: float = 2.0,
                      collect: bool = False) -> None:
    if watch.backend is None:
        report.check("the app's worker can be read", False, "start the app with the load tool (not --url)")
        return
    await asyncio.sleep(1.0)
    start = watch.worker_rss()
    held0 = watch.peek(rooms=[room])
    report.facts["after each wave"] = (f"every socket closed, then {settle_seconds:g} s"
                                       + ("; then a full gc.collect() in the worker" if collect else ""))
    report.facts["worker RSS at start"] = f"{start / MiB:.1f} MiB; " + peek.summary(held0)
    rows: list[str] = []
    after = start
    workers = list(watch.backend.workers)
    for run in range(1, runs + 1):
        crowd = make_crowd()
        async with crowd:
            ms, errors, span, _ = await arrive(crowd.clients, join_seconds)
            quiet_gc()
            await asyncio.sleep(1.0)
            peak = watch.worker_rss()
            held = watch.peek(rooms=[room])
            if errors:
                report.check(f"wave {run}: every client joined", False, f"{len(ms)}/{crowd.n}: {errors[0]}")
        # Every socket closed (the crowd leaves as browsers closing their tabs do).
        deadline = time.monotonic() + 20
        gone = None
        while time.monotonic() < deadline:
            gone = watch.peek(rooms=[room])
            if gone is None or gone.get("eio_sockets") == 0:
                break
            await asyncio.sleep(0.5)
        await asyncio.sleep(settle_seconds)
        if collect:  # what a full collection after each wave would give (kyoso runs one every 10 min)
            watch.peek(gc=True, timeout=120)
        after = watch.worker_rss()
        gone = watch.peek(rooms=[room])
        replaced = watch.backend.workers != workers
        rows.append(f"wave {run}: {len(ms)} joined in {span:.1f} s, {peak / MiB:.1f} MiB with them "
                    f"({peek.summary(held)}); after they left {after / MiB:.1f} MiB "
                    f"({(after - start) / MiB:+.1f} MiB from start; {peek.summary(gone)})"
                    + (f"; the idle worker was replaced ({workers} -> {watch.backend.workers})" if replaced else ""))
        workers = list(watch.backend.workers)
        print("  " + rows[-1], flush=True)
    for i, row in enumerate(rows, 1):
        report.facts[f"wave {i}"] = row.split(": ", 1)[1]
    report.at_most(f"worker RSS after {runs} waves, relative to start",
                   after / start * 100 if start else float("nan"), targets.memory_return_ratio * 100, "%")
    # Where the memory stays: a full collection, then the allocator's free pages.
    diag = watch.peek(rooms=[room], gc=True, trim=True, types=12, state_bytes=20, timeout=120)
    if diag:
        report.facts["a full gc.collect() in the worker"] = (
            f"freed {diag.get('gc_freed')} objects in {diag.get('gc_seconds')} s: "
            f"{diag.get('rss_before', 0) / MiB:.1f} -> {diag.get('rss_after_gc', 0) / MiB:.1f} MiB")
        report.facts["then malloc_trim(0)"] = f"{diag.get('rss_after_trim', 0) / MiB:.1f} MiB"
        report.facts["still held"] = peek.summary(diag)
        report.facts["most common GC-tracked objects"] = (
            f"{diag.get('gc_tracked')} tracked (+{diag.get('gc_frozen')} frozen at start-up): "
            + ", ".join(f"{t} {k}" for t, k in diag.get("types") or []))
