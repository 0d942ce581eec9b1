"""The database engine and sessions.

One engine per database URL. SQLite runs in WAL mode with foreign keys on and a
busy timeout, so the app and a command-line tool (or a test) can share the file.
"""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.util import await_only, greenlet_spawn
from sqlalchemy.util.concurrency import in_greenlet
from sqlmodel import Session

from kyoso.settings import get_settings

T = TypeVar("T")

_ENGINES: dict[str, sa.Engine] = {}
# PostgreSQL's readers inside ``off_loop``: an asyncpg engine per URL, with
# the loop its connections belong to (a test or a command may run another).
_LOOP_READERS: dict[str, tuple[asyncio.AbstractEventLoop, sa.Engine]] = {}

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
        # Writes (one at a time per worker: they run on the loop in one go),
        # reads outside a handler (commands, files, the background tasks).
        engine = sa.create_engine(url, pool_size=5, max_overflow=5)
        _ping_when_idle(engine)
    _ENGINES[url] = engine
    return engine


# PostgreSQL: a connection that waited in the pool is pinged before use, so a
# server restart or a connection a firewall dropped costs no request; one
# handed back within PING_AFTER_IDLE_SECONDS is not (in a crowd every page
# load's connection was just in use, and the ping was a round trip of ~17).
PING_AFTER_IDLE_SECONDS = 1.0


def _ping_when_idle(engine: sa.Engine) -> None:
    @event.listens_for(engine, "checkin")
    def _idle_since(_dbapi_conn: Any, record: Any) -> None:
        record.info["kyoso_idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _ping(dbapi_conn: Any, record: Any, _proxy: Any) -> None:
        since = record.info.get("kyoso_idle_since")
        if since is None or time.monotonic() - since < PING_AFTER_IDLE_SECONDS:
            return  # a new connection, or one in use a moment ago
        try:
            engine.dialect.do_ping(dbapi_conn)
        except engine.dialect.loaded_dbapi.Error as exc:
            if engine.dialect.is_disconnect(exc, dbapi_conn, None):
                # The pool replaces it (and every connection older than it).
                raise sa.exc.InvalidatePoolError("the database connection was lost") from exc
            raise


async def off_loop(work: Callable[[], T]) -> T:
    """Run a handler's database work (sync code: the domain) on the loop, in
    a greenlet (SQLAlchemy's bridge), so that ``wait`` can await the loop.

    On PostgreSQL a read scope inside it goes through asyncpg
    (``read_scope``): at each round trip the greenlet gives the loop back,
    and the loop serves other clients while the database answers; no thread
    takes turns with the loop on the GIL (bench/README.md, "Eighth
    sitting"). A writing session (``session_scope``) stays on psycopg and
    runs in one go: a short transaction (a vote: ~11 round trips, 1-2 ms)
    that nothing else interleaves with, so 1,000 votes on one poll never
    queue on its row lock (bench/README.md, "Database round trips"). SQLite
    answers in-process: all its work runs in one go."""
    return await greenlet_spawn(work)


def wait(awaitable: Awaitable[T]) -> T:
    """Inside ``off_loop``: await ``awaitable`` on the event loop. Never in a
    writing transaction (another client's handler would run while it holds
    the write lock)."""
    if in_write_transaction.get():
        getattr(awaitable, "close", lambda: None)()  # refused: never to be awaited
    assert_no_write_transaction("waiting on the event loop")
    return await_only(awaitable)


def pools(url: str | None = None) -> dict[str, sa.pool.Pool]:
    """This worker's connection pools by use: "others" (writes, reads
    outside a handler) and, on PostgreSQL once a handler has read,
    "readers" (asyncpg)."""
    url = url or get_settings().database_url
    found = {"others": get_engine(url).pool}
    kept = _LOOP_READERS.get(url)
    if kept is not None:
        found["readers"] = kept[1].pool
    return found


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
    for _loop, engine in _LOOP_READERS.values():
        engine.dispose(close=False)  # asyncpg's connections close with their loop
    _LOOP_READERS.clear()


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
def statement_scope(url: str | None = None) -> Iterator[Session]:
    """A writing session whose every statement is its own transaction, for a
    change each of whose statements decides by itself in the database (a
    page load's reading position or attendance: ``SessionState._unchecked``).
    Inside ``off_loop`` on PostgreSQL it goes through the handlers' readers
    (asyncpg, autocommit): one round trip per statement, no ``BEGIN`` and
    ``COMMIT``, the loop served while the database answers. Elsewhere it is
    ``session_scope``."""
    engine = _loop_readers(url)
    if engine is None:
        with session_scope(url) as session:
            yield session
        return
    with Session(engine, expire_on_commit=False) as session:
        yield session
        session.commit()  # what the ORM holds (each statement has committed already)


@functools.cache
def _readers_engine(engine: sa.Engine) -> sa.Engine:
    """What reading sessions use outside ``off_loop``: on PostgreSQL in
    autocommit, so reads go without a ``BEGIN`` and a ``ROLLBACK`` (two
    round trips of ~17). Nothing is lost: at PostgreSQL's READ COMMITTED
    each statement sees its own snapshot inside a transaction too."""
    if engine.dialect.name == "sqlite":
        return engine.execution_options(kyoso_write=False)
    return engine.execution_options(kyoso_write=False, isolation_level="AUTOCOMMIT")


def asyncpg_url(url: str) -> tuple[sa.URL, dict[str, Any]]:
    """``KYOSO_DATABASE_URL`` (psycopg's, libpq's words) for asyncpg: its
    URL and the connect arguments asyncpg names differently."""
    parsed = sa.engine.make_url(url).set(drivername="postgresql+asyncpg")
    query = dict(parsed.query)
    args: dict[str, Any] = {}
    if "application_name" in query:
        args["server_settings"] = {"application_name": query.pop("application_name")}
    if "sslmode" in query:
        args["ssl"] = query.pop("sslmode")
    if "connect_timeout" in query:
        args["timeout"] = float(query.pop("connect_timeout"))  # type: ignore[arg-type]
    return parsed.set(query=query), {"connect_args": args}


def _loop_readers(url: str | None) -> sa.Engine | None:
    """PostgreSQL's readers inside ``off_loop``: asyncpg, in autocommit as
    above (None outside ``off_loop``, and on SQLite). Each statement gives
    the loop back while the database answers; asyncpg also keeps each
    connection's statements prepared (the server plans a page load's reads
    once per connection). 20 connections at most (the page loads in flight
    at once); with the writers' 10, a worker's 30."""
    url = url or get_settings().database_url
    if not in_greenlet() or get_engine(url).dialect.name != "postgresql":
        return None
    loop = asyncio.get_running_loop()
    kept = _LOOP_READERS.get(url)
    if kept is not None and kept[0] is loop:
        return kept[1]
    if kept is not None:  # another loop's connections (tests, commands)
        kept[1].dispose(close=False)
    parsed, connect = asyncpg_url(url)
    # Its connections are in autocommit for good (nothing else uses them):
    # not set and reset at each checkout.
    engine = create_async_engine(parsed, pool_size=10, max_overflow=10, isolation_level="AUTOCOMMIT",
                                 **connect).sync_engine
    _ping_when_idle(engine)
    _LOOP_READERS[url] = (loop, engine)
    return engine


class ReadSession(Session):
    """A read scope's session. It refuses to write: a change flushed there
    would be rolled back on SQLite and committed at once on PostgreSQL."""


@event.listens_for(ReadSession, "before_flush")
def _refuse_writes(session: Session, _context: Any, _instances: Any) -> None:
    raise RuntimeError("a read scope writes nothing: make the change in session_scope")


@contextmanager
def read_scope(url: str | None = None) -> Iterator[Session]:
    """A session for reading only; it never takes SQLite's write lock. Inside
    ``off_loop`` on PostgreSQL it reads through asyncpg (``_loop_readers``)."""
    engine = _loop_readers(url) or _readers_engine(get_engine(url))
    # Closing (not rolling back) releases the transaction and keeps loaded
    # objects readable after the block.
    with ReadSession(engine, expire_on_commit=False) as session:
        yield session


def detached_copy(row: T) -> T:
    """A copy of a loaded ORM row that belongs to no session, for a cache of
    rows that every reader shares: each reader's session takes its own copy
    with ``session.merge(kept, load=False)`` (no query), and the kept one is
    never expired or changed by any of them."""
    table = sa.inspect(type(row)).local_table
    copy = type(row)(**{c.key: getattr(row, c.key) for c in table.columns})
    make_transient_to_detached(copy)
    return copy


def insert_of(dialect: str, table: sa.Table) -> Any:
    """An INSERT in the dialect's own words, for ``ON CONFLICT DO NOTHING``
    (SQLite and PostgreSQL both have it); build it once per dialect."""
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)


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
