"""A headless Reflex client: socket.io on /_event, speaking the protocol the
browser speaks (shared/docs/reflex-notes.md), so tests can fire any event
handler with any arguments, as a hostile client would."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

import socketio

NAMESPACE = "/_event"
ROOT = "reflex___state____state"


def route_params(pathname: str) -> dict[str, str]:
    """The dynamic parts of kyoso's routes ("/c/[slug]" → {"slug": ...})."""
    from kyoso import routes

    parts = pathname.strip("/").split("/")
    for pattern in (v for k, v in vars(routes).items() if k.isupper() and isinstance(v, str)):
        pattern_parts = pattern.strip("/").split("/")
        if len(pattern_parts) != len(parts):
            continue
        found = {}
        for want, got in zip(pattern_parts, parts):
            if want.startswith("[") and want.endswith("]"):
                found[want[1:-1]] = got
            elif want != got:
                break
        else:
            if found:
                return found
    return {}


def state_name(cls: type) -> str:
    return cls.get_full_name()  # type: ignore[attr-defined]


class ReflexClient:
    def __init__(self, base_url: str, *, session_token: str | None = None) -> None:
        self.base_url = base_url
        self.client_token = str(uuid.uuid4())
        self.session_token = session_token
        self.updates: list[dict[str, Any]] = []
        self.path = "/"
        self._arrived = asyncio.Event()
        self.sio = socketio.AsyncClient(reconnection=False)
        self.sio.on("event", self._on_event, namespace=NAMESPACE)

    async def _on_event(self, data: Any) -> None:
        if isinstance(data, str):
            data = json.loads(data)
        self.updates.append(data)
        self._arrived.set()

    def router_data(self, path: str | None = None) -> dict[str, Any]:
        """As the browser sends it: the query holds the search parameters and,
        like React Router's params, the dynamic parts of the route."""
        path = path or self.path
        pathname, _, query = path.partition("?")
        params = dict(p.split("=", 1) for p in query.split("&") if "=" in p)
        params.update(route_params(pathname))
        return {"pathname": pathname, "query": params, "asPath": path}

    def _storage(self) -> dict[str, Any]:
        from kyoso.states.session import SessionState

        if self.session_token is None:
            return {}
        return {f"{state_name(SessionState)}.token_rx_state_": self.session_token}

    async def connect(self, path: str = "/") -> None:
        """Connect and hydrate on a page: its on_load handlers run."""
        self.path = path
        hydrate = {"name": f"{ROOT}.hydrate_and_load", "payload": {"vars": self._storage()},
                   "router_data": self.router_data(path)}
        await self.sio.connect(
            f"{self.base_url}?token={self.client_token}", socketio_path="/_event",
            namespaces=[NAMESPACE], transports=["websocket"], auth={"event": hydrate},
        )
        # The page's on_load chain has run when the root state says hydrated.
        await self.wait_for(lambda c: c.hydrated(), 30)
        await self.settle()

    def hydrated(self) -> bool:
        value = None
        for update in self.updates:
            root = (update.get("delta") or {}).get(ROOT) or {}
            if "is_hydrated_rx_state_" in root:
                value = root["is_hydrated_rx_state_"]
        return bool(value)

    async def navigate(self, path: str) -> None:
        """Client-side navigation: the page's on_load runs on the same socket."""
        self.path = path
        await self.fire(f"{ROOT}.reflex___state____on_load_internal_state.on_load_internal", {})

    async def fire(self, handler: str, payload: dict[str, Any]) -> list[dict[str, Any]]:
        """Send an event to a handler by its full name; return the updates it caused."""
        start = len(self.updates)
        await self.sio.emit("event", {"name": handler, "payload": payload,
                                      "router_data": self.router_data()}, namespace=NAMESPACE)
        await self.settle()
        return self.updates[start:]

    async def send(self, handler: str, payload: dict[str, Any]) -> None:
        """Send an event without waiting for its answer (a crowd posting at once)."""
        await self.sio.emit("event", {"name": handler, "payload": payload,
                                      "router_data": self.router_data()}, namespace=NAMESPACE)

    async def settle(self, quiet: float = 0.25, timeout: float = 8.0) -> None:
        """Wait until no update has arrived for ``quiet`` seconds."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while loop.time() < deadline:
            self._arrived.clear()
            try:
                await asyncio.wait_for(self._arrived.wait(), quiet)
            except asyncio.TimeoutError:
                return

    async def wait_for(self, predicate: Any, timeout: float = 10.0) -> bool:
        """Wait until ``predicate(self)`` holds (True) or the timeout passes (False)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not predicate(self):
            remaining = deadline - loop.time()
            if remaining <= 0:
                return False
            self._arrived.clear()
            try:
                await asyncio.wait_for(self._arrived.wait(), remaining)
            except asyncio.TimeoutError:
                return bool(predicate(self))
        return True

    def var(self, state_cls: type, name: str) -> Any:
        """The latest value of a var as this client has been sent it."""
        key, field = state_name(state_cls), f"{name}_rx_state_"
        value = None
        for update in self.updates:
            delta = update.get("delta") or {}
            if key in delta and field in delta[key]:
                value = delta[key][field]
        return value

    def text(self) -> str:
        """Everything this client has been sent, as one string, for leak checks."""
        return json.dumps(self.updates, ensure_ascii=False)

    async def close(self) -> None:
        await self.sio.disconnect()
