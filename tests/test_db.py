"""``db.off_loop``: a handler's database work never blocks the event loop."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import text

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
