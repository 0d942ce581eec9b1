"""The outbox and its SMTP sender, against a real SMTP server (aiosmtpd)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import Session, col, select

from kyoso.db import utcnow
from kyoso.models import Outbox, OutboxStatus, Role, UserStatus
from kyoso.services.errors import InvalidInput, NotAllowed
from kyoso.services.mail import outbox, prefs, sender
from kyoso.services.mail.sender import DeliveryReport, deliver_due
from tests.utils.factories import make_user
from tests.utils.smtp import SmtpServer


def deliver(session: Session, **kw: object) -> DeliveryReport:
    """Run the sender as the app does: outside the test's transaction."""
    session.commit()
    report = deliver_due(**kw)  # type: ignore[arg-type]
    session.expire_all()
    return report


def queue_for(session: Session, user_id: int | None, address: str, n: int = 1, *, setting: str = "",
              kind: str = "mention") -> list[Outbox]:
    rows = [outbox.queue(session, outbox.Draft(
        kind=kind, to_addr=address, to_name="共創 花子", user_id=user_id, setting=setting,
        subject=f"【共創】テスト{i}", text=f"本文{i}\nhttps://kyoso.example.lg.jp/c/x", html=f"<p>本文{i}</p>"))
        for i in range(n)]
    session.commit()
    return rows


def rows(session: Session) -> list[Outbox]:
    return list(session.exec(select(Outbox).order_by(col(Outbox.id))).all())


def test_without_smtp_mail_is_held_for_the_admin_page(session: Session) -> None:
    staff = make_user(session, role=Role.moderator)
    member = make_user(session)
    queue_for(session, member.id, member.email)
    assert [r.status for r in rows(session)] == [OutboxStatus.held]
    assert deliver(session).handled == 0
    items = outbox.list_outbox(session, staff)
    assert [(i.to, i.status_label) for i in items] == [(member.email, "保留（SMTP未設定）")]
    assert items[0].links == ["https://kyoso.example.lg.jp/c/x"]
    with pytest.raises(NotAllowed):
        outbox.list_outbox(session, member)


def test_a_mail_arrives_multipart_with_the_automatic_headers(session: Session, smtp: SmtpServer) -> None:
    member = make_user(session)
    [row] = queue_for(session, member.id, member.email, setting="mention")
    report = deliver(session)
    assert report.sent == 1 and report.replies[0].startswith("250 ")
    [got] = smtp.received
    msg = got.message
    assert got.rcpt_tos == [member.email]
    assert msg["Subject"] == "【共創】テスト0"
    assert msg["Message-ID"] == row.message_id
    assert msg["Auto-Submitted"] == "auto-generated"
    assert msg["List-Unsubscribe"].startswith("<https://kyoso.example.lg.jp/unsubscribe?token=")
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert msg.get_content_type() == "multipart/alternative"
    assert msg.get_body(("plain",)).get_content().startswith("本文0")  # type: ignore[union-attr]
    assert "<p>本文0</p>" in msg.get_body(("html",)).get_content()  # type: ignore[union-attr]
    session.refresh(row)
    assert row.status == OutboxStatus.sent and row.smtp_reply.startswith("250")
    assert deliver(session).handled == 0  # nothing twice


def test_an_outage_loses_nothing_and_sends_nothing_twice(session: Session, smtp: SmtpServer) -> None:
    member = make_user(session)
    queued = queue_for(session, member.id, member.email, n=7)
    now = utcnow()

    smtp.refuse(rcpt="451 4.3.0 一時的に受け付けられません")  # the server says: later
    report = deliver(session, now=now)
    assert report.retried == 7 and report.sent == 0
    assert smtp.received == []
    first = rows(session)
    assert {r.status for r in first} == {OutboxStatus.queued}
    assert all(r.attempts == 1 and r.next_attempt_at > now and "451" in r.last_error for r in first)
    # Not due yet: the backoff holds them.
    assert deliver(session, now=now + timedelta(seconds=5)).handled == 0

    smtp.stop()  # then the server is down altogether
    report = deliver(session, now=now + timedelta(minutes=1))
    assert report.retried == 7
    assert all(r.attempts == 2 and r.status == OutboxStatus.queued for r in rows(session))

    smtp.refuse()
    smtp.start()  # and back
    report = deliver(session, now=now + timedelta(minutes=10))
    assert report.sent == 7
    assert deliver(session, now=now + timedelta(hours=2)).handled == 0
    ids = sorted(r.message.get("Message-ID") for r in smtp.received)
    assert ids == sorted(r.message_id for r in queued)  # every one, once
    assert {r.status for r in rows(session)} == {OutboxStatus.sent}


def test_a_421_closing_the_connection_is_retried(session: Session, smtp: SmtpServer) -> None:
    member = make_user(session)
    queue_for(session, member.id, member.email, n=3)
    smtp.refuse(data="421 4.3.2 サービスを終了します")
    assert deliver(session).retried == 3
    smtp.refuse()
    assert deliver(session, now=utcnow() + timedelta(minutes=5)).sent == 3
    assert len(smtp.received) == 3


def test_a_permanent_refusal_fails_without_retry(session: Session, smtp: SmtpServer) -> None:
    member = make_user(session)
    queue_for(session, member.id, member.email)
    smtp.refuse(rcpt="550 5.1.1 そのようなユーザーはいません")
    report = deliver(session)
    assert report.failed == 1
    [row] = rows(session)
    assert row.status == OutboxStatus.failed and "550" in row.last_error
    smtp.refuse()
    assert deliver(session, now=utcnow() + timedelta(days=1)).handled == 0
    assert smtp.received == []


def test_nothing_goes_to_a_suspended_member_or_against_a_setting(session: Session, smtp: SmtpServer) -> None:
    suspended = make_user(session)
    muted = make_user(session)
    queue_for(session, suspended.id, suspended.email)
    queue_for(session, muted.id, muted.email, setting="mention")
    suspended.status = UserStatus.suspended  # after the mail was queued
    session.add(suspended)
    prefs.set_mail_settings(session, muted, {"mention": False})
    report = deliver(session)
    assert report.cancelled == 2 and smtp.received == []
    assert {r.status for r in rows(session)} == {OutboxStatus.cancelled}


def test_two_workers_never_claim_the_same_row(session: Session, smtp: SmtpServer) -> None:
    member = make_user(session)
    queue_for(session, member.id, member.email, n=3)
    from kyoso.db import session_scope

    now = utcnow()
    with session_scope() as s:
        a = sender._claim(s, "worker-a", now, 10)
    with session_scope() as s:
        b = sender._claim(s, "worker-b", now, 10)
    assert len(a) == 3 and b == []
    # Worker A dies holding the claim: after the lease the rows are in doubt and
    # are not sent again by themselves (at most once per Message-ID).
    report = deliver(session, now=now + sender.LEASE + timedelta(seconds=1))
    assert report.handled == 0 and smtp.received == []
    assert all(r.status == OutboxStatus.failed and "届いたかどうか" in r.last_error for r in rows(session))
    staff = make_user(session, role=Role.admin)
    outbox.requeue(session, staff, a[0])
    assert deliver(session).sent == 1 and len(smtp.received) == 1


def test_a_line_break_in_a_subject_or_name_cannot_add_a_header(session: Session, smtp: SmtpServer) -> None:
    member = make_user(session)
    for subject, name in (("件名\r\nBcc: evil@example.com", "花子"), ("件名", "花子\nBcc: evil@example.com")):
        with pytest.raises(InvalidInput) as err:
            outbox.queue(session, outbox.Draft(kind="test", to_addr=member.email, to_name=name,
                                               subject=subject, text="本文"))
        assert "改行" in err.value.message
    session.rollback()
    assert rows(session) == []
    # Even a row written around the check is refused when the message is built.
    session.add(Outbox(message_id="<x@y>", kind="test", to_addr=member.email,
                       to_name="花子\r\nBcc: evil@example.com", subject="件名", body_text="本文"))
    report = deliver(session)
    assert report.failed == 1 and smtp.received == []


def test_mail_test_prints_the_answer_and_fails_in_japanese(session: Session, smtp: SmtpServer) -> None:
    assert sender.send_test("someone@city.example.lg.jp").startswith("250 ")
    assert smtp.received[0].message["Subject"] == "【共創】テストメール"
    smtp.stop()
    with pytest.raises(sender.MailError) as err:
        sender.send_test("someone@city.example.lg.jp")
    assert "接続できませんでした" in err.value.message
    with pytest.raises(InvalidInput):
        sender.send_test("not an address")


def test_unsubscribe_link_turns_off_one_setting_without_login(session: Session) -> None:
    member = make_user(session)
    secret = prefs.link_secret(session)
    token = prefs.unsubscribe_token(secret, member.id or 0, "reply")
    assert prefs.unsubscribe(session, token).label == "スレッドへの返信"
    values = prefs.values(session, member.id or 0)
    assert values["reply"] is False and values["mention"] is True and values["digest"] is False
    for forged in (token[:-1] + ("0" if token[-1] != "0" else "1"), f"{member.id}.mention.{token.split('.')[2]}",
                   "", "x.y.z", f"{member.id}.password.abc"):
        with pytest.raises(InvalidInput):
            prefs.unsubscribe(session, forged)
    assert prefs.values(session, member.id or 0)["mention"] is True


def test_settings_defaults_and_unknown_keys(session: Session) -> None:
    member = make_user(session)
    items = {i.key: i.enabled for i in prefs.get_mail_settings(session, member)}
    assert items["mention"] and items["reply"] and not items["digest"]
    prefs.set_mail_settings(session, member, {"digest": True, "mention": False})
    items = {i.key: i.enabled for i in prefs.get_mail_settings(session, member)}
    assert items["digest"] and not items["mention"] and items["reply"]
    with pytest.raises(InvalidInput):
        prefs.set_mail_settings(session, member, {"password": True})


@pytest.mark.parametrize("url,expected", [
    ("smtp://relay.example.lg.jp", ("relay.example.lg.jp", 25, "plain", "")),
    ("smtp+starttls://u%40x:p%3Aw@mail.example.jp:587", ("mail.example.jp", 587, "starttls", "u@x")),
    ("smtps://mail.example.jp", ("mail.example.jp", 465, "ssl", "")),
])
def test_smtp_urls(url: str, expected: tuple[str, int, str, str]) -> None:
    from kyoso.services.mail.smtp_url import parse_smtp_url

    config = parse_smtp_url(url)
    assert config is not None
    assert (config.host, config.port, config.mode, config.username) == expected


@pytest.mark.parametrize("url", ["http://x", "smtp://", "smtp://host:notaport"])
def test_bad_smtp_urls_are_refused_in_japanese(url: str) -> None:
    from kyoso.services.mail.smtp_url import parse_smtp_url

    with pytest.raises(InvalidInput) as err:
        parse_smtp_url(url)
    assert "KYOSO_SMTP_URL" in err.value.message


def test_a_name_typed_with_a_line_break_reaches_the_mail_as_one_line(session: Session, smtp: SmtpServer) -> None:
    from kyoso.services import accounts
    from tests.utils.factories import CHIYODA, PASSWORD

    user = accounts.do_signup(session, accounts.SignupInput(
        "hanako@city.chiyoda.lg.jp", "花子\r\nBcc: evil@example.com", CHIYODA, "課", PASSWORD, True))
    assert "\n" not in user.name and "\r" not in user.name
    assert deliver(session).sent == 1
    [got] = smtp.received
    assert got.rcpt_tos == ["hanako@city.chiyoda.lg.jp"]
    assert got.message["Bcc"] is None
    assert "evil@example.com" not in got.rcpt_tos
    assert got.data.count(b"\nBcc:") == 0


async def test_the_sender_loop_delivers_what_is_queued(session: Session, smtp: SmtpServer) -> None:
    import asyncio

    member = make_user(session)
    queue_for(session, member.id, member.email, n=2)
    session.commit()
    stop = asyncio.Event()
    loop = asyncio.create_task(sender.run_sender(interval=0.05, stop=stop))
    for _ in range(200):
        if len(smtp.received) == 2:
            break
        await asyncio.sleep(0.05)
    stop.set()
    await asyncio.wait_for(loop, 5)
    assert len(smtp.received) == 2


def test_the_periodic_round_queues_unread_mentions(session: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    from kyoso import tasks
    from kyoso.settings import get_settings
    from tests.utils.factories import make_channel, post

    monkeypatch.setenv("KYOSO_NOTIFY_DELAY_SECONDS", "0")
    get_settings.cache_clear()
    alice = make_user(session)
    make_user(session, name="受信 者")
    post(session, alice, make_channel(session), "@[受信 者] 見てください")
    session.commit()
    tasks.run_once()
    session.expire_all()
    assert [r.kind for r in rows(session)] == ["mention"]
    get_settings.cache_clear()


def test_two_senders_at_once_send_each_mail_once(session: Session, smtp: SmtpServer) -> None:
    from concurrent.futures import ThreadPoolExecutor

    member = make_user(session)
    queued = queue_for(session, member.id, member.email, n=120)
    session.commit()
    with ThreadPoolExecutor(2) as pool:
        reports = list(pool.map(lambda w: deliver_due(worker=w), ["worker-a", "worker-b"]))
    assert sum(r.sent for r in reports) == 120
    ids = [r.message["Message-ID"] for r in smtp.received]
    assert sorted(ids) == sorted(r.message_id for r in queued)  # each once
