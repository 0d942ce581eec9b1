"""説明会 (briefings): organising, registration with a waiting list, a
calendar file and a reminder. The live room (poll, questions, attendance,
the archive thread) is ``briefing_room``.

Every active member may enter a briefing's room (lurking is welcome); only
the organiser and 運営 manage it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

import sqlalchemy as sa
from sqlmodel import Session, col, select

from kyoso.db import core, utcnow
from kyoso import routes
from kyoso.models import Briefing, Notification, Registration, Role, User, UserStatus
from kyoso.services import channels as channel_rules
from kyoso.services import organisations
from kyoso.services.errors import InvalidInput, NotAllowed, NotFound
from kyoso.services.events import BriefingChanged, Event, InboxChanged, record
from kyoso.services.text import clean_line, clean_text
from kyoso.services.timefmt import JST, jst_datetime

REGISTERED, WAITLISTED, CANCELLED, WALK_IN = "registered", "waitlisted", "cancelled", "walk_in"
STATUS_LABELS = {REGISTERED: "申込済み", WAITLISTED: "キャンセル待ち", CANCELLED: "キャンセル済み",
                 WALK_IN: "当日参加"}


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


# ---------------------------------------------------------------------------
# Reading and rules
# ---------------------------------------------------------------------------


def get_briefing(session: Session, briefing_id: int) -> Briefing:
    briefing = session.get(Briefing, briefing_id)
    if briefing is None:
        raise NotFound("説明会が見つかりません。")
    return briefing


class BriefingFields(Protocol):
    """What reading a briefing needs of it: a ``Briefing``, or the row
    ``read_briefing`` returns (which cannot be changed or saved)."""

    id: int | None
    title: str
    description: str
    starts_at: datetime
    ends_at: datetime
    online_url: str
    place: str
    capacity: int
    organiser_id: int
    channel_id: int | None
    live_poll_id: int | None
    archived_message_id: int | None


_BRIEFING_T = Briefing.__table__  # type: ignore[attr-defined]
_USER_T = User.__table__  # type: ignore[attr-defined]
# The row and its organiser's name (the room's header shows it) in one go.
_BRIEFING_BY_ID = (
    sa.select(_BRIEFING_T, _USER_T.c.name.label("organiser_name"), _USER_T.c.org_code.label("organiser_org_code"))
    .outerjoin(_USER_T, _USER_T.c.id == _BRIEFING_T.c.organiser_id)
    .where(_BRIEFING_T.c.id == sa.bindparam("p_briefing")))
_BRIEFING_EXISTS = sa.select(_BRIEFING_T.c.id).where(_BRIEFING_T.c.id == sa.bindparam("p_briefing"))
# The briefings ``read_briefing`` found in a session (its ``info``): a room's
# arrival reads the briefing, then asks whether it may see it (its live topic).
_READ_IN_SESSION = "kyoso.briefings_read"


def read_briefing(session: Session, briefing_id: int) -> BriefingFields:
    """``get_briefing`` for reading only: the row itself, a third of an ORM
    get's cost (every arrival in a room reads it), with its organiser's
    name and 団体 code (``organiser_name``, ``organiser_org_code``)."""
    row = core(session).execute(_BRIEFING_BY_ID, {"p_briefing": briefing_id}).first()
    if row is None:
        raise NotFound("説明会が見つかりません。")
    session.info.setdefault(_READ_IN_SESSION, set()).add(briefing_id)
    return row  # type: ignore[return-value]  # a Row has the columns as attributes


def can_view(session: Session, user: User, briefing_id: int) -> bool:
    """Every active member may see every briefing (its room's live topic, its
    materials): a Core look, as every arrival in a room asks it, unless this
    session has just read it."""
    if user.status != UserStatus.active:
        return False
    if briefing_id in session.info.get(_READ_IN_SESSION, ()):
        return True
    return core(session).execute(_BRIEFING_EXISTS, {"p_briefing": briefing_id}).first() is not None


def can_manage(user: User, briefing: BriefingFields) -> bool:
    return user.status == UserStatus.active and (user.id == briefing.organiser_id or user.is_staff)


def require_manager(user: User, briefing: Briefing) -> None:
    if not can_manage(user, briefing):
        raise NotAllowed("この操作は説明会の主催者と運営だけが行えます。")


# What each arrival in the room reads (a 1,000-person join burst runs each a
# thousand times): built once, run on the session's connection.
_REG_T = Registration.__table__  # type: ignore[attr-defined]
_COUNTS = (sa.select(_REG_T.c.status, sa.func.count(), sa.func.count(_REG_T.c.attended_at))
           .where(_REG_T.c.briefing_id == sa.bindparam("p_briefing")).group_by(_REG_T.c.status))
_ORGANISER = sa.select(_USER_T.c.name, _USER_T.c.org_code).where(_USER_T.c.id == sa.bindparam("p_user"))
_MY_REGISTRATION = sa.select(_REG_T.c.status, _REG_T.c.attended_at).where(
    _REG_T.c.briefing_id == sa.bindparam("p_briefing"), _REG_T.c.user_id == sa.bindparam("p_user"))
# A briefing is on (its room live, a visit counted as attending) from 30
# minutes before it starts to 30 after it ends.
LIVE_MARGIN = timedelta(minutes=30)


def is_on(briefing: BriefingFields, now: datetime | None = None) -> bool:
    now = now or utcnow()
    return briefing.starts_at - LIVE_MARGIN <= now <= briefing.ends_at + LIVE_MARGIN


def _counts(session: Session, briefing_id: int) -> dict[str, int]:
    return counts_and_attendance(session, briefing_id)[0]


def counts_and_attendance(session: Session, briefing_id: int) -> tuple[dict[str, int], int]:
    """Registrations by status, and how many came (attended, whatever their
    status): one statement, as every arrival in the room reads both."""
    rows = core(session).execute(_COUNTS, {"p_briefing": briefing_id}).all()
    return {status: int(n) for status, n, _ in rows}, sum(int(came) for _, _, came in rows)


def view(session: Session, briefing: BriefingFields, now: datetime | None = None,
         *, counts: dict[str, int] | None = None) -> BriefingView:
    """The briefing as its page shows it (``counts``: ``counts_and_attendance``'s
    first part, when the caller has read it)."""
    now = now or utcnow()
    read = getattr(briefing, "_mapping", {})
    if "organiser_name" in read:  # read_briefing's row brought them
        name, org_code = read["organiser_name"], read["organiser_org_code"]
    else:
        organiser = core(session).execute(_ORGANISER, {"p_user": briefing.organiser_id}).first()
        name, org_code = (organiser.name, organiser.org_code) if organiser else (None, None)
    org_name = organisations.display_name(session, org_code) if org_code is not None else ""
    if counts is None:
        counts = _counts(session, briefing.id or 0)
    start, end = briefing.starts_at.astimezone(JST), briefing.ends_at.astimezone(JST)
    when = jst_datetime(briefing.starts_at) + f"〜{end:%H:%M}" if start.date() == end.date() else (
        jst_datetime(briefing.starts_at) + "〜" + jst_datetime(briefing.ends_at))
    return BriefingView(
        id=briefing.id or 0, title=briefing.title, description=briefing.description, when=when,
        starts_iso=start.isoformat(), online_url=briefing.online_url, place=briefing.place,
        capacity=briefing.capacity, registered=counts.get(REGISTERED, 0),
        waitlisted=counts.get(WAITLISTED, 0), organiser=name or "",
        organiser_org=org_name, organiser_id=briefing.organiser_id,
        channel_id=briefing.channel_id or 0, upcoming=briefing.ends_at > now,
        live=is_on(briefing, now),
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


@dataclass(frozen=True)
class MyRegistration:
    """A member's own registration for a briefing."""

    status: str  # REGISTERED, WAITLISTED, CANCELLED or WALK_IN
    attended: bool


def my_registration(session: Session, user_id: int, briefing_id: int) -> MyRegistration | None:
    row = core(session).execute(_MY_REGISTRATION, {"p_briefing": briefing_id, "p_user": user_id}).first()
    return None if row is None else MyRegistration(row.status, row.attended_at is not None)


def registration_status(session: Session, user: User, briefing_id: int) -> str:
    mine = my_registration(session, user.id or 0, briefing_id)
    return mine.status if mine else ""


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


def register(session: Session, user: User, briefing_id: int) -> str:
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
        return reg.status
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
    record(session, BriefingChanged(briefing_id, "registrations"))
    return status


def cancel(session: Session, user: User, briefing_id: int) -> None:
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
                link=routes.briefing(briefing_id)))
            events.append(InboxChanged(nxt.user_id))
    record(session, *events)

def send_reminders(session: Session, now: datetime | None = None) -> int:
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
                link=routes.briefing(briefing.id or 0)))
            events.append(InboxChanged(reg.user_id))
        briefing.reminder_sent_at = now
        session.add(briefing)
    record(session, *events)
    return len(due)


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
