"""``db.off_loop``: a handler's database work never blocks the event loop."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import NullPool
from sqlmodel import select

from kyoso import db


async def test_a_postgresql_round_trip_lets_the_loop_serve_other_clients(db_url: str) -> None:
    if db_url.startswith("sqlite"):
        pytest.skip("SQLite answers in-process: there is no wait to give away")
    order: list[str] = []

    def slow_read() -> None:
        with db.read_scope() as session:
            session.exec(text("select pg_sleep(1.0)"))  # type: ignore[call-overload]
        order.append("database")

    async def another_client() -> None:
        await asyncio.sleep(0.05)
        order.append("other client")

    await asyncio.gather(db.off_loop(slow_read), another_client())
    # A blocking driver would have held the loop for the whole second.
    assert order == ["other client", "database"]


async def test_with_no_read_threads_a_read_runs_on_the_loop(db_url: str, monkeypatch) -> None:
    """``KYOSO_DB_READ_THREADS=0``: the read runs on the loop, in one go."""
    from kyoso.settings import get_settings

    monkeypatch.setattr(get_settings(), "db_read_threads", 0)
    order: list[str] = []

    def read() -> None:
        with db.read_scope() as session:
            session.exec(text("select 1"))  # type: ignore[call-overload]
        order.append("database")

    async def another_client() -> None:
        await asyncio.sleep(0)
        order.append("other client")

    await asyncio.gather(db.off_loop(read), another_client())
    assert order == ["database", "other client"]


async def test_work_off_the_loop_sees_its_own_writes_and_commits(db_url: str) -> None:
    def write() -> int:
        with db.session_scope() as session:
            session.exec(text("create table scratch (n integer)"))  # type: ignore[call-overload]
            session.exec(text("insert into scratch values (41), (1)"))  # type: ignore[call-overload]
            return session.exec(text("select sum(n) from scratch")).one()[0]  # type: ignore[call-overload]

    try:
        assert await db.off_loop(write) == 42
        with db.read_scope() as session:  # outside: the ordinary engine sees the commit
            assert session.exec(text("select count(*) from scratch")).one()[0] == 2  # type: ignore[call-overload]
    finally:
        with db.session_scope() as session:  # PostgreSQL's test database outlives the test
            session.exec(text("drop table if exists scratch"))  # type: ignore[call-overload]


async def test_waiting_on_the_loop_is_refused_inside_a_writing_transaction(db_url: str) -> None:
    def change() -> None:
        with db.session_scope():
            db.wait(asyncio.sleep(0))

    with pytest.raises(RuntimeError, match="after the transaction has committed"):
        await db.off_loop(change)


async def test_inside_a_read_the_loop_is_awaited_with_wait(db_url: str) -> None:
    async def on_the_loop() -> str:
        await asyncio.sleep(0)
        return "joined"

    def load() -> str:
        with db.read_scope():
            return db.wait(on_the_loop())

    assert await db.off_loop(load) == "joined"


async def test_a_read_queues_loop_work_without_waiting_and_it_runs_before_the_reply(db_url: str) -> None:
    """``soon_on_loop`` (joining live rooms): a reader thread goes on while
    the loop is busy elsewhere, and the queued work is done before the
    read's result reaches its handler. On the loop (SQLite) it runs at once."""
    import threading
    import time

    on_thread = not db_url.startswith("sqlite")
    busy = threading.Event()
    order: list[str] = []

    def load() -> None:
        if on_thread:
            busy.wait(5)
        with db.read_scope():
            db.soon_on_loop(order.append, "joined")
            order.append("read went on")

    async def a_busy_loop() -> None:
        busy.set()
        time.sleep(0.3)  # holds the loop, as a burst of other clients' events would

    done = asyncio.ensure_future(db.off_loop(load))
    done.add_done_callback(lambda _: order.append("reply"))
    await asyncio.gather(done, a_busy_loop())
    await asyncio.sleep(0)
    if on_thread:
        assert order == ["read went on", "joined", "reply"]
    else:
        assert order == ["joined", "read went on", "reply"]


def test_a_read_scope_refuses_to_write(db_url: str) -> None:
    """A change made in a read scope would be lost on SQLite and, with
    PostgreSQL's reads in autocommit, kept at once: it is refused."""
    from kyoso.models import Organisation

    with db.read_scope() as session:
        org = session.exec(select(Organisation)).first()
        assert org is not None
        org.name = "書き換え"
        with pytest.raises(RuntimeError, match="writes nothing"):
            session.flush()
    with db.read_scope() as session:
        assert session.get(Organisation, org.code).name != "書き換え"  # type: ignore[union-attr]


def test_postgresql_reads_hold_no_transaction(db_url: str) -> None:
    """No BEGIN and no ROLLBACK around a page load's reads on PostgreSQL
    (two round trips of ~17); writes stay in their transaction."""
    if db_url.startswith("sqlite"):
        pytest.skip("SQLite's reads are in-process; their BEGIN costs no round trip")
    with db.read_scope() as session:
        raw = session.connection().connection.dbapi_connection
        session.exec(text("select 1"))  # type: ignore[call-overload]
        assert raw.autocommit and raw.info.transaction_status.name == "IDLE"  # type: ignore[union-attr]
    with db.session_scope() as session:
        raw = session.connection().connection.dbapi_connection
        session.exec(text("select 1"))  # type: ignore[call-overload]
        assert not raw.autocommit and raw.info.transaction_status.name == "INTRANS"  # type: ignore[union-attr]


def test_a_connection_the_server_dropped_is_replaced_before_use(db_url: str, monkeypatch) -> None:
    """A connection that waited in the pool is pinged before use: after the
    server has dropped it (a restart, a firewall), the next read still works.
    One just handed back is not pinged (a crowd's page loads)."""
    if db_url.startswith("sqlite"):
        pytest.skip("SQLite has no connection to lose")
    # A pool of its own (another URL of the same database): a dropped
    # connection must not be left to another test.
    url = db_url + ("&" if "?" in db_url else "?") + "application_name=kyoso-ping-test"

    def backend() -> int:
        with db.read_scope(url) as session:
            return session.exec(text("select pg_backend_pid()")).one()[0]  # type: ignore[call-overload]

    def drop(pid: int) -> None:  # from a connection outside the pool
        outside = create_engine(db_url, poolclass=NullPool)
        with outside.begin() as conn:
            conn.execute(text("select pg_terminate_backend(:pid)"), {"pid": pid})
        outside.dispose()

    try:
        first = backend()
        monkeypatch.setattr(db, "PING_AFTER_IDLE_SECONDS", 3600.0)  # nothing is idle long enough
        drop(first)
        with pytest.raises(OperationalError):
            backend()  # unpinged: the lost connection fails its first statement
        second = backend()  # (the pool has let the lost one go)
        monkeypatch.setattr(db, "PING_AFTER_IDLE_SECONDS", 0.0)  # every pooled connection is pinged
        drop(second)
        assert backend() not in (first, second)
    finally:
        db.get_engine(url).dispose()
        db._ENGINES.pop(url, None)
