"""Reflex states under test, without a browser or a server: a root state per
test, router data as a page load would bring it, handlers called directly
(``shared/docs/reflex-notes.md``). The database is the test's (``db_url``).

    page = states(ChannelState, token, "/c/[slug]", slug="general")
    redirect = await page.open_channel()
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import pytest
from sqlmodel import Session

import kyoso.kyoso  # noqa: F401 - the app: every state and page registered
from kyoso import realtime
from kyoso.models import User
from kyoso.services import accounts
from tests.utils.reflex_state import page_state

S = TypeVar("S")


@pytest.fixture
def token_of(session: Session) -> Callable[[User], str]:
    def make(user: User) -> str:
        token = accounts.create_session(session, user)
        session.commit()
        return token

    return make


@pytest.fixture
def states(sio: Any) -> Callable[..., Any]:
    """``states(StateClass, token, route, sid=..., query=..., **params)``: the
    state of one browser on one page."""

    def make(cls: type[S], token: str, route: str = "/", *, sid: str = "sid-1",
             query: dict[str, str] | None = None, whole_tree: bool = False, **params: str) -> S:
        return page_state(cls, token, route, sid=sid, query=query, whole_tree=whole_tree, **params)

    return make


@pytest.fixture
def token_checks(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every session token ``accounts.user_for_token`` is asked about, in order."""
    checks: list[str] = []
    real = accounts.user_for_token

    def counted(session: Session, token: str | None) -> User | None:
        checks.append(token or "")
        return real(session, token)

    monkeypatch.setattr(accounts, "user_for_token", counted)
    return checks


@pytest.fixture
async def published() -> Callable[[], Any]:
    """Wait for what handlers published after their commits."""
    return realtime.drain
