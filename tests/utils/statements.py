"""The SQL statements a block of code sends, for tests that count them."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa
from sqlalchemy import event


@contextmanager
def statements() -> Iterator[list[str]]:
    """``with statements() as seen:`` — every statement any engine sent
    inside the block, in order (``BEGIN`` included where the driver sends one)."""
    seen: list[str] = []

    def statement(_conn, _cur, sql: str, *_a) -> None:  # type: ignore[no-untyped-def]
        seen.append(sql)

    event.listen(sa.Engine, "before_cursor_execute", statement)
    try:
        yield seen
    finally:
        event.remove(sa.Engine, "before_cursor_execute", statement)
