"""Less memory held per open websocket (issue 20: memory per connected
client, ~42 KiB for a bare connection before any state).

Two kinds of things were held for the whole life of every socket only
because of how they were made (tracemalloc of a 1,000-client storm,
bench/README.md):

* ``asyncio.Queue``: four deques (its items, getters, putters and the
  ``Event`` of ``join``), ~2.8 KiB even when empty; uvicorn's websocket
  protocol has one and engine.io's socket another, plus uvicorn's
  ``asyncio.Event`` for write flow control (~0.7 KiB). ``LeanQueue`` and
  ``LeanEvent`` behave as asyncio's for what those use (an unbounded queue:
  ``put``/``get`` with or without waiting, ``task_done``/``join``; an event's
  ``set``/``clear``/``wait``), in a list and futures made only while
  someone waits: ~0.2 KiB.
* uvicorn's websocket protocol keeps the handshake's request and response
  (their headers, ~3-4 KiB each) for the socket's life, though it reads
  them only until the handshake is done, and the websockets library's
  parser keeps the request too: ``WebSocketProtocol`` lets go of both and
  empties the request's headers then (the ASGI scope has its own copy).
  kyoso's worker class (``worker.py``) runs it.
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol


Waiters = list[asyncio.Future[None]]


def _waiting(waiters: Waiters | None) -> tuple[Waiters, asyncio.Future[None]]:
    """A new waiter on ``waiters`` (made if there was none): the list, the future."""
    waiter = asyncio.get_running_loop().create_future()
    waiters = waiters if waiters is not None else []
    waiters.append(waiter)
    return waiters, waiter


def _wake_one(waiters: Waiters | None) -> None:
    while waiters:
        waiter = waiters.pop(0)
        if not waiter.done():
            waiter.set_result(None)
            return


def _wake_all(waiters: Waiters | None) -> None:
    for waiter in waiters or ():
        if not waiter.done():
            waiter.set_result(None)


class LeanQueue:
    """An unbounded ``asyncio.Queue`` in a list (the module's docstring)."""

    __slots__ = ("_getters", "_items", "_joiners", "_unfinished")

    def __init__(self, maxsize: int = 0) -> None:
        if maxsize > 0:
            raise ValueError("LeanQueue is unbounded")
        self._items: list[Any] = []
        self._getters: Waiters | None = None
        self._joiners: Waiters | None = None
        self._unfinished = 0

    def qsize(self) -> int:
        return len(self._items)

    def empty(self) -> bool:
        return not self._items

    def full(self) -> bool:
        return False

    def put_nowait(self, item: Any) -> None:
        self._items.append(item)
        self._unfinished += 1
        _wake_one(self._getters)

    async def put(self, item: Any) -> None:
        self.put_nowait(item)

    def get_nowait(self) -> Any:
        if not self._items:
            raise asyncio.QueueEmpty
        return self._items.pop(0)

    async def get(self) -> Any:
        while not self._items:
            self._getters, getter = _waiting(self._getters)
            try:
                await getter
            except BaseException:
                getter.cancel()
                try:
                    self._getters.remove(getter)
                except ValueError:
                    pass
                # Woken, then cancelled before taking the item: wake the next.
                if self._items and not getter.cancelled():
                    _wake_one(self._getters)
                raise
        return self._items.pop(0)

    def task_done(self) -> None:
        if self._unfinished <= 0:
            raise ValueError("task_done() called too many times")
        self._unfinished -= 1
        if self._unfinished == 0:
            joiners, self._joiners = self._joiners, None
            _wake_all(joiners)

    async def join(self) -> None:
        if self._unfinished:
            self._joiners, joiner = _waiting(self._joiners)
            await joiner


class LeanEvent:
    """``asyncio.Event`` whose waiters list is made only while someone waits."""

    __slots__ = ("_value", "_waiters")

    def __init__(self) -> None:
        self._value = False
        self._waiters: Waiters | None = None

    def is_set(self) -> bool:
        return self._value

    def set(self) -> None:
        if not self._value:
            self._value = True
            waiters, self._waiters = self._waiters, None
            _wake_all(waiters)

    def clear(self) -> None:
        self._value = False

    async def wait(self) -> bool:
        if self._value:
            return True
        self._waiters, waiter = _waiting(self._waiters)
        try:
            await waiter
            return True
        finally:
            if self._waiters is not None and waiter in self._waiters:
                self._waiters.remove(waiter)


class WebSocketProtocol(WebSocketsSansIOProtocol):
    """uvicorn's websocket protocol (``websockets-sansio``, its default), in
    less memory per socket (the module's docstring)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.queue = LeanQueue()  # type: ignore[assignment]
        self.writable = LeanEvent()  # type: ignore[assignment]
        self.writable.set()

    async def send(self, message: Any) -> None:
        handshaking = not self.handshake_complete
        await super().send(message)
        if handshaking and self.handshake_complete:
            # Read only while accepting (the scope has the headers). The
            # websockets parser's frame keeps the request for the socket's
            # life: its headers are emptied, not only let go.
            self.request.headers.clear()
            self.request = self.response = None  # type: ignore[assignment]
