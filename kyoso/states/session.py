"""The logged-in member, and the one shape every handler has.

The session token lives in the browser's localStorage and is checked against
the database on every event: a handler never trusts what it was told before.
Page states derive from ``SessionState`` and write their handlers with three
helpers, each a token check, a transaction and the error handling in one:

    @rx.event
    async def open_channel(self):                       # an on_load
        return await self._open(self._load_page)

    @rx.event
    async def delete(self, message_id: int):            # an action
        return await self._change(messages.delete_message, int(message_id))

``_open`` reads the shell (me, the sidebar) and the page in one read scope;
``_change`` runs a domain change in a writing transaction and publishes the
events it recorded after the commit; ``_read`` runs a read. Each clears the
page's error var first, shows a ``DomainError``'s message in it, and answers
an expired session with a redirect to the login page.

The work each helper is given is plain sync code, a function of ``(session,
user, *args)``, run by ``db.off_loop``: on the loop, in a greenlet that gives
the loop back at each of PostgreSQL's round trips, so the event loop serves
other clients while the database answers. The other states a load fills are
got before its work starts (``_part``, ``_page_parts``), and
``realtime.subscribe`` joins rooms at once; anything else a load must await
on the loop it awaits with
``self._wait(awaitable)``; nothing is awaited inside a writing
transaction (SQLite's write lock would be held while other clients' handlers
run; ``_wait`` and the realtime module refuse to).
"""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any, TypeVar

import reflex as rx
from sqlmodel import Session

from kyoso import realtime, routes
from kyoso.db import off_loop, read_scope, session_scope, statement_scope, wait
from kyoso.models import Role, User
from kyoso.services import accounts, events, organisations
from kyoso.ops import client_address
from kyoso.services.errors import DomainError, NotAuthenticated, NotFound

# A domain read or change: (session, user, *args) -> value.
Work = Callable[..., Any]
S = TypeVar("S")
# What a handler does after a change or read succeeded: value -> events to send back.
Then = Callable[[Any], Any]

# States loaded with every members' page (the sidebar): see ``shell_part``.
_SHELL_PARTS: list[type[SessionState]] = []
# The other states of this client that a load fills (the sidebar, the page's
# polls), got before the load's work starts (``SessionState._part``): from
# inside it, each would be a switch out of its greenlet and back.
_parts: ContextVar[dict[type, Any] | None] = ContextVar("kyoso_state_parts", default=None)


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


def me_view(user: User, org_name: str) -> Me:
    return Me(
        id=user.id or 0, name=user.name, email=user.email,
        org_name=org_name, department=user.department,
        role=user.role, role_label=accounts.ROLE_LABELS.get(Role(user.role), user.role),
        is_staff=user.is_staff, can_announce=user.is_staff or user.role == Role.national,
    )


def shell_part(cls: type[SessionState]) -> type[SessionState]:
    """Class decorator: a state every members' page loads with its shell. It
    has ``def _load_in(self, session, user, *, reading: int)`` (run inside
    ``db.off_loop``, as every load is)."""
    _SHELL_PARTS.append(cls)
    return cls


def _done(value: Any) -> Any:
    """A load's or a change's result: never a coroutine (they are sync code
    inside ``db.off_loop``; awaiting there is ``_wait``)."""
    if inspect.isawaitable(value):
        getattr(value, "close", lambda: None)()
        raise TypeError("database work must not be async: await with self._wait(...) inside it")
    return value


async def _settle(value: Any) -> Any:
    return await value if inspect.isawaitable(value) else value


@realtime.identity
class SessionState(rx.State):
    token: str = rx.LocalStorage("", name="kyoso_session", sync=True)
    # The same token as a cookie for /files only, so a download link or an
    # <img> can be checked by the file route (kyoso/files_route.py says why).
    files_key: str = rx.Cookie("", name="kyoso_files", path="/files", same_site="strict", max_age=14 * 86400)
    me: Me = Me()

    @rx.var
    def logged_in(self) -> bool:
        return self.me.id > 0

    # -- the handler shape ---------------------------------------------------

    def _user(self, session: Session) -> User:
        user = accounts.user_for_token(session, self.token)
        if user is None:
            raise NotAuthenticated()
        return user

    def _show(self, error: str, message: str) -> None:
        if error:
            setattr(self, error, message)

    def _expired(self) -> rx.event.EventSpec:
        self.me = Me()
        return self._login_redirect()

    def _wait(self, awaitable: Any) -> Any:
        """Inside a load: await ``awaitable`` on the event loop (``db.wait``)."""
        return wait(awaitable)

    def _page_parts(self) -> tuple[type[rx.State], ...]:
        """The other states this page's loads fill besides the shell's (a
        page with polls: ``PollState``); ``_open`` and ``_read`` get them first."""
        return ()

    async def _got_parts(self, classes: tuple[type[rx.State], ...]) -> dict[type, Any]:
        return {cls: await self.get_state(cls) for cls in classes if not isinstance(self, cls)}

    def _part(self, cls: type[S]) -> S:
        """Inside a load: this client's state ``cls``, got before the load
        left the loop when it is one of ``_page_parts`` or the shell's."""
        if isinstance(self, cls):
            return self
        got = _parts.get()
        state = got.get(cls) if got else None
        return state if state is not None else self._wait(self.get_state(cls))

    async def _open(self, load: Work | None = None, *, error: str = "error", shell: bool = True,
                    missing: Callable[[], Any] | None = None) -> Any:
        """An on_load: the token, the shell (me, the sidebar) and ``load(session,
        user)`` in one read scope. ``missing`` is called when the page's thing
        was not found (a ``NotFound``); other domain errors show in ``error``."""
        self._show(error, "")

        def work() -> None:
            with read_scope() as session:
                user = self._user(session)
                if self.files_key != self.token:
                    self.files_key = self.token
                if shell:
                    self._shell(session, user)
                if load is not None:
                    _done(load(session, user))

        parts = _parts.set(await self._got_parts((*_SHELL_PARTS, *self._page_parts())))
        try:
            await off_loop(work)
        except NotAuthenticated:
            return self._expired()
        except NotFound as exc:
            if missing is None:
                self._show(error, exc.message)
                return None
            return await _settle(missing())
        except DomainError as exc:
            self._show(error, exc.message)
        finally:
            _parts.reset(parts)
        return None

    async def _open_staff(self, load: Work) -> Any:
        """An on_load of a 運営 page: the shell first; a member who is not
        staff goes home (the domain refuses them anyway), then ``load``."""
        redirect = await self._open()
        if redirect is not None:
            return redirect
        if not self.me.is_staff:
            return rx.redirect(routes.HOME, replace=True)
        return await self._read(load)

    async def _change(self, change: Work, *args: Any, error: str = "error", then: Then | None = None,
                      notice: str | None = None, **kwargs: Any) -> Any:
        """An action: ``change(session, user, *args, **kwargs)`` in a writing
        transaction; after the commit its events are published, ``notice``
        shown and ``then(value)`` called; its result is what the handler
        sends back."""
        self._show(error, "")

        def work() -> tuple[Any, list[Any]]:
            with session_scope() as session:
                value = _done(change(session, self._user(session), *args, **kwargs))
            return value, events.take(session)

        try:
            value, published = await off_loop(work)
        except NotAuthenticated:
            return self._expired()
        except DomainError as exc:
            self._show(error, exc.message)
            return None
        realtime.publish_soon(published)
        if notice is not None:
            self.notice = notice  # type: ignore[attr-defined]
        return await _settle(then(value)) if then is not None else None

    async def _public(self, change: Work, *args: Any, error: str = "error", then: Then | None = None,
                      **kwargs: Any) -> Any:
        """An action before login (log in, sign up): ``change(session, *args,
        **kwargs)`` in a writing transaction, no token needed."""
        return await self._tokenless(session_scope, change, args, kwargs, error, then)

    async def _unchecked(self, change: Work, *args: Any, **kwargs: Any) -> Any:
        """A change that follows this event's own ``_open`` (a page load's
        reading position or attendance): the token was checked a moment ago
        in this same event, so it is not checked again; ``change(session,
        *args)`` is given what that check found (``self.me.id``), never a
        client's value. Each of its statements decides by itself in the
        database, so each is its own transaction (``db.statement_scope``: on
        PostgreSQL one round trip each, the loop served meanwhile)."""
        return await self._tokenless(statement_scope, change, args, kwargs, "error", None)

    async def _tokenless(self, scope: Callable[[], Any], change: Work, args: tuple[Any, ...],
                         kwargs: dict[str, Any], error: str, then: Then | None) -> Any:
        self._show(error, "")

        def work() -> tuple[Any, list[Any]]:
            with scope() as session:
                value = _done(change(session, *args, **kwargs))
            return value, events.take(session)

        try:
            value, published = await off_loop(work)
        except DomainError as exc:
            self._show(error, exc.message)
            if exc.field and hasattr(self, "error_field"):
                self.error_field = exc.field
            return None
        realtime.publish_soon(published)
        return await _settle(then(value)) if then is not None else None

    async def _read(self, read: Work, *args: Any, error: str = "error", then: Then | None = None,
                    **kwargs: Any) -> Any:
        """A read outside a page load: ``read(session, user, *args, **kwargs)``
        in a read scope (it may ``_wait``, e.g. to subscribe), then ``then(value)``."""
        self._show(error, "")

        def work() -> Any:
            with read_scope() as session:
                return _done(read(session, self._user(session), *args, **kwargs))

        parts = _parts.set(await self._got_parts(self._page_parts()))
        try:
            value = await off_loop(work)
        except NotAuthenticated:
            return self._expired()
        except DomainError as exc:
            self._show(error, exc.message)
            return None
        finally:
            _parts.reset(parts)
        return await _settle(then(value)) if then is not None else None

    # -- what every page shares ------------------------------------------------

    def _router(self, part: str) -> Any:
        """One part of Reflex's router data as stored (``page``, ``url``,
        ``headers``, ``session``): Reflex's ``router`` assembles all five on
        every access, each behind a proxy (~15 µs a read, 0.4 this way)."""
        return self.get_value("rx_router_" + part)

    def _route_param(self, name: str) -> str:
        """A dynamic segment of this page's route, e.g. ``slug`` of ``/c/[slug]``."""
        return str(self._router("page").params.get(name, "") or "")

    def _route_int(self, name: str) -> int:
        try:
            return int(self._route_param(name))
        except ValueError:
            return 0

    def _query_param(self, name: str, max_len: int = 200) -> str:
        return str(self._router("url").query_parameters.get(name, "") or "")[:max_len]

    def _query_int(self, name: str) -> int:
        try:
            return int(self._query_param(name, 20) or 0)
        except ValueError:
            return 0

    def _client_key(self) -> str:
        """The client's address, for rate limits per address: behind
        ``KYOSO_TRUSTED_PROXY_HOPS`` reverse proxies, taken from the right of
        X-Forwarded-For (``ops/client_address.py``)."""
        try:
            raw = self._router("headers").raw_headers
            peer = raw.get("asgi-scope-client") or self._router("session").client_ip or ""
            return client_address.from_headers(peer, raw)
        except Exception:  # noqa: BLE001 - router data missing in unit tests
            return ""

    def _refresh_me(self, session: Session, user: User) -> None:
        self.me = me_view(user, organisations.display_name(session, user.org_code))

    def _shell(self, session: Session, user: User, *, reading: int = 0) -> None:
        """What every members' page shows around its content: who I am, and
        the sidebar. Loaded inside the page's own read scope, so a page load
        is one event rather than three (the 1,000-person join burst)."""
        self._refresh_me(session, user)
        for cls in _SHELL_PARTS:
            self._part(cls)._load_in(session, user, reading=reading)  # type: ignore[attr-defined]

    def _login_redirect(self) -> rx.event.EventSpec:
        path = self._router("url").path or routes.HOME
        target = routes.LOGIN if path in (routes.HOME, routes.LOGIN) else f"{routes.LOGIN}?next={path}"
        return rx.redirect(target, replace=True)

    # -- event handlers ----------------------------------------------------------

    @rx.event
    async def logout(self):
        """This session ends; its open tabs (this one too) leave every live room."""
        if self.token:
            token = self.token

            def work() -> list[Any]:
                with session_scope() as session:
                    accounts.end_session(session, token)
                return events.take(session)

            realtime.publish_soon(await off_loop(work))
        self.token = ""
        self.files_key = ""
        self.me = Me()
        return rx.redirect(routes.LOGIN, replace=True)

    @rx.event
    async def logout_everywhere(self):
        await self._change(accounts.end_all_sessions, error="")
        self.token = ""
        self.files_key = ""
        self.me = Me()
        return rx.redirect(routes.LOGIN, replace=True)

