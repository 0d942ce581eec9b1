"""Coalescing of bursts: one worker, and two workers sharing Redis."""

from __future__ import annotations

import asyncio
import time

import pytest

from kyoso.realtime.hub import (
    COALESCE_SECONDS,
    HUGE_ROOM,
    HUGE_ROOM_COALESCE_SECONDS,
    LARGE_ROOM_COALESCE_SECONDS,
    SLOW_COALESCE_SECONDS,
    Hub,
)


class RecordingSio:
    def __init__(self) -> None:
        self.sent: list[tuple[float, str, dict]] = []

    async def emit(self, event: str, payload: dict, room: str, namespace: str) -> None:
        self.sent.append((time.monotonic(), room, payload))


def _hub() -> tuple[Hub, RecordingSio]:
    hub, sio = Hub(), RecordingSio()
    hub.attach(sio)
    return hub, sio


async def _burst(hubs: list[Hub], truth: dict[str, int], n: int = 30, spacing: float = 0.01,
                 key: str = "tally:1", settle: float = COALESCE_SECONDS * 3) -> float:
    """``n`` changes ``spacing`` apart; returns how long they took (a loaded
    machine stretches the burst, and more windows pass in it)."""
    started = time.monotonic()
    def builder() -> dict[str, dict]:
        return {"room": {"value": truth["value"]}}

    for i in range(n):
        truth["value"] = i + 1  # the committed state the next build reads
        task = hubs[i % len(hubs)].send_coalesced(key, builder)
        if task is not None:
            await task
        await asyncio.sleep(spacing)
    took = time.monotonic() - started
    await asyncio.sleep(settle)
    return took


async def test_one_worker_sends_the_first_at_once_and_the_last_truth() -> None:
    hub, sio = _hub()
    truth = {"value": 0}
    start = time.monotonic()
    took = await _burst([hub], truth)
    values = [p["value"] for _, _, p in sio.sent]
    assert values[0] == 1 and sio.sent[0][0] - start < COALESCE_SECONDS  # at once, not after a window
    assert values[-1] == 30
    # 30 changes over ~0.3 s: at most one emit per window (and the last truth).
    assert len(values) <= took / COALESCE_SECONDS + 2, (len(values), took)


async def test_a_count_nobody_waits_for_goes_out_at_most_every_slow_window() -> None:
    hub, sio = _hub()
    truth = {"value": 0}
    await _burst([hub], truth, n=20, spacing=0.05, key="attendance:1",
                 settle=SLOW_COALESCE_SECONDS + 0.3)
    values = [p["value"] for _, _, p in sio.sent]
    # 20 arrivals over ~1 s: the first at once, then the truth once the window ends.
    assert values == [1, 20]
    assert sio.sent[1][0] - sio.sent[0][0] >= SLOW_COALESCE_SECONDS - 0.05


async def test_two_workers_share_one_lead_and_end_on_the_truth(redis_url: str) -> None:
    (a, sio_a), (b, sio_b) = _hub(), _hub()
    a.new_worker()
    b.new_worker()
    a.use_redis(redis_url)
    b.use_redis(redis_url)
    truth = {"value": 0}
    took = await _burst([a, b], truth)
    sent = sorted(sio_a.sent + sio_b.sent)
    values = [p["value"] for _, _, p in sent]
    # Without sharing each worker would send its own share: about twice this.
    assert len(values) <= took / COALESCE_SECONDS + 2, (values, took)
    assert values[-1] == 30
    # A change on the worker that did not lead still reached the room.
    truth["value"] = 99
    task = b.send_coalesced("tally:1", lambda: {"room": {"value": truth["value"]}})
    if task is not None:
        await task
    await asyncio.sleep(COALESCE_SECONDS * 3)
    assert sorted(sio_a.sent + sio_b.sent)[-1][2]["value"] == 99


async def _huge_room_burst(hubs: list[Hub], sios: list[RecordingSio],
                           monkeypatch: pytest.MonkeyPatch, key: str = "tally:7") -> None:
    """A steady vote burst in a room of HUGE_ROOM clients, then one last vote
    right after an emit: emits are spaced by the long window during the
    burst, and the last one follows the quiet burst by the large-room window."""
    monkeypatch.setattr(Hub, "room_size", lambda self, room: HUGE_ROOM)
    truth = {"value": 0}

    def builder() -> dict[str, dict]:
        return {"room": {"value": truth["value"]}}

    def sent() -> list[tuple[float, str, dict]]:
        return sorted(x for sio in sios for x in sio.sent)

    async def change(i: int) -> None:
        truth["value"] += 1
        task = hubs[i % len(hubs)].send_coalesced(key, builder)
        if task is not None:
            await task

    for i in range(250):  # 2.5 s of votes, one every 10 ms
        await change(i)
        await asyncio.sleep(0.01)
    times = [t for t, _, _ in sent()]
    gaps = [b - a for a, b in zip(times[1:], times[2:])]  # after the first (small room) window
    assert gaps and min(gaps) >= HUGE_ROOM_COALESCE_SECONDS - 0.06, gaps
    # One last vote just after an emit: out when the burst is quiet, not a long window later.
    before = len(sent())
    while len(sent()) == before:
        await change(0)
        await asyncio.sleep(0.01)
    await change(1)
    last_change = time.monotonic()
    await asyncio.sleep(HUGE_ROOM_COALESCE_SECONDS + 0.3)
    final_time, _, final = sent()[-1]
    assert final["value"] == truth["value"]
    # The large-room window, not the huge one (timers run late on a loaded machine).
    assert final_time - last_change < (LARGE_ROOM_COALESCE_SECONDS + HUGE_ROOM_COALESCE_SECONDS) / 2, (
        final_time - last_change)


async def test_a_huge_room_holds_a_burst_longer_and_sends_when_quiet(
        monkeypatch: pytest.MonkeyPatch) -> None:
    hub, sio = _hub()
    await _huge_room_burst([hub], [sio], monkeypatch)


async def test_a_stamp_burst_in_a_huge_room_is_held_like_a_vote_burst(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Everyone pressing 👍 on one post of a 2,000-person room: its stamps go
    out at the huge room's pace, and the last count soon after the burst."""
    hub, sio = _hub()
    await _huge_room_burst([hub], [sio], monkeypatch, key="stamps:7")


@pytest.mark.parametrize(("clients", "windows"), [
    (12, (COALESCE_SECONDS, COALESCE_SECONDS)),
    (HUGE_ROOM - 1, (LARGE_ROOM_COALESCE_SECONDS, LARGE_ROOM_COALESCE_SECONDS)),
    (HUGE_ROOM, (LARGE_ROOM_COALESCE_SECONDS, HUGE_ROOM_COALESCE_SECONDS)),
])
async def test_a_stamps_window_follows_its_room(monkeypatch: pytest.MonkeyPatch, clients: int,
                                                windows: tuple[float, float]) -> None:
    """A stamp in a small room goes out within the short window; only a full
    room waits longer."""
    hub, _ = _hub()
    monkeypatch.setattr(Hub, "room_size", lambda self, room: clients)
    await hub.emit_built(lambda: {"channel:1": {"stamps": []}}, "stamps:3")
    assert hub.windows("stamps:3") == windows
    assert hub.windows("msg:3") == (COALESCE_SECONDS, COALESCE_SECONDS)


async def test_two_workers_hold_a_huge_room_burst_and_send_when_quiet(
        redis_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    (a, sio_a), (b, sio_b) = _hub(), _hub()
    for hub in (a, b):
        hub.new_worker()
        hub.use_redis(redis_url)
    await _huge_room_burst([a, b], [sio_a, sio_b], monkeypatch)
