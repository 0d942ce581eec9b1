"""The database engine and sessions.

One engine per database URL. SQLite runs in WAL mode with foreign keys on and a
busy timeout, so the app and a command-line tool (or a test) can share the file.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlmodel import Session

from kyoso.settings import get_settings

_ENGINES: dict[str, sa.Engine] = {}

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
        engine = sa.create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)
    _ENGINES[url] = engine
    return engine


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
