"""The gunicorn worker class of every kyoso backend (rxconfig.py for ``reflex
run --env prod``, deploy/systemd/kyoso.service, tests/deploy, bench/):
uvicorn's worker with a websocket message cap, and uvicorn's websocket
protocol in less memory per socket (``lean_socket.py``).

uvicorn accepts websocket messages up to 16 MB by default and holds the
largest one a socket received: a client without a session could make each
of its sockets cost a few MB. ``KYOSO_WS_MAX_BYTES`` (320 KB) is above every
legitimate event (tests/ops/test_worker.py builds the largest ones from the
domain's limits) and below what an attacker would send: a larger frame is
refused from its header, before its payload is read, and the socket is
closed (1009); the browser reconnects and the server is unharmed.

``reflex run`` in development mode starts uvicorn itself and cannot be given
the cap; there engine.io's ``max_http_buffer_size`` (rxconfig.py sets
``REFLEX_SOCKET_MAX_HTTP_BUFFER_SIZE`` to the same number) refuses a larger
message after it was read (it counts characters, not bytes).
"""

from __future__ import annotations

import asyncio
import sys
import warnings
from typing import Any

from gunicorn.arbiter import Arbiter
from uvicorn.server import Server

from kyoso.ops import lean_socket, recycle
from kyoso.settings import get_settings

with warnings.catch_warnings():
    # uvicorn.workers says the uvicorn-worker package replaces it; it is the
    # same class, and this one is pinned with uvicorn.
    warnings.simplefilter("ignore", DeprecationWarning)
    from uvicorn.workers import UvicornWorker as _UvicornWorker


def config_kwargs() -> dict[str, Any]:
    """What kyoso adds to uvicorn's Config (also used by the tests): the
    message cap, and uvicorn's own websocket protocol holding less per
    socket (``lean_socket.py``)."""
    return {"ws_max_size": get_settings().ws_max_bytes,
            "ws": "kyoso.ops.lean_socket:WebSocketProtocol"}


class UvicornWorker(_UvicornWorker):
    CONFIG_KWARGS = {**_UvicornWorker.CONFIG_KWARGS, **config_kwargs()}

    async def _serve(self) -> None:
        """uvicorn's, with an idle worker that has grown replaced by a fresh
        one (``recycle.py``; ``KYOSO_RECYCLE_IDLE_SECONDS=0``: never)."""
        self.config.app = self.wsgi
        server = Server(config=self.config)
        self._install_sigquit_handler()
        idle = get_settings().recycle_idle_seconds
        watcher = None
        if idle > 0:
            recycler = recycle.Recycler(idle, 1 + get_settings().recycle_growth_percent / 100,
                                        start_rss=recycle.rss_bytes())
            watcher = asyncio.create_task(recycle.watch(
                server, recycler, lambda: _websockets(server), every=min(5.0, max(0.2, idle / 4))))
        try:
            await server.serve(sockets=self.sockets)
        finally:
            if watcher is not None:
                watcher.cancel()
        if not server.started:
            sys.exit(Arbiter.WORKER_BOOT_ERROR)


def _websockets(server: Server) -> int:
    return sum(isinstance(c, lean_socket.WebSocketProtocol) for c in server.server_state.connections)
