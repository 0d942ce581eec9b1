"""One headless Reflex client: a python-socketio AsyncClient on /_event that
hydrates like a browser tab and keeps a view of what the page would show.

The wire protocol (reflex-notes.md, and Reflex's web/utils/state.js):

* socket.io at path ``/_event``, namespace ``/_event``, websocket only, the
  client token (a fresh uuid per tab) in the query string ``?token=``;
* the hydrate event rides in the CONNECT ``auth``:
  ``{"event": {"name": "reflex___state____state.hydrate_and_load",
  "payload": {"vars": {<state>.<var>_rx_state_: <browser storage value>},
  "hashes": [...]}, "router_data": {"pathname", "asPath", "query"}},
  "state_schema": "..."}``. ``vars`` is what ``hydrateClientStorage`` reads
  from localStorage (kyoso's session token); ``hashes`` and ``state_schema``
  come from the compiled ``.web/utils/context.jsx`` when it is there;
* events go out as ``"event"`` ``{"name", "payload", "router_data"}``; updates
  come back as ``"event"`` ``{"delta": {...}, "events": [...]}``.

A client is "joined" when the root state says ``is_hydrated`` = true: the
hydrate and the page's whole on_load chain have run.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import socketio

from bench.load.liveview import SUFFIX, View, apply_update

ROOT = "reflex___state____state"
HYDRATE = f"{ROOT}.hydrate_and_load"
NAMESPACE = "/_event"

try:  # a faster JSON for the load generator's own decoding (client side only)
    import orjson
    from types import SimpleNamespace

    _FAST_JSON: Any = SimpleNamespace(
        dumps=lambda obj, **kw: orjson.dumps(obj).decode(),
        loads=lambda s, **kw: orjson.loads(s),
    )
except ImportError:  # pragma: no cover
    _FAST_JSON = None


def read_compiled(web_dir: Path | None) -> tuple[str | None, list[str] | None]:
    """The frontend's state schema and initial state hashes, as a browser of
    this build sends them (None when the build is not at hand)."""
    if web_dir is None:
        return None, None
    ctx = web_dir / "utils" / "context.jsx"
    if not ctx.exists():
        return None, None
    text = ctx.read_text()
    schema = re.search(r'export const stateSchema = "([0-9a-f]+)"', text)
    hashes = re.search(r"export const initialStateHashes = (\[[^\]]*\])", text)
    return (schema.group(1) if schema else None,
            json.loads(hashes.group(1)) if hashes else None)


class Page:
    """Where a client is and what it sends in its hydrate: one per app profile."""

    def __init__(self, pathname: str, query: dict[str, str] | None = None,
                 live_states: frozenset[str] = frozenset(), me_state: str | None = None,
                 schema: str | None = None, hashes: list[str] | None = None) -> None:
        self.router_data: dict[str, Any] = {"pathname": pathname, "asPath": pathname}
        if query:
            self.router_data["query"] = dict(query)
        self.pathname = pathname
        self.live_states = live_states
        self.me_state = me_state
        self.schema = schema
        self.hashes = hashes
        # Watched predicates are checked only on updates touching these states.
        self.watch_states: frozenset[str] | None = None


Watcher = Callable[["RxClient", float], None]


class RxClient:
    def __init__(self, idx: int, base_url: str, page: Page, storage_vars: dict[str, str],
                 http_session: Any = None) -> None:
        self.idx = idx
        self.base_url = base_url.rstrip("/")
        self.page = page
        self.storage_vars = storage_vars
        self.token = str(uuid.uuid4())
        # A saturated backend takes seconds to answer a handshake; engineio's
        # default request timeout (5 s) would count that as a failed connect.
        kw: dict[str, Any] = {"reconnection": False, "handle_sigint": False, "request_timeout": 60}
        if http_session is not None:
            kw["http_session"] = http_session
        if _FAST_JSON is not None:
            kw["json"] = _FAST_JSON
        self.sio = socketio.AsyncClient(**kw)
        self.sio.on("event", self._on_event, namespace=NAMESPACE)
        self.sio.on("disconnect", self._on_disconnect, namespace=NAMESPACE)
        self.view: View = {}
        self.t_connect = 0.0
        self.t_joined = 0.0
        self.joined = asyncio.Event()
        self.updates = 0
        self.live_updates = 0
        self.disconnected = False
        self.error: str = ""
        # Conditions on the view that a scenario waits for: key -> predicate.
        self.pending: dict[Any, Callable[[View], bool]] = {}
        self.seen: dict[Any, float] = {}
        self._reply: asyncio.Future[float] | None = None
        self._reply_state: str | None = None

    # -- connecting -----------------------------------------------------------

    def _auth(self) -> dict[str, Any]:
        payload: dict[str, Any] = {}
        if self.storage_vars:
            payload["vars"] = dict(self.storage_vars)
        if self.page.hashes:
            payload["hashes"] = list(self.page.hashes)
        event: dict[str, Any] = {"name": HYDRATE, "router_data": dict(self.page.router_data)}
        if payload:
            event["payload"] = payload
        auth: dict[str, Any] = {"event": event}
        if self.page.schema:
            auth["state_schema"] = self.page.schema
        return auth

    async def connect(self, timeout: float = 60.0) -> None:
        """Open the socket with the hydrate in its CONNECT packet."""
        self.t_connect = time.monotonic()
        await self.sio.connect(
            f"{self.base_url}?token={self.token}", socketio_path="_event",
            namespaces=[NAMESPACE], transports=["websocket"], auth=self._auth(),
            wait_timeout=timeout,
        )

    async def join(self, timeout: float = 60.0) -> float:
        """Connect and wait until the page's on_load chain has run. Returns the join time."""
        await self.connect(timeout)
        await asyncio.wait_for(self.joined.wait(), timeout)
        return self.t_joined - self.t_connect

    async def close(self) -> None:
        try:
            await self.sio.disconnect()
        except Exception:  # noqa: BLE001
            pass

    def _on_disconnect(self, *args: Any) -> None:
        self.disconnected = True

    # -- receiving ------------------------------------------------------------

    def _on_event(self, data: Any) -> None:
        t = time.monotonic()
        if not isinstance(data, dict):
            return
        self.updates += 1
        live = apply_update(self.view, data, self.page.live_states, self.page.me_state,
                            self.page.pathname)
        if live:
            self.live_updates += 1
        elif self._reply is not None and not self._reply.done():
            delta = data.get("delta") or {}
            if self._reply_state is None or self._reply_state in delta:
                self._reply.set_result(t)
        if not self.t_joined:
            root = (data.get("delta") or {}).get(ROOT) or {}
            if root.get("is_hydrated" + SUFFIX) is True:
                self.t_joined = t
                self.joined.set()
        if self.pending and (self.page.watch_states is None
                             or not self.page.watch_states.isdisjoint(data.get("delta") or ())):
            for key, pred in list(self.pending.items()):
                try:
                    ok = pred(self.view)
                except Exception:  # noqa: BLE001
                    ok = False
                if ok:
                    self.seen[key] = t
                    del self.pending[key]

    def watch(self, key: Any, predicate: Callable[[View], bool]) -> None:
        """Record the time the view first satisfies ``predicate`` (now, or on an update)."""
        if predicate(self.view):
            self.seen[key] = time.monotonic()
        else:
            self.pending[key] = predicate

    # -- sending --------------------------------------------------------------

    async def emit(self, name: str, payload: dict[str, Any] | None = None) -> None:
        await self.sio.emit("event", {"name": name, "payload": payload or {},
                                      "router_data": dict(self.page.router_data)},
                            namespace=NAMESPACE)

    async def call(self, name: str, payload: dict[str, Any] | None = None, *,
                   reply_state: str | None = None, timeout: float = 30.0) -> float:
        """Send an event and wait for this client's own update (not a room
        patch; with ``reply_state``, the first update touching that state).
        Returns the round trip in seconds."""
        loop = asyncio.get_running_loop()
        self._reply = loop.create_future()
        self._reply_state = reply_state
        t0 = time.monotonic()
        await self.emit(name, payload)
        try:
            t1 = await asyncio.wait_for(self._reply, timeout)
        finally:
            self._reply = None
        return t1 - t0


async def reconnect(old: RxClient, url: str, http: Any, deadline: float, delay: float = 0.0) -> RxClient | None:
    """The same tab (token) connecting again after ``delay`` until it has
    loaded its page, retrying every 0.2 s; what the scenario waits for
    (``pending``) is checked from its first update."""
    await asyncio.sleep(delay)
    while time.monotonic() < deadline:
        c = RxClient(old.idx, url, old.page, old.storage_vars, http)
        c.token = old.token
        c.pending = dict(old.pending)
        try:
            await c.join(timeout=max(1.0, deadline - time.monotonic()))
            return c
        except Exception:  # noqa: BLE001 - refused, reset, timed out: try again
            await c.close()
            await asyncio.sleep(0.2)
    return None


async def paced_join(clients: list[RxClient], seconds: float, timeout: float,
                     at_end: Callable[[], Any] | None = None) -> tuple[list[float | None], list[str], float, Any]:
    """Join ``clients`` evenly spread over ``seconds``. Returns (join ms or
    None per client, errors, the start on the monotonic clock, ``at_end()``
    called the moment the last one is done)."""
    start = time.monotonic()
    step = seconds / max(1, len(clients))
    errors: list[str] = []
    left = [len(clients)]
    marked: list[Any] = [None]

    async def one(k: int, c: RxClient) -> float | None:
        await asyncio.sleep(max(0.0, start + k * step - time.monotonic()))
        try:
            return await c.join(timeout) * 1000
        except Exception as exc:  # noqa: BLE001
            errors.append(f"client {c.idx}: {type(exc).__name__} {exc}")
            return None
        finally:
            left[0] -= 1
            if left[0] == 0 and at_end is not None:
                marked[0] = at_end()

    results = await asyncio.gather(*(one(k, c) for k, c in enumerate(clients)))
    return list(results), errors, start, marked[0]
