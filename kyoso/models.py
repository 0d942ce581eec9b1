"""kyoso's schema: SQLModel table classes shared by the domain and the migrations.

Rules that must hold whatever the code does (one account per e-mail address,
one ballot per person per poll, one stamp of a kind per person per message)
are database constraints here, not only checks in the services.
"""

from __future__ import annotations

from datetime import datetime, timezone
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from kyoso.db import utcnow

# Stable constraint names, so migrations read the same on SQLite and PostgreSQL.
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(sa.types.TypeDecorator):
    """A timezone-aware timestamp, stored in UTC.

    PostgreSQL keeps ``timestamptz``; SQLite has no zone, so values are stored
    as naive UTC and given their zone back when read.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTCDateTime column")
        value = value.astimezone(timezone.utc)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


def _ts(**kw: Any) -> Any:
    return Field(default_factory=utcnow, sa_type=UTCDateTime, **kw)


def _ts_opt(**kw: Any) -> Any:
    return Field(default=None, sa_type=UTCDateTime, **kw)


# ---------------------------------------------------------------------------
# Organisations and people
# ---------------------------------------------------------------------------


class OrgKind(StrEnum):
    prefecture = "prefecture"
    designated_city = "designated_city"
    city = "city"
    special_ward = "special_ward"
    town = "town"
    village = "village"
    agency = "agency"
    # 未設定: the 団体 of an imported member whose 団体 is not known. Never
    # offered at sign-up (services/organisations.check_org_code).
    unset = "unset"


UNSET_ORG_CODE = "X00000"


class Organisation(SQLModel, table=True):
    """A 団体: a local government (by 全国地方公共団体コード) or a national agency."""

    code: str = Field(primary_key=True, max_length=6)
    kind: str = Field(max_length=20, index=True)
    name: str = Field(max_length=40)
    kana: str = Field(max_length=80)
    prefecture_code: str = Field(default="", max_length=2, index=True)
    prefecture: str = Field(default="", max_length=10)
    region: str = Field(default="", max_length=10)

    @property
    def is_agency(self) -> bool:
        return self.kind == OrgKind.agency

    @property
    def display_name(self) -> str:
        """Name as people say it: a municipality with its prefecture."""
        if self.kind in (OrgKind.prefecture, OrgKind.agency):
            return self.name
        return f"{self.prefecture}{self.name}"


class Role(StrEnum):
    member = "member"  # 自治体職員
    national = "national"  # 国の職員
    moderator = "moderator"  # 運営
    admin = "admin"  # 運営 (管理者)


class UserStatus(StrEnum):
    # applied, but the e-mail address has not confirmed its link yet (not in review)
    unconfirmed = "unconfirmed"
    pending = "pending"  # applied and confirmed, waiting for 運営's review
    active = "active"
    rejected = "rejected"
    suspended = "suspended"
    # Brought in by an import (Slack): shown by name and 団体, cannot log in.
    # Claimed by signing up with its e-mail address, or linked by 運営.
    unclaimed = "unclaimed"


class User(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=254, sa_column_kwargs={"unique": True})
    name: str = Field(max_length=50)
    org_code: str = Field(foreign_key="organisation.code", max_length=6, index=True)
    department: str = Field(default="", max_length=100)
    role: str = Field(default=Role.member, max_length=20)
    status: str = Field(default=UserStatus.pending, max_length=20, index=True)
    password_hash: str = Field(max_length=255)
    bio: str = Field(default="", max_length=1000)
    interests: str = Field(default="", max_length=300)
    rejection_reason: str = Field(default="", max_length=1000)
    created_at: datetime = _ts()
    reviewed_at: datetime | None = _ts_opt()
    last_login_at: datetime | None = _ts_opt()
    # Bumped when the password changes or every session is ended.
    session_epoch: int = Field(default=0)

    @property
    def is_staff(self) -> bool:
        """運営: moderators and admins."""
        return self.role in (Role.moderator, Role.admin)


class ReviewDecision(SQLModel, table=True):
    """One decision of 運営 on a sign-up: who, when, and why if rejected."""

    id: int | None = Field(default=None, primary_key=True)
    applicant_id: int = Field(foreign_key="user.id", index=True)
    reviewer_id: int = Field(foreign_key="user.id")
    decision: str = Field(max_length=10)  # "approve" | "reject"
    reason: str = Field(default="", max_length=1000)
    created_at: datetime = _ts()


class AuthSession(SQLModel, table=True):
    """A login session. Only the SHA-256 of its random token is stored."""

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, sa_column_kwargs={"unique": True})
    user_id: int = Field(foreign_key="user.id", index=True)
    created_at: datetime = _ts()
    expires_at: datetime = Field(sa_type=UTCDateTime)
    last_seen_at: datetime = _ts()
    session_epoch: int = Field(default=0)


class LoginDevice(SQLModel, table=True):
    """A browser that logged in to an account before (OWASP's device cookie).

    Its random token stays in the browser's localStorage; only the SHA-256 is
    stored. Failed logins from other browsers never lock it out.
    """

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, sa_column_kwargs={"unique": True})
    user_id: int = Field(foreign_key="user.id", index=True)
    created_at: datetime = _ts()
    last_used_at: datetime = _ts()


class RateHit(SQLModel, table=True):
    """One counted attempt (a failed login, a sign-up, ...) for rate limiting.

    Kept in the database so that every worker sees the same counts.
    """

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=200)
    created_at: datetime = _ts()

    __table_args__ = (sa.Index("ix_ratehit_key_created", "key", "created_at"),)


class AuditLog(SQLModel, table=True):
    """Every action of 運営, readable by admins."""

    id: int | None = Field(default=None, primary_key=True)
    actor_id: int | None = Field(default=None, foreign_key="user.id", index=True)
    action: str = Field(max_length=50)
    target_type: str = Field(default="", max_length=30)
    target_id: int | None = Field(default=None)
    detail: str = Field(default="", max_length=2000)
    created_at: datetime = _ts(index=True)


# ---------------------------------------------------------------------------
# Channels, messages, stamps
# ---------------------------------------------------------------------------


class ChannelKind(StrEnum):
    topic = "topic"  # anyone may start a thread
    announcement = "announcement"  # only national staff and 運営 start threads


class Channel(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(max_length=40, sa_column_kwargs={"unique": True})
    name: str = Field(max_length=60)
    description: str = Field(default="", max_length=500)
    kind: str = Field(default=ChannelKind.topic, max_length=20)
    # In an announcement channel: may members reply in threads?
    allow_replies: bool = Field(default=True)
    archived_at: datetime | None = _ts_opt()
    created_by_id: int | None = Field(default=None, foreign_key="user.id")
    created_at: datetime = _ts()
    last_message_at: datetime | None = _ts_opt()
    member_count: int = Field(default=0)
    # New members join it as they are approved (お知らせ, by default).
    join_by_default: bool = Field(default=False, sa_column_kwargs={"server_default": sa.false()})


class Membership(SQLModel, table=True):
    channel_id: int = Field(foreign_key="channel.id", primary_key=True)
    user_id: int = Field(foreign_key="user.id", primary_key=True, index=True)
    joined_at: datetime = _ts()
    # The newest top-level message the member has seen; unread = newer ones.
    last_read_id: int = Field(default=0)


class Message(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    channel_id: int = Field(foreign_key="channel.id")
    # The thread's first message; None for a message that starts a thread.
    parent_id: int | None = Field(default=None, foreign_key="message.id")
    author_id: int = Field(foreign_key="user.id", index=True)
    body: str = Field(default="", max_length=8000)
    body_html: str = Field(default="", max_length=40000)
    created_at: datetime = _ts()
    edited_at: datetime | None = _ts_opt()
    deleted_at: datetime | None = _ts_opt()
    hidden_at: datetime | None = _ts_opt()
    hidden_by_id: int | None = Field(default=None, foreign_key="user.id")
    reply_count: int = Field(default=0)
    last_reply_at: datetime | None = _ts_opt()
    # Bumped by every change, so a client keeps the newest copy it was sent.
    rev: int = Field(default=1)
    # A thread marked as a question (質問) and its accepted answer (解決済み).
    is_question: bool = Field(default=False)
    answer_id: int | None = Field(default=None)

    __table_args__ = (
        sa.Index("ix_message_channel_parent_id", "channel_id", "parent_id", "id"),
        sa.Index("ix_message_parent_id_id", "parent_id", "id"),
        # Lists of questions (few among many messages), newest first.
        sa.Index("ix_message_is_question_id", "is_question", "id"),
    )

    @property
    def is_visible(self) -> bool:
        return self.deleted_at is None and self.hidden_at is None


class Stamp(SQLModel, table=True):
    """One member's stamp of one kind on one message: at most one, by constraint."""

    id: int | None = Field(default=None, primary_key=True)
    message_id: int = Field(foreign_key="message.id")
    user_id: int = Field(foreign_key="user.id")
    stamp: str = Field(max_length=30)
    created_at: datetime = _ts()

    __table_args__ = (
        sa.UniqueConstraint("message_id", "user_id", "stamp", name="uq_stamp_message_user_stamp"),
        sa.Index("ix_stamp_message_id", "message_id"),
        # The palette's "recently used first" reads a member's stamps newest first.
        sa.Index("ix_stamp_user_id_id", "user_id", "id"),
    )


class CustomStamp(SQLModel, table=True):
    """A text stamp added by 運営."""

    id: int | None = Field(default=None, primary_key=True)
    label: str = Field(max_length=20, sa_column_kwargs={"unique": True})
    created_by_id: int | None = Field(default=None, foreign_key="user.id")
    created_at: datetime = _ts()


class Notification(SQLModel, table=True):
    """An item in a member's inbox: a mention, a reply to my thread, a reminder."""

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id")
    kind: str = Field(max_length=20)  # mention | reply | reminder | announcement
    message_id: int | None = Field(default=None, foreign_key="message.id")
    channel_id: int | None = Field(default=None, foreign_key="channel.id")
    actor_id: int | None = Field(default=None, foreign_key="user.id")
    text: str = Field(default="", max_length=300)
    link: str = Field(default="", max_length=200)
    created_at: datetime = _ts()
    read_at: datetime | None = _ts_opt()

    __table_args__ = (sa.Index("ix_notification_user_id_id", "user_id", "id"),)


# ---------------------------------------------------------------------------
# Polls (アンケート) and surveys (意見募集)
# ---------------------------------------------------------------------------


class ResultsVisibility(StrEnum):
    always = "always"  # everyone who can see the poll, live
    after_vote = "after_vote"  # once you have voted
    after_close = "after_close"  # everyone, once the poll is closed
    owner = "owner"  # only the asker and 運営


class Poll(SQLModel, table=True):
    """A poll, posted as a message in a channel or thread, or run live in a 説明会."""

    id: int | None = Field(default=None, primary_key=True)
    message_id: int | None = Field(default=None, foreign_key="message.id", index=True)
    channel_id: int | None = Field(default=None, foreign_key="channel.id", index=True)
    briefing_id: int | None = Field(default=None, foreign_key="briefing.id", index=True)
    author_id: int = Field(foreign_key="user.id")
    question: str = Field(max_length=300)
    multiple: bool = Field(default=False)
    max_choices: int = Field(default=1)
    anonymous: bool = Field(default=True)
    visibility: str = Field(default=ResultsVisibility.always, max_length=20)
    deadline: datetime | None = _ts_opt()
    closed_at: datetime | None = _ts_opt()
    created_at: datetime = _ts()
    # Bumped by every ballot: a browser keeps the newest tally it was sent.
    tally_rev: int = Field(default=0)


class PollOption(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    poll_id: int = Field(foreign_key="poll.id")
    position: int
    label: str = Field(max_length=100)
    # The 「その他」 option: a voter may add free text.
    is_other: bool = Field(default=False)

    __table_args__ = (sa.UniqueConstraint("poll_id", "position", name="uq_polloption_poll_position"),)


class Ballot(SQLModel, table=True):
    """One person's answer to one poll: at most one, by constraint."""

    id: int | None = Field(default=None, primary_key=True)
    poll_id: int = Field(foreign_key="poll.id")
    user_id: int = Field(foreign_key="user.id", index=True)
    other_text: str = Field(default="", max_length=300)
    created_at: datetime = _ts()
    updated_at: datetime = _ts()

    __table_args__ = (sa.UniqueConstraint("poll_id", "user_id", name="uq_ballot_poll_user"),)


class BallotChoice(SQLModel, table=True):
    ballot_id: int = Field(foreign_key="ballot.id", primary_key=True)
    position: int = Field(primary_key=True)
    poll_id: int = Field(foreign_key="poll.id", index=True)


class Survey(SQLModel, table=True):
    """意見募集: several questions, a deadline, results by affiliation."""

    id: int | None = Field(default=None, primary_key=True)
    message_id: int | None = Field(default=None, foreign_key="message.id")
    channel_id: int = Field(foreign_key="channel.id", index=True)
    author_id: int = Field(foreign_key="user.id")
    title: str = Field(max_length=200)
    description: str = Field(default="", max_length=4000)
    anonymous: bool = Field(default=False)
    deadline: datetime | None = _ts_opt()
    closed_at: datetime | None = _ts_opt()
    created_at: datetime = _ts()


class SurveyQuestion(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    survey_id: int = Field(foreign_key="survey.id", index=True)
    position: int
    kind: str = Field(max_length=10)  # single | multiple | text | scale
    prompt: str = Field(max_length=300)
    # Choices of a single/multiple question, one per line.
    choices: str = Field(default="", max_length=4000)
    required: bool = Field(default=True)

    __table_args__ = (sa.UniqueConstraint("survey_id", "position", name="uq_surveyquestion_survey_position"),)


class SurveyResponse(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    survey_id: int = Field(foreign_key="survey.id")
    user_id: int = Field(foreign_key="user.id", index=True)
    created_at: datetime = _ts()
    updated_at: datetime = _ts()

    __table_args__ = (sa.UniqueConstraint("survey_id", "user_id", name="uq_surveyresponse_survey_user"),)


class SurveyAnswer(SQLModel, table=True):
    response_id: int = Field(foreign_key="surveyresponse.id", primary_key=True)
    question_id: int = Field(foreign_key="surveyquestion.id", primary_key=True)
    # Chosen positions as "0,2" for choice questions; 1-5 for a scale.
    choices: str = Field(default="", max_length=200)
    scale: int | None = Field(default=None)
    text: str = Field(default="", max_length=4000)


# ---------------------------------------------------------------------------
# Announcements (お知らせ) and briefings (説明会)
# ---------------------------------------------------------------------------


class Announcement(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    author_id: int = Field(foreign_key="user.id")
    title: str = Field(max_length=120)
    body: str = Field(max_length=8000)
    body_html: str = Field(default="", max_length=40000)
    category: str = Field(max_length=20)  # policy | release | briefing | other
    importance: str = Field(default="normal", max_length=10)  # normal | high
    expires_at: datetime | None = _ts_opt()
    briefing_id: int | None = Field(default=None, foreign_key="briefing.id")
    created_at: datetime = _ts(index=True)


class AnnouncementChannel(SQLModel, table=True):
    """An announcement published to a channel, with its message there."""

    announcement_id: int = Field(foreign_key="announcement.id", primary_key=True)
    channel_id: int = Field(foreign_key="channel.id", primary_key=True, index=True)
    message_id: int | None = Field(default=None, foreign_key="message.id")
    pinned: bool = Field(default=False)


class AnnouncementRead(SQLModel, table=True):
    announcement_id: int = Field(foreign_key="announcement.id", primary_key=True)
    user_id: int = Field(foreign_key="user.id", primary_key=True)
    read_at: datetime = _ts()


class Briefing(SQLModel, table=True):
    """A 説明会: an event with registration and a live room."""

    id: int | None = Field(default=None, primary_key=True)
    title: str = Field(max_length=150)
    description: str = Field(default="", max_length=4000)
    starts_at: datetime = Field(sa_type=UTCDateTime)
    ends_at: datetime = Field(sa_type=UTCDateTime)
    online_url: str = Field(default="", max_length=500)
    place: str = Field(default="", max_length=200)
    capacity: int = Field(default=0)  # 0: no limit
    organiser_id: int = Field(foreign_key="user.id")
    channel_id: int | None = Field(default=None, foreign_key="channel.id")
    # The poll currently shown in the room (None: none).
    live_poll_id: int | None = Field(default=None)
    archived_message_id: int | None = Field(default=None, foreign_key="message.id")
    reminder_sent_at: datetime | None = _ts_opt()
    created_at: datetime = _ts()


class Registration(SQLModel, table=True):
    """申込: one per person per briefing; waitlisted when the briefing is full."""

    id: int | None = Field(default=None, primary_key=True)
    briefing_id: int = Field(foreign_key="briefing.id")
    user_id: int = Field(foreign_key="user.id", index=True)
    status: str = Field(max_length=12)  # registered | waitlisted | cancelled
    created_at: datetime = _ts()
    updated_at: datetime = _ts()
    attended_at: datetime | None = _ts_opt()

    __table_args__ = (
        sa.UniqueConstraint("briefing_id", "user_id", name="uq_registration_briefing_user"),
        # Every arrival in a 説明会's room counts its registrations by status
        # and its attendance (``briefings.counts_and_attendance``): from the
        # index alone, not a row read per registration.
        sa.Index("ix_registration_briefing_status_attended", "briefing_id", "status", "attended_at"),
    )


class BriefingQuestion(SQLModel, table=True):
    """A question asked in a 説明会's room (Slido-like). Not a thread marked as
    a question (質問): that is ``Message.is_question``."""

    __tablename__ = "question"

    id: int | None = Field(default=None, primary_key=True)
    briefing_id: int = Field(foreign_key="briefing.id", index=True)
    author_id: int = Field(foreign_key="user.id")
    anonymous: bool = Field(default=False)
    body: str = Field(max_length=1000)
    votes: int = Field(default=0)
    answered_at: datetime | None = _ts_opt()
    answer: str = Field(default="", max_length=2000)
    hidden_at: datetime | None = _ts_opt()
    created_at: datetime = _ts()
    rev: int = Field(default=1)


class BriefingQuestionVote(SQLModel, table=True):
    """One 👍 per person per 説明会 question."""

    __tablename__ = "questionvote"
    question_id: int = Field(foreign_key="question.id", primary_key=True)
    user_id: int = Field(foreign_key="user.id", primary_key=True)
    created_at: datetime = _ts()


# ---------------------------------------------------------------------------
# Trust and safety
# ---------------------------------------------------------------------------


class Report(SQLModel, table=True):
    """通報: a member reports a post to 運営."""

    id: int | None = Field(default=None, primary_key=True)
    message_id: int = Field(foreign_key="message.id", index=True)
    reporter_id: int = Field(foreign_key="user.id")
    reason: str = Field(max_length=1000)
    status: str = Field(default="open", max_length=12)  # open | resolved | dismissed
    resolved_by_id: int | None = Field(default=None, foreign_key="user.id")
    resolved_at: datetime | None = _ts_opt()
    created_at: datetime = _ts()

    __table_args__ = (sa.UniqueConstraint("message_id", "reporter_id", name="uq_report_message_reporter"),)


# ---------------------------------------------------------------------------
# Mail (services/mail)
# ---------------------------------------------------------------------------


class OutboxStatus(StrEnum):
    held = "held"  # no SMTP server set: kept for /admin/mail
    queued = "queued"  # waiting for the sender (next_attempt_at)
    sending = "sending"  # claimed by one sender until lease_until
    sent = "sent"
    failed = "failed"  # refused for good, or delivery in doubt: staff may requeue
    cancelled = "cancelled"  # the recipient may no longer receive it


class Outbox(SQLModel, table=True):
    """One outgoing mail, written in the transaction of the change that causes it.

    The sender claims rows (status ``sending`` with a lease) so that two
    workers never send the same row; ``message_id`` is the mail's Message-ID.
    """

    id: int | None = Field(default=None, primary_key=True)
    message_id: str = Field(max_length=200, sa_column_kwargs={"unique": True})
    kind: str = Field(max_length=30)  # verify | reset | mention | reply | ... | test
    user_id: int | None = Field(default=None, foreign_key="user.id", index=True)
    to_addr: str = Field(max_length=254)
    to_name: str = Field(default="", max_length=100)
    subject: str = Field(max_length=300)
    body_text: str = Field(sa_type=sa.Text)
    body_html: str = Field(default="", sa_type=sa.Text)
    # The setting that stops this kind of mail ("" for mail that always goes).
    setting: str = Field(default="", max_length=20)
    attachment_name: str = Field(default="", max_length=100)
    attachment_type: str = Field(default="", max_length=60)
    attachment_body: str = Field(default="", sa_type=sa.Text)
    # Makes queuing idempotent (a reminder per briefing, member and moment).
    dedupe_key: str | None = Field(default=None, max_length=120, sa_column_kwargs={"unique": True})
    status: str = Field(default=OutboxStatus.queued, max_length=12)
    attempts: int = Field(default=0)
    next_attempt_at: datetime = _ts()
    lease_until: datetime | None = _ts_opt()
    claimed_by: str = Field(default="", max_length=40)
    last_error: str = Field(default="", max_length=500)
    smtp_reply: str = Field(default="", max_length=300)
    created_at: datetime = _ts()
    sent_at: datetime | None = _ts_opt()

    __table_args__ = (
        sa.Index("ix_outbox_status_next_attempt_at", "status", "next_attempt_at"),
        sa.Index("ix_outbox_created_at", "created_at"),
    )


class MailSetting(SQLModel, table=True):
    """What mail a member wants. No row: the defaults (services/mail/prefs.py)."""

    __tablename__ = "mail_setting"

    user_id: int = Field(foreign_key="user.id", primary_key=True)
    mention: bool = Field(default=True)
    reply: bool = Field(default=True)
    answer: bool = Field(default=True)
    question: bool = Field(default=True)
    reminder: bool = Field(default=True)
    announcement: bool = Field(default=True)
    digest: bool = Field(default=False)
    updated_at: datetime = _ts()


class MailToken(SQLModel, table=True):
    """A one-time link (e-mail confirmation, password reset). Only its SHA-256 is stored."""

    __tablename__ = "mail_token"

    id: int | None = Field(default=None, primary_key=True)
    purpose: str = Field(max_length=10)  # verify | reset
    token_hash: str = Field(max_length=64, sa_column_kwargs={"unique": True})
    user_id: int = Field(foreign_key="user.id", index=True)
    created_at: datetime = _ts()
    expires_at: datetime = Field(sa_type=UTCDateTime)
    used_at: datetime | None = _ts_opt()


class MailState(SQLModel, table=True):
    """Small named state of the mail jobs: a cursor, a lease, the link secret.

    Rows are made by the migration; a job locks its row while it runs, so
    with several workers one does the work.
    """

    __tablename__ = "mail_state"

    name: str = Field(primary_key=True, max_length=40)
    value: str = Field(default="", max_length=200)
    number: int = Field(default=0)
    updated_at: datetime | None = _ts_opt()


class BriefingMail(SQLModel, table=True):
    """A reminder mail round of a briefing that has been queued (day | hour)."""

    __tablename__ = "briefing_mail"

    briefing_id: int = Field(foreign_key="briefing.id", primary_key=True)
    kind: str = Field(max_length=10, primary_key=True)
    queued_at: datetime = _ts()


# ---------------------------------------------------------------------------
# Imports (services/slack_import)
# ---------------------------------------------------------------------------


class SlackImportUser(SQLModel, table=True):
    """Which kyoso member a Slack user (or bot) of a workspace became."""

    __tablename__ = "slack_import_user"

    workspace: str = Field(primary_key=True, max_length=30)
    slack_id: str = Field(primary_key=True, max_length=30)
    user_id: int = Field(foreign_key="user.id", index=True)
    kind: str = Field(default="member", max_length=10)  # member | bot | deleted
    # As imported: what an unclaimed member goes back to if an application
    # that claimed it is rejected (services/accounts.do_review).
    name: str = Field(default="", max_length=50)
    org_code: str = Field(default="", max_length=6)
    department: str = Field(default="", max_length=100)


class SlackImportChannel(SQLModel, table=True):
    """Which kyoso channel a Slack channel became; ``finished_at`` once all of
    its messages, memberships and counts are in."""

    __tablename__ = "slack_import_channel"

    workspace: str = Field(primary_key=True, max_length=30)
    slack_id: str = Field(primary_key=True, max_length=30)
    channel_id: int = Field(foreign_key="channel.id", index=True)
    finished_at: datetime | None = _ts_opt()


class SlackImportMessage(SQLModel, table=True):
    """The key of an imported message, (workspace, channel, ts): a second run
    skips what is here, so an import is exact and resumable."""

    __tablename__ = "slack_import_message"

    workspace: str = Field(primary_key=True, max_length=30)
    channel: str = Field(primary_key=True, max_length=30)
    ts: str = Field(primary_key=True, max_length=30)
    message_id: int = Field(foreign_key="message.id")
    # Pinned in Slack (kyoso has no pins on messages yet: kept for later).
    pinned: bool = Field(default=False)


# ---------------------------------------------------------------------------
# Search
# ---------------------------------------------------------------------------


class SearchDoc(SQLModel, table=True):
    """One searchable item: a message now; announcements and polls can follow
    with their own ``kind``. Only what members may see is here: a deleted or
    hidden message leaves the index (``services/search``).

    The full-text index itself is engine-specific and lives outside these
    models: an FTS5 table ``search_fts`` (rowid = id) on SQLite, a ``tsv``
    column with a GIN index on PostgreSQL (``alembic/versions/0004_search_index.py``).
    """

    __tablename__ = "search_doc"

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=20)  # message | announcement | poll
    ref_id: int
    channel_id: int | None = Field(default=None)
    # The thread the item belongs to (a message's thread starter), for links.
    thread_id: int | None = Field(default=None)
    author_id: int | None = Field(default=None, index=True)
    created_at: datetime = _ts()
    # Plain text as written (no Markdown), for snippets and re-tokenising.
    body: str = Field(default="", max_length=8000)

    __table_args__ = (
        sa.UniqueConstraint("kind", "ref_id", name="uq_search_doc_kind_ref_id"),
        # Browsing a channel's items without search words, newest first.
        sa.Index("ix_search_doc_channel_id_id", "channel_id", "id"),
        # A date range narrows older matches on PostgreSQL (services/search/engine.py).
        sa.Index("ix_search_doc_created_at", "created_at"),
    )


# Parts of the schema that only one engine has, made by raw DDL in the
# migrations: alembic's comparison with these models leaves them alone.
ENGINE_SPECIFIC_TABLE_PREFIX = "search_fts"
ENGINE_SPECIFIC_COLUMNS = {("search_doc", "tsv")}
ENGINE_SPECIFIC_INDEXES = {"ix_search_doc_tsv"}


def include_in_migrations(obj: Any, name: str | None, type_: str, reflected: bool,
                          compare_to: Any) -> bool:
    """alembic ``include_object``: skip the engine-specific search index."""
    if type_ == "table" and name and name.startswith(ENGINE_SPECIFIC_TABLE_PREFIX):
        return False
    if type_ == "column" and (getattr(obj.table, "name", ""), name) in ENGINE_SPECIFIC_COLUMNS:
        return False
    if type_ == "index" and name in ENGINE_SPECIFIC_INDEXES:
        return False
    return True


# ---------------------------------------------------------------------------
# Attachments (services/attachments)
# ---------------------------------------------------------------------------


class FileBlob(SQLModel, table=True):
    """One stored file content, kept once per SHA-256 of what is stored (an
    image after its metadata was stripped). Several attachments may share it.
    Where the bytes are is the storage's business (``storage``): a local
    directory, or ``file_chunk`` rows in the database."""

    __tablename__ = "file_blob"

    id: int | None = Field(default=None, primary_key=True)
    sha256: str = Field(max_length=64, sa_column_kwargs={"unique": True})
    size: int
    mime: str = Field(max_length=100)
    kind: str = Field(max_length=10)  # image | pdf | office | text
    storage: str = Field(default="local", max_length=10)  # local | database
    # A small preview (an image's or a PDF's first page), itself a blob.
    thumb_id: int | None = Field(default=None, foreign_key="file_blob.id")
    width: int = Field(default=0)
    height: int = Field(default=0)
    # Text for search: pending -> done | failed | none (nothing to extract).
    text_status: str = Field(default="none", max_length=10, index=True)
    text: str = Field(default="", sa_type=sa.Text)
    text_error: str = Field(default="", max_length=300)
    claimed_at: datetime | None = _ts_opt()
    created_at: datetime = _ts()


class FileChunk(SQLModel, table=True):
    """The bytes of a blob kept in the database (``KYOSO_FILES_STORAGE=database``),
    in chunks of 1 MiB so neither upload nor download holds a file in memory."""

    __tablename__ = "file_chunk"

    blob_id: int = Field(foreign_key="file_blob.id", primary_key=True)
    seq: int = Field(primary_key=True)
    data: bytes = Field(sa_type=sa.LargeBinary)


class Attachment(SQLModel, table=True):
    """A file a member attached: first pending (uploaded, not yet sent), then
    on one message, announcement or 説明会. Who may download it follows what
    it is attached to."""

    id: int | None = Field(default=None, primary_key=True)
    blob_id: int = Field(foreign_key="file_blob.id", index=True)
    uploader_id: int = Field(foreign_key="user.id")
    name: str = Field(max_length=200)
    message_id: int | None = Field(default=None, foreign_key="message.id", index=True)
    announcement_id: int | None = Field(default=None, foreign_key="announcement.id", index=True)
    briefing_id: int | None = Field(default=None, foreign_key="briefing.id", index=True)
    created_at: datetime = _ts()
    attached_at: datetime | None = _ts_opt()

    __table_args__ = (
        # The daily upload quota sums a member's recent uploads.
        sa.Index("ix_attachment_uploader_id_created_at", "uploader_id", "created_at"),
    )
