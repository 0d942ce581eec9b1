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


# ---------------------------------------------------------------------------
# kyoso import slack, kyoso user link
# ---------------------------------------------------------------------------


def _export(tmp_path):  # type: ignore[no-untyped-def]
    from tests.services.slack_import.export import standard, write

    return write(tmp_path / "slack", standard(), as_zip=True)


def test_import_slack_prints_the_report_and_writes_json(session: Session, tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    import json

    from sqlmodel import select

    from kyoso.models import Message

    report = tmp_path / "report.json"
    assert main(["import", "slack", str(_export(tmp_path)), "--report", str(report)]) == 0
    out = capsys.readouterr().out
    assert "チャンネル別:" in out and "#general" in out and "メッセージ 7" in out
    assert "取り込み中" not in out  # no progress bar when stdout is not a terminal
    data = json.loads(report.read_text(encoding="utf-8"))
    assert data["totals"]["messages"] == 7 and data["finished"] is True
    assert data["skipped_subtypes"] == {"channel_join": 1, "channel_topic": 1}
    assert len(session.exec(select(Message)).all()) == 7


def test_import_slack_dry_run_writes_nothing(session: Session, tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    from sqlmodel import select

    from kyoso.models import Message, User

    assert main(["import", "slack", str(_export(tmp_path)), "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "試行" in out and "メッセージ 7" in out
    assert session.exec(select(Message)).all() == [] and session.exec(select(User)).all() == []


def test_import_slack_with_an_org_map(session: Session, tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    from sqlmodel import select

    from kyoso.models import User

    org_map = tmp_path / "orgs.csv"
    org_map.write_text("email_domain,code\nexample.com,271004\n", encoding="utf-8")
    assert main(["import", "slack", str(_export(tmp_path)), "--org-map", str(org_map)]) == 0
    ichiro = session.exec(select(User).where(User.email == "ichiro@example.com")).one()
    assert ichiro.org_code == "271004"


def test_import_slack_refuses_a_broken_export(tmp_path, capsys, db_url: str) -> None:  # type: ignore[no-untyped-def]
    broken = tmp_path / "broken.zip"
    broken.write_bytes(b"not a zip at all")
    assert main(["import", "slack", str(broken)]) == 1
    err = capsys.readouterr().err
    assert "エラー:" in err and "broken.zip" in err


def test_user_link_moves_an_unclaimed_member(session: Session, tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    from sqlmodel import select

    from kyoso.models import AuditLog, Message, Role, User

    assert main(["import", "slack", str(_export(tmp_path))]) == 0
    hanako_id = session.exec(select(User.id).where(User.email == "hanako@pref.osaka.lg.jp")).one()
    member = make_user(session, email="sato@city.osaka.lg.jp", org="271004")
    staff = make_user(session, role=Role.moderator)
    member_id, member_email, staff_id, staff_email = member.id, member.email, staff.id, staff.email
    session.rollback()
    assert main(["user", "link", "--unclaimed", str(hanako_id), "--to", member_email, "--by", staff_email]) == 0
    assert "結びつけました" in capsys.readouterr().out
    session.expire_all()
    assert session.get(User, hanako_id) is None
    assert session.exec(select(Message).where(Message.author_id == member_id)).all()
    assert session.exec(select(AuditLog).where(AuditLog.action == "user.link")).one().actor_id == staff_id
    session.rollback()
    assert main(["user", "link", "--unclaimed", str(hanako_id), "--to", member_email]) == 1
    assert "見つかりません" in capsys.readouterr().err
