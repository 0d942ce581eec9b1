"""Test databases: every domain test runs on SQLite, and on PostgreSQL too when
KYOSO_TEST_POSTGRES_URL names a server (.ci/run starts one).

A migrated template is made once per engine; each test then gets a fresh copy
(SQLite) or emptied tables (PostgreSQL), and the default engine of the app
points at it, so Reflex states under test use the same database.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from typing import Any
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlmodel import Session, SQLModel

from kyoso import db
from kyoso.realtime.hub import hub
from kyoso.settings import get_settings

POSTGRES_URL = os.environ.get("KYOSO_TEST_POSTGRES_URL", "")
ENGINES = ["sqlite"] + (["postgres"] if POSTGRES_URL else [])


def _use(url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KYOSO_DATABASE_URL", url)
    get_settings.cache_clear()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from kyoso.migrate import upgrade

    path = tmp_path_factory.mktemp("template") / "template.db"
    url = f"sqlite:///{path}"
    upgrade(url)
    db.get_engine(url).dispose()
    db._ENGINES.pop(url, None)
    return path


@pytest.fixture(scope="session")
def postgres_ready() -> str:
    from kyoso.migrate import upgrade

    engine = db.get_engine(POSTGRES_URL)
    with engine.begin() as conn:
        conn.execute(sa.text("DROP SCHEMA public CASCADE; CREATE SCHEMA public;"))
    upgrade(POSTGRES_URL)
    return POSTGRES_URL


def _truncate_postgres(url: str) -> None:
    tables = [t.name for t in SQLModel.metadata.sorted_tables if t.name != "organisation"]
    with db.get_engine(url).begin() as conn:
        conn.execute(sa.text(
            "TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE"))


@pytest.fixture(params=ENGINES)
def db_url(request: pytest.FixtureRequest, tmp_path: Path,
           monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A migrated, empty database (but for the directory of 団体)."""
    if request.param == "sqlite":
        template = request.getfixturevalue("sqlite_template")
        path = tmp_path / "kyoso.db"
        shutil.copy(template, path)
        url = f"sqlite:///{path}"
    else:
        url = request.getfixturevalue("postgres_ready")
        _truncate_postgres(url)
    _use(url, monkeypatch)
    yield url
    if request.param == "sqlite":
        db.get_engine(url).dispose()
        db._ENGINES.pop(url, None)


@pytest.fixture
def session(db_url: str) -> Iterator[Session]:
    with Session(db.get_engine(db_url), expire_on_commit=False) as s:
        yield s
        s.rollback()


@pytest.fixture(autouse=True)
def _fresh_process_caches() -> Iterator[None]:
    """In-process rate limits and the session cache start empty for each test
    (ids repeat across the per-test databases)."""
    from kyoso.services import accounts, briefing_room, channels, messages, polls, ratelimit

    ratelimit.reset_local()
    accounts._session_cache.clear()
    messages._page_cache.clear()
    channels._read_cache.clear()
    polls._shared.clear()
    briefing_room._questions_cache.clear()
    yield


class FakeRoomBooks:
    """A socket.io manager's room books as the hub uses them: every client
    is connected, and its rooms are recorded in ``FakeSio.rooms``."""

    def __init__(self, sio: FakeSio) -> None:
        self.sio = sio
        self.rooms: dict[str, dict[str, Any]] = {}  # socket.io's namespace -> room -> sids: unused

    def is_connected(self, sid: str, namespace: str) -> bool:
        return True

    def basic_enter_room(self, sid: str, namespace: str, room: str) -> None:
        self.sio.rooms.setdefault(sid, set()).add(room)

    def basic_leave_room(self, sid: str, namespace: str, room: str) -> None:
        self.sio.rooms.get(sid, set()).discard(room)


class FakeSio:
    """Stands in for the socket.io server: records rooms and emits."""

    def __init__(self) -> None:
        self.rooms: dict[str, set[str]] = {}
        self.emitted: list[tuple[str, dict[str, Any]]] = []
        self.manager = FakeRoomBooks(self)

    async def enter_room(self, sid: str, room: str, namespace: str = "") -> None:
        self.rooms.setdefault(sid, set()).add(room)

    async def leave_room(self, sid: str, room: str, namespace: str = "") -> None:
        self.rooms.get(sid, set()).discard(room)

    async def emit(self, event: str, payload: dict[str, Any], room: str = "", namespace: str = "") -> None:
        self.emitted.append((room, payload))


@pytest.fixture
def sio() -> Iterator[FakeSio]:
    """A stand-in socket.io server, and a hub that knows no client yet (the
    same sid in another test, on another database, is another client)."""
    fake, before, groups, owners = FakeSio(), hub.sio, hub._groups, hub._owners
    hub.attach(fake)
    hub._groups, hub._owners = {}, {}
    # Nor any emit of an earlier test (ids repeat across the per-test
    # databases: its emit would make this test's first one wait a window).
    saved = {name: getattr(hub, name) for name in ("_last_emit", "_last_change", "_pending", "_timers")}
    for name in saved:
        setattr(hub, name, {})
    yield fake
    for timer in hub._timers.values():
        timer.cancel()
    hub.attach(before)
    hub._groups, hub._owners = groups, owners
    for name, value in saved.items():
        setattr(hub, name, value)
