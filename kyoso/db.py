"""The database engine and sessions.

One engine per database URL. SQLite runs in WAL mode with foreign keys on and a
busy timeout, so the app and a command-line tool (or a test) can share the file.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.util import await_only, greenlet_spawn
from sqlmodel import Session

from kyoso.settings import get_settings

T = TypeVar("T")

_ENGINES: dict[str, sa.Engine] = {}
# PostgreSQL engines whose round trips yield the event loop (``off_loop``),
# one set per loop: an asyncio connection belongs to the loop that opened it.
_LOOP_ENGINES: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, sa.Engine]] = (
    weakref.WeakKeyDictionary())
# True inside ``off_loop``: sessions there use the loop's engine.
_off_loop: ContextVar[bool] = ContextVar("off_loop", default=False)

# True inside a writing transaction. The app is async: awaiting while holding
# the write lock would let another client's handler block the event loop on
# that same lock, so the realtime module refuses to run inside one.
in_write_transaction: ContextVar[bool] = ContextVar("in_write_transaction", default=False)


def assert_no_write_transaction(what: str) -> None:
    if in_write_transaction.get():
        raise RuntimeError(f"{what} must run after the transaction has committed")


def _prepare_sqlite(url: str) -> None:
    path = sa.engine.make_url(url).database
    if path and path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)


def get_engine(url: str | None = None) -> sa.Engine:
    url = url or get_settings().database_url
    if _off_loop.get() and not url.startswith("sqlite"):
        return _loop_engine(url)
    engine = _ENGINES.get(url)
    if engine is not None:
        return engine
    if url.startswith("sqlite"):
        _prepare_sqlite(url)
        engine = sa.create_engine(
            url, connect_args={"check_same_thread": False, "timeout": 30}
        )

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            # Let SQLAlchemy's BEGIN below take effect rather than pysqlite's
            # implicit transactions.
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            # NORMAL keeps every commit across a process kill; only a power loss
            # may drop the last transactions.
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            # A checkpoint inside a commit stalls that request (hundreds of ms
            # on a large file): the app checkpoints in the background
            # (kyoso/tasks.py), so the automatic one rarely has to.
            cur.execute("PRAGMA wal_autocheckpoint=10000")
            cur.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn: sa.Connection) -> None:
            # A writing transaction takes the write lock up front (IMMEDIATE), so
            # two writers queue on busy_timeout instead of failing on a lock
            # upgrade; readers never wait for writers in WAL mode.
            write = conn.get_execution_options().get("kyoso_write", True)
            conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

    else:
        engine = sa.create_engine(url, **_POOL)
    _ENGINES[url] = engine
    return engine


_POOL: dict[str, Any] = {"pool_pre_ping": True, "pool_size": 10, "max_overflow": 20}


def _loop_engine(url: str) -> sa.Engine:
    """The PostgreSQL engine of the running loop: psycopg's asyncio
    connection behind SQLAlchemy's ordinary (sync) API, so that the domain
    stays plain functions and each round trip, run inside ``off_loop``, lets
    the loop serve other clients while the database answers."""
    engines = _LOOP_ENGINES.setdefault(asyncio.get_running_loop(), {})
    engine = engines.get(url)
    if engine is None:
        engine = engines[url] = create_async_engine(url, **_POOL).sync_engine
    return engine


async def off_loop(work: Callable[[], T]) -> T:
    """Run a handler's database work (sync code: the domain) so that no
    database round trip blocks the event loop. On PostgreSQL each round trip
    awaits psycopg's asyncio connection (SQLAlchemy's greenlet bridge: the
    work runs in a greenlet that yields to the loop at each one); SQLite
    answers in-process and never yields. Inside, ``wait`` awaits something
    else on the loop (joining a live room, another state)."""

    def run() -> T:
        token = _off_loop.set(True)
        try:
            return work()
        finally:
            _off_loop.reset(token)

    return await greenlet_spawn(run)


def wait(awaitable: Awaitable[T]) -> T:
    """Inside ``off_loop``: await ``awaitable`` on the event loop. Never in a
    writing transaction (another client's handler would run while it holds
    SQLite's write lock)."""
    if in_write_transaction.get():
        getattr(awaitable, "close", lambda: None)()  # refused: never to be awaited
    assert_no_write_transaction("waiting on the event loop")
    return await_only(awaitable)


def checkpoint(url: str | None = None) -> None:
    """Copy the SQLite WAL back into the database file without blocking writers."""
    engine = get_engine(url)
    if engine.dialect.name != "sqlite":
        return
    raw = engine.raw_connection()  # outside any transaction, as a checkpoint must be
    try:
        cur = raw.cursor()
        cur.execute("PRAGMA wal_checkpoint(PASSIVE)")
        cur.close()
    finally:
        raw.close()


def dispose_engines() -> None:
    for engine in _ENGINES.values():
        engine.dispose()
    _ENGINES.clear()
    for engines in list(_LOOP_ENGINES.values()):
        for engine in engines.values():
            engine.dispose(close=False)  # their loop may be gone: dropped, not closed
    _LOOP_ENGINES.clear()


@contextmanager
def session_scope(url: str | None = None) -> Iterator[Session]:
    """A writing session: commits on success, rolls back on error."""
    token = in_write_transaction.set(True)
    try:
        with Session(get_engine(url), expire_on_commit=False) as session:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise
    finally:
        in_write_transaction.reset(token)


@contextmanager
def read_scope(url: str | None = None) -> Iterator[Session]:
    """A session for reading only; it never takes SQLite's write lock."""
    engine = get_engine(url).execution_options(kyoso_write=False)
    # Closing (not rolling back) releases the transaction and keeps loaded
    # objects readable after the block.
    with Session(engine, expire_on_commit=False) as session:
        yield session


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def core(session: Session) -> sa.Connection:
    """The session's connection, for Core statements built once at import
    (hot paths: building and keying a statement costs SQLAlchemy more than
    SQLite takes to run it). Writes the session holds are flushed first, as
    the session's own queries would (autoflush); rows the session has loaded
    are not refreshed by a Core UPDATE: expire them."""
    if session.autoflush:
        session.flush()
    return session.connection()
