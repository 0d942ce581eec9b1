"""Wiring the hub into Reflex: the socket.io server and per-worker start-up.

kyoso gives Reflex its socket.io server, with Reflex's own settings and a
client manager whose room emit costs less per recipient (``transport.py``).
With REFLEX_REDIS_URL set, Reflex runs several workers. A room emit must then
reach sockets held by the other workers: the manager is python-socketio's
Redis manager. The app module is imported before the workers fork, so each
worker takes a fresh manager id at start-up; otherwise they would share one
and drop each other's messages (reflex-notes.md).
"""

from __future__ import annotations

import os
import uuid
from types import SimpleNamespace
from typing import Any

import socketio

from kyoso.ops.lean_socket import LeanQueue
from kyoso.realtime import transport
from kyoso.realtime.hub import hub


def redis_url() -> str | None:
    return os.environ.get("REFLEX_REDIS_URL") or None


def make_sio() -> socketio.AsyncServer:
    """Reflex's own server settings (reflex/app.py ``_setup_state``), with
    kyoso's client manager: Redis when configured, in-process otherwise."""
    # Reflex's internals, read when the app is built (rxconfig.py has run by then).
    from reflex.app import _sio_loads
    from reflex_base.config import get_config
    from reflex_base.environment import environment

    transport.patch_engineio_poll()
    transport.patch_engineio_upgrade()
    url = redis_url()
    manager = (transport.FastRedisManager(url, channel="kyoso-live") if url
               else transport.FastEmit())
    config = get_config()
    websocket = config.transport == "websocket"
    origins = config.cors_allowed_origins
    server = socketio.AsyncServer(
        async_mode="asgi",
        client_manager=manager,
        cors_allowed_origins=("*" if origins == ("*",) else list(origins)) if websocket else [],
        cors_credentials=websocket,
        max_http_buffer_size=environment.REFLEX_SOCKET_MAX_HTTP_BUFFER_SIZE.get(),
        ping_interval=environment.REFLEX_SOCKET_INTERVAL.get().total_seconds(),
        ping_timeout=environment.REFLEX_SOCKET_TIMEOUT.get().total_seconds(),
        json=SimpleNamespace(dumps=staticmethod(transport.wire_dumps), loads=staticmethod(_sio_loads)),
        allow_upgrades=False,
        transports=[config.transport],
        async_handlers=False,
    )
    # Each socket's packet queue, as asyncio's in a tenth of its memory.
    server.eio.create_queue = LeanQueue
    return server


def register_realtime(app: Any) -> None:
    hub.attach(app.sio)

    async def _per_worker_startup() -> None:
        transport.tune_gc()
        hub.attach(app.sio)
        hub.new_worker()
        if url := redis_url():
            hub.use_redis(url)
        manager = getattr(app.sio, "manager", None)
        if manager is not None and hasattr(manager, "host_id"):
            manager.host_id = uuid.uuid4().hex

    app.register_lifespan_task(_per_worker_startup)
