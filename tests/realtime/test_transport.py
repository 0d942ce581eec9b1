"""The socket.io plumbing under the hub (kyoso/realtime/transport.py), over
real sockets: a socket.io server on uvicorn with kyoso's client manager and
python-socketio clients."""

from __future__ import annotations

import asyncio
import contextlib
import gc
from collections.abc import AsyncIterator
from typing import Any

import pytest
import socketio
from engineio import async_socket
from engineio import packet as eio_packet

from kyoso.realtime import transport
from kyoso.realtime.hub import Hub
from tests.utils.net import serving_asgi

NS = "/_event"


class Server:
    def __init__(self, manager: Any = None) -> None:
        self.sio = socketio.AsyncServer(async_mode="asgi", client_manager=manager or transport.FastEmit(),
                                        transports=["websocket"], allow_upgrades=False,
                                        async_handlers=False)
        self.sids: list[str] = []

        @self.sio.on("connect", namespace=NS)
        async def connect(sid: str, environ: dict, auth: Any = None) -> None:
            self.sids.append(sid)
            await self.sio.enter_room(sid, "room:1", namespace=NS)


@contextlib.asynccontextmanager
async def serving(manager: Any = None) -> AsyncIterator[tuple[Server, str]]:
    transport.patch_engineio_poll()
    transport.patch_engineio_upgrade()
    srv = Server(manager)
    async with serving_asgi(socketio.ASGIApp(srv.sio, socketio_path="_event")) as url:
        yield srv, url


async def _clients(url: str, n: int) -> list[tuple[socketio.AsyncClient, list[Any]]]:
    out = []
    for _ in range(n):
        got: list[Any] = []
        c = socketio.AsyncClient(reconnection=False)
        c.on("event", got.append, namespace=NS)
        await c.connect(url, namespaces=[NS], transports=["websocket"], socketio_path="_event")
        out.append((c, got))
    return out


async def _settle(clients: list[tuple[socketio.AsyncClient, list[Any]]], want: int) -> None:
    for _ in range(200):
        if all(len(got) >= want for _, got in clients):
            break
        await asyncio.sleep(0.02)
    await asyncio.sleep(0.1)  # anything extra would arrive now


async def test_a_room_emit_reaches_every_socket_once_in_order() -> None:
    async with serving() as (srv, url):
        clients = await _clients(url, 12)
        try:
            for k in range(5):
                await srv.sio.emit("event", {"k": k, "text": "説明会"}, room="room:1", namespace=NS)
            await _settle(clients, 5)
            assert [got for _, got in clients] == [[{"k": k, "text": "説明会"} for k in range(5)]] * 12
        finally:
            for c, _ in clients:
                await c.disconnect()


async def test_skip_sid_and_a_departed_socket_are_left_out() -> None:
    async with serving() as (srv, url):
        clients = await _clients(url, 4)
        try:
            await clients[3][0].disconnect()
            await asyncio.sleep(0.2)
            await srv.sio.emit("event", "hi", room="room:1", namespace=NS, skip_sid=srv.sids[0])
            await _settle(clients[1:3], 1)
            assert [got for _, got in clients] == [[], ["hi"], ["hi"], []]
        finally:
            for c, _ in clients[:3]:
                await c.disconnect()


async def test_a_socket_overdue_for_its_pong_is_closed_not_written(monkeypatch: pytest.MonkeyPatch) -> None:
    async with serving() as (srv, url):
        clients = await _clients(url, 2)
        try:
            eio_sid = srv.sio.manager.eio_sid_from_sid(srv.sids[0], NS)
            sock = srv.sio.eio.sockets[eio_sid]
            sock.last_ping = 1.0  # a ping sent long ago and never answered
            await srv.sio.emit("event", "hi", room="room:1", namespace=NS)
            await _settle(clients[1:], 1)
            assert clients[0][1] == [] and clients[1][1] == ["hi"]
            assert sock.closed or sock.closing
        finally:
            for c, _ in clients:
                with contextlib.suppress(Exception):
                    await c.disconnect()


async def test_a_disconnect_leaves_every_room_of_that_client_and_no_other() -> None:
    async with serving() as (srv, url):
        clients = await _clients(url, 3)
        try:
            for sid in srv.sids:
                await srv.sio.enter_room(sid, f"user:{sid}", namespace=NS)
            await srv.sio.enter_room(srv.sids[0], "room:2", namespace=NS)
            await srv.sio.leave_room(srv.sids[1], "room:1", namespace=NS)
            await clients[0][0].disconnect()
            await asyncio.sleep(0.3)
            rooms = srv.sio.manager.rooms[NS]
            assert not any(srv.sids[0] in members for members in rooms.values())
            assert "room:2" not in rooms and f"user:{srv.sids[0]}" not in rooms
            assert set(srv.sio.manager.get_rooms(srv.sids[1], NS)) == {srv.sids[1], f"user:{srv.sids[1]}"}
            assert set(srv.sio.manager.get_rooms(srv.sids[2], NS)) == {srv.sids[2], f"user:{srv.sids[2]}",
                                                                      "room:1"}
            assert not srv.sio.manager.is_connected(srv.sids[0], NS)
            await srv.sio.emit("event", "still here", room="room:1", namespace=NS)
            await _settle(clients[2:], 1)
            assert [got for _, got in clients] == [[], [], ["still here"]]
        finally:
            for c, _ in clients[1:]:
                await c.disconnect()


async def test_with_redis_a_reply_to_a_local_client_stays_on_its_worker(redis_url: str) -> None:
    managers = [transport.FastRedisManager(redis_url, channel="kyoso-test") for _ in range(2)]
    published: list[dict] = []
    real_publish = managers[0]._publish

    async def record(message: dict) -> None:
        published.append(message)
        await real_publish(message)

    managers[0]._publish = record  # type: ignore[method-assign]
    async with serving(managers[0]) as (one, url_one), serving(managers[1]) as (two, url_two):
        [(c1, got1)] = await _clients(url_one, 1)
        [(c2, got2)] = await _clients(url_two, 1)
        await asyncio.sleep(0.3)  # both managers listening on Redis
        # Worker one replies to its own client: delivered there, not published.
        await one.sio.emit("event", {"n": 1}, to=one.sids[0], namespace=NS)
        await _settle([(c1, got1)], 1)
        assert got1 == [{"n": 1}] and got2 == []
        assert published == []
        # A client of the other worker still gets what is sent to it.
        await one.sio.emit("event", {"n": 2}, to=two.sids[0], namespace=NS)
        await _settle([(c2, got2)], 1)
        assert got2 == [{"n": 2}] and got1 == [{"n": 1}]
        # And a room reaches the clients of both workers, once each.
        await one.sio.emit("event", {"n": 3}, room="room:1", namespace=NS)
        await _settle([(c1, got1), (c2, got2)], 2)
        assert got1 == [{"n": 1}, {"n": 3}] and got2 == [{"n": 2}, {"n": 3}]
        assert [m["room"] for m in published] == [two.sids[0], "room:1"]
        for c in (c1, c2):
            await c.disconnect()


def test_the_engineio_poll_is_replaced_once() -> None:
    transport.patch_engineio_poll()
    assert async_socket.AsyncSocket.poll is transport._poll  # noqa: SLF001
    assert transport.patch_engineio_poll() is False


async def test_a_websocket_keeps_its_request_but_not_the_body_reader_of_a_polling_post() -> None:
    async with serving() as (srv, url):
        [(client, got)] = await _clients(url, 1)
        try:
            [environ] = srv.sio.environ.values()
            assert "wsgi.input" not in environ
            assert environ["asgi.scope"]["type"] == "websocket" and environ["HTTP_UPGRADE"] == "websocket"
            await srv.sio.emit("event", {"n": 1}, room="room:1", namespace=NS)
            await _settle([(client, got)], 1)
            assert got == [{"n": 1}]
        finally:
            await client.disconnect()
    assert transport.patch_engineio_upgrade() is False  # installed once


async def test_a_socket_keeps_no_private_message_it_has_sent() -> None:
    """engineio's writer keeps its last packet in a loop variable: a tab's
    page load (~30 KiB) was held twice per socket until its next message."""
    page = "説明会の資料" * 20_000  # ~120 KB of text
    async with serving() as (srv, url):
        clients = await _clients(url, 3)
        try:
            await srv.sio.emit("event", {"room": page}, room="room:1", namespace=NS)
            await srv.sio.emit("event", {"page": page}, to=srv.sids[0], namespace=NS)
            await _settle(clients, 1)
            assert [len(got) for _, got in clients] == [2, 1, 1]
            assert clients[0][1][1] == {"page": page}  # delivered whole before it was let go
            await asyncio.sleep(0.1)
            # The server's packets (encoded to be sent; the clients' are decoded).
            held = [p for p in gc.get_objects() if isinstance(p, eio_packet.Packet)
                    and p.encode_cache is not None and isinstance(p.data, str) and len(p.data) > 100_000]
            # The room's packet, shared by its three sockets, is held once.
            assert len(held) == 1 and "room" in held[0].data
        finally:
            for c, _ in clients:
                await c.disconnect()


def test_gc_tuning_freezes_start_up_objects_and_spaces_full_collections() -> None:
    before = gc.get_threshold()
    try:
        transport.tune_gc()
        assert gc.get_freeze_count() > 0
        assert gc.get_threshold() == transport.GC_THRESHOLDS
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)


async def test_the_hub_forgets_a_client_as_it_disconnects() -> None:
    async with serving() as (srv, url):
        hub = Hub()
        hub.attach(srv.sio)
        clients = await _clients(url, 2)
        try:
            for sid in srv.sids:
                await hub.subscribe(sid, "page", {"channel:1"})
                hub.own(sid, 7, "token-hash")
            await clients[0][0].disconnect()
            for _ in range(50):
                if srv.sids[0] not in hub._groups:
                    break
                await asyncio.sleep(0.02)
            # Gone at once (not at the next prune), and only that client.
            assert srv.sids[0] not in hub._groups and srv.sids[0] not in hub._owners
            assert hub._groups[srv.sids[1]] == {"page": {"channel:1"}}
        finally:
            await clients[1][0].disconnect()


async def test_a_crowd_that_leaves_brings_the_full_collection_forward(monkeypatch: pytest.MonkeyPatch) -> None:
    """Closed connections leave cycles only a full collection frees: after
    GONE_SOCKETS_COLLECT disconnects it is due at the next round (but not
    sooner than GONE_COLLECT_SECONDS after the last), else on its clock."""
    monkeypatch.setattr(transport, "GONE_SOCKETS_COLLECT", 2)
    monkeypatch.setattr(transport, "closed_since_collect", 0)
    async with serving() as (srv, url):
        clients = await _clients(url, 3)
        try:
            assert not transport.full_collection_due(transport.GONE_COLLECT_SECONDS)
            for c, _ in clients[:2]:
                await c.disconnect()
            for _ in range(50):
                if transport.closed_since_collect >= 2:
                    break
                await asyncio.sleep(0.02)
            assert transport.closed_since_collect == 2
            assert not transport.full_collection_due(transport.GONE_COLLECT_SECONDS - 1)
            assert transport.full_collection_due(transport.GONE_COLLECT_SECONDS)
            transport.collect_fully()
            assert not transport.full_collection_due(transport.GONE_COLLECT_SECONDS)
            assert transport.full_collection_due(transport.FULL_GC_SECONDS)
        finally:
            await clients[2][0].disconnect()
