"""Coalescing of bursts: one worker, and two workers sharing Redis."""

from __future__ import annotations

import asyncio
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator

import pytest

from kyoso.realtime.hub import COALESCE_SECONDS, SLOW_COALESCE_SECONDS, Hub


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
                 key: str = "tally:1", settle: float = COALESCE_SECONDS * 3) -> None:
    def builder() -> dict[str, dict]:
        return {"room": {"value": truth["value"]}}

    for i in range(n):
        truth["value"] = i + 1  # the committed state the next build reads
        task = hubs[i % len(hubs)].send_coalesced(key, builder)
        if task is not None:
            await task
        await asyncio.sleep(spacing)
    await asyncio.sleep(settle)


async def test_one_worker_sends_the_first_at_once_and_the_last_truth() -> None:
    hub, sio = _hub()
    truth = {"value": 0}
    start = time.monotonic()
    await _burst([hub], truth)
    values = [p["value"] for _, _, p in sio.sent]
    assert values[0] == 1 and sio.sent[0][0] - start < 0.05
    assert values[-1] == 30
    assert len(values) <= 6  # 30 changes over ~0.3 s, at most one per window


async def test_a_count_nobody_waits_for_goes_out_at_most_every_slow_window() -> None:
    hub, sio = _hub()
    truth = {"value": 0}
    await _burst([hub], truth, n=20, spacing=0.05, key="attendance:1",
                 settle=SLOW_COALESCE_SECONDS + 0.3)
    values = [p["value"] for _, _, p in sio.sent]
    # 20 arrivals over ~1 s: the first at once, then the truth once the window ends.
    assert values == [1, 20]
    assert sio.sent[1][0] - sio.sent[0][0] >= SLOW_COALESCE_SECONDS - 0.05


@pytest.fixture
def redis_url() -> Iterator[str]:
    exe = shutil.which("redis-server")
    if exe is None:
        pytest.fail("redis-server is missing: run the tests with ./scripts/test")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([exe, "--port", str(port), "--save", "", "--appendonly", "no"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.05)
    yield f"redis://127.0.0.1:{port}/0"
    proc.terminate()
    proc.wait(timeout=10)


async def test_two_workers_share_one_lead_and_end_on_the_truth(redis_url: str) -> None:
    (a, sio_a), (b, sio_b) = _hub(), _hub()
    a.new_worker()
    b.new_worker()
    a.use_redis(redis_url)
    b.use_redis(redis_url)
    truth = {"value": 0}
    await _burst([a, b], truth)
    sent = sorted(sio_a.sent + sio_b.sent)
    values = [p["value"] for _, _, p in sent]
    # Without sharing each worker would send its own share: about twice this.
    assert len(values) <= 6, values
    assert values[-1] == 30
    # A change on the worker that did not lead still reached the room.
    truth["value"] = 99
    task = b.send_coalesced("tally:1", lambda: {"room": {"value": truth["value"]}})
    if task is not None:
        await task
    await asyncio.sleep(COALESCE_SECONDS * 3)
    assert sorted(sio_a.sent + sio_b.sent)[-1][2]["value"] == 99
