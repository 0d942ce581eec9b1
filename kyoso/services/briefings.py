"""説明会 (briefings): registration with a waiting list, a live room with a poll
and questions (Slido-like), a calendar file, a reminder, and an archive thread.

Every active member may enter a briefing's room (lurking is welcome); only
the organiser and 運営 manage it: the live poll, answering and hiding
questions, archiving.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Session, col, select

from kyoso.db import core, utcnow
from kyoso.models import (
    AuditLog,
    Briefing,
    Notification,
    Organisation,
    Poll,
    Question,
    QuestionVote,
    Registration,
    Role,
    User,
    UserStatus,
)
from kyoso.services import channels as channel_rules
from kyoso.services import ratelimit
from kyoso.services.shared import SharedViews
from kyoso.services.errors import InvalidInput, NotAllowed, NotFound
from kyoso.services.events import BriefingChanged, Event, InboxChanged, PollChanged
from kyoso.services.text import clean_line, clean_text
from kyoso.services.timefmt import JST, jst_datetime

REGISTERED, WAITLISTED, CANCELLED, WALK_IN = "registered", "waitlisted", "cancelled", "walk_in"
STATUS_LABELS = {REGISTERED: "申込済み", WAITLISTED: "キャンセル待ち", CANCELLED: "キャンセル済み",
                 WALK_IN: "当日参加"}
TOP_QUESTIONS = 50


@dataclass
class BriefingInput:
    title: str
    description: str
    starts_at: datetime
    ends_at: datetime
    online_url: str = ""
    place: str = ""
    capacity: int = 0
    channel_id: int | None = None


@dataclass
class BriefingView:
    id: int
    title: str
    description: str
    when: str
    starts_iso: str
    online_url: str
    place: str
    capacity: int
    registered: int
    waitlisted: int
    organiser: str
    organiser_org: str
    organiser_id: int
    channel_id: int
    upcoming: bool
    live: bool
    archived: bool


@dataclass
class QuestionView:
    id: int
    body: str
    author: str
    votes: int
    answered: bool
    answer: str
    rev: int


# ---------------------------------------------------------------------------
# Reading and rules
# ---------------------------------------------------------------------------


def get_briefing(session: Session, briefing_id: int) -> Briefing:
    briefing = session.get(Briefing, briefing_id)
    if briefing is None:
        raise NotFound("説明会が見つかりません。")
    return briefing


def can_view(session: Session, user: User, briefing_id: int) -> bool:
    return user.status == UserStatus.active and session.get(Briefing, briefing_id) is not None


def can_manage(user: User, briefing: Briefing) -> bool:
    return user.status == UserStatus.active and (user.id == briefing.organiser_id or user.is_staff)


def require_manager(user: User, briefing: Briefing) -> None:
    if not can_manage(user, briefing):
        raise NotAllowed("この操作は説明会の主催者と運営だけが行えます。")


# What each arrival in the room reads (a 1,000-person join burst runs each a
# thousand times): built once, run on the session's connection.
_REG_T, _QUESTION_T, _QVOTE_T = (
    Registration.__table__, Question.__table__, QuestionVote.__table__)  # type: ignore[attr-defined]
_COUNTS = (sa.select(_REG_T.c.status, sa.func.count())
           .where(_REG_T.c.briefing_id == sa.bindparam("p_briefing")).group_by(_REG_T.c.status))
_ATTENDANCE = sa.select(sa.func.count()).select_from(_REG_T).where(
    _REG_T.c.briefing_id == sa.bindparam("p_briefing"), _REG_T.c.attended_at.is_not(None))
_MY_STATUS = sa.select(_REG_T.c.status).where(
    _REG_T.c.briefing_id == sa.bindparam("p_briefing"), _REG_T.c.user_id == sa.bindparam("p_user"))
_QUESTIONS_VERSION = sa.select(sa.func.coalesce(sa.func.sum(_QUESTION_T.c.rev), 0)).where(
    _QUESTION_T.c.briefing_id == sa.bindparam("p_briefing"))
_MY_VOTES = (sa.select(_QVOTE_T.c.question_id)
             .join(_QUESTION_T, _QUESTION_T.c.id == _QVOTE_T.c.question_id)
             .where(_QVOTE_T.c.user_id == sa.bindparam("p_user"),
                    _QUESTION_T.c.briefing_id == sa.bindparam("p_briefing")))
_MY_QUESTIONS = sa.select(_QUESTION_T.c.id).where(
    _QUESTION_T.c.briefing_id == sa.bindparam("p_briefing"), _QUESTION_T.c.author_id == sa.bindparam("p_user"))


def _counts(session: Session, briefing_id: int) -> dict[str, int]:
    rows = core(session).execute(_COUNTS, {"p_briefing": briefing_id}).all()
    return {status: int(n) for status, n in rows}


def view(session: Session, briefing: Briefing, now: datetime | None = None) -> BriefingView:
    now = now or utcnow()
    organiser = session.get(User, briefing.organiser_id)
    org = session.get(Organisation, organiser.org_code) if organiser else None
    counts = _counts(session, briefing.id or 0)
    start, end = briefing.starts_at.astimezone(JST), briefing.ends_at.astimezone(JST)
    when = jst_datetime(briefing.starts_at) + f"〜{end:%H:%M}" if start.date() == end.date() else (
        jst_datetime(briefing.starts_at) + "〜" + jst_datetime(briefing.ends_at))
    return BriefingView(
        id=briefing.id or 0, title=briefing.title, description=briefing.description, when=when,
        starts_iso=start.isoformat(), online_url=briefing.online_url, place=briefing.place,
        capacity=briefing.capacity, registered=counts.get(REGISTERED, 0),
        waitlisted=counts.get(WAITLISTED, 0), organiser=organiser.name if organiser else "",
        organiser_org=org.display_name if org else "", organiser_id=briefing.organiser_id,
        channel_id=briefing.channel_id or 0, upcoming=briefing.ends_at > now,
        live=briefing.starts_at - timedelta(minutes=30) <= now <= briefing.ends_at + timedelta(minutes=30),
        archived=briefing.archived_message_id is not None,
    )


def lists(session: Session, user: User) -> tuple[list[BriefingView], list[BriefingView]]:
    """(upcoming soonest first, past newest first)."""
    channel_rules.require_active(user)
    now = utcnow()
    upcoming = session.exec(select(Briefing).where(Briefing.ends_at > now).order_by(Briefing.starts_at)).all()
    past = session.exec(select(Briefing).where(Briefing.ends_at <= now)
                        .order_by(col(Briefing.starts_at).desc()).limit(50)).all()
    return [view(session, b, now) for b in upcoming], [view(session, b, now) for b in past]


def registration_status(session: Session, user: User, briefing_id: int) -> str:
    status = core(session).execute(_MY_STATUS, {"p_briefing": briefing_id, "p_user": user.id}).scalar()
    return status or ""


# ---------------------------------------------------------------------------
# Organising
# ---------------------------------------------------------------------------


def _check(data: BriefingInput) -> BriefingInput:
    title = clean_line(data.title, label="タイトル", max_len=150)
    description = clean_text(data.description, label="説明", max_len=4000, required=False)
    if data.starts_at.tzinfo is None or data.ends_at.tzinfo is None:
        raise InvalidInput("日時が正しくありません。")
    if data.ends_at <= data.starts_at:
        raise InvalidInput("終了時刻は開始時刻より後にしてください。", field="ends_at")
    if data.ends_at - data.starts_at > timedelta(days=3):
        raise InvalidInput("説明会の長さは3日以内にしてください。", field="ends_at")
    url = clean_line(data.online_url, label="オンラインURL", max_len=500, required=False)
    if url and not url.startswith(("https://", "http://")):
        raise InvalidInput("オンラインURLは http:// か https:// で始めてください。", field="online_url")
    place = clean_line(data.place, label="会場", max_len=200, required=False)
    if not (0 <= int(data.capacity) <= 100000):
        raise InvalidInput("定員は0（制限なし）〜100,000の範囲で入力してください。", field="capacity")
    return BriefingInput(title, description, data.starts_at, data.ends_at, url, place,
                         int(data.capacity), data.channel_id)


def create_briefing(session: Session, user: User, data: BriefingInput) -> Briefing:
    """National staff and 運営 organise briefings."""
    channel_rules.require_active(user)
    if not (user.is_staff or user.role == Role.national):
        raise NotAllowed("説明会を作成できるのは国の職員と運営だけです。")
    data = _check(data)
    if data.channel_id:
        channel_rules.get_channel(session, data.channel_id)
    if data.starts_at < utcnow() - timedelta(hours=1):
        raise InvalidInput("開始日時が過去になっています。", field="starts_at")
    briefing = Briefing(
        title=data.title, description=data.description, starts_at=data.starts_at, ends_at=data.ends_at,
        online_url=data.online_url, place=data.place, capacity=data.capacity,
        organiser_id=user.id, channel_id=data.channel_id,  # type: ignore[arg-type]
    )
    session.add(briefing)
    session.flush()
    return briefing


# ---------------------------------------------------------------------------
# Registration
# ---------------------------------------------------------------------------


def register(session: Session, user: User, briefing_id: int) -> tuple[str, list[Event]]:
    """申込: registered, or on the waiting list when the briefing is full."""
    channel_rules.require_active(user)
    briefing = get_briefing(session, briefing_id)
    if briefing.ends_at <= utcnow():
        raise InvalidInput("この説明会は終了しています。")
    # Lock the briefing row so two last-seat registrations cannot both win.
    session.execute(sa.update(Briefing).where(Briefing.id == briefing_id).values(id=Briefing.id))
    reg = session.exec(select(Registration).where(
        Registration.briefing_id == briefing_id, Registration.user_id == user.id)).first()
    if reg is not None and reg.status in (REGISTERED, WAITLISTED):
        return reg.status, []
    taken = _counts(session, briefing_id).get(REGISTERED, 0)
    status = WAITLISTED if briefing.capacity and taken >= briefing.capacity else REGISTERED
    now = utcnow()
    if reg is None:
        reg = Registration(briefing_id=briefing_id, user_id=user.id, status=status,  # type: ignore[arg-type]
                           created_at=now, updated_at=now)
    else:
        reg.status, reg.updated_at = status, now
        if status == WAITLISTED:
            reg.created_at = now  # back of the queue
    session.add(reg)
    session.flush()
    return status, [BriefingChanged(briefing_id, "registrations")]


def cancel(session: Session, user: User, briefing_id: int) -> list[Event]:
    """Cancel; the first on the waiting list takes the freed seat and is told so."""
    channel_rules.require_active(user)
    briefing = get_briefing(session, briefing_id)
    session.execute(sa.update(Briefing).where(Briefing.id == briefing_id).values(id=Briefing.id))
    reg = session.exec(select(Registration).where(
        Registration.briefing_id == briefing_id, Registration.user_id == user.id)).first()
    if reg is None or reg.status not in (REGISTERED, WAITLISTED):
        raise InvalidInput("この説明会には申し込んでいません。")
    freed = reg.status == REGISTERED
    reg.status, reg.updated_at = CANCELLED, utcnow()
    session.add(reg)
    session.flush()
    events: list[Event] = [BriefingChanged(briefing_id, "registrations")]
    if freed:
        nxt = session.exec(select(Registration).where(
            Registration.briefing_id == briefing_id, Registration.status == WAITLISTED)
            .order_by(Registration.created_at, Registration.id)).first()  # type: ignore[arg-type]
        if nxt is not None and (not briefing.capacity
                                or _counts(session, briefing_id).get(REGISTERED, 0) < briefing.capacity):
            nxt.status, nxt.updated_at = REGISTERED, utcnow()
            session.add(nxt)
            session.add(Notification(
                user_id=nxt.user_id, kind="reminder", text=f"キャンセル待ちだった「{briefing.title}」の参加が確定しました。",
                link=f"/briefings/{briefing_id}"))
            events.append(InboxChanged(nxt.user_id))
    return events


def mark_attended(session: Session, user: User, briefing_id: int) -> list[Event]:
    """Opening the room while the briefing is on counts as attending. The
    room's attendance count changes on a member's first visit only."""
    briefing = session.get(Briefing, briefing_id)
    if briefing is None or user.status != UserStatus.active:
        return []
    now = utcnow()
    if not (briefing.starts_at - timedelta(minutes=30) <= now <= briefing.ends_at + timedelta(minutes=30)):
        return []
    reg = session.exec(select(Registration).where(
        Registration.briefing_id == briefing_id, Registration.user_id == user.id)).first()
    if reg is None:
        session.add(Registration(briefing_id=briefing_id, user_id=user.id, status=WALK_IN,  # type: ignore[arg-type]
                                 attended_at=now))
    elif reg.attended_at is None:
        reg.attended_at = now
        session.add(reg)
    else:
        return []
    return [BriefingChanged(briefing_id, what="attendance")]


def attendance(session: Session, briefing_id: int) -> int:
    return int(core(session).execute(_ATTENDANCE, {"p_briefing": briefing_id}).scalar_one())


def send_reminders(session: Session, now: datetime | None = None) -> list[Event]:
    """The day before: a reminder in the inbox of everyone registered (once)."""
    now = now or utcnow()
    due = session.exec(select(Briefing).where(
        col(Briefing.reminder_sent_at).is_(None), Briefing.starts_at > now,
        Briefing.starts_at <= now + timedelta(hours=24))).all()
    events: list[Event] = []
    for briefing in due:
        for reg in session.exec(select(Registration).where(
                Registration.briefing_id == briefing.id, Registration.status == REGISTERED)).all():
            session.add(Notification(
                user_id=reg.user_id, kind="reminder",
                text=f"明日の説明会「{briefing.title}」（{jst_datetime(briefing.starts_at)}）のお知らせです。",
                link=f"/briefings/{briefing.id}"))
            events.append(InboxChanged(reg.user_id))
        briefing.reminder_sent_at = now
        session.add(briefing)
    return events


# ---------------------------------------------------------------------------
# iCalendar
# ---------------------------------------------------------------------------


def _ics_escape(text: str) -> str:
    return (text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
            .replace("\r\n", "\\n").replace("\n", "\\n"))


def _fold(line: str) -> str:
    """RFC 5545: lines of at most 75 octets, continued with a leading space."""
    out, current = [], b""
    for ch in line:
        b = ch.encode("utf-8")
        if len(current) + len(b) > 75:
            out.append(current.decode("utf-8"))
            current = b" " + b
        else:
            current += b
    out.append(current.decode("utf-8"))
    return "\r\n".join(out)


def ics(session: Session, user: User, briefing_id: int, host: str = "kyoso") -> str:
    channel_rules.require_active(user)
    b = get_briefing(session, briefing_id)
    fmt = "%Y%m%dT%H%M%S"
    location = b.place or b.online_url
    lines = [
        "BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//kyoso//説明会//JA", "CALSCALE:GREGORIAN",
        "BEGIN:VTIMEZONE", "TZID:Asia/Tokyo", "BEGIN:STANDARD", "DTSTART:19700101T000000",
        "TZOFFSETFROM:+0900", "TZOFFSETTO:+0900", "TZNAME:JST", "END:STANDARD", "END:VTIMEZONE",
        "BEGIN:VEVENT",
        f"UID:briefing-{b.id}@{host}",
        f"DTSTAMP:{utcnow():%Y%m%dT%H%M%SZ}",
        f"DTSTART;TZID=Asia/Tokyo:{b.starts_at.astimezone(JST):{fmt}}",
        f"DTEND;TZID=Asia/Tokyo:{b.ends_at.astimezone(JST):{fmt}}",
        f"SUMMARY:{_ics_escape(b.title)}",
        f"DESCRIPTION:{_ics_escape(b.description)}",
    ]
    if location:
        lines.append(f"LOCATION:{_ics_escape(location)}")
    if b.online_url:
        lines.append(f"URL:{b.online_url}")
    lines += ["END:VEVENT", "END:VCALENDAR"]
    return "\r\n".join(_fold(line) for line in lines) + "\r\n"


# ---------------------------------------------------------------------------
# The live room: poll and questions
# ---------------------------------------------------------------------------


def set_live_poll(session: Session, user: User, briefing_id: int, poll_id: int | None) -> list[Event]:
    briefing = get_briefing(session, briefing_id)
    require_manager(user, briefing)
    if poll_id:
        poll = session.get(Poll, poll_id)
        if poll is None or poll.briefing_id != briefing_id:
            raise NotFound("この説明会のアンケートではありません。")
    briefing.live_poll_id = poll_id or None
    session.add(briefing)
    events: list[Event] = [BriefingChanged(briefing_id, "room")]
    if poll_id:
        events.append(PollChanged(poll_id, None, briefing_id))
    return events


def briefing_polls(session: Session, briefing_id: int) -> list[Poll]:
    return list(session.exec(select(Poll).where(Poll.briefing_id == briefing_id).order_by(Poll.id)).all())  # type: ignore[arg-type]


def ask(session: Session, user: User, briefing_id: int, body: str, *, anonymous: bool = False) -> tuple[Question, list[Event]]:
    channel_rules.require_active(user)
    briefing = get_briefing(session, briefing_id)
    text = clean_text(body, label="質問", max_len=1000)
    ratelimit.check(session, [f"ask:{user.id}"], limit=10, within=timedelta(minutes=1),
                    message="短時間に多くの質問がありました。少し待ってから、もう一度お試しください。")
    ratelimit.hit(session, f"ask:{user.id}")
    question = Question(briefing_id=briefing_id, author_id=user.id, anonymous=bool(anonymous), body=text)  # type: ignore[arg-type]
    session.add(question)
    session.flush()
    events: list[Event] = [BriefingChanged(briefing_id, "questions")]
    if briefing.organiser_id != user.id:  # the organiser hears of it (mailed if unread)
        session.add(Notification(user_id=briefing.organiser_id, kind="question", text=(
            f"説明会「{briefing.title}」に質問が届きました: {text[:80]}")[:300], link=f"/briefings/{briefing_id}"))
        events.append(InboxChanged(briefing.organiser_id))
    return question, events


def toggle_upvote(session: Session, user: User, question_id: int) -> tuple[bool, list[Event]]:
    """One vote per person per question (a primary key); a second click takes it back."""
    channel_rules.require_active(user)
    question = session.get(Question, question_id)
    if question is None or question.hidden_at is not None:
        raise NotFound("質問が見つかりません。")
    removed = session.execute(sa.delete(QuestionVote).where(
        QuestionVote.question_id == question_id, QuestionVote.user_id == user.id)).rowcount
    added = False
    if not removed:
        try:
            with session.begin_nested():
                session.add(QuestionVote(question_id=question_id, user_id=user.id))  # type: ignore[arg-type]
            added = True
        except sa.exc.IntegrityError:
            session.execute(sa.delete(QuestionVote).where(
                QuestionVote.question_id == question_id, QuestionVote.user_id == user.id))
    count = session.exec(select(sa.func.count()).select_from(QuestionVote).where(
        QuestionVote.question_id == question_id)).one()
    session.execute(sa.update(Question).where(Question.id == question_id).values(
        votes=int(count), rev=Question.rev + 1))
    return added, [BriefingChanged(question.briefing_id, "questions")]


def answer_question(session: Session, user: User, question_id: int, answer: str = "",
                    *, answered: bool = True) -> list[Event]:
    question = session.get(Question, question_id)
    if question is None:
        raise NotFound("質問が見つかりません。")
    require_manager(user, get_briefing(session, question.briefing_id))
    question.answered_at = utcnow() if answered else None
    question.answer = clean_text(answer, label="回答", max_len=2000, required=False)
    question.rev += 1
    session.add(question)
    return [BriefingChanged(question.briefing_id, "questions")]


def hide_question(session: Session, user: User, question_id: int) -> list[Event]:
    question = session.get(Question, question_id)
    if question is None:
        raise NotFound("質問が見つかりません。")
    require_manager(user, get_briefing(session, question.briefing_id))
    question.hidden_at = utcnow()
    question.rev += 1
    session.add(question)
    session.add(AuditLog(actor_id=user.id, action="question.hide", target_type="question",
                         target_id=question.id, detail=question.body[:200]))
    return [BriefingChanged(question.briefing_id, "questions")]


def questions(session: Session, briefing_id: int, *, limit: int = TOP_QUESTIONS) -> list[QuestionView]:
    """Visible questions, most votes first, unanswered before answered. The
    author of an anonymous question is never in the view."""
    rows = session.exec(
        select(Question, User, Organisation)
        .join(User, User.id == Question.author_id)  # type: ignore[arg-type]
        .join(Organisation, Organisation.code == User.org_code)  # type: ignore[arg-type]
        .where(Question.briefing_id == briefing_id, col(Question.hidden_at).is_(None))
        .order_by(col(Question.answered_at).is_not(None), col(Question.votes).desc(), Question.id)  # type: ignore[arg-type]
        .limit(limit)
    ).all()
    return [
        QuestionView(q.id or 0, q.body, "匿名の参加者" if q.anonymous else f"{u.name}（{o.display_name}）",
                     q.votes, q.answered_at is not None, q.answer, q.rev)
        for q, u, o in rows
    ]


# The question list is the same for everyone in the room: arrivals share it
# while no question changed (each change bumps a rev or adds a row, so the
# version grows).
ROOM_CACHE_SECONDS = 30.0
_questions_cache: SharedViews[list[QuestionView]] = SharedViews(ROOM_CACHE_SECONDS)


def room_questions(session: Session, briefing_id: int) -> tuple[list[QuestionView], int]:
    """``questions`` and ``questions_version`` together, shared by arrivals."""
    version = questions_version(session, briefing_id)
    views = _questions_cache.get_or_make(briefing_id, version, lambda: questions(session, briefing_id))
    return list(views), version


def questions_version(session: Session, briefing_id: int) -> int:
    """Grows with every change to the briefing's questions (each bumps a rev or
    adds one), so a browser keeps the newest list it was sent."""
    return int(core(session).execute(_QUESTIONS_VERSION, {"p_briefing": briefing_id}).scalar_one())


def my_question_votes(session: Session, user: User, briefing_id: int) -> list[int]:
    return list(core(session).execute(
        _MY_VOTES, {"p_briefing": briefing_id, "p_user": user.id}).scalars())


def my_questions(session: Session, user: User, briefing_id: int) -> list[int]:
    return list(core(session).execute(
        _MY_QUESTIONS, {"p_briefing": briefing_id, "p_user": user.id}).scalars())


# ---------------------------------------------------------------------------
# Afterwards
# ---------------------------------------------------------------------------


def archive(session: Session, user: User, briefing_id: int) -> list[Event]:
    """Post the attendance, the poll results and the questions with their
    answers as a thread in the related channel, so the discussion lives on."""
    from kyoso.services import messages, polls

    briefing = get_briefing(session, briefing_id)
    require_manager(user, briefing)
    if not briefing.channel_id:
        raise InvalidInput("まとめを投稿するチャンネルが設定されていません。")
    if briefing.archived_message_id is not None:
        raise InvalidInput("この説明会のまとめはすでに投稿されています。")
    lines = [f"**説明会「{briefing.title}」のまとめ**", f"日時: {view(session, briefing).when}",
             f"参加者数: {attendance(session, briefing_id)}人"]
    for poll in briefing_polls(session, briefing_id):
        t = polls.tally(session, poll)
        labels = [o.label for o in polls.view(session, poll).options]
        lines.append(f"\n📊 {poll.question}（回答 {t.voters}人）")
        lines += [f"- {label}: {c}票（{p}%）" for label, c, p in zip(labels, t.counts, t.percents)]
    parent, events = messages.post_message(session, user, briefing.channel_id, "\n".join(lines),
                                           rate_limited=False)
    for q in reversed(questions(session, briefing_id, limit=200)):
        body = f"**質問**（👍 {q.votes}）: {q.body}"
        if q.answered:
            body += f"\n\n**回答**: {q.answer or '説明会の中で回答しました。'}"
        _, more = messages.post_message(session, user, briefing.channel_id, body, parent_id=parent.id,
                                        rate_limited=False)
        events += more
    briefing.archived_message_id = parent.id
    session.add(briefing)
    return events + [BriefingChanged(briefing_id, "room")]
