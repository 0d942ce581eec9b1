"""Mail the clock queues: unread notifications, digests, reminders, 重要なお知らせ."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import Session, select

from kyoso.db import utcnow
from kyoso.models import Outbox, Role, UserStatus
from kyoso.services import announcements, briefing_room, briefings, channels, notifications, questions, stamps
from kyoso.services.mail import jobs, prefs
from kyoso.services.timefmt import JST
from kyoso.settings import get_settings
from tests.services.mail.test_sender import deliver
from tests.utils.factories import make_channel, make_user, post
from tests.utils.mail import mails_to
from tests.utils.smtp import SmtpServer


def after_delay(seconds: int = 1):  # type: ignore[no-untyped-def]
    return utcnow() + timedelta(seconds=get_settings().notify_delay_seconds + seconds)


def run(session: Session, now=None) -> int:  # type: ignore[no-untyped-def]
    count = jobs.queue_notification_mail(session, now or after_delay())
    session.commit()
    return count


def test_an_unread_mention_is_mailed_once_after_the_delay(session: Session) -> None:
    alice, bob = make_user(session, name="有栖 次郎"), make_user(session, name="坊 三郎")
    channel = make_channel(session)
    post(session, alice, channel, "@[坊 三郎] 資料を見てください")
    assert run(session, utcnow() + timedelta(seconds=get_settings().notify_delay_seconds - 5)) == 0
    assert run(session) == 1
    [mail] = mails_to(session, bob.email)
    assert mail.kind == "mention" and mail.setting == "mention"
    assert "有栖 次郎さんがあなたをメンションしました" in mail.body_text
    assert f"/c/{channel.slug}?thread=" in mail.body_text
    assert mail.subject.startswith(f"【共創】#{channel.name}")
    assert run(session, after_delay(60)) == 0  # never twice
    assert mails_to(session, alice.email) == []


def test_a_notification_read_in_the_app_is_not_mailed(session: Session) -> None:
    alice, bob = make_user(session), make_user(session, name="読む 人")
    channel = make_channel(session)
    post(session, alice, channel, "@[読む 人] 確認お願いします")
    notifications.mark_all_read(session, bob)
    session.commit()
    assert run(session) == 0
    assert mails_to(session, bob.email) == []


def test_replies_in_one_thread_make_one_mail(session: Session) -> None:
    starter, a, b = make_user(session), make_user(session), make_user(session)
    channel = make_channel(session)
    thread = post(session, starter, channel, "質問があります")
    other = post(session, starter, channel, "別の話題")
    post(session, a, channel, "回答1", parent=thread)
    post(session, b, channel, "回答2", parent=thread)
    post(session, a, channel, "こちらにも", parent=other)
    assert run(session) == 3  # the starter: one per thread; a (who replied before b) hears of b
    assert len(mails_to(session, a.email)) == 1
    mails = mails_to(session, starter.email)
    assert len(mails) == 2
    both = next(m for m in mails if "回答1" in m.body_text)
    assert "回答2" in both.body_text and "ほか1件" in both.subject


def test_a_member_who_turned_replies_off_gets_no_reply_mail(session: Session) -> None:
    starter, a = make_user(session), make_user(session)
    prefs.set_mail_settings(session, starter, {"reply": False})
    channel = make_channel(session)
    thread = post(session, starter, channel, "質問があります")
    post(session, a, channel, "回答", parent=thread)
    assert run(session) == 0


def test_an_answer_chosen_and_a_briefing_question_are_mailed(session: Session) -> None:
    asker, answerer = make_user(session), make_user(session)
    organiser = make_user(session, role=Role.national)
    channel = make_channel(session)
    thread = post(session, asker, channel, "この制度の対象は？")
    reply = post(session, answerer, channel, "こちらです", parent=thread)
    questions.mark_question(session, asker, thread.id or 0)
    questions.choose_answer(session, asker, reply.id or 0)
    start = utcnow() + timedelta(days=3)
    briefing = briefings.create_briefing(session, organiser, briefings.BriefingInput(
        title="DX説明会", description="", starts_at=start, ends_at=start + timedelta(hours=1)))
    briefing_room.ask(session, asker, briefing.id or 0, "資料はいつ公開されますか")
    session.commit()
    run(session)
    [answer] = [m for m in mails_to(session, answerer.email) if m.kind == "answer"]
    assert "回答に選ばれました" in answer.body_text
    [question] = mails_to(session, organiser.email, "question")
    assert "DX説明会" in question.body_text and f"/briefings/{briefing.id}" in question.body_text
    assert mails_to(session, asker.email, "answer") == []  # they chose it themselves


def test_nothing_for_a_suspended_member(session: Session) -> None:
    alice, bob = make_user(session), make_user(session, name="停止 中")
    channel = make_channel(session)
    post(session, alice, channel, "@[停止 中] どうですか")
    bob.status = UserStatus.suspended
    session.add(bob)
    session.commit()
    assert run(session) == 0


def test_briefing_reminders_the_day_before_and_an_hour_before_with_the_ics(session: Session,
                                                                           smtp: SmtpServer) -> None:
    organiser = make_user(session, role=Role.national)
    member, away, muted = make_user(session), make_user(session), make_user(session)
    start = utcnow() + timedelta(hours=30)
    briefing = briefings.create_briefing(session, organiser, briefings.BriefingInput(
        title="自治体DX説明会", description="", starts_at=start, ends_at=start + timedelta(hours=1),
        place="オンライン"))
    for user in (member, away, muted):
        briefings.register(session, user, briefing.id or 0)
    briefings.cancel(session, away, briefing.id or 0)
    prefs.set_mail_settings(session, muted, {"reminder": False})
    session.commit()
    assert jobs.queue_briefing_reminders(session, utcnow()) == 0  # too early
    day = start - timedelta(hours=23)
    assert jobs.queue_briefing_reminders(session, day) == 1
    assert jobs.queue_briefing_reminders(session, day + timedelta(minutes=5)) == 0
    hour = start - timedelta(minutes=50)
    assert jobs.queue_briefing_reminders(session, hour) == 1
    session.commit()
    assert [m.subject for m in mails_to(session, member.email)] == [
        "【共創】明日の説明会: 自治体DX説明会", "【共創】1時間後の説明会: 自治体DX説明会"]
    assert mails_to(session, away.email) == mails_to(session, muted.email) == []
    assert deliver(session).sent == 2
    msg = smtp.received[0].message
    [ics] = [part for part in msg.iter_attachments()]
    assert ics.get_content_type() == "text/calendar"
    assert ics.get_filename() == f"briefing-{briefing.id}.ics"
    assert "BEGIN:VEVENT" in ics.get_content()


def test_an_important_announcement_is_mailed_to_every_active_member(session: Session) -> None:
    publisher = make_user(session, role=Role.national)
    members = [make_user(session) for _ in range(5)]
    members[0].status = UserStatus.suspended
    session.add(members[0])
    prefs.set_mail_settings(session, members[1], {"announcement": False})
    channel = make_channel(session, announcement=True)
    session.commit()
    announcements.publish(session, publisher, announcements.AnnouncementInput(
        title="通常のお知らせ", body="本文", category="other", channel_ids=[channel.id or 0]))
    assert session.exec(select(Outbox)).all() == []
    announcements.publish(session, publisher, announcements.AnnouncementInput(
        title="重要: 制度改正", body="来月から変わります。", category="policy", channel_ids=[channel.id or 0],
        importance="high"))
    session.commit()
    got = {m.to_addr for m in session.exec(select(Outbox).where(Outbox.kind == "announcement"))}
    assert got == {publisher.email, members[2].email, members[3].email, members[4].email}
    mail = mails_to(session, members[2].email)[0]
    assert mail.subject == "【共創・重要】重要: 制度改正"
    assert "来月から変わります。" in mail.body_text and f"/c/{channel.slug}?m=" in mail.body_text


def test_the_daily_digest_lists_my_channels_most_stamped_first(session: Session) -> None:
    reader, writer = make_user(session), make_user(session)
    mine, other = make_channel(session), make_channel(session)
    channels.join(session, reader, mine.id or 0)
    post(session, writer, mine, "静かなスレッド")
    popular = post(session, writer, mine, "人気のスレッド")
    post(session, writer, other, "参加していないチャンネル")
    stamps.toggle(session, reader, popular.id or 0, "👍")
    session.commit()
    morning = utcnow().astimezone(JST).replace(hour=8, minute=0)
    prefs.set_mail_settings(session, reader, {"digest": True})
    session.commit()
    early = morning.replace(hour=6)
    assert jobs.queue_digests(session, early) == 0  # before 07:00
    assert jobs.queue_digests(session, morning + timedelta(minutes=1)) == 1
    assert jobs.queue_digests(session, morning + timedelta(hours=2)) == 0  # once a day
    session.commit()
    [mail] = mails_to(session, reader.email, "digest")
    text = mail.body_text
    assert text.index("人気のスレッド") < text.index("静かなスレッド")
    assert "参加していないチャンネル" not in text
    assert mails_to(session, writer.email, "digest") == []
