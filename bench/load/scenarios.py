"""The scenarios: join-burst, fanout, vote-burst. Each fills a Report with
p50/p95/p99/max and checks against its targets."""

from __future__ import annotations

import asyncio
import gc
import time
import uuid
from dataclasses import dataclass
from typing import Any

import aiohttp

from bench.load.client import RxClient, paced_join
from bench.load.profiles import KyosoChannel, Profile, VoteSpec
from bench.load.stats import Report


@dataclass
class Targets:
    """The issue's targets; scale-out (Redis, several workers) relaxes fan-out to p95 <= 400."""

    join_within_s: float = 15.0
    probe_wait_max_ms: float = 250.0
    fanout_p95_ms: float = 200.0
    fanout_p99_ms: float | None = 300.0
    ack_p95_ms: float = 300.0
    settle_ms: float = 500.0

    @classmethod
    def for_run(cls, workers: int, redis: bool) -> Targets:
        if redis or workers > 1:
            return cls(join_within_s=30.0, fanout_p95_ms=400.0, fanout_p99_ms=None)
        return cls()


def quiet_gc() -> None:
    """Keep the load generator's own garbage collector from pausing it in the
    middle of a measurement: its heap (N clients' views) is long-lived."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 50, 1000)


class Crowd:
    """N clients of one profile, sharing one aiohttp session."""

    def __init__(self, url: str, profile: Profile, n: int) -> None:
        self.url = url
        self.profile = profile
        self.n = n
        self.page = profile.page()
        self.http: aiohttp.ClientSession | None = None
        self.clients: list[RxClient] = []
        self.run_id = uuid.uuid4().hex[:6]

    async def __aenter__(self) -> Crowd:
        self.http = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0, force_close=False))
        self.clients = [RxClient(i, self.url, self.page, self.profile.storage_vars(i), self.http)
                        for i in range(self.n)]
        return self

    async def __aexit__(self, *exc: Any) -> None:
        for i in range(0, len(self.clients), 200):
            await asyncio.gather(*(c.close() for c in self.clients[i:i + 200]))
        if self.http is not None:
            await self.http.close()

    @property
    def joined(self) -> list[RxClient]:
        return [c for c in self.clients if c.joined.is_set() and not c.disconnected]

    @property
    def dropped(self) -> list[RxClient]:
        return [c for c in self.clients if c.joined.is_set() and c.disconnected]

    patience = 1.0  # scales every wait (the SharedState baseline needs minutes)

    async def join(self, clients: list[RxClient], seconds: float,
                   timeout: float = 90.0) -> tuple[list[float], list[str], float]:
        """Join clients paced evenly over ``seconds``. Returns (join times in ms,
        errors, seconds from the first connect until the last join)."""
        results, errors, start, _ = await paced_join(clients, seconds, timeout * self.patience)
        quiet_gc()
        done = [c.t_joined for c in clients if c.t_joined]
        span = (max(done) - start) if done else float("nan")
        wrong = [c.idx for c in clients if c.t_joined and not self.profile.check_joined(c.view)]
        if wrong:
            errors.append(f"{len(wrong)} clients joined with a wrong page view (e.g. {wrong[:5]})")
        return [r for r in results if r is not None], errors, span

    async def wait_seen(self, key: Any, clients: list[RxClient], timeout: float) -> None:
        deadline = time.monotonic() + timeout * self.patience
        while time.monotonic() < deadline:
            if all(key in c.seen for c in clients):
                return
            await asyncio.sleep(0.02)

    def latencies(self, key: Any, clients: list[RxClient], t0: float) -> list[float]:
        out = []
        for c in clients:
            c.pending.pop(key, None)
            if key in c.seen:
                out.append((c.seen.pop(key) - t0) * 1000)
        return out


# ---------------------------------------------------------------------------


async def join_burst(crowd: Crowd, report: Report, *, probes: int, seconds: float,
                     targets: Targets, memory: Any) -> None:
    """K probe clients join first and fire a cheap event in a loop; then the
    other N-K clients join, paced evenly over ``seconds``."""
    probe_clients = crowd.clients[:probes]
    joiners = crowd.clients[probes:]
    _, errors, _ = await crowd.join(probe_clients, 0.5)
    if errors:
        report.check("probe clients joined", False, "; ".join(errors[:3]))
        return
    rtts: list[float] = []
    stop = asyncio.Event()
    name, payload = crowd.profile.probe_event

    async def probe(c: RxClient) -> None:
        while not stop.is_set():
            try:
                rtts.append(await c.call(name, payload, reply_state=crowd.profile.probe_reply_state,
                                         timeout=60 * crowd.patience) * 1000)
            except asyncio.TimeoutError:
                rtts.append(60_000.0 * crowd.patience)
            await asyncio.sleep(0.05)

    idle = []
    tasks = [asyncio.create_task(probe(c)) for c in probe_clients]
    await asyncio.sleep(1.0)
    idle = list(rtts)
    rtts.clear()
    join_ms, errors, span = await crowd.join(joiners, seconds)
    await asyncio.sleep(0.5)
    stop.set()
    await asyncio.gather(*tasks)
    report.facts["joiners"] = f"{len(joiners)} paced over {seconds:g} s; {probes} probe clients"
    report.facts["probe event"] = name.rsplit(".", 1)[-1]
    report.dist("probe round trip before the burst", idle)
    report.dist("join (connect -> on_load done)", join_ms, expected=len(joiners))
    report.dist("probe round trip during the burst", rtts)
    if errors:
        report.facts["join errors"] = f"{len(errors)}: " + "; ".join(errors[:3])
    report.check("every client joined", not errors and len(join_ms) == len(joiners),
                 f"{len(join_ms)}/{len(joiners)}")
    report.at_most("all joined within", span, targets.join_within_s, "s")
    report.at_most("probe wait (max round trip) during joins",
                   max(rtts) if rtts else float("nan"), targets.probe_wait_max_ms)
    if memory is not None:
        report.facts["backend memory at N clients"] = memory()


async def fanout(crowd: Crowd, report: Report, *, messages: int, stamps: int, interval: float,
                 targets: Targets) -> None:
    """Posts (and stamp toggles, on kyoso) from rotating clients; the time until
    every client's view shows each one."""
    clients = crowd.joined
    n = len(clients)
    profile = crowd.profile
    post_ms: list[float] = []
    acks: list[float] = []
    last_ms: list[float] = []
    first_marker = ""
    # One unmeasured post first: a worker's first post compiles its SQL
    # statements and warms the Markdown renderer (~100 ms, once per process);
    # a room of 1,000 meets a server that has long been serving posts.
    warm = f"warm{crowd.run_id}"
    for c in clients:
        c.watch(warm, lambda v, m=warm: profile.shows_text(v, m))
    name, payload = profile.post_event(clients[0].idx, f"{warm} 開始前の確認です。")
    await clients[0].call(name, payload, reply_state=profile.post_reply_state())
    await crowd.wait_seen(warm, clients, 10.0)
    await asyncio.sleep(interval)
    updates_before = sum(c.updates for c in clients)
    for k in range(messages):
        marker = f"fan{crowd.run_id}x{k}"
        first_marker = first_marker or marker
        for c in clients:
            c.watch(marker, lambda v, m=marker: profile.shows_text(v, m))
        poster = clients[(k * 7919) % n]
        name, payload = profile.post_event(poster.idx, f"{marker} 説明会の資料を共有します。")
        t0 = time.monotonic()
        acks.append(await poster.call(name, payload, reply_state=profile.post_reply_state()) * 1000)
        await crowd.wait_seen(marker, clients, 10.0)
        lat = crowd.latencies(marker, clients, t0)
        post_ms += lat
        if lat:
            last_ms.append(max(lat))
        await asyncio.sleep(interval)
    report.facts["clients"] = n
    report.facts["updates a client received per post"] = \
        f"{(sum(c.updates for c in clients) - updates_before) / max(1, n * messages):.2f}"
    kind = getattr(profile, "post_kind", "message")
    report.dist(f"{kind} fan-out (post -> shown)", post_ms, expected=n * messages)
    report.dist("  last client per message", last_ms)
    report.dist("  poster's ack", acks)
    checks = [(kind, post_ms, n * messages)]
    if stamps and isinstance(profile, KyosoChannel):
        # Stamps on a channel's first post; upvotes on a briefing's first question.
        target = profile.reaction_target(clients[0].view, first_marker)
        kind = profile.reaction
        react_ms: list[float] = []
        for r in range(stamps):
            toggler = clients[(r * 104729 + 1) % n]
            uid = profile.user_ids[toggler.idx]
            key = (kind, r)
            for c in clients:
                c.watch(key, lambda v, u=uid, k=r + 1: profile.reaction_shown(v, target, u, k))
            name, payload = profile.reaction_event(target)
            t0 = time.monotonic()
            await toggler.call(name, payload, reply_state=profile.post_reply_state())
            await crowd.wait_seen(key, clients, 10.0)
            react_ms += crowd.latencies(key, clients, t0)
            await asyncio.sleep(interval)
        report.dist(f"{kind} fan-out (toggle -> shown)", react_ms, expected=n * stamps)
        checks.append((kind, react_ms, n * stamps))
    for what, ms, expected in checks:
        from bench.load.stats import percentile

        report.check(f"{what}: every client got every update", len(ms) == expected,
                     f"{len(ms)}/{expected}")
        report.at_most(f"{what} fan-out p95", percentile(ms, 95), targets.fanout_p95_ms)
        if targets.fanout_p99_ms is not None:
            report.at_most(f"{what} fan-out p99", percentile(ms, 99), targets.fanout_p99_ms)


async def vote_burst(crowd: Crowd, report: Report, spec: VoteSpec, *, seconds: float,
                     targets: Targets) -> None:
    """Every client fires the spec's event once, paced evenly over ``seconds``.
    Ack = the client's own update; then every client's view must hold the
    spec's final predicate, and the database must have counted each vote once."""
    clients = crowd.joined
    n = len(clients)
    key = ("final", spec.name)
    already = sum(1 for c in clients if spec.final(c.view))
    if already:
        report.facts["WARNING"] = (f"the final-view predicate already held on {already} clients "
                                   "before the burst: it does not tell the final tally")
    for c in clients:
        c.watch(key, spec.final)
    start = time.monotonic()
    step = seconds / max(1, n)
    acks: list[float] = []
    sent: list[float] = []
    failures: list[str] = []

    async def vote(k: int, c: RxClient) -> None:
        await asyncio.sleep(max(0.0, start + k * step - time.monotonic()))
        name, payload = spec.event(c.idx)
        sent.append(time.monotonic())
        try:
            acks.append(await c.call(name, payload, reply_state=spec.reply_state,
                                    timeout=30 * crowd.patience) * 1000)
        except asyncio.TimeoutError:
            failures.append(f"client {c.idx}: no ack in time")

    await asyncio.gather(*(vote(k, c) for k, c in enumerate(clients)))
    last_sent = max(sent)
    last_ack = time.monotonic()
    await crowd.wait_seen(key, clients, 15.0)
    settle = [max(0.0, c.seen[key] - last_sent) * 1000 for c in clients if key in c.seen]
    await asyncio.sleep(1.0)  # anything out of order would land by now
    wrong = [c.idx for c in clients if not spec.final(c.view)]
    db_ok, db_text = spec.db_check()
    report.facts["burst"] = f"{n} votes paced over {seconds:g} s ({spec.describe})"
    report.facts["votes sent in"] = f"{last_sent - start:.2f} s"
    report.dist("vote ack", acks, expected=n)
    report.dist("final view shown, after the last vote", settle, expected=n)
    report.facts["last ack after last vote"] = f"{(last_ack - last_sent) * 1000:.0f} ms"
    report.check("every vote acknowledged", not failures and len(acks) == n,
                 f"{len(acks)}/{n}" + (f" ({failures[0]})" if failures else ""))
    report.at_most("vote ack p95", _p(acks, 95), targets.ack_p95_ms)
    report.check("counted exactly once in the database", db_ok, db_text)
    report.check("every client shows the exact final tally", len(settle) == n and not wrong,
                 f"{len(settle)}/{n} reached it; {len(wrong)} wrong at the end")
    report.at_most("every client shows it, after the last vote",
                   max(settle) if settle else float("nan"), targets.settle_ms)


def _p(values: list[float], p: float) -> float:
    from bench.load.stats import percentile

    return percentile(values, p)
