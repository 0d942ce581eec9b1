"""``db.off_loop``: a handler's database work never blocks the event loop."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DBAPIError
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


async def test_a_write_runs_on_the_loop_in_one_go(db_url: str) -> None:
    """A writing transaction is not interleaved with other clients' work:
    1,000 votes on one poll never queue on its row lock."""
    order: list[str] = []

    def write() -> None:
        with db.session_scope() as session:
            session.exec(text("select 1"))  # type: ignore[call-overload]
            session.exec(text("select 2"))  # type: ignore[call-overload]
        order.append("database")

    async def another_client() -> None:
        await asyncio.sleep(0)
        order.append("other client")

    await asyncio.gather(db.off_loop(write), another_client())
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


async def test_postgresql_reads_hold_no_transaction(db_url: str) -> None:
    """No BEGIN and no ROLLBACK around a page load's reads on PostgreSQL
    (two round trips of ~17), inside a handler (asyncpg) and outside it
    (psycopg); writes stay in their transaction."""
    if db_url.startswith("sqlite"):
        pytest.skip("SQLite's reads are in-process; their BEGIN costs no round trip")

    def in_handler() -> tuple[str, bool]:
        with db.read_scope() as session:
            session.exec(text("select 1"))  # type: ignore[call-overload]
            conn = session.connection()
            return conn.dialect.driver, conn.connection.driver_connection.is_in_transaction()  # type: ignore[union-attr]

    assert await db.off_loop(in_handler) == ("asyncpg", False)
    with db.read_scope() as session:
        raw = session.connection().connection.dbapi_connection
        session.exec(text("select 1"))  # type: ignore[call-overload]
        assert raw.autocommit and raw.info.transaction_status.name == "IDLE"  # type: ignore[union-attr]
    with db.session_scope() as session:
        raw = session.connection().connection.dbapi_connection
        session.exec(text("select 1"))  # type: ignore[call-overload]
        assert not raw.autocommit and raw.info.transaction_status.name == "INTRANS"  # type: ignore[union-attr]


@pytest.mark.parametrize("where", ["in a handler", "outside"])
async def test_a_connection_the_server_dropped_is_replaced_before_use(db_url: str, monkeypatch, where: str) -> None:
    """A connection that waited in the pool is pinged before use: after the
    server has dropped it (a restart, a firewall), the next read still works.
    One just handed back is not pinged (a crowd's page loads). Both pools:
    a handler's reads (asyncpg) and the others (psycopg)."""
    if db_url.startswith("sqlite"):
        pytest.skip("SQLite has no connection to lose")
    # A pool of its own (another URL of the same database): a dropped
    # connection must not be left to another test.
    url = db_url + ("&" if "?" in db_url else "?") + "application_name=kyoso-ping-test"

    def pid() -> int:
        with db.read_scope(url) as session:
            return session.exec(text("select pg_backend_pid()")).one()[0]  # type: ignore[call-overload]

    async def backend() -> int:
        return await db.off_loop(pid) if where == "in a handler" else pid()

    def drop(pid: int) -> None:  # from a connection outside the pool
        outside = create_engine(db_url, poolclass=NullPool)
        with outside.begin() as conn:
            conn.execute(text("select pg_terminate_backend(:pid)"), {"pid": pid})
        outside.dispose()

    try:
        first = await backend()
        monkeypatch.setattr(db, "PING_AFTER_IDLE_SECONDS", 3600.0)  # nothing is idle long enough
        drop(first)
        with pytest.raises(DBAPIError):
            await backend()  # unpinged: the lost connection fails its first statement
        second = await backend()  # (the pool has let the lost one go)
        monkeypatch.setattr(db, "PING_AFTER_IDLE_SECONDS", 0.0)  # every pooled connection is pinged
        drop(second)
        assert await backend() not in (first, second)
    finally:
        db.dispose_engines()


def test_libpq_words_in_the_url_reach_asyncpg() -> None:
    """A handler's reads go through asyncpg, which names some of libpq's
    URL parameters differently: the same KYOSO_DATABASE_URL serves both."""
    url, connect = db.asyncpg_url(
        "postgresql+psycopg://kyoso:pw@db.example:5433/kyoso?sslmode=require&application_name=kyoso-1&connect_timeout=5"
    )
    assert (url.drivername, url.host, url.port, url.database, url.password) == (
        "postgresql+asyncpg", "db.example", 5433, "kyoso", "pw")
    assert dict(url.query) == {}
    assert connect == {"connect_args": {"ssl": "require", "server_settings": {"application_name": "kyoso-1"},
                                        "timeout": 5.0}}


async def test_a_statement_scope_commits_each_statement_and_gives_the_loop_back(db_url: str) -> None:
    """``statement_scope`` (a page load's reading position): inside a
    handler on PostgreSQL each statement is its own transaction through the
    handlers' readers, and the loop serves others while it runs; on SQLite
    it is a transaction like any write."""
    from kyoso.models import Organisation

    on_postgres = not db_url.startswith("sqlite")
    with db.session_scope() as session:
        code = session.exec(select(Organisation.code)).first()
        name = session.get(Organisation, code).name  # type: ignore[union-attr]
    order: list[str] = []

    def change() -> tuple[str, str]:
        with db.statement_scope() as session:
            conn = session.connection()
            session.exec(text("update organisation set name = 'その場で' where code = :c").bindparams(c=code))  # type: ignore[call-overload]
            with db.read_scope() as outside:  # another connection: sees it before the scope ends?
                seen = outside.exec(text("select name from organisation where code = :c").bindparams(c=code)).one()[0]  # type: ignore[call-overload]
            order.append("database")
            return conn.dialect.driver, seen

    async def another_client() -> None:
        await asyncio.sleep(0)
        order.append("other client")

    try:
        (driver, seen), _ = await asyncio.gather(db.off_loop(change), another_client())
        if on_postgres:
            assert (driver, seen) == ("asyncpg", "その場で")
            assert order == ["other client", "database"]
        else:
            assert seen == name  # not yet committed: one transaction, run in one go
            assert order == ["database", "other client"]
        with db.read_scope() as session:
            assert session.get(Organisation, code).name == "その場で"  # type: ignore[union-attr]
    finally:
        with db.session_scope() as session:
            session.get(Organisation, code).name = name  # type: ignore[union-attr]
