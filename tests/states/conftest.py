"""Reflex states under test, without a browser or a server: a root state per
test, router data as a page load would bring it, handlers called directly
(``shared/docs/reflex-notes.md``). The database is the test's (``db_url``).

    page = states(ChannelState, token, "/c/[slug]", slug="general")
    redirect = await page.open_channel()
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import pytest
from reflex.istate.data import RouterData
from reflex.state import State
from sqlmodel import Session

import kyoso.kyoso  # noqa: F401 - the app: every state and page registered
from kyoso import realtime
from kyoso.models import User
from kyoso.realtime.hub import hub
from kyoso.services import accounts

S = TypeVar("S")


class FakeSio:
    """Stands in for the socket.io server: records rooms and emits."""

    def __init__(self) -> None:
        self.rooms: dict[str, set[str]] = {}
        self.emitted: list[tuple[str, dict[str, Any]]] = []

    async def enter_room(self, sid: str, room: str, namespace: str = "") -> None:
        self.rooms.setdefault(sid, set()).add(room)

    async def leave_room(self, sid: str, room: str, namespace: str = "") -> None:
        self.rooms.get(sid, set()).discard(room)

    async def emit(self, event: str, payload: dict[str, Any], room: str = "", namespace: str = "") -> None:
        self.emitted.append((room, payload))


@pytest.fixture
def sio() -> Iterator[FakeSio]:
    fake, before = FakeSio(), hub.sio
    # The hub is the process's: a client id of an earlier test (the same
    # test on the other database) must not look subscribed already.
    hub._groups.clear()
    hub._owners.clear()
    hub.attach(fake)
    yield fake
    hub.attach(before)


@pytest.fixture
def token_of(session: Session) -> Callable[[User], str]:
    def make(user: User) -> str:
        token = accounts.create_session(session, user)
        session.commit()
        return token

    return make


@pytest.fixture
def states(sio: FakeSio) -> Callable[..., Any]:
    """``states(StateClass, token, route, sid=..., query=..., **params)``: the
    state of one browser on one page."""

    def make(cls: type[S], token: str, route: str = "/", *, sid: str = "sid-1",
             query: dict[str, str] | None = None, **params: str) -> S:
        root = State(_reflex_internal_init=True)  # type: ignore[call-arg]
        path = route
        for key, value in params.items():
            path = path.replace(f"[{key}]", value)
        router_data = {"pathname": route, "asPath": path, "query": {**params, **(query or {})},
                       "sid": sid, "token": "client-token", "ip": "192.0.2.1", "headers": {}}
        root.router = RouterData.from_router_data(router_data)
        state = root.get_substate(cls.get_full_name().split(".")[1:])  # type: ignore[attr-defined]
        session_state = root.get_substate(["kyoso___states___session____session_state"])
        session_state.token = token
        return state  # type: ignore[return-value]

    return make


@pytest.fixture
async def published() -> Callable[[], Any]:
    """Wait for what handlers published after their commits."""
    return realtime.drain
