"""お知らせ: policy notices, releases and briefing invitations, published by
national staff and 運営 to one or more channels, and a home feed with read marks.

An お知らせ lives as long as the channel messages it put out: when 運営 hide
one or its author deletes one, it leaves the home feed and the channels'
pins for everyone (``visibility.announcement_shown``), live.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session, col, select

from kyoso import routes
from kyoso.db import core, utcnow
from kyoso.models import (
    Announcement,
    AnnouncementChannel,
    AnnouncementRead,
    Channel,
    ChannelKind,
    Membership,
    Message,
    Organisation,
    Role,
    User,
)
from kyoso.services import channels as channel_rules
from kyoso.services import attachments, markup, messages, visibility
from kyoso.services.attachments import AttachmentView
from kyoso.services.errors import InvalidInput, NotAllowed, NotFound
from kyoso.services.events import AnnouncementPublished, MessageChanged, record
from kyoso.services.mail import jobs as mail_jobs
from kyoso.services.text import clean_line, clean_text
from kyoso.services.timefmt import jst_datetime, jst_short

CATEGORIES = {"policy": "政策", "release": "リリース", "briefing": "説明会", "other": "その他"}
IMPORTANCE = {"normal": "通常", "high": "重要"}


@dataclass
class AnnouncementInput:
    title: str
    body: str
    category: str
    channel_ids: list[int]
    importance: str = "normal"
    expires_at: datetime | None = None
    briefing_id: int | None = None


@dataclass
class AnnouncementView:
    id: int
    title: str
    body_html: str
    category: str
    category_label: str
    important: bool
    author: str
    author_org: str
    time: str
    time_full: str
    channels: list[str]
    link: str
    unread: bool
    pinned: bool = False
    attachments: list[AttachmentView] = field(default_factory=list)
    author_id: int = 0


def can_publish(user: User) -> bool:
    return user.is_staff or user.role == Role.national


def publish(session: Session, user: User, data: AnnouncementInput) -> Announcement:
    channel_rules.require_active(user)
    if not can_publish(user):
        raise NotAllowed("お知らせを出せるのは国の職員と運営だけです。")
    title = clean_line(data.title, label="タイトル", max_len=120)
    body = clean_text(data.body, label="本文", max_len=6000)
    if data.category not in CATEGORIES:
        raise InvalidInput("分類を選んでください。", field="category")
    if data.importance not in IMPORTANCE:
        raise InvalidInput("重要度を選んでください。", field="importance")
    if data.expires_at is not None and data.expires_at <= utcnow():
        raise InvalidInput("掲載期限は未来の日時にしてください。", field="expires_at")
    channel_ids = sorted(set(int(c) for c in data.channel_ids))
    if not channel_ids:
        raise InvalidInput("お知らせを出すチャンネルを1つ以上選んでください。", field="channels")
    targets = []
    for cid in channel_ids:
        channel = session.get(Channel, cid)
        if channel is None or channel.archived_at is not None:
            raise InvalidInput("選んだチャンネルが見つからないか、アーカイブされています。", field="channels")
        targets.append(channel)
    announcement = Announcement(
        author_id=user.id, title=title, body=body, body_html=markup.render(body),  # type: ignore[arg-type]
        category=data.category, importance=data.importance, expires_at=data.expires_at,
        briefing_id=data.briefing_id,
    )
    session.add(announcement)
    session.flush()
    mark = "【重要】" if data.importance == "high" else ""
    text = f"📢 {mark}**{title}**（{CATEGORIES[data.category]}）\n\n{body}"
    for channel in targets:
        # Announcements go out even to announcement channels: the publisher is allowed there.
        message = messages.post_message(session, user, channel.id or 0, text, rate_limited=False)
        session.add(AnnouncementChannel(announcement_id=announcement.id, channel_id=channel.id,  # type: ignore[arg-type]
                                        message_id=message.id))
    if announcement.importance == "high":  # 重要: a mail to every member, in this transaction
        session.flush()
        mail_jobs.queue_announcement(session, announcement)
    # The author has read what they wrote: it is not unread on their own home page.
    session.add(AnnouncementRead(announcement_id=announcement.id, user_id=user.id))  # type: ignore[arg-type]
    record(session, AnnouncementPublished(announcement.id or 0, tuple(channel_ids)))
    return announcement


def views(session: Session, user: User, rows: list[Announcement]) -> list[AnnouncementView]:
    """Views of announcements for ``user`` (read or unread by them)."""
    if not rows:
        return []
    ids = [a.id for a in rows]
    read = set(session.exec(select(AnnouncementRead.announcement_id).where(
        AnnouncementRead.user_id == user.id, col(AnnouncementRead.announcement_id).in_(ids))).all())
    placements = session.exec(
        select(AnnouncementChannel, Channel).join(Channel, Channel.id == AnnouncementChannel.channel_id)  # type: ignore[arg-type]
        .where(col(AnnouncementChannel.announcement_id).in_(ids))).all()
    where: dict[int, list[tuple[Channel, AnnouncementChannel]]] = {}
    for ac, ch in placements:
        where.setdefault(ac.announcement_id, []).append((ch, ac))
    authors = {u.id: (u, o) for u, o in session.exec(
        select(User, Organisation).join(Organisation, Organisation.code == User.org_code)  # type: ignore[arg-type]
        .where(col(User.id).in_({a.author_id for a in rows}))).all()}
    files = attachments.for_announcements(session, [a.id or 0 for a in rows])
    out = []
    for a in rows:
        u, o = authors.get(a.author_id, (None, None))
        places = where.get(a.id or 0, [])
        link = routes.message(places[0][0].slug, places[0][1].message_id or 0) if places else routes.HOME
        out.append(AnnouncementView(
            id=a.id or 0, title=a.title, body_html=a.body_html, category=a.category,
            category_label=CATEGORIES.get(a.category, ""), important=a.importance == "high",
            author=u.name if u else "", author_org=o.display_name if o else "",
            time=jst_short(a.created_at), time_full=jst_datetime(a.created_at),
            channels=[ch.name for ch, _ in places], link=link, unread=a.id not in read,
            pinned=any(ac.pinned for _, ac in places), attachments=files.get(a.id or 0, []),
        ))
    return out


def feed(session: Session, user: User, *, limit: int = 30) -> list[AnnouncementView]:
    """My announcements: those published to channels I belong to, and every
    important one; newest first; expired ones leave the feed."""
    channel_rules.require_active(user)
    mine = select(AnnouncementChannel.announcement_id).join(
        Membership, Membership.channel_id == AnnouncementChannel.channel_id).where(Membership.user_id == user.id)
    now = utcnow()
    rows = session.exec(
        select(Announcement).where(
            sa.or_(col(Announcement.id).in_(mine), Announcement.importance == "high"),
            sa.or_(col(Announcement.expires_at).is_(None), col(Announcement.expires_at) > now),
            visibility.announcement_listed(Announcement.id))
        .order_by(col(Announcement.created_at).desc(), col(Announcement.id).desc()).limit(limit)
    ).all()
    return views(session, user, list(rows))


def unread_count(session: Session, user: User) -> int:
    return sum(1 for a in feed(session, user, limit=100) if a.unread)


def get_shown(session: Session, announcement_id: int) -> Announcement:
    announcement = session.get(Announcement, announcement_id)
    if announcement is None or not visibility.announcement_shown(session, announcement_id):
        raise NotFound("お知らせが見つかりません。取り下げられた可能性があります。")
    return announcement


def mark_read(session: Session, user: User, announcement_id: int) -> None:
    channel_rules.require_active(user)
    get_shown(session, announcement_id)
    if session.get(AnnouncementRead, (announcement_id, user.id)) is None:
        session.add(AnnouncementRead(announcement_id=announcement_id, user_id=user.id))  # type: ignore[arg-type]
        try:
            with session.begin_nested():
                session.flush()
        except sa.exc.IntegrityError:
            pass


def set_pinned(session: Session, user: User, announcement_id: int, channel_id: int,
               pinned: bool) -> None:
    channel_rules.require_active(user)
    if not can_publish(user):
        raise NotAllowed("ピン留めできるのは国の職員と運営だけです。")
    announcement = get_shown(session, announcement_id)
    if not user.is_staff and announcement.author_id != user.id:
        raise NotAllowed("ピン留めを変えられるのは、お知らせを出した人と運営だけです。")
    placement = session.get(AnnouncementChannel, (announcement_id, channel_id))
    if placement is None:
        raise NotFound("このチャンネルのお知らせではありません。")
    placement.pinned = bool(pinned)
    session.add(placement)
    if placement.message_id:
        message = session.get(Message, placement.message_id)
        if message is not None:
            message.rev += 1
            session.add(message)
            record(session, MessageChanged(channel_id, message.id or 0, None, "edited"))


def set_pinned_everywhere(session: Session, user: User, announcement_id: int, pinned: bool) -> None:
    """Pin (or unpin) an お知らせ at the top of every channel it went to."""
    for channel_id in channel_ids_of(session, announcement_id):
        set_pinned(session, user, announcement_id, channel_id, pinned)


def broadcast_view(session: Session, announcement_id: int) -> tuple[AnnouncementView, str, tuple[int, ...]] | None:
    """A new お知らせ as every receiver sees it (unread), with its importance
    and channels: what the live home feed is sent."""
    a = session.get(Announcement, announcement_id)
    author = session.get(User, a.author_id) if a is not None else None
    if a is None or author is None or not visibility.announcement_shown(session, announcement_id):
        return None
    view = views(session, author, [a])[0]
    view.unread = True
    view.author_id = author.id or 0
    return view, a.importance, tuple(channel_ids_of(session, announcement_id))


def channel_ids_of(session: Session, announcement_id: int) -> list[int]:
    return list(session.exec(select(AnnouncementChannel.channel_id)
                             .where(AnnouncementChannel.announcement_id == announcement_id)).all())


# Read on every channel page load: built once (building and caching the key
# of this statement cost more than running it: 8 % of a channel join).
_PINNED = (
    select(Announcement).join(AnnouncementChannel, AnnouncementChannel.announcement_id == Announcement.id)  # type: ignore[arg-type]
    .where(AnnouncementChannel.channel_id == sa.bindparam("p_channel"), AnnouncementChannel.pinned == True,  # noqa: E712
           visibility.announcement_listed(Announcement.id))
    .order_by(col(Announcement.created_at).desc()))


# Most channels pin nothing: every page load asks with a Core statement
# first (an ORM select of no rows cost twice as much), and reads the pinned
# お知らせ only when there are some.
_AC_T = AnnouncementChannel.__table__  # type: ignore[attr-defined]
_ANY_PINNED = (sa.select(_AC_T.c.announcement_id)
               .where(_AC_T.c.channel_id == sa.bindparam("p_channel"), _AC_T.c.pinned == sa.true(),
                      visibility.announcement_listed(_AC_T.c.announcement_id))
               .limit(1))


def pinned_in(session: Session, user: User, channel_id: int) -> list[AnnouncementView]:
    if core(session).execute(_ANY_PINNED, {"p_channel": channel_id}).first() is None:
        return []
    rows = session.exec(_PINNED, params={"p_channel": channel_id}).all()
    return views(session, user, list(rows))


def preselected_channels(session: Session) -> list[int]:
    """The お知らせ channels: ticked in the publishing form to start with."""
    return [cid for cid in session.exec(select(Channel.id).where(
        Channel.kind == ChannelKind.announcement, col(Channel.archived_at).is_(None))).all() if cid]


def announcement_channels(session: Session, user: User) -> list[tuple[int, str]]:
    """Channels an announcement may go to (not archived), for the form."""
    rows = session.exec(select(Channel).where(col(Channel.archived_at).is_(None)).order_by(
        col(Channel.kind).desc(), Channel.name)).all()
    return [(c.id or 0, c.name) for c in rows]
