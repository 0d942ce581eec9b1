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


def test_mail_test_prints_the_server_answer(monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    from kyoso.settings import get_settings
    from tests.utils.smtp import SmtpServer

    server = SmtpServer()
    server.start()
    try:
        monkeypatch.setenv("KYOSO_SMTP_URL", server.url)
        get_settings.cache_clear()
        assert main(["mail", "test", "taro@city.example.lg.jp"]) == 0
        assert "SMTP サーバーの応答: 250" in capsys.readouterr().out
        assert server.received[0].rcpt_tos == ["taro@city.example.lg.jp"]
    finally:
        server.stop()
    assert main(["mail", "test", "taro@city.example.lg.jp"]) == 1  # the server is gone
    assert "エラー: SMTP サーバー" in capsys.readouterr().err
    monkeypatch.delenv("KYOSO_SMTP_URL")
    get_settings.cache_clear()
    assert main(["mail", "test", "taro@city.example.lg.jp"]) == 1
    assert "KYOSO_SMTP_URL を設定してください" in capsys.readouterr().err
