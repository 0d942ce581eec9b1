"""Who may see what: one rule per kind of thing, used by every path that reads it.

Page loads, handlers, live patches, exports, archives, notifications and
search all ask here, so a thing hidden in one place is hidden in all of
them. What hangs on a message (a poll, a 意見募集, a reply, a notification
about it) is hidden with it: a message hidden by 運営 or deleted by its
author hides everything posted under it, except from 運営 and its own author.

    message   ``message_open`` (shown to members), ``can_see_message``
    poll      ``can_view_poll`` (the question), ``can_see_poll_results``,
              ``poll_results_public`` (every reader may see them: an archive)
    survey    ``can_view_survey``, ``can_see_survey_results``
    briefing  a 説明会's poll is shown to its room once the organiser shows it
    お知らせ   ``announcement_shown``, ``announcement_listed`` (in a query):
              withdrawn for everyone once one of its channel messages is
              hidden by 運営 or deleted by its author (they all carry the same
              text); back when 運営 restore it
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session, col, select

from kyoso.db import utcnow
from kyoso.models import (
    AnnouncementChannel,
    Ballot,
    Briefing,
    Message,
    Poll,
    ResultsVisibility,
    Survey,
    User,
    UserStatus,
)


def _active(user: User) -> bool:
    return user.status == UserStatus.active


# -- messages ------------------------------------------------------------------


def message_open(session: Session, message: Message | None) -> bool:
    """Shown to every member: neither the message nor its thread's parent is
    deleted or hidden."""
    if message is None or not message.is_visible:
        return False
    if message.parent_id:
        parent = session.get(Message, message.parent_id)
        return parent is not None and parent.is_visible
    return True


def can_see_message(session: Session, user: User, message: Message | None) -> bool:
    """What hangs on a message (its poll, its 意見募集): open to every active
    member while the message is; afterwards to 運営 and the author only."""
    if message is None or not _active(user):
        return False
    return message_open(session, message) or user.is_staff or message.author_id == user.id


# -- polls ---------------------------------------------------------------------


def poll_closed(poll: Poll, now: datetime | None = None) -> bool:
    if poll.closed_at is not None:
        return True
    return poll.deadline is not None and poll.deadline <= (now or utcnow())


def manages_poll(user: User, poll: Poll, briefing: Briefing | None = None) -> bool:
    if not _active(user):
        return False
    if user.is_staff or poll.author_id == user.id:
        return True
    return briefing is not None and briefing.organiser_id == user.id


def briefing_poll_shown(session: Session, poll: Poll, briefing: Briefing) -> bool:
    """A 説明会's poll reaches the room when the organiser shows it; once it
    has had votes (only possible while shown) it stays readable."""
    if briefing.live_poll_id == poll.id:
        return True
    return session.exec(select(Ballot.id).where(Ballot.poll_id == poll.id)).first() is not None


def can_view_poll(session: Session, user: User, poll: Poll) -> bool:
    """The poll's question and options."""
    if not _active(user):
        return False
    if poll.briefing_id:
        briefing = session.get(Briefing, poll.briefing_id)
        if briefing is None:
            return False
        return manages_poll(user, poll, briefing) or briefing_poll_shown(session, poll, briefing)
    message = session.get(Message, poll.message_id) if poll.message_id else None
    return can_see_message(session, user, message)


def can_vote_poll(session: Session, user: User, poll: Poll) -> bool:
    """Voting needs the poll in front of the member: a 説明会's poll only while it is shown."""
    if not can_view_poll(session, user, poll):
        return False
    if poll.briefing_id and not user.is_staff and poll.author_id != user.id:
        briefing = session.get(Briefing, poll.briefing_id)
        return briefing is not None and (briefing.live_poll_id == poll.id or briefing.organiser_id == user.id)
    return True


def poll_results_public(poll: Poll) -> bool:
    """Every reader of the poll may see its results (so they may be posted or
    sent to its whole room)."""
    return poll.visibility == ResultsVisibility.always or (
        poll.visibility == ResultsVisibility.after_close and poll_closed(poll))


def can_see_poll_results(session: Session, user: User, poll: Poll, *, voted: bool | None = None) -> bool:
    """``voted``: whether the member has voted on it, when the caller knows."""
    if not can_view_poll(session, user, poll):
        return False
    if user.is_staff or poll.author_id == user.id:
        return True
    if poll_results_public(poll):
        return True
    if poll.visibility == ResultsVisibility.after_vote:
        if voted is not None:
            return voted
        return session.exec(select(Ballot.id).where(
            Ballot.poll_id == poll.id, Ballot.user_id == user.id)).first() is not None
    return False


# -- surveys ---------------------------------------------------------------------


def survey_closed(survey: Survey) -> bool:
    return survey.closed_at is not None or (survey.deadline is not None and survey.deadline <= utcnow())


def can_view_survey(session: Session, user: User, survey: Survey) -> bool:
    """A 意見募集 is open while the message it was posted with is."""
    return can_see_message(session, user, session.get(Message, survey.message_id) if survey.message_id else None)


def can_see_survey_results(session: Session, user: User, survey: Survey) -> bool:
    if not can_view_survey(session, user, survey):
        return False
    return user.is_staff or user.id == survey.author_id or survey_closed(survey)


# -- お知らせ ----------------------------------------------------------------------


def _withdrawn_ids() -> sa.Select:  # type: ignore[type-arg]
    """Ids of お知らせ with a channel message hidden or deleted."""
    return (select(AnnouncementChannel.announcement_id)
            .join(Message, Message.id == AnnouncementChannel.message_id)  # type: ignore[arg-type]
            .where(sa.or_(col(Message.hidden_at).is_not(None), col(Message.deleted_at).is_not(None))))


def announcement_listed(announcement_id: sa.ColumnElement) -> sa.ColumnElement:  # type: ignore[type-arg]
    """A query's condition: the お知らせ ``announcement_id`` (a column) is shown
    (the home feed, a channel's pins)."""
    return col(announcement_id).not_in(_withdrawn_ids())  # type: ignore[arg-type]


def announcement_shown(session: Session, announcement_id: int) -> bool:
    """Shown to everyone (its author and 運営 included): none of its channel
    messages is hidden or deleted."""
    return session.exec(_withdrawn_ids().where(
        AnnouncementChannel.announcement_id == announcement_id)).first() is None
