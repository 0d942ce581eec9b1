"""The ``kyoso`` command."""

from __future__ import annotations

from sqlmodel import Session

from kyoso.cli import main
from kyoso.services import search
from kyoso.services.search import engine
from tests.utils.factories import make_channel, make_user, post


def test_search_rebuild_restores_an_emptied_index(session: Session, capsys) -> None:  # type: ignore[no-untyped-def]
    user = make_user(session)
    message = post(session, user, make_channel(session), "ガバメントクラウドの回線費用")
    engine.clear(session)
    session.commit()
    assert search.search(session, user, "回線費用").hits == []
    session.rollback()  # let go of SQLite's write lock: the command writes
    assert main(["search", "rebuild"]) == 0
    assert "1件" in capsys.readouterr().out
    session.expire_all()
    assert [h.ref_id for h in search.search(session, user, "回線費用").hits] == [message.id]
