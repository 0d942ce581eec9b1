"""Mail that the clock or a bulk change queues (kyoso/tasks.py calls ``run_due``).

* **Unread notifications.** Inbox rows (mention, reply, answer, question) still
  unread ``KYOSO_NOTIFY_DELAY_SECONDS`` after they were made are mailed, one
  mail per member and thread for each round; a row read in the app before
  then is never mailed. A cursor in ``mail_state`` ("notify") remembers the
  last row looked at, so each row is considered once.
* **Daily digest** (a setting, off by default): each morning from 07:00 JST,
  the threads started in my channels in the last 24 hours, most-stamped first.
* **Briefing reminders**: the day before and an hour before, to everyone
  registered, with the .ics attached (``briefing_mail`` marks a round done).
* **重要なお知らせ**: ``queue_announcement`` queues one mail per active member in
  the publishing transaction, with one executemany.

Each job locks its ``mail_state`` row first (an UPDATE), so with several
workers on PostgreSQL one does a round while the others wait and then find
nothing left; SQLite has one writer anyway.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import sqlalchemy as sa
from sqlmodel import Session, col, select

from kyoso import routes
from kyoso.db import utcnow
from kyoso.models import (
    Announcement,
    AnnouncementChannel,
    Briefing,
    BriefingMail,
    Channel,
    MailSetting,
    MailState,
    Membership,
    Message,
    Notification,
    Registration,
    Stamp,
    User,
    UserStatus,
)
from kyoso.services import briefings
from kyoso.services.mail import outbox, prefs, templates
from kyoso.services.timefmt import JST, jst_datetime, jst_short
from kyoso.settings import get_settings

MAILED_KINDS = ("mention", "reply", "answer", "question")
NOTIFY_BATCH = 2000
DIGEST_HOUR_JST = 7
DIGEST_THREADS = 10
_KIND_WORDS = {"mention": "メンション", "reply": "返信", "answer": "回答", "question": "質問"}


def _lock(session: Session, name: str) -> MailState:
    """Take the job's row: FOR UPDATE on PostgreSQL (held until the caller's
    commit); SQLite's writing transaction already holds the database lock.
    Nothing is written unless the job has something to record, so an idle
    round changes nothing."""
    prefs.state_row(session, name)
    return session.exec(
        select(MailState).where(MailState.name == name).with_for_update()
        .execution_options(populate_existing=True)).one()


def _settings_of(session: Session, user_ids: set[int]) -> dict[int, dict[str, bool]]:
    found: dict[int, dict[str, bool]] = {}
    ids = list(user_ids)
    for start in range(0, len(ids), 500):
        for row in session.exec(select(MailSetting).where(col(MailSetting.user_id).in_(ids[start:start + 500]))):
            found[row.user_id] = {key: bool(getattr(row, key)) for key in prefs.SETTINGS}
    return {uid: found.get(uid, prefs.DEFAULTS) for uid in user_ids}


# ---------------------------------------------------------------------------
# Unread notifications
# ---------------------------------------------------------------------------


@dataclass
class _Pending:
    user: User
    where: str
    link: str
    items: list[tuple[str, str, str]]
    setting: str


def queue_notification_mail(session: Session, now: datetime | None = None) -> int:
    """Mail the notifications that stayed unread for the delay; returns the mails queued."""
    now = now or utcnow()
    cutoff = now - timedelta(seconds=get_settings().notify_delay_seconds)
    state = _lock(session, "notify")
    rows = session.exec(
        select(Notification).where(Notification.id > state.number)
        .order_by(col(Notification.id)).limit(NOTIFY_BATCH)).all()
    due = []
    for n in rows:
        if n.created_at > cutoff:
            break  # newer rows wait for their own delay
        due.append(n)
    if not due:
        return 0
    state.number, state.updated_at = due[-1].id or state.number, now
    session.add(state)
    due = [n for n in due if n.read_at is None and n.kind in MAILED_KINDS]
    if not due:
        return 0
    users = {u.id: u for u in session.exec(select(User).where(
        col(User.id).in_({n.user_id for n in due}), User.status == UserStatus.active))}
    wanted = _settings_of(session, set(users))  # type: ignore[arg-type]
    message_ids = {n.message_id for n in due if n.message_id}
    threads = {m.id: (m.parent_id or m.id) for m in session.exec(
        select(Message).where(col(Message.id).in_(message_ids)))} if message_ids else {}
    channels = {c.id: c for c in session.exec(select(Channel).where(
        col(Channel.id).in_({n.channel_id for n in due if n.channel_id})))}
    groups: dict[tuple[int, str], _Pending] = {}
    for n in due:
        user = users.get(n.user_id)
        if user is None or not wanted[n.user_id].get(n.kind, True):
            continue
        channel = channels.get(n.channel_id) if n.channel_id else None
        if n.message_id and channel is not None:
            thread = threads.get(n.message_id, n.message_id)
            key = f"thread:{thread}"
            where, link = f"#{channel.name}", templates.url(routes.thread(channel.slug, thread))
        else:  # a briefing's question: the link is the place
            key, where, link = f"link:{n.link}", "説明会", templates.url(n.link or "/")
        pending = groups.setdefault((n.user_id, key), _Pending(user, where, link, [], n.kind))
        pending.items.append((f"{_KIND_WORDS.get(n.kind, n.kind)}（{jst_short(n.created_at, now)}）",
                              n.text, templates.url(n.link) if n.link else ""))
    secret = prefs.link_secret(session) if groups else ""
    drafts = []
    for (user_id, _), p in groups.items():
        # Several kinds in one thread: the unsubscribe link stops the first kind.
        mail = templates.thread_activity(p.user.name, p.where, p.items, p.link,
                                         unsubscribe=prefs.unsubscribe_url(secret, user_id, p.setting))
        drafts.append(outbox.Draft(kind=p.setting, to_addr=p.user.email, to_name=p.user.name, user_id=user_id,
                                   setting=p.setting, subject=outbox.one_line(mail.subject), text=mail.text,
                                   html=mail.html))
    return outbox.queue_many(session, drafts)


# ---------------------------------------------------------------------------
# Daily digest
# ---------------------------------------------------------------------------


def queue_digests(session: Session, now: datetime | None = None) -> int:
    """Once a day from 07:00 JST: new threads of my channels, most-stamped first."""
    now = now or utcnow()
    local = now.astimezone(JST)
    today = local.date().isoformat()
    if local.hour < DIGEST_HOUR_JST:
        return 0
    readers = session.exec(
        select(User).join(MailSetting, MailSetting.user_id == User.id)  # type: ignore[arg-type]
        .where(col(MailSetting.digest).is_(True), User.status == UserStatus.active)).all()
    if not readers:
        return 0
    state = _lock(session, "digest")
    if state.value == today:
        return 0
    state.value, state.updated_at = today, now
    session.add(state)
    since = now - timedelta(hours=24)
    stamps = sa.func.count(Stamp.id)
    threads = session.exec(
        select(Message, Channel, stamps)
        .join(Channel, Channel.id == Message.channel_id)  # type: ignore[arg-type]
        .outerjoin(Stamp, Stamp.message_id == Message.id)  # type: ignore[arg-type]
        .where(col(Message.parent_id).is_(None), Message.created_at >= since,
               col(Message.deleted_at).is_(None), col(Message.hidden_at).is_(None),
               col(Channel.archived_at).is_(None))
        .group_by(Message.id, Channel.id)  # type: ignore[arg-type]
        .order_by(stamps.desc(), col(Message.id).desc())
    ).all()
    if not threads:
        return 0
    reader_ids = [u.id for u in readers]
    member_of: dict[int, set[int]] = defaultdict(set)
    for channel_id, user_id in session.exec(
            select(Membership.channel_id, Membership.user_id).where(col(Membership.user_id).in_(reader_ids))):
        member_of[user_id].add(channel_id)
    secret = prefs.link_secret(session)
    drafts = []
    for user in readers:
        mine = [(m, c, n) for m, c, n in threads if c.id in member_of[user.id or 0]][:DIGEST_THREADS]
        if not mine:
            continue
        items = [(f"#{c.name}（スタンプ{n}）", _excerpt(m.body),
                  templates.url(routes.thread(c.slug, m.id or 0))) for m, c, n in mine]
        mail = templates.digest(user.name, items,
                                unsubscribe=prefs.unsubscribe_url(secret, user.id or 0, "digest"))
        drafts.append(outbox.Draft(kind="digest", to_addr=user.email, to_name=user.name, user_id=user.id,
                                   setting="digest", subject=mail.subject, text=mail.text, html=mail.html,
                                   dedupe_key=f"digest:{today}:{user.id}"))
    return outbox.queue_many(session, drafts)


def _excerpt(body: str, limit: int = 100) -> str:
    text = " ".join(body.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


# ---------------------------------------------------------------------------
# Briefing reminders
# ---------------------------------------------------------------------------

_ROUNDS = (("day", timedelta(hours=24), "明日"), ("hour", timedelta(hours=1), "1時間後"))


def queue_briefing_reminders(session: Session, now: datetime | None = None) -> int:
    """The day before and an hour before a briefing: a mail with the .ics to
    each registered member (once per round). A briefing that starts within the
    hour gets only the hour's mail."""
    now = now or utcnow()
    count = 0
    for kind, ahead, when in _ROUNDS:
        done = select(BriefingMail.briefing_id).where(BriefingMail.kind == kind)
        due = session.exec(select(Briefing).where(
            Briefing.starts_at > now, Briefing.starts_at <= now + ahead,
            col(Briefing.id).not_in(done))).all()
        for briefing in due:
            session.add(BriefingMail(briefing_id=briefing.id, kind=kind, queued_at=now))  # type: ignore[arg-type]
            if kind == "day" and briefing.starts_at <= now + timedelta(hours=1):
                continue
            count += _queue_reminder(session, briefing, kind, when)
    session.flush()
    return count


def _queue_reminder(session: Session, briefing: Briefing, kind: str, when: str) -> int:
    recipients = session.exec(
        select(User).join(Registration, Registration.user_id == User.id)  # type: ignore[arg-type]
        .where(Registration.briefing_id == briefing.id, Registration.status == briefings.REGISTERED,
               User.status == UserStatus.active)).all()
    wanted = _settings_of(session, {u.id for u in recipients})  # type: ignore[misc]
    recipients = [u for u in recipients if wanted[u.id].get("reminder", True)]  # type: ignore[index]
    if not recipients:
        return 0
    host = urlsplit(get_settings().base_url).hostname or "kyoso"
    # The calendar file is the same for everyone: made once, as the first recipient may.
    ics = briefings.ics(session, recipients[0], briefing.id or 0, host=host)
    secret = prefs.link_secret(session)
    link = templates.url(f"/briefings/{briefing.id}")
    title = outbox.one_line(briefing.title, 120)
    drafts = []
    for user in recipients:
        mail = templates.reminder(user.name, title, when, jst_datetime(briefing.starts_at),
                                  briefing.place or briefing.online_url, link,
                                  unsubscribe=prefs.unsubscribe_url(secret, user.id or 0, "reminder"))
        drafts.append(outbox.Draft(
            kind="reminder", to_addr=user.email, to_name=user.name, user_id=user.id, setting="reminder",
            subject=mail.subject, text=mail.text, html=mail.html,
            attachment_name=f"briefing-{briefing.id}.ics", attachment_type="text/calendar",
            attachment_body=ics, dedupe_key=f"reminder:{kind}:{briefing.id}:{user.id}"))
    return outbox.queue_many(session, drafts)


# ---------------------------------------------------------------------------
# 重要なお知らせ
# ---------------------------------------------------------------------------

_USER_T = User.__table__  # type: ignore[attr-defined]
_SETTING_T = MailSetting.__table__  # type: ignore[attr-defined]


def queue_announcement(session: Session, announcement: Announcement) -> int:
    """One mail per active member who has not turned 重要なお知らせ off, in the
    caller's (publishing) transaction. Rows are read and written with Core."""
    place = session.exec(
        select(Channel.slug, AnnouncementChannel.message_id)
        .join(Channel, Channel.id == AnnouncementChannel.channel_id)  # type: ignore[arg-type]
        .where(AnnouncementChannel.announcement_id == announcement.id)
        .order_by(AnnouncementChannel.channel_id)).first()
    link = templates.url(routes.message(place[0], place[1]) if place else routes.HOME)
    title = outbox.one_line(announcement.title, 120)
    body = announcement.body if len(announcement.body) <= 2000 else announcement.body[:1999] + "…"
    rows = session.execute(
        sa.select(_USER_T.c.id, _USER_T.c.email, _USER_T.c.name)
        .select_from(_USER_T.outerjoin(_SETTING_T, _SETTING_T.c.user_id == _USER_T.c.id))
        .where(_USER_T.c.status == UserStatus.active,
               sa.or_(_SETTING_T.c.announcement.is_(None), _SETTING_T.c.announcement.is_(True)))
        .order_by(_USER_T.c.id)).all()
    secret = prefs.link_secret(session)
    drafts = []
    for user_id, email, name in rows:
        mail = templates.announcement(name, title, body, link,
                                      unsubscribe=prefs.unsubscribe_url(secret, user_id, "announcement"))
        drafts.append(outbox.Draft(kind="announcement", to_addr=email, to_name=name, user_id=user_id,
                                   setting="announcement", subject=mail.subject, text=mail.text, html=mail.html,
                                   dedupe_key=f"announcement:{announcement.id}:{user_id}"))
    return outbox.queue_many(session, drafts)


def run_due(session: Session, now: datetime | None = None) -> int:
    """Every clock-driven mail job once (kyoso/tasks.py, every round)."""
    now = now or utcnow()
    return (queue_notification_mail(session, now) + queue_briefing_reminders(session, now)
            + queue_digests(session, now))
