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
        path = path or self.path
        pathname, _, query = path.partition("?")
        params = dict(p.split("=", 1) for p in query.split("&") if "=" in p)
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
        await self.settle()

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
