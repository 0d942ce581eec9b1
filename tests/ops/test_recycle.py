"""An idle worker that has grown is replaced by a fresh one (``ops/recycle.py``)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path

import aiohttp
import pytest

from kyoso.ops.recycle import Recycler
from tests.utils.net import free_port

ROOT = Path(__file__).resolve().parents[2]


def test_only_after_the_idle_time_and_only_when_grown() -> None:
    r = Recycler(idle_seconds=60, growth=1.10)
    assert not r.tick(0, sockets=0, rss=100)  # the start
    assert not r.tick(30, sockets=0, rss=200)  # idle 30 s only
    assert not r.tick(59, sockets=0, rss=200)
    assert r.tick(60, sockets=0, rss=200)
    assert not r.tick(61, sockets=0, rss=110)  # not over 10 % of the start


def test_a_client_connected_restarts_the_idle_clock() -> None:
    r = Recycler(idle_seconds=60, growth=1.10)
    r.tick(0, sockets=0, rss=100)
    assert not r.tick(50, sockets=1, rss=300)
    assert not r.tick(100, sockets=0, rss=300)  # idle again from 100
    assert not r.tick(159, sockets=0, rss=300)
    assert r.tick(160, sockets=0, rss=300)


@pytest.mark.skipif(not Path("/proc/self/statm").exists(), reason="resident memory is read from /proc")
async def test_gunicorn_replaces_an_idle_grown_worker_but_not_one_with_a_client(tmp_path: Path) -> None:
    port = free_port()
    env = {**os.environ, "KYOSO_RECYCLE_IDLE_SECONDS": "1", "PYTHONPATH": str(ROOT)}
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--preload", "--workers", "1", "--worker-class",
         "kyoso.ops.worker.UvicornWorker", "--bind", f"127.0.0.1:{port}", "tests.ops.recycle_app:app"],
        cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    try:
        async with aiohttp.ClientSession() as http:
            async def pid(path: str = "/") -> int:
                for _ in range(100):
                    try:
                        async with http.get(base + path) as r:
                            return int(await r.text())
                    except aiohttp.ClientError:
                        await asyncio.sleep(0.1)
                raise AssertionError("the server did not answer")

            first = await pid()
            async with http.ws_connect(base + "/ws") as ws:
                await pid("/grow")
                await asyncio.sleep(3)  # idle for HTTP, but a client is connected
                assert await pid() == first
                await ws.close()
            deadline = time.monotonic() + 20
            now = first
            while now == first and time.monotonic() < deadline:
                await asyncio.sleep(0.3)
                now = await pid()
            assert now != first  # a fresh worker, answering
            await asyncio.sleep(3)  # and it has not grown: it stays
            assert await pid() == now
    finally:
        server.terminate()
        _, err = server.communicate(timeout=30)
    assert b"gunicorn starts a fresh one" in err or b"Booting worker" in err
