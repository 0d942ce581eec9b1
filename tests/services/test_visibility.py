"""One visibility rule per kind: what hangs on a hidden or deleted message is hidden with it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import Session

from kyoso.db import utcnow
from kyoso.models import AnnouncementChannel, Message, Notification, ResultsVisibility, Role
from kyoso.services import announcements, briefing_room, messages, notifications, polls, surveys
from kyoso.services.errors import NotAllowed, NotFound
from tests.utils.factories import make_briefing, make_channel, make_poll, make_user, post


def _survey(session: Session, author, channel) -> surveys.Survey:  # type: ignore[no-untyped-def]
    survey = surveys.create_survey(session, author, channel.id or 0, surveys.SurveyInput(
        "庁内の意見", "", [surveys.QuestionInput("text", "ご意見は？")],
        deadline=utcnow() + timedelta(days=3)))
    session.commit()
    return survey


@pytest.mark.parametrize("how", ["hidden", "deleted"])
def test_a_survey_hides_with_its_message(session: Session, how: str) -> None:
    author, member = make_user(session), make_user(session)
    moderator = make_user(session, role=Role.moderator)
    survey = _survey(session, author, make_channel(session))
    q = surveys.view(session, member, survey.id or 0).questions[0].id
    surveys.respond(session, member, survey.id or 0, {q: "先に答えた意見"})
    if how == "hidden":
        messages.hide_message(session, moderator, survey.message_id or 0)
    else:
        messages.delete_message(session, author, survey.message_id or 0)
    session.commit()
    with pytest.raises(NotFound):
        surveys.view(session, member, survey.id or 0)
    with pytest.raises(NotFound):
        surveys.respond(session, member, survey.id or 0, {q: "後からの回答"})
    surveys.set_closed(session, author, survey.id or 0, True)
    with pytest.raises(NotFound):
        surveys.results(session, member, survey.id or 0)
    with pytest.raises(NotFound):
        surveys.my_answers(session, member, survey.id or 0)
    # 運営 and the author still see it.
    assert surveys.results(session, moderator, survey.id or 0)[0].texts[0].text == "先に答えた意見"
    assert surveys.view(session, author, survey.id or 0).id == survey.id


def test_a_poll_in_a_hidden_thread_is_hidden(session: Session) -> None:
    author, member = make_user(session), make_user(session)
    moderator = make_user(session, role=Role.moderator)
    channel = make_channel(session)
    parent = post(session, author, channel, "スレッド")
    poll = polls.create_poll(session, author, channel.id or 0, polls.PollInput("返信の中の質問", ["A", "B"]),
                             parent_id=parent.id)
    session.commit()
    assert polls.can_view(session, member, poll)
    messages.hide_message(session, moderator, parent.id or 0)
    session.commit()
    assert not polls.can_view(session, member, poll)
    with pytest.raises(NotFound):
        polls.vote(session, member, poll.id or 0, [0])


def test_briefing_polls_reach_the_room_only_once_shown(session: Session) -> None:
    organiser = make_user(session, role=Role.national)
    member = make_user(session)
    briefing = make_briefing(session, organiser, starts=utcnow() - timedelta(minutes=5))
    poll = polls.create_briefing_poll(session, organiser, briefing.id or 0, polls.PollInput("未公開", ["A", "B"]))
    session.commit()
    assert not polls.can_view(session, member, poll)
    assert polls.views_for(session, member, [poll.id or 0]) == ({}, {})
    with pytest.raises(NotFound):
        polls.vote(session, member, poll.id or 0, [0])
    briefing_room.set_live_poll(session, organiser, briefing.id or 0, poll.id)
    polls.vote(session, member, poll.id or 0, [0])
    # Shown and voted on: still readable after the organiser moves on, not votable.
    briefing_room.set_live_poll(session, organiser, briefing.id or 0, None)
    assert polls.can_view(session, member, poll)
    with pytest.raises(NotFound):
        polls.vote(session, member, poll.id or 0, [1])


def test_the_archive_posts_only_results_every_reader_may_see(session: Session) -> None:
    organiser = make_user(session, role=Role.national)
    member = make_user(session)
    channel = make_channel(session)
    briefing = make_briefing(session, organiser, channel=channel, starts=utcnow() - timedelta(minutes=5))
    secret_counts = {}
    for question, vis in (("公開", ResultsVisibility.always), ("主催者だけ", ResultsVisibility.owner),
                          ("締め切り後", ResultsVisibility.after_close), ("回答者だけ", ResultsVisibility.after_vote)):
        poll = polls.create_briefing_poll(session, organiser, briefing.id or 0,
                                          polls.PollInput(question, ["はい", "いいえ"], visibility=vis))
        briefing_room.set_live_poll(session, organiser, briefing.id or 0, poll.id)
        polls.vote(session, member, poll.id or 0, [0])
        secret_counts[question] = poll
    polls.create_briefing_poll(session, organiser, briefing.id or 0, polls.PollInput("一度も見せていない", ["x", "y"]))
    briefing_room.archive(session, organiser, briefing.id or 0)
    body = session.get(Message, briefing.archived_message_id).body  # type: ignore[union-attr]
    assert "公開（回答 1人）" in body
    for hidden in ("主催者だけ", "締め切り後", "回答者だけ"):
        assert f"{hidden}（結果は公開範囲の設定により掲載していません）" in body
    assert body.count("はい: 1票") == 1
    assert "一度も見せていない" not in body


def test_editable_does_not_tell_others_whether_anybody_voted(session: Session) -> None:
    author, voter, other = make_user(session), make_user(session), make_user(session)
    poll = make_poll(session, author, make_channel(session), visibility=ResultsVisibility.owner)
    assert polls.view(session, poll, author).editable
    polls.vote(session, voter, poll.id or 0, [0])
    assert not polls.view(session, poll, author).editable
    assert not polls.view(session, poll, other).editable and not polls.view(session, poll).editable
    views, tallies = polls.views_for(session, other, [poll.id or 0])
    assert views[str(poll.id)].editable is False and tallies == {}


def test_hidden_posts_lose_their_author_and_notification_excerpt(session: Session) -> None:
    author, reader = make_user(session), make_user(session)
    moderator = make_user(session, role=Role.moderator)
    channel = make_channel(session)
    message = post(session, author, channel, "秘密の抜粋")
    session.add(Notification(user_id=reader.id, kind="mention", message_id=message.id,  # type: ignore[arg-type]
                             channel_id=channel.id, text="秘密の抜粋", link="/"))
    session.commit()
    assert notifications.inbox(session, reader)[0].text == "秘密の抜粋"
    messages.hide_message(session, moderator, message.id or 0)
    session.commit()
    assert notifications.inbox(session, reader)[0].text == notifications.GONE_TEXT
    view = messages.view(session, message.id or 0)
    assert view is not None and view.author_id == 0 and view.author_name == ""


def test_national_staff_pin_only_their_own_announcements(session: Session) -> None:
    publisher = make_user(session, role=Role.national)
    other_national = make_user(session, role=Role.national)
    moderator = make_user(session, role=Role.moderator)
    channel = make_channel(session, announcement=True)
    a = announcements.publish(session, publisher, announcements.AnnouncementInput(
        title="通知", body="本文", category=next(iter(announcements.CATEGORIES)), importance="normal",
        channel_ids=[channel.id or 0]))
    session.commit()
    with pytest.raises(NotAllowed):
        announcements.set_pinned(session, other_national, a.id or 0, channel.id or 0, True)
    announcements.set_pinned(session, publisher, a.id or 0, channel.id or 0, True)
    assert session.get(AnnouncementChannel, (a.id, channel.id)).pinned  # type: ignore[union-attr]
    announcements.set_pinned(session, moderator, a.id or 0, channel.id or 0, False)
    assert not session.get(AnnouncementChannel, (a.id, channel.id)).pinned  # type: ignore[union-attr]
