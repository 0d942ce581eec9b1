"""The socket.io plumbing under the hub, tuned for a room of 1,000 sockets.

Three costs dominated a full room's fan-out and its latency on one core
(bench/README.md, "Where the time goes"); each is paid per recipient or per
heap object, so each grows with the room:

* python-socketio's room emit makes one asyncio task per recipient only to put
  the same encoded packet on each socket's queue. ``FastEmit`` puts it there
  directly (the packet is encoded once, as before). A socket that is closed
  or overdue for a pong still takes the library's own path, which closes it.
* python-engineio's writer waits for each packet with ``asyncio.wait_for``,
  which on Python 3.11 wraps the wait in one more task and timer per packet
  per socket (3.12 no longer does). ``patch_engineio_poll`` waits with
  ``asyncio.timeout`` instead, which is what 3.12's ``wait_for`` does, and
  lets go of the socket's last private packet once it is written (its page
  load: 2 x ~34 KiB per client held until the next message).
* On a disconnect python-socketio looks for the client in every room of the
  namespace, and every client has a room of its own: O(N) per disconnect,
  O(N²) when a whole room leaves or reconnects at once. ``FastEmit`` keeps
  each client's rooms and leaves just those.
* engine.io's ASGI driver puts a request body reader in every request's
  environ (a class made per request, ~2.4 KiB), and a websocket's environ is
  held for its whole life; only a long-polling POST reads it:
  ``patch_engineio_upgrade`` drops it as a websocket is accepted.
* Every message is JSON: Reflex encodes it with the json module, calling back
  into Python for each dataclass (a message, a stamp) of a page. A page load
  (~20-30 KiB) took ~240 µs of a ~4.5 ms join. ``wire_dumps`` encodes with
  orjson and Reflex's own serializers, for the same JSON text values.
* CPython's full garbage collection walks every object of 1,000 connections
  (their ASGI coroutine frames, queues and states): 100-300 ms here, a pause
  of the whole worker, several times during a join burst. ``tune_gc`` moves
  what start-up built out of the collector's sight and leaves full
  collections to ``kyoso.tasks`` (every ``FULL_GC_SECONDS``) or to a hundred
  times CPython's allocation count; young objects are collected as before,
  so only cycles that outlive two young collections wait (a few MB). A closed
  connection leaves ~400 such objects (~33 MiB per 1,000): after
  ``GONE_SOCKETS_COLLECT`` disconnects the next round of ``kyoso.tasks``
  collects at once (at most every ``GONE_COLLECT_SECONDS``), so a crowd that
  leaves does not hold its memory until the clock.
"""

from __future__ import annotations

import asyncio
import dataclasses
import gc
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
import socketio
from engineio import async_socket, exceptions
from engineio import packet as eio_packet
from socketio import packet as sio_packet

logger = logging.getLogger("kyoso.realtime")

# gen-0 / gen-1 thresholds as CPython's; an automatic full collection after
# 1,000 gen-1 collections instead of 10 (~7 million net allocations).
GC_THRESHOLDS = (700, 10, 1000)
# kyoso.tasks runs a full collection this often, and sooner once this many
# sockets have closed since the last one (not more often than the other).
FULL_GC_SECONDS = 600
GONE_SOCKETS_COLLECT = 500
GONE_COLLECT_SECONDS = 60
# Sockets closed since the last full collection (FastEmit counts them).
closed_since_collect = 0


def full_collection_due(seconds_since: float) -> bool:
    """For kyoso.tasks: is a full collection due after ``seconds_since``?"""
    if seconds_since >= FULL_GC_SECONDS:
        return True
    return closed_since_collect >= GONE_SOCKETS_COLLECT and seconds_since >= GONE_COLLECT_SECONDS


def collect_fully() -> None:
    global closed_since_collect
    closed_since_collect = 0
    gc.collect()


class FastEmit(socketio.AsyncManager):
    """A room emit without a task per recipient; a disconnect that leaves the
    client's own rooms rather than searching all of them."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._rooms_of: dict[tuple[str, str], set[Any]] = {}
        # Told of every client that has gone (the hub forgets its groups).
        self.disconnected: Any = None

    def basic_enter_room(self, sid, namespace, room, eio_sid=None):  # type: ignore[no-untyped-def]
        super().basic_enter_room(sid, namespace, room, eio_sid=eio_sid)
        self._rooms_of.setdefault((namespace, sid), set()).add(room)

    def basic_leave_room(self, sid, namespace, room):  # type: ignore[no-untyped-def]
        super().basic_leave_room(sid, namespace, room)
        rooms = self._rooms_of.get((namespace, sid))
        if rooms is not None:
            rooms.discard(room)
            if not rooms:
                del self._rooms_of[(namespace, sid)]

    def basic_disconnect(self, sid, namespace, **kwargs):  # type: ignore[no-untyped-def]
        """python-socketio's ``BaseManager.basic_disconnect``, but for the
        search of every room."""
        if namespace not in self.rooms:
            return
        for room in list(self._rooms_of.get((namespace, sid), ())):
            self.basic_leave_room(sid, namespace, room)
        self._rooms_of.pop((namespace, sid), None)
        global closed_since_collect
        closed_since_collect += 1
        if self.disconnected is not None:
            self.disconnected(sid)
        self.callbacks.pop(sid, None)
        for pending in (self.pending_connect, self.pending_disconnect):
            if namespace in pending and sid in pending[namespace]:
                pending[namespace].remove(sid)
                if not pending[namespace]:
                    del pending[namespace]

    async def emit(self, event, data, namespace, room=None, skip_sid=None,  # type: ignore[no-untyped-def, override]
                   callback=None, to=None, **kwargs):
        room = to or room
        if callback is not None or namespace not in self.rooms:
            return await super().emit(event, data, namespace, room=room, skip_sid=skip_sid,
                                      callback=callback, **kwargs)
        if isinstance(data, tuple):
            data = list(data)
        elif data is not None:
            data = [data]
        else:
            data = []
        skip = set(skip_sid) if isinstance(skip_sid, list) else {skip_sid}
        encoded = self.server.packet_class(sio_packet.EVENT, namespace=namespace,
                                           data=[event, *data]).encode()
        eio_pkts = [eio_packet.Packet(eio_packet.MESSAGE, p)
                    for p in (encoded if isinstance(encoded, list) else [encoded])]
        eio = self.server.eio
        now = time.time()
        slow = []
        recipients = 0
        for sid, eio_sid in self.get_participants(namespace, room):
            if sid in skip:
                continue
            sock = eio.sockets.get(eio_sid)
            if sock is None or sock.closed:
                continue
            recipients += 1
            if sock.last_ping and now - sock.last_ping > eio.ping_timeout:
                slow.append(eio_sid)  # the library's path closes it
                continue
            for p in eio_pkts:
                sock.queue.put_nowait(p)
        if recipients == 1:
            for p in eio_pkts:
                p.kyoso_private = True  # type: ignore[attr-defined]  # see _poll
        for eio_sid in slow:
            for p in eio_pkts:
                await self.server._send_eio_packet(eio_sid, p)


# A message between workers, never sent to a browser: the hub's revocations
# (realtime/hub.py "Leaving rooms"). python-socketio can make a client leave a
# room only on the worker that holds its socket, so each worker acts on it.
CONTROL_EVENT = "kyoso:control"
ControlHandler = Callable[[dict[str, Any]], Awaitable[None]]


class FastRedisManager(socketio.AsyncRedisManager, FastEmit):
    """Redis pub/sub across workers; each worker's local delivery is
    ``FastEmit`` (``AsyncPubSubManager`` hands a received emit to the next
    manager in this class's order, which is ``FastEmit``).

    ``publish_control`` sends a message to the other workers on the same
    channel; each hands it to its ``control_handler`` (the hub)."""

    control_handler: ControlHandler | None = None

    async def publish_control(self, data: dict[str, Any]) -> None:
        await self._publish({"method": "emit", "event": CONTROL_EVENT, "data": data, "namespace": None,
                             "room": None, "skip_sid": None, "callback": None, "host_id": self.host_id})

    async def _handle_emit(self, message):  # type: ignore[no-untyped-def]
        if message.get("event") == CONTROL_EVENT:
            if self.control_handler is not None and isinstance(message.get("data"), dict):
                await self.control_handler(message["data"])
            return None
        return await super()._handle_emit(message)

    async def emit(self, event, data, namespace=None, room=None, skip_sid=None,  # type: ignore[no-untyped-def, override]
                   callback=None, to=None, **kwargs):
        room = to or room
        if (callback is None and isinstance(room, str) and not kwargs.get("ignore_queue")
                and self.is_connected(room, namespace or "/")):
            # One client of this worker (Reflex's reply to the client's own
            # event, every ack of a vote burst): deliver it here. Published,
            # every other worker would decode it and find no such client.
            return await FastEmit.emit(self, event, data, namespace or "/", room=room,
                                       skip_sid=skip_sid)
        return await super().emit(event, data, namespace=namespace, room=room, skip_sid=skip_sid,
                                  callback=callback, **kwargs)


async def _poll(self: Any) -> list[Any]:
    """engineio's ``AsyncSocket.poll`` with ``asyncio.timeout`` in place of
    ``asyncio.wait_for`` (no task per packet on Python 3.11).

    It also lets go of what the socket sent last. engineio's writer polls
    again only once its last batch is written, but its loop variable keeps
    the last packet, whose text it holds twice (socket.io's and engine.io's
    cached encoding): a tab's page load is ~30 KiB, kept per socket until
    its next message. A packet ``FastEmit`` put on this socket alone is
    emptied here; one shared by a room is held once, whatever its size."""
    for sent in getattr(self, "kyoso_sent", None) or ():
        if getattr(sent, "kyoso_private", False):
            sent.data = sent.encode_cache = None
    self.kyoso_sent = None
    try:
        async with asyncio.timeout(self.server.ping_interval + self.server.ping_timeout):
            packets = [await self.queue.get()]
        self.queue.task_done()
    except (TimeoutError, asyncio.CancelledError):
        raise exceptions.QueueEmpty() from None
    if packets == [None]:
        return []
    while True:
        try:
            pkt = self.queue.get_nowait()
            self.queue.task_done()
            if pkt is None:
                self.queue.put_nowait(None)
                break
            packets.append(pkt)
        except asyncio.QueueEmpty:
            break
    self.kyoso_sent = packets
    return packets


# The socket's JSON. orjson writes str, int, float, bool, None, list, tuple,
# dict (and their subclasses, as the json module does) and Enum's value
# itself; everything else (dates, dataclasses, sets, Reflex's own types) goes
# to ``_wire_default``: the serializer Reflex has registered for the type,
# else a dataclass's fields, as Reflex's encoder would. Anything orjson
# refuses (an int beyond 64 bits, a lone surrogate) is encoded by Reflex's
# own function.
_WIRE_OPTIONS = orjson.OPT_PASSTHROUGH_DATACLASS | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_NON_STR_KEYS
# type -> how to make it JSON: found once per type (Reflex registers its
# serializers when its modules are imported, before any socket sends).
_wire_by_type: dict[type, Callable[[Any], Any]] = {}


def _unserializable(value: Any) -> None:
    return None  # as Reflex's encoder: a value it has no serializer for is null


def _wire_default(value: Any) -> Any:
    kind = type(value)
    make = _wire_by_type.get(kind)
    if make is None:
        from reflex_base.utils import serializers  # Reflex's own, imported with Reflex

        make = serializers.get_serializer(kind)
        if make is None and dataclasses.is_dataclass(kind):
            names = tuple(f.name for f in dataclasses.fields(kind))

            def make(v: Any, names: tuple[str, ...] = names) -> dict[str, Any]:
                return {n: getattr(v, n) for n in names}
        make = _wire_by_type[kind] = make or _unserializable
    return make(value)


def wire_dumps(obj: Any, **kwargs: Any) -> str:
    """socket.io's ``json.dumps`` (``setup.make_sio``): what Reflex's
    ``_sio_dumps`` writes, in orjson's compact form."""
    try:
        return orjson.dumps(obj, default=_wire_default, option=_WIRE_OPTIONS).decode()
    except orjson.JSONEncodeError:
        from reflex.app import _sio_dumps  # Reflex's encoder, for what orjson refuses

        return _sio_dumps(obj, **kwargs)


def patch_engineio_poll() -> bool:
    """Install ``_poll`` (every Python: 3.12's ``wait_for`` needs no help,
    but its writer keeps the last packet as 3.11's does)."""
    if async_socket.AsyncSocket.poll is _poll:
        return False
    async_socket.AsyncSocket.poll = _poll  # type: ignore[method-assign]
    return True


_upgrade_websocket = async_socket.AsyncSocket._upgrade_websocket


async def _upgrade_lean(self: Any, environ: dict[str, Any]) -> Any:
    """engineio's ``AsyncSocket._upgrade_websocket`` without the request's
    body reader: engine.io's ASGI driver makes a class for it per request
    (~2.4 KiB with its closure), read only by a long-polling POST, and the
    environ it sits in is held for the websocket's whole life."""
    environ.pop("wsgi.input", None)
    return await _upgrade_websocket(self, environ)


def patch_engineio_upgrade() -> bool:
    """Install ``_upgrade_lean``."""
    if async_socket.AsyncSocket._upgrade_websocket is _upgrade_lean:
        return False
    async_socket.AsyncSocket._upgrade_websocket = _upgrade_lean  # type: ignore[method-assign]
    return True


def tune_gc() -> None:
    """Per worker, once it has started: start-up's objects (modules, the
    compiled app, caches) are frozen out of every later collection."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)
    logger.info("gc: %d objects frozen, thresholds %s", gc.get_freeze_count(), GC_THRESHOLDS)
