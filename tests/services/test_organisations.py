"""The 団体 directory as pages show it."""

from __future__ import annotations

import sqlalchemy as sa
from sqlmodel import Session

from kyoso.models import Organisation
from kyoso.services import organisations


def test_a_name_as_people_say_it_read_once_per_process(session: Session) -> None:
    reads: list[str] = []

    def seen(_conn, _cur, statement: str, *_a) -> None:  # type: ignore[no-untyped-def]
        if "organisation" in statement.lower():
            reads.append(statement)

    organisations._NAMES.clear()
    sa.event.listen(sa.Engine, "before_cursor_execute", seen)
    try:
        # 千代田区 with its prefecture; a prefecture alone.
        assert organisations.display_name(session, "131016") == "東京都千代田区"
        assert organisations.display_name(session, "130001") == "東京都"
        session.expunge_all()
        assert organisations.display_name(session, "131016") == "東京都千代田区"
        assert len(reads) == 2
        # A code the directory lacks is shown as it is (and not kept).
        assert organisations.display_name(session, "999999") == "999999"
    finally:
        sa.event.remove(sa.Engine, "before_cursor_execute", seen)
    assert session.get(Organisation, "131016").display_name == "東京都千代田区"  # type: ignore[union-attr]
