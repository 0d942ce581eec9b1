"""The logged-in member, shared by every page's state.

The session token lives in the browser's localStorage and is checked against
the database on every event that reads or changes data: a handler never trusts
what it was told before. Page states derive from ``SessionState`` and use
``self._acting()`` (or ``self._reading()``) to get a database session together
with the member the token belongs to. Never ``await`` inside ``_acting()``: the
write lock would be held while other clients' handlers run (the realtime
module refuses to run there); publish after the block.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from contextlib import contextmanager

import reflex as rx
from sqlmodel import Session

from kyoso.db import read_scope, session_scope
from kyoso.models import Organisation, Role, User
from kyoso.services import accounts
from kyoso.services.errors import NotAuthenticated


@dataclasses.dataclass
class Me:
    """What the browser knows of its own member. Never the hash."""

    id: int = 0
    name: str = ""
    email: str = ""
    org_name: str = ""
    department: str = ""
    role: str = ""
    role_label: str = ""
    is_staff: bool = False
    can_announce: bool = False


def me_view(user: User, org: Organisation | None) -> Me:
    return Me(
        id=user.id or 0, name=user.name, email=user.email,
        org_name=org.display_name if org else user.org_code, department=user.department,
        role=user.role, role_label=accounts.ROLE_LABELS.get(Role(user.role), user.role),
        is_staff=user.is_staff, can_announce=user.is_staff or user.role == Role.national,
    )


class SessionState(rx.State):
    token: str = rx.LocalStorage("", name="kyoso_session", sync=True)
    me: Me = Me()

    @rx.var
    def logged_in(self) -> bool:
        return self.me.id > 0

    # -- helpers for page states (not event handlers: leading underscore) --

    @contextmanager
    def _acting(self) -> Iterator[tuple[Session, User]]:
        """A writing transaction and the member behind this browser's token."""
        with session_scope() as session:
            user = accounts.user_for_token(session, self.token)
            if user is None:
                raise NotAuthenticated()
            yield session, user

    @contextmanager
    def _reading(self) -> Iterator[tuple[Session, User]]:
        with read_scope() as session:
            user = accounts.user_for_token(session, self.token)
            if user is None:
                raise NotAuthenticated()
            yield session, user

    def _route_param(self, name: str) -> str:
        """A dynamic segment of this page's route, e.g. ``slug`` of ``/c/[slug]``."""
        # ``router.page`` is deprecated and logs the deprecation on every call
        # (2 % of a channel page load in the join burst); ``_page`` is its data.
        return str(self.router._page.params.get(name, "") or "")

    def _route_int(self, name: str) -> int:
        try:
            return int(self._route_param(name))
        except ValueError:
            return 0

    def _client_key(self) -> str:
        """The client's address, for rate limits per address."""
        try:
            return self.router.session.client_ip or ""
        except Exception:  # noqa: BLE001 - router data missing in unit tests
            return ""

    def _refresh_me(self, session: Session, user: User) -> None:
        self.me = me_view(user, session.get(Organisation, user.org_code))

    async def _shell(self, session: Session, user: User, *, reading: int = 0) -> None:
        """What every members' page shows around its content: who I am, and
        the sidebar. Page loaders call it inside their read scope, so a page
        load is one event rather than three (the 1,000-person join burst)."""
        from kyoso.states.sidebar import SidebarState

        self._refresh_me(session, user)
        sidebar = self if isinstance(self, SidebarState) else await self.get_state(SidebarState)
        await sidebar._load_in(session, user, reading=reading)

    async def _load_shell(self) -> rx.event.EventSpec | None:
        """The shell in its own read scope; a redirect to /login when the
        token is not (or no longer) valid."""
        try:
            with self._reading() as (session, user):
                await self._shell(session, user)
        except NotAuthenticated:
            self.me = Me()
            return self._login_redirect()
        return None

    def _login_redirect(self) -> rx.event.EventSpec:
        path = self.router.url.path or "/"
        target = "/login" if path in ("/", "/login") else f"/login?next={path}"
        return rx.redirect(target, replace=True)

    # -- event handlers --

    @rx.event
    def logout(self):
        if self.token:
            with session_scope() as session:
                accounts.end_session(session, self.token)
        self.token = ""
        self.me = Me()
        return rx.redirect("/login", replace=True)

    @rx.event
    def logout_everywhere(self):
        try:
            with self._acting() as (session, user):
                accounts.end_all_sessions(session, user)
        except NotAuthenticated:
            pass
        self.token = ""
        self.me = Me()
        return rx.redirect("/login", replace=True)
