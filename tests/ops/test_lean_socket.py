"""A socket's queues and handshake in less memory (kyoso/ops/lean_socket.py):
``LeanQueue`` and ``LeanEvent`` do what asyncio's do for what uvicorn and
engine.io ask of them (each scenario runs on both and must end alike), and
uvicorn's protocol under kyoso's worker lets the handshake go once done."""

from __future__ import annotations

import asyncio
import gc
from typing import Any

import pytest
import websockets
import websockets.http11

from kyoso.ops import worker
from kyoso.ops.lean_socket import LeanEvent, LeanQueue, WebSocketProtocol
from kyoso.realtime.setup import make_sio
from tests.utils.net import serving_asgi

QUEUES = [asyncio.Queue, LeanQueue]


@pytest.mark.parametrize("make", QUEUES)
async def test_items_come_out_in_order_and_a_getter_waits_for_one(make: Any) -> None:
    q = make()
    with pytest.raises(asyncio.QueueEmpty):
        q.get_nowait()
    waiting = asyncio.create_task(q.get())
    await asyncio.sleep(0)
    assert not waiting.done() and q.empty()
    await q.put("a")
    q.put_nowait("b")
    assert await waiting == "a"
    assert q.qsize() == 1 and q.get_nowait() == "b" and q.empty() and not q.full()


@pytest.mark.parametrize("make", QUEUES)
async def test_a_getter_cancelled_after_it_was_woken_passes_the_item_on(make: Any) -> None:
    q = make()
    first, second = asyncio.create_task(q.get()), asyncio.create_task(q.get())
    await asyncio.sleep(0)
    q.put_nowait("only")  # wakes the first...
    first.cancel()  # ...which is cancelled before it takes it
    assert await asyncio.wait_for(second, 1) == "only"
    assert first.cancelled() and q.empty()


@pytest.mark.parametrize("make", QUEUES)
async def test_a_cancelled_wait_leaves_nothing_behind(make: Any) -> None:
    q = make()
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(0.01):
            await q.get()
    q.put_nowait(1)
    assert await asyncio.wait_for(q.get(), 1) == 1


@pytest.mark.parametrize("make", QUEUES)
async def test_join_waits_until_every_item_is_done(make: Any) -> None:
    q = make()
    await asyncio.wait_for(q.join(), 1)  # nothing put: at once
    q.put_nowait(1)
    q.put_nowait(2)
    joined = asyncio.create_task(q.join())
    q.get_nowait()
    q.task_done()
    await asyncio.sleep(0)
    assert not joined.done()
    q.get_nowait()
    q.task_done()
    await asyncio.wait_for(joined, 1)
    with pytest.raises(ValueError):
        q.task_done()


@pytest.mark.parametrize("make", [asyncio.Event, LeanEvent])
async def test_an_event_wakes_every_waiter_and_a_cleared_one_waits_again(make: Any) -> None:
    e = make()
    waiters = [asyncio.create_task(e.wait()) for _ in range(3)]
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(0.01):
            await e.wait()  # a cancelled waiter
    assert not e.is_set()
    e.set()
    assert await asyncio.wait_for(asyncio.gather(*waiters), 1) == [True] * 3
    assert await e.wait() is True
    e.clear()
    later = asyncio.create_task(e.wait())
    await asyncio.sleep(0.01)
    assert not later.done()
    e.set()
    assert await asyncio.wait_for(later, 1) is True


async def test_a_socket_lets_its_handshake_go_and_keeps_working() -> None:
    async def echo(scope: Any, receive: Any, send: Any) -> None:
        assert (await receive())["type"] == "websocket.connect"
        await send({"type": "websocket.accept"})
        while (message := await receive())["type"] == "websocket.receive":
            await send({"type": "websocket.send", "text": message["text"] * 2})

    async with serving_asgi(echo, **worker.config_kwargs()) as url:
        async with websockets.connect(url.replace("http", "ws") + "/ws") as ws:
            await ws.send("あ")
            assert await ws.recv() == "ああ"
            [protocol] = [o for o in gc.get_objects() if isinstance(o, WebSocketProtocol)]
            assert protocol.request is None and protocol.response is None
            # The parser still holds the request (websockets' design): empty.
            held = [o for o in gc.get_objects()
                    if isinstance(o, websockets.http11.Request) and o is not ws.request]  # not the client's
            assert held and all(not r.headers for r in held)
            assert dict(protocol.scope["headers"])[b"upgrade"] == b"websocket"
            assert isinstance(protocol.queue, LeanQueue) and isinstance(protocol.writable, LeanEvent)
            await ws.send("い" * 70_000)  # larger than a socket buffer: flow control
            assert await ws.recv() == "い" * 140_000


def test_engine_io_sockets_queue_their_packets_in_a_lean_queue() -> None:
    assert isinstance(make_sio().eio.create_queue(), LeanQueue)
