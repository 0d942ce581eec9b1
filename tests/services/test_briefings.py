"""説明会 and お知らせ: who manages what, capacity, the waiting list, the calendar file."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlmodel import Session, select

from kyoso.db import utcnow
from kyoso.models import Message, Notification, Registration, Role
from kyoso.services import announcements, briefing_room, briefings, channels, events, polls
from kyoso.services.errors import InvalidInput, NotAllowed, NotFound
from kyoso.services.events import BriefingChanged, InboxChanged
from kyoso.services.timefmt import JST
from tests.utils.factories import make_briefing, make_channel, make_user
from tests.utils.statements import statements


def test_members_cannot_create_briefings_or_publish(session: Session) -> None:
    member = make_user(session)
    with pytest.raises(NotAllowed):
        make_briefing(session, member)
    channel = make_channel(session)
    with pytest.raises(NotAllowed):
        announcements.publish(session, member, announcements.AnnouncementInput(
            "お知らせ", "本文", "policy", [channel.id or 0]))


def test_only_the_organiser_and_staff_manage_the_room(session: Session) -> None:
    organiser = make_user(session, role=Role.national)
    other_national = make_user(session, role=Role.national)
    member = make_user(session)
    moderator = make_user(session, role=Role.moderator)
    briefing = make_briefing(session, organiser)
    question = briefing_room.ask(session, member, briefing.id or 0, "質問です")
    data = polls.PollInput("どうですか", ["良い", "悪い"])
    for outsider in (member, other_national):
        with pytest.raises(NotAllowed):
            polls.create_briefing_poll(session, outsider, briefing.id or 0, data)
        with pytest.raises(NotAllowed):
            briefing_room.answer_question(session, outsider, question.id or 0, "回答")
        with pytest.raises(NotAllowed):
            briefing_room.hide_question(session, outsider, question.id or 0)
        with pytest.raises(NotAllowed):
            briefing_room.set_live_poll(session, outsider, briefing.id or 0, None)
        with pytest.raises(NotAllowed):
            briefing_room.archive(session, outsider, briefing.id or 0)
    poll = polls.create_briefing_poll(session, organiser, briefing.id or 0, data)
    briefing_room.set_live_poll(session, moderator, briefing.id or 0, poll.id)
    assert briefing.live_poll_id == poll.id


def test_capacity_waiting_list_and_cancellation(session: Session) -> None:
    organiser = make_user(session, role=Role.national)
    a, b, c = make_user(session), make_user(session), make_user(session)
    briefing = make_briefing(session, organiser, capacity=2)
    assert briefings.register(session, a, briefing.id or 0) == "registered"
    assert briefings.register(session, b, briefing.id or 0) == "registered"
    assert briefings.register(session, c, briefing.id or 0) == "waitlisted"
    assert briefings.register(session, a, briefing.id or 0) == "registered"  # twice: no change
    v = briefings.view(session, briefing)
    assert (v.registered, v.waitlisted) == (2, 1)
    briefings.cancel(session, a, briefing.id or 0)
    session.commit()
    assert briefings.registration_status(session, c, briefing.id or 0) == "registered"
    assert briefings.registration_status(session, a, briefing.id or 0) == "cancelled"
    note = session.exec(select(Notification).where(Notification.user_id == c.id)).one()
    assert "参加が確定" in note.text
    # Re-registering after cancelling joins the back of the queue when full.
    assert briefings.register(session, a, briefing.id or 0) == "waitlisted"
    with pytest.raises(InvalidInput):
        briefings.cancel(session, make_user(session), briefing.id or 0)


def test_ics_parses_back_with_jst_times(session: Session) -> None:
    from icalendar import Calendar

    organiser = make_user(session, role=Role.national)
    start = datetime(2031, 12, 1, 14, 0, tzinfo=JST)
    briefing = make_briefing(session, organiser, starts=start)
    briefing.title = "長いタイトル、カンマ; セミコロン " + "あ" * 40
    session.add(briefing)
    text = briefings.ics(session, organiser, briefing.id or 0)
    assert all(len(line.encode()) <= 75 for line in text.split("\r\n"))
    cal = Calendar.from_ical(text)
    event = next(c for c in cal.walk() if c.name == "VEVENT")
    dtstart = event.decoded("dtstart")
    assert dtstart.utcoffset() == timedelta(hours=9)
    assert (dtstart.hour, dtstart.minute) == (14, 0) and dtstart.date().isoformat() == "2031-12-01"
    assert event.decoded("dtend") - dtstart == timedelta(hours=1, minutes=30)
    assert str(event.get("summary")) == briefing.title


def test_reminder_the_day_before_once(session: Session) -> None:
    organiser = make_user(session, role=Role.national)
    attendee = make_user(session)
    briefing = make_briefing(session, organiser, starts=utcnow() + timedelta(hours=20))
    briefings.register(session, attendee, briefing.id or 0)
    events.take(session)
    assert briefings.send_reminders(session) == 1
    assert events.take(session) == [InboxChanged(attendee.id or 0)]
    assert briefings.send_reminders(session) == 0 and events.take(session) == []
    notes = session.exec(select(Notification).where(Notification.user_id == attendee.id)).all()
    assert len(notes) == 1 and "明日の説明会" in notes[0].text


def test_questions_order_votes_and_anonymity(session: Session) -> None:
    organiser = make_user(session, role=Role.national)
    a, b, c = make_user(session, name="質問者A"), make_user(session), make_user(session)
    briefing = make_briefing(session, organiser)
    q1 = briefing_room.ask(session, a, briefing.id or 0, "一つ目", anonymous=True)
    q2 = briefing_room.ask(session, b, briefing.id or 0, "二つ目")
    assert [q.id for q in briefing_room.questions(session, briefing.id or 0)] == [q1.id, q2.id]
    briefing_room.toggle_upvote(session, a, q2.id or 0)
    briefing_room.toggle_upvote(session, c, q2.id or 0)
    briefing_room.toggle_upvote(session, c, q2.id or 0)  # taken back
    briefing_room.toggle_upvote(session, b, q2.id or 0)
    views = briefing_room.questions(session, briefing.id or 0)
    assert [(q.id, q.votes) for q in views] == [(q2.id, 2), (q1.id, 0)]
    # Each member's own part: what they upvoted, what they asked (and, in
    # the same statement, their registration: test below).
    bid = briefing.id or 0

    def part(user: Any, briefing_id: int = bid) -> tuple[list[int], list[int]]:
        mine = briefing_room.my_part(session, user.id or 0, briefing_id)
        return mine.upvoted, mine.asked

    assert part(a) == ([q2.id], [q1.id])
    assert part(b) == ([q2.id], [q2.id])
    assert part(c) == ([], [])
    assert part(a, bid + 1) == ([], [])
    assert views[1].author == "匿名の参加者" and "質問者A" not in repr(views)
    briefing_room.answer_question(session, organiser, q2.id or 0, "資料に載せます")
    assert [q.id for q in briefing_room.questions(session, briefing.id or 0)] == [q1.id, q2.id]
    briefing_room.hide_question(session, organiser, q1.id or 0)
    assert [q.id for q in briefing_room.questions(session, briefing.id or 0)] == [q2.id]


def test_archive_posts_a_thread_with_results_and_answers(session: Session) -> None:
    organiser = make_user(session, role=Role.national)
    voter = make_user(session)
    channel = make_channel(session)
    briefing = make_briefing(session, organiser, channel=channel,
                             starts=utcnow() - timedelta(minutes=10))
    briefing_room.mark_attended(session, voter, briefing.id or 0)
    poll = polls.create_briefing_poll(session, organiser, briefing.id or 0,
                                         polls.PollInput("理解できましたか", ["はい", "いいえ"]))
    briefing_room.set_live_poll(session, organiser, briefing.id or 0, poll.id)
    polls.vote(session, voter, poll.id or 0, [0])
    q = briefing_room.ask(session, voter, briefing.id or 0, "資料はどこにありますか")
    briefing_room.answer_question(session, organiser, q.id or 0, "チャンネルに掲載します")
    briefing_room.archive(session, organiser, briefing.id or 0)
    parent = session.get(Message, briefing.archived_message_id)
    assert parent is not None and "参加者数: 1人" in parent.body and "はい: 1票（100%）" in parent.body
    replies = session.exec(select(Message).where(Message.parent_id == parent.id)).all()
    assert len(replies) == 1 and "チャンネルに掲載します" in replies[0].body
    with pytest.raises(InvalidInput):
        briefing_room.archive(session, organiser, briefing.id or 0)


def test_attendance_is_recorded_only_during_the_briefing(session: Session) -> None:
    organiser = make_user(session, role=Role.national)
    viewer = make_user(session)
    future = make_briefing(session, organiser)
    events.take(session)
    briefing_room.mark_attended(session, viewer, future.id or 0)
    assert events.take(session) == []
    assert briefing_room.attendance(session, future.id or 0) == 0
    now = make_briefing(session, organiser, starts=utcnow() - timedelta(minutes=5))
    # The first visit changes the room's count (and says so); the next does not.
    events.take(session)
    briefing_room.mark_attended(session, viewer, now.id or 0)
    assert events.take(session) == [BriefingChanged(now.id or 0, what="attendance")]
    briefing_room.mark_attended(session, viewer, now.id or 0)
    assert events.take(session) == []
    assert briefing_room.attendance(session, now.id or 0) == 1
    assert session.exec(select(Registration)).one().status == "walk_in"


def test_a_registered_member_attends_once_and_stays_registered(session: Session) -> None:
    organiser = make_user(session, role=Role.national)
    member, walk_in, waiting = make_user(session), make_user(session), make_user(session)
    briefing = make_briefing(session, organiser, capacity=1, starts=utcnow() - timedelta(minutes=5))
    bid = briefing.id or 0
    briefings.register(session, member, bid)
    briefings.register(session, waiting, bid)
    session.commit()
    assert briefings.my_registration(session, member.id or 0, bid) == briefings.MyRegistration(
        "registered", attended=False)
    assert briefing_room.attendance_due(member, briefing, briefings.my_registration(session, member.id or 0, bid))
    events.take(session)
    briefing_room.mark_attended(session, member, bid)
    briefing_room.mark_attended(session, walk_in, bid)
    assert events.take(session) == [BriefingChanged(bid, what="attendance")] * 2
    briefing_room.mark_attended(session, member, bid)
    assert events.take(session) == []
    mine = briefings.my_registration(session, member.id or 0, bid)
    assert mine == briefings.MyRegistration("registered", attended=True)
    assert not briefing_room.attendance_due(member, briefing, mine)
    # The room reads the same with the member's questions and upvotes.
    q = briefing_room.ask(session, waiting, bid, "資料はどこですか")
    briefing_room.toggle_upvote(session, member, q.id or 0)
    assert briefing_room.my_part(session, member.id or 0, bid) == briefing_room.MyPart(mine, [q.id], [])
    assert briefing_room.my_part(session, waiting.id or 0, bid) == briefing_room.MyPart(
        briefings.MyRegistration("waitlisted", attended=False), [], [q.id])
    assert briefing_room.my_part(session, organiser.id or 0, bid) == briefing_room.MyPart(None, [], [])
    assert briefings.my_registration(session, walk_in.id or 0, bid) == briefings.MyRegistration(
        "walk_in", attended=True)
    assert briefings.my_registration(session, organiser.id or 0, bid) is None
    # The header's counts and the attendance come from one statement: the
    # waiting member has not come, the walk-in is neither registered nor waiting.
    view, came = briefing_room.header(session, briefing)
    assert (view.registered, view.waitlisted, came) == (1, 1, 2)
    assert briefing_room.attendance(session, bid) == 2
    # An arrival reads all of it, and the questions' version, in one statement.
    for who in (member, waiting, organiser):
        with statements() as seen:
            arrived = briefing_room.arrival(session, who.id or 0, bid)
        assert len(seen) == 1
        assert arrived.mine == briefing_room.my_part(session, who.id or 0, bid)
        assert arrived.counts == briefings.counts_and_attendance(session, bid)
        assert arrived.questions_version == briefing_room.questions_version(session, bid) > 0
        assert briefing_room.header(session, briefing, arrived.counts) == (view, 2)


def test_attendance_counts_from_half_an_hour_before_to_half_an_hour_after(session: Session) -> None:
    organiser = make_user(session, role=Role.national)
    early, late, too_late = make_user(session), make_user(session), make_user(session)
    soon = make_briefing(session, organiser, starts=utcnow() + timedelta(minutes=29))
    briefing_room.mark_attended(session, early, soon.id or 0)
    assert briefing_room.attendance(session, soon.id or 0) == 1
    ended, over = make_briefing(session, organiser), make_briefing(session, organiser)
    for briefing, ago in ((ended, 29), (over, 31)):  # (one cannot organise one in the past)
        briefing.ends_at = utcnow() - timedelta(minutes=ago)
        briefing.starts_at = briefing.ends_at - timedelta(hours=1)
        session.add(briefing)
    session.commit()
    briefing_room.mark_attended(session, late, ended.id or 0)
    briefing_room.mark_attended(session, too_late, over.id or 0)
    assert briefing_room.attendance(session, ended.id or 0) == 1
    assert briefing_room.attendance(session, over.id or 0) == 0
    assert not briefings.is_on(over) and briefings.is_on(ended)
    assert not briefing_room.attendance_due(too_late, over, None)
    briefing_room.mark_attended(session, early, 10_000)  # no such briefing: nothing, no error
    assert briefings.my_registration(session, early.id or 0, 10_000) is None


def test_the_room_reads_a_briefing_as_its_row(session: Session) -> None:
    organiser = make_user(session, role=Role.national, name="主催 太郎")
    briefing = make_briefing(session, organiser, capacity=30, channel=make_channel(session))
    row = briefings.read_briefing(session, briefing.id or 0)
    assert briefings.view(session, row) == briefings.view(session, briefing)
    assert briefings.view(session, row).organiser == "主催 太郎"  # brought by the row itself
    assert briefings.view(session, row).organiser_org
    assert briefings.is_on(row) == briefings.is_on(briefing) is False
    assert briefings.can_manage(organiser, row) and not briefings.can_manage(make_user(session), row)
    with pytest.raises(NotFound):
        briefings.read_briefing(session, 10_000)


def test_announcement_feed_read_marks_and_expiry(session: Session) -> None:
    national = make_user(session, role=Role.national)
    reader = make_user(session)
    outsider = make_user(session)
    channel = make_channel(session, announcement=True)
    channels.join(session, reader, channel.id or 0)
    a = announcements.publish(session, national, announcements.AnnouncementInput(
        "リリースのお知らせ", "新機能を公開しました", "release", [channel.id or 0]))
    important = announcements.publish(session, national, announcements.AnnouncementInput(
        "重要なお知らせ", "必ずお読みください", "policy", [channel.id or 0], importance="high"))
    feed = announcements.feed(session, reader)
    assert [x.id for x in feed] == [important.id, a.id] and all(x.unread for x in feed)
    # Not a member: only the important one.
    assert [x.id for x in announcements.feed(session, outsider)] == [important.id]
    announcements.mark_read(session, reader, a.id or 0)
    assert {x.id: x.unread for x in announcements.feed(session, reader)} == {important.id: True, a.id: False}
    # Posted as a message in the channel too.
    assert session.exec(select(Message).where(Message.channel_id == channel.id)).all()
    a.expires_at = utcnow() - timedelta(minutes=1)
    session.add(a)
    assert [x.id for x in announcements.feed(session, reader)] == [important.id]


def test_announcement_validation(session: Session) -> None:
    national = make_user(session, role=Role.national)
    channel = make_channel(session)
    with pytest.raises(InvalidInput):
        announcements.publish(session, national, announcements.AnnouncementInput("t", "b", "policy", []))
    with pytest.raises(InvalidInput):
        announcements.publish(session, national, announcements.AnnouncementInput(
            "t", "b", "unknown", [channel.id or 0]))
    with pytest.raises(InvalidInput):
        announcements.publish(session, national, announcements.AnnouncementInput(
            "t", "b", "policy", [channel.id or 0], expires_at=utcnow() - timedelta(hours=1)))


def test_pin_in_a_channel(session: Session) -> None:
    national = make_user(session, role=Role.national)
    member = make_user(session)
    channel = make_channel(session)
    a = announcements.publish(session, national, announcements.AnnouncementInput(
        "ピン留め", "本文", "other", [channel.id or 0]))
    with pytest.raises(NotAllowed):
        announcements.set_pinned(session, member, a.id or 0, channel.id or 0, True)
    announcements.set_pinned(session, national, a.id or 0, channel.id or 0, True)
    assert [x.id for x in announcements.pinned_in(session, member, channel.id or 0)] == [a.id]


def test_briefing_time_rules(session: Session) -> None:
    organiser = make_user(session, role=Role.national)
    start = utcnow() + timedelta(days=1)
    with pytest.raises(InvalidInput):
        briefings.create_briefing(session, organiser, briefings.BriefingInput(
            "t", "", start, start - timedelta(hours=1)))
    with pytest.raises(InvalidInput):
        briefings.create_briefing(session, organiser, briefings.BriefingInput(
            "t", "", start, start + timedelta(hours=1), online_url="javascript:alert(1)"))
    assert re.match(r"\d{4}年", briefings.view(session, make_briefing(session, organiser)).when)


def test_arrivals_share_the_question_list_until_a_question_changes(session: Session) -> None:
    organiser = make_user(session, role=Role.national)
    asker, voter = make_user(session), make_user(session)
    briefing = make_briefing(session, organiser, starts=utcnow() - timedelta(minutes=5))
    bid = briefing.id or 0
    first = briefing_room.ask(session, asker, bid, "資料はいつ公開されますか？")
    second = briefing_room.ask(session, asker, bid, "運用経費の試算例はありますか？")
    session.commit()

    def shown() -> list[tuple[str, int, bool]]:
        views, version = briefing_room.room_questions(session, bid)
        assert version == briefing_room.questions_version(session, bid)
        assert views == briefing_room.questions(session, bid)  # the cache never differs
        return [(q.body[:2], q.votes, q.answered) for q in views]

    assert shown() == [("資料", 0, False), ("運用", 0, False)]
    assert shown() == [("資料", 0, False), ("運用", 0, False)]  # from the cache
    briefing_room.toggle_upvote(session, voter, second.id or 0)
    session.commit()
    assert shown() == [("運用", 1, False), ("資料", 0, False)]
    briefing_room.answer_question(session, organiser, second.id or 0, "来週公開します。")
    session.commit()
    assert shown() == [("資料", 0, False), ("運用", 1, True)]
    briefing_room.hide_question(session, organiser, first.id or 0)
    session.commit()
    assert shown() == [("運用", 1, True)]


def test_the_author_does_not_see_their_own_announcement_as_unread(session: Session) -> None:
    national = make_user(session, role=Role.national)
    channel = make_channel(session, announcement=True)
    channels.join(session, national, channel.id or 0)
    a = announcements.publish(session, national, announcements.AnnouncementInput(
        "説明会のご案内", "申し込めます: /briefings/1", "briefing", [channel.id or 0]))
    assert [x.unread for x in announcements.feed(session, national) if x.id == a.id] == [False]
    announcements.mark_read(session, national, a.id or 0)  # harmless
    assert announcements.preselected_channels(session) == [channel.id]
