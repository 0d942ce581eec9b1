"""A tiny ASGI app for ``test_recycle.py``, served by kyoso's gunicorn worker:
``/`` answers the worker's pid, ``/grow`` makes the worker hold 64 MiB more,
``/ws`` is a websocket kept open until the client closes it."""

from __future__ import annotations

import os
from typing import Any

_held: list[bytes] = []


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    if scope["type"] == "websocket":
        await receive()  # websocket.connect
        await send({"type": "websocket.accept"})
        while (await receive())["type"] != "websocket.disconnect":
            pass
        return
    if scope["path"] == "/grow":
        _held.append(b"x" * (64 * 2**20))  # written, so resident
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": str(os.getpid()).encode()})
