"""A 説明会's live room (Slido-like): the live poll, questions with 👍 votes
and written answers, attendance, and the archive thread posted afterwards.

Organising and registration are ``briefings``; the room's rules of who may
manage it are there too (``briefings.require_manager``).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
from sqlmodel import Session, col, select

from kyoso import routes
from kyoso.db import core, insert_of, utcnow
from kyoso.models import (
    AuditLog,
    Briefing,
    BriefingQuestion,
    BriefingQuestionVote,
    Notification,
    Organisation,
    Poll,
    Registration,
    User,
    UserStatus,
)
from kyoso.services import briefings, messages, polls, ratelimit, visibility
from kyoso.services.briefings import MyRegistration, is_on
from kyoso.services import channels as channel_rules
from kyoso.services.errors import InvalidInput, NotFound
from kyoso.services.events import BriefingChanged, InboxChanged, PollChanged, record
from kyoso.services.shared import SharedViews
from kyoso.services.text import clean_text

TOP_QUESTIONS = 50


@dataclass
class BriefingQuestionView:
    """A question as everyone in the room sees it (never who asked an anonymous one)."""

    id: int
    body: str
    author: str
    votes: int
    answered: bool
    answer: str
    rev: int


# What each arrival in the room reads (a 1,000-person join burst runs each a
# thousand times): built once, run on the session's connection.
_REG_T, _QUESTION_T, _QVOTE_T = (
    Registration.__table__, BriefingQuestion.__table__, BriefingQuestionVote.__table__)  # type: ignore[attr-defined]
_ATTENDANCE = sa.select(sa.func.count()).select_from(_REG_T).where(
    _REG_T.c.briefing_id == sa.bindparam("p_briefing"), _REG_T.c.attended_at.is_not(None))
_QUESTIONS_REV = sa.func.coalesce(sa.func.sum(_QUESTION_T.c.rev), 0)
_QUESTIONS_VERSION = sa.select(_QUESTIONS_REV).where(_QUESTION_T.c.briefing_id == sa.bindparam("p_briefing"))
# A member's own part of the room in one statement: the questions they
# upvoted (1) and asked (2), and their registration (3: attended as 0/1, its
# status).
_UPVOTED, _ASKED, _REGISTRATION = 1, 2, 3
_NO_STATUS = sa.cast(sa.null(), sa.String)
_MINE_PARTS = (
    sa.select(sa.literal_column(str(_UPVOTED)).label("kind"), _QVOTE_T.c.question_id.label("id"),
              _NO_STATUS.label("status"))
    .join(_QUESTION_T, _QUESTION_T.c.id == _QVOTE_T.c.question_id)
    .where(_QVOTE_T.c.user_id == sa.bindparam("p_user"), _QUESTION_T.c.briefing_id == sa.bindparam("p_briefing")),
    sa.select(sa.literal_column(str(_ASKED)), _QUESTION_T.c.id, _NO_STATUS)
    .where(_QUESTION_T.c.briefing_id == sa.bindparam("p_briefing"), _QUESTION_T.c.author_id == sa.bindparam("p_user")),
    sa.select(sa.literal_column(str(_REGISTRATION)),
              sa.case((_REG_T.c.attended_at.is_(None), 0), else_=1), _REG_T.c.status)
    .where(_REG_T.c.briefing_id == sa.bindparam("p_briefing"), _REG_T.c.user_id == sa.bindparam("p_user")),
)
_MINE = sa.union_all(*_MINE_PARTS)
# An arrival reads with its own part what the room shares and changes live:
# the questions' version (4) and the registrations by status (5: how many,
# and how many of them came). One statement, after the arrival has
# subscribed (a change committed later still reaches it).
_VERSION, _COUNT = 4, 5
_NO_NUMBER = sa.cast(sa.null(), sa.Integer)
_ARRIVAL = sa.union_all(
    *(part.add_columns(_NO_NUMBER.label("came")) for part in _MINE_PARTS),
    sa.select(sa.literal_column(str(_VERSION)), _QUESTIONS_REV, _NO_STATUS, _NO_NUMBER)
    .where(_QUESTION_T.c.briefing_id == sa.bindparam("p_briefing")),
    sa.select(sa.literal_column(str(_COUNT)), sa.func.count(), _REG_T.c.status, sa.func.count(_REG_T.c.attended_at))
    .where(_REG_T.c.briefing_id == sa.bindparam("p_briefing")).group_by(_REG_T.c.status),
)
# Attendance is written by the database's own checks: the briefing is on
# (between p_early and p_late), and the member has no registration (a
# walk-in's is inserted; a unique key makes a second tab's insert nothing) or
# one not yet attended (marked).
_BRIEFING_T = Briefing.__table__  # type: ignore[attr-defined]
_IS_ON = sa.exists().where(
    _BRIEFING_T.c.id == sa.bindparam("p_briefing"),
    _BRIEFING_T.c.starts_at <= sa.bindparam("p_late"), _BRIEFING_T.c.ends_at >= sa.bindparam("p_early"))
_ATTEND = (sa.update(_REG_T)
           .where(_REG_T.c.briefing_id == sa.bindparam("p_briefing"), _REG_T.c.user_id == sa.bindparam("p_user"),
                  _REG_T.c.attended_at.is_(None), _IS_ON)
           .values(attended_at=sa.bindparam("p_now")))


@functools.cache
def _walk_in_insert(dialect: str) -> sa.Insert:
    """INSERT … SELECT … WHERE the briefing is on, ON CONFLICT DO NOTHING
    RETURNING id (in the dialect's own words; SQLite and PostgreSQL both have it)."""
    now = sa.bindparam("p_now", type_=_REG_T.c.created_at.type)
    chosen = sa.select(sa.bindparam("p_briefing", type_=sa.Integer), sa.bindparam("p_user", type_=sa.Integer),
                       sa.bindparam("p_status", type_=sa.String), now, now, now).where(_IS_ON)
    return insert_of(dialect, _REG_T).from_select(
        ["briefing_id", "user_id", "status", "created_at", "updated_at", "attended_at"], chosen,
    ).on_conflict_do_nothing(index_elements=["briefing_id", "user_id"]).returning(_REG_T.c.id)


# ---------------------------------------------------------------------------
# Attendance
# ---------------------------------------------------------------------------


def attendance_due(user: User, briefing: briefings.BriefingFields, mine: MyRegistration | None) -> bool:
    """Would ``mark_attended`` change anything (``mine``: ``my_registration``,
    read in the same room load)? A room load writes only then: a reload storm
    of members already counted takes no write lock."""
    return user.status == UserStatus.active and is_on(briefing) and (mine is None or not mine.attended)


def mark_attended(session: Session, user: User, briefing_id: int) -> None:
    """Opening the room while the briefing is on counts as attending. The
    room's attendance count changes on a member's first visit only."""
    if user.status == UserStatus.active:
        mark_attended_of(session, user.id or 0, briefing_id)


def mark_attended_of(session: Session, user_id: int, briefing_id: int) -> None:
    """``mark_attended`` by the member's id: for the room load that has just
    checked who the member is (an active member: the token check lets no
    other through), as ``channels.mark_read_of`` is for a channel's.

    Two statements at most, each deciding in the database (an arrival storm
    runs this once per arrival): a walk-in's registration is inserted unless
    the member has one; a registration not yet attended is marked. Both only
    while the briefing is on, and two tabs arriving at once count once."""
    now = utcnow()
    params = {"p_briefing": briefing_id, "p_user": user_id, "p_now": now,
              "p_late": now + briefings.LIVE_MARGIN, "p_early": now - briefings.LIVE_MARGIN}
    conn = core(session)
    # (RETURNING says whether a row went in: an INSERT's rowcount is -1 on psycopg when none did.)
    changed = conn.execute(_walk_in_insert(conn.dialect.name),
                           {**params, "p_status": briefings.WALK_IN}).first() is not None
    if not changed:
        changed = conn.execute(_ATTEND, params).rowcount
    if changed:
        record(session, BriefingChanged(briefing_id, what="attendance"))


def attendance(session: Session, briefing_id: int) -> int:
    return int(core(session).execute(_ATTENDANCE, {"p_briefing": briefing_id}).scalar_one())


def header(session: Session, briefing: briefings.BriefingFields,
           counts: tuple[dict[str, int], int] | None = None) -> tuple[briefings.BriefingView, int]:
    """The room's header (the briefing with its counts) and its attendance:
    the counts in one statement (``counts``: ``arrival``'s, read already)."""
    by_status, came = counts if counts is not None else briefings.counts_and_attendance(session, briefing.id or 0)
    return briefings.view(session, briefing, counts=by_status), came


# ---------------------------------------------------------------------------
# The live poll and questions
# ---------------------------------------------------------------------------


def set_live_poll(session: Session, user: User, briefing_id: int, poll_id: int | None) -> None:
    briefing = briefings.get_briefing(session, briefing_id)
    briefings.require_manager(user, briefing)
    if poll_id:
        poll = session.get(Poll, poll_id)
        if poll is None or poll.briefing_id != briefing_id:
            raise NotFound("この説明会のアンケートではありません。")
    briefing.live_poll_id = poll_id or None
    session.add(briefing)
    record(session, BriefingChanged(briefing_id, "room"))
    if poll_id:
        record(session, PollChanged(poll_id, None, briefing_id))


def briefing_polls(session: Session, briefing_id: int) -> list[Poll]:
    return list(session.exec(select(Poll).where(Poll.briefing_id == briefing_id).order_by(Poll.id)).all())  # type: ignore[arg-type]


def ask(session: Session, user: User, briefing_id: int, body: str, *, anonymous: bool = False) -> BriefingQuestion:
    channel_rules.require_active(user)
    briefing = briefings.get_briefing(session, briefing_id)
    text = clean_text(body, label="質問", max_len=1000)
    ratelimit.check(session, [f"ask:{user.id}"], limit=10, within=timedelta(minutes=1),
                    message="短時間に多くの質問がありました。少し待ってから、もう一度お試しください。")
    ratelimit.hit(session, f"ask:{user.id}")
    question = BriefingQuestion(briefing_id=briefing_id, author_id=user.id, anonymous=bool(anonymous), body=text)  # type: ignore[arg-type]
    session.add(question)
    session.flush()
    record(session, BriefingChanged(briefing_id, "questions"))
    if briefing.organiser_id != user.id:  # the organiser hears of it (mailed if unread)
        session.add(Notification(user_id=briefing.organiser_id, kind="question", text=(
            f"説明会「{briefing.title}」に質問が届きました: {text[:80]}")[:300], link=routes.briefing(briefing_id)))
        record(session, InboxChanged(briefing.organiser_id))
    return question


def toggle_upvote(session: Session, user: User, question_id: int) -> bool:
    """One vote per person per question (a primary key); a second click takes it back."""
    channel_rules.require_active(user)
    question = session.get(BriefingQuestion, question_id)
    if question is None or question.hidden_at is not None:
        raise NotFound("質問が見つかりません。")
    removed = session.execute(sa.delete(BriefingQuestionVote).where(
        BriefingQuestionVote.question_id == question_id, BriefingQuestionVote.user_id == user.id)).rowcount
    added = False
    if not removed:
        try:
            with session.begin_nested():
                session.add(BriefingQuestionVote(question_id=question_id, user_id=user.id))  # type: ignore[arg-type]
            added = True
        except sa.exc.IntegrityError:
            session.execute(sa.delete(BriefingQuestionVote).where(
                BriefingQuestionVote.question_id == question_id, BriefingQuestionVote.user_id == user.id))
    count = session.exec(select(sa.func.count()).select_from(BriefingQuestionVote).where(
        BriefingQuestionVote.question_id == question_id)).one()
    session.execute(sa.update(BriefingQuestion).where(BriefingQuestion.id == question_id).values(
        votes=int(count), rev=BriefingQuestion.rev + 1))
    record(session, BriefingChanged(question.briefing_id, "questions"))
    return added


def answer_question(session: Session, user: User, question_id: int, answer: str = "",
                    *, answered: bool = True) -> None:
    question = session.get(BriefingQuestion, question_id)
    if question is None:
        raise NotFound("質問が見つかりません。")
    briefings.require_manager(user, briefings.get_briefing(session, question.briefing_id))
    question.answered_at = utcnow() if answered else None
    question.answer = clean_text(answer, label="回答", max_len=2000, required=False)
    question.rev += 1
    session.add(question)
    record(session, BriefingChanged(question.briefing_id, "questions"))


def hide_question(session: Session, user: User, question_id: int) -> None:
    question = session.get(BriefingQuestion, question_id)
    if question is None:
        raise NotFound("質問が見つかりません。")
    briefings.require_manager(user, briefings.get_briefing(session, question.briefing_id))
    question.hidden_at = utcnow()
    question.rev += 1
    session.add(question)
    session.add(AuditLog(actor_id=user.id, action="question.hide", target_type="question",
                         target_id=question.id, detail=question.body[:200]))
    record(session, BriefingChanged(question.briefing_id, "questions"))


def questions(session: Session, briefing_id: int, *, limit: int = TOP_QUESTIONS) -> list[BriefingQuestionView]:
    """Visible questions, most votes first, unanswered before answered. The
    author of an anonymous question is never in the view."""
    rows = session.exec(
        select(BriefingQuestion, User, Organisation)
        .join(User, User.id == BriefingQuestion.author_id)  # type: ignore[arg-type]
        .join(Organisation, Organisation.code == User.org_code)  # type: ignore[arg-type]
        .where(BriefingQuestion.briefing_id == briefing_id, col(BriefingQuestion.hidden_at).is_(None))
        .order_by(col(BriefingQuestion.answered_at).is_not(None), col(BriefingQuestion.votes).desc(), BriefingQuestion.id)  # type: ignore[arg-type]
        .limit(limit)
    ).all()
    return [
        BriefingQuestionView(q.id or 0, q.body, "匿名の参加者" if q.anonymous else f"{u.name}（{o.display_name}）",
                     q.votes, q.answered_at is not None, q.answer, q.rev)
        for q, u, o in rows
    ]


# The question list is the same for everyone in the room: arrivals share it
# while no question changed (each change bumps a rev or adds a row, so the
# version grows).
ROOM_CACHE_SECONDS = 30.0
_questions_cache: SharedViews[list[BriefingQuestionView]] = SharedViews(ROOM_CACHE_SECONDS)


def room_questions(session: Session, briefing_id: int,
                   version: int | None = None) -> tuple[list[BriefingQuestionView], int]:
    """``questions`` and ``questions_version`` together, shared by arrivals
    (``version``: ``arrival``'s, read already)."""
    version = questions_version(session, briefing_id) if version is None else version
    views = _questions_cache.get_or_make(briefing_id, version, lambda: questions(session, briefing_id))
    return list(views), version


def questions_version(session: Session, briefing_id: int) -> int:
    """Grows with every change to the briefing's questions (each bumps a rev or
    adds one), so a browser keeps the newest list it was sent."""
    return int(core(session).execute(_QUESTIONS_VERSION, {"p_briefing": briefing_id}).scalar_one())


@dataclass
class MyPart:
    """A member's own part of a room: their registration (``briefings.
    my_registration``'s), the ids of the questions they upvoted and asked."""

    registration: MyRegistration | None
    upvoted: list[int]
    asked: list[int]


def my_part(session: Session, user_id: int, briefing_id: int) -> MyPart:
    """The member's own part of the room, in one statement."""
    mine = MyPart(None, [], [])
    for kind, value, status in core(session).execute(_MINE, {"p_briefing": briefing_id, "p_user": user_id}):
        _add_mine(mine, kind, value, status)
    mine.upvoted.sort()
    mine.asked.sort()
    return mine


@dataclass
class Arrival:
    """What an arrival in the room reads besides the briefing: its own part,
    the registrations by status and how many came (``header``), and the
    questions' version (``room_questions``)."""

    mine: MyPart
    counts: tuple[dict[str, int], int]
    questions_version: int


def arrival(session: Session, user_id: int, briefing_id: int) -> Arrival:
    """An arrival's read, in one statement (a 2,000-person 説明会 runs it
    once per arrival)."""
    mine, by_status, came, version = MyPart(None, [], []), {}, 0, 0
    for kind, value, status, attended in core(session).execute(
            _ARRIVAL, {"p_briefing": briefing_id, "p_user": user_id}):
        if kind == _COUNT:
            by_status[status] = int(value)
            came += int(attended)
        elif kind == _VERSION:
            version = int(value)
        else:
            _add_mine(mine, kind, value, status)
    mine.upvoted.sort()
    mine.asked.sort()
    return Arrival(mine, (by_status, came), version)


def _add_mine(mine: MyPart, kind: int, value: int, status: str | None) -> None:
    if kind == _REGISTRATION:
        mine.registration = MyRegistration(status or "", bool(value))
    else:
        (mine.upvoted if kind == _UPVOTED else mine.asked).append(value)


# ---------------------------------------------------------------------------
# Afterwards
# ---------------------------------------------------------------------------


def archive(session: Session, user: User, briefing_id: int) -> None:
    """Post the attendance, the poll results and the questions with their
    answers as a thread in the related channel, so the discussion lives on."""
    briefing = briefings.get_briefing(session, briefing_id)
    briefings.require_manager(user, briefing)
    if not briefing.channel_id:
        raise InvalidInput("まとめを投稿するチャンネルが設定されていません。")
    if briefing.archived_message_id is not None:
        raise InvalidInput("この説明会のまとめはすでに投稿されています。")
    lines = [f"**説明会「{briefing.title}」のまとめ**", f"日時: {briefings.view(session, briefing).when}",
             f"参加者数: {attendance(session, briefing_id)}人"]
    # The thread is read by the whole channel: only polls the room was shown,
    # with their counts only where every reader may see them.
    for poll in briefing_polls(session, briefing_id):
        if not visibility.briefing_poll_shown(session, poll, briefing):
            continue
        if not visibility.poll_results_public(poll):
            lines.append(f"\n📊 {poll.question}（結果は公開範囲の設定により掲載していません）")
            continue
        t = polls.tally(session, poll)
        labels = [o.label for o in polls.view(session, poll).options]
        lines.append(f"\n📊 {poll.question}（回答 {t.voters}人）")
        lines += [f"- {label}: {c}票（{p}%）" for label, c, p in zip(labels, t.counts, t.percents)]
    parent = messages.post_message(session, user, briefing.channel_id, "\n".join(lines),
                                           rate_limited=False)
    for q in reversed(questions(session, briefing_id, limit=200)):
        body = f"**質問**（👍 {q.votes}）: {q.body}"
        if q.answered:
            body += f"\n\n**回答**: {q.answer or '説明会の中で回答しました。'}"
        messages.post_message(session, user, briefing.channel_id, body, parent_id=parent.id,
                                        rate_limited=False)
    briefing.archived_message_id = parent.id
    session.add(briefing)
    record(session, BriefingChanged(briefing_id, "room"))
