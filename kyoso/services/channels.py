"""Channels (チャンネル): the directory, membership, unread counts, administration.

Every public channel can be read without joining: lurking is welcome. Joining
puts it in the sidebar with an unread count. Only 運営 create, edit and
archive channels.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from kyoso.db import core, detached_copy, utcnow
from kyoso.models import AuditLog, Channel, ChannelKind, Membership, Message, Role, User, UserStatus
from kyoso.services.accounts import require_staff  # noqa: F401 - rules of 運営, shared
from kyoso.services.errors import InvalidInput, NotAllowed, NotFound
from kyoso.services.events import ChannelChanged, record
from kyoso.services.shared import SharedViews
from kyoso.services.text import clean_line, clean_text
from kyoso.services.timefmt import jst_short

_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{1,39}$")


def require_active(user: User | None) -> User:
    if user is None or user.status != UserStatus.active:
        raise NotAllowed("ログインしてください。")
    return user


# ---------------------------------------------------------------------------
# Reading
# ---------------------------------------------------------------------------


def get_channel(session: Session, channel_id: int) -> Channel:
    channel = session.get(Channel, channel_id)
    if channel is None:
        raise NotFound("チャンネルが見つかりません。")
    return channel


# Every channel page load: built once.
_CHANNEL_BY_SLUG = select(Channel).where(Channel.slug == sa.bindparam("p_slug"))


def get_channel_by_slug(session: Session, slug: str) -> Channel:
    channel = session.exec(_CHANNEL_BY_SLUG, params={"p_slug": (slug or "").lower()}).first()
    if channel is None:
        raise NotFound("チャンネルが見つかりません。URLをご確認ください。")
    return channel


# A channel's row as page loads read it (every arrival in a channel), kept
# this long: every channel is public, so the row decides only what the page
# shows (its header) and offers (the composer), never what may be read; a
# post or reply is checked against the row itself. A change made in this
# worker drops it at once; other workers show it within this time.
# (No version: kept for the time alone.)
CHANNEL_CACHE_SECONDS = 10.0
_read_cache: SharedViews[Channel] = SharedViews(CHANNEL_CACHE_SECONDS)


def read_channel_by_slug(session: Session, slug: str) -> Channel:
    """``get_channel_by_slug`` for a page load: a copy of the row kept
    ``CHANNEL_CACHE_SECONDS`` is put into the session (``merge`` without a
    load: a tenth of the ORM query's cost), so the rest of the load finds it
    there (``get_channel``) as it would have."""
    key = (slug or "").lower()
    kept = _read_cache.get(key, None)
    if kept is not None:
        return session.merge(kept, load=False)
    channel = get_channel_by_slug(session, key)
    _read_cache.keep(key, None, detached_copy(channel))
    return channel


def _forget_read_channels(session: Session) -> None:
    """A channel's row changes: page loads read it again, now and once this
    transaction has committed (a load in between may have kept the old row)."""
    _read_cache.clear()
    sa.event.listen(session, "after_commit", lambda _session: _read_cache.clear(), once=True)


def check_can_read(user: User, channel: Channel) -> None:
    """Every active member may read every channel (all channels are public)."""
    require_active(user)


def can_start_thread(user: User, channel: Channel) -> bool:
    if user.status != UserStatus.active or channel.archived_at is not None:
        return False
    if channel.kind == ChannelKind.announcement:
        return user.is_staff or user.role == Role.national
    return True


def can_reply(user: User, channel: Channel) -> bool:
    if user.status != UserStatus.active or channel.archived_at is not None:
        return False
    if channel.kind == ChannelKind.announcement and not channel.allow_replies:
        return user.is_staff or user.role == Role.national
    return True


def is_member(session: Session, user: User, channel_id: int) -> bool:
    return session.get(Membership, (channel_id, user.id)) is not None


@dataclass
class DirectoryEntry:
    id: int
    slug: str
    name: str
    description: str
    kind: str
    member_count: int
    last_activity: str
    joined: bool
    archived: bool


def directory(session: Session, user: User, query: str = "", *,
              include_archived: bool = False) -> list[DirectoryEntry]:
    """The channel directory, most recently active first, searchable by name and description."""
    require_active(user)
    stmt = select(Channel)
    if not include_archived:
        stmt = stmt.where(col(Channel.archived_at).is_(None))
    q = clean_line(query, label="検索語", max_len=50, required=False)
    if q:
        like = f"%{q}%"
        stmt = stmt.where(sa.or_(col(Channel.name).ilike(like), col(Channel.description).ilike(like),
                                 col(Channel.slug).ilike(like)))
    channels = session.exec(stmt).all()
    joined = set(session.exec(select(Membership.channel_id).where(Membership.user_id == user.id)).all())
    channels = sorted(
        channels,
        key=lambda c: (c.last_message_at or c.created_at),
        reverse=True,
    )
    return [
        DirectoryEntry(
            id=c.id or 0, slug=c.slug, name=c.name, description=c.description, kind=c.kind,
            member_count=c.member_count,
            last_activity=jst_short(c.last_message_at) if c.last_message_at else "投稿なし",
            joined=c.id in joined, archived=c.archived_at is not None,
        )
        for c in channels
    ]


@dataclass
class ChannelHeader:
    """What every reader of a channel sees of it (the same for all)."""

    id: int = 0
    slug: str = ""
    name: str = ""
    description: str = ""
    kind: str = "topic"
    member_count: int = 0
    archived: bool = False
    allow_replies: bool = True
    join_by_default: bool = False


def header(channel: Channel) -> ChannelHeader:
    return ChannelHeader(
        id=channel.id or 0, slug=channel.slug, name=channel.name, description=channel.description,
        kind=channel.kind, member_count=channel.member_count,
        archived=channel.archived_at is not None, allow_replies=channel.allow_replies,
        join_by_default=channel.join_by_default,
    )


@dataclass
class SidebarChannel:
    id: int
    slug: str
    name: str
    kind: str
    unread: int


# Statements every page load runs (the sidebar, the channel page), built once:
# building and keying a statement costs SQLAlchemy more than SQLite's work.
_MEMBERSHIP_T, _MESSAGE_T, _CHANNEL_T = (
    Membership.__table__, Message.__table__, Channel.__table__)  # type: ignore[attr-defined]
# The sidebar: my channels and the unread threads of each, in one statement.
_UNREAD_IN = (
    sa.select(sa.func.count(_MESSAGE_T.c.id))
    .where(
        _MESSAGE_T.c.channel_id == _MEMBERSHIP_T.c.channel_id,
        _MESSAGE_T.c.parent_id.is_(None),
        _MESSAGE_T.c.id > _MEMBERSHIP_T.c.last_read_id,
        _MESSAGE_T.c.author_id != sa.bindparam("p_user"),
        _MESSAGE_T.c.deleted_at.is_(None),
        _MESSAGE_T.c.hidden_at.is_(None),
    )
    .correlate(_MEMBERSHIP_T)
    .scalar_subquery()
)
_UNREAD_COUNTS = sa.select(_MEMBERSHIP_T.c.channel_id, _UNREAD_IN).where(
    _MEMBERSHIP_T.c.user_id == sa.bindparam("p_user"))
# The sidebar's channels; with each, my reading position (a channel page's
# load takes its own from here: ``last_read_id``). ``services.sidebar``
# adds the inbox's count to the same statement.
MY_CHANNELS = (
    sa.select(_CHANNEL_T.c.id, _CHANNEL_T.c.slug, _CHANNEL_T.c.name, _CHANNEL_T.c.kind,
              _UNREAD_IN.label("unread"), _MEMBERSHIP_T.c.last_read_id)
    .join(_MEMBERSHIP_T, _MEMBERSHIP_T.c.channel_id == _CHANNEL_T.c.id)
    .where(_MEMBERSHIP_T.c.user_id == sa.bindparam("p_user"), _CHANNEL_T.c.archived_at.is_(None))
    .order_by(_CHANNEL_T.c.name)
)
_LAST_READ = sa.select(_MEMBERSHIP_T.c.last_read_id).where(
    _MEMBERSHIP_T.c.channel_id == sa.bindparam("p_channel"),
    _MEMBERSHIP_T.c.user_id == sa.bindparam("p_user"))
_LATEST_THREAD_ID = (
    sa.select(sa.func.coalesce(sa.func.max(_MESSAGE_T.c.id), 0))
    .where(_MESSAGE_T.c.channel_id == sa.bindparam("p_channel"), _MESSAGE_T.c.parent_id.is_(None))
)
_LATEST_THREAD = _LATEST_THREAD_ID.scalar_subquery()


def _mark_read_stmt(target: Any) -> sa.Update:
    return (
        sa.update(_MEMBERSHIP_T)
        .where(_MEMBERSHIP_T.c.channel_id == sa.bindparam("p_channel"),
               _MEMBERSHIP_T.c.user_id == sa.bindparam("p_user"),
               _MEMBERSHIP_T.c.last_read_id < target)
        .values(last_read_id=target)
    )


_MARK_READ = _mark_read_stmt(_LATEST_THREAD)
_MARK_READ_UP_TO = _mark_read_stmt(sa.case(
    (_LATEST_THREAD < sa.bindparam("p_up_to", type_=sa.Integer), _LATEST_THREAD),
    else_=sa.bindparam("p_up_to", type_=sa.Integer)))


def unread_counts(session: Session, user: User) -> dict[int, int]:
    """Unread threads per joined channel: newer top-level messages by others."""
    rows = core(session).execute(_UNREAD_COUNTS, {"p_user": user.id}).all()
    return {cid: int(n) for cid, n in rows if n}


# The channels ``my_channels`` found the member in, with my reading position
# in each, kept in the session's ``info``: the sidebar then subscribes to
# their ``unread:`` topics, whose rule (``topics.granted``) need not look the
# memberships up again, and a channel page takes its position (``last_read_id``).
JOINED_IN_SESSION = "kyoso.channels_joined"


def my_channels(session: Session, user: User) -> list[SidebarChannel]:
    require_active(user)
    return my_channels_of(session, user, core(session).execute(MY_CHANNELS, {"p_user": user.id}).all())


def my_channels_of(session: Session, user: User, rows: list[Any]) -> list[SidebarChannel]:
    """The sidebar's channels from rows of ``MY_CHANNELS``; what they say of
    my memberships is kept in the session (``JOINED_IN_SESSION``)."""
    session.info.setdefault(JOINED_IN_SESSION, {})[user.id] = {row.id: row.last_read_id for row in rows}
    return [SidebarChannel(row.id, row.slug, row.name, row.kind, int(row.unread or 0)) for row in rows]


# ---------------------------------------------------------------------------
# Membership and reading position
# ---------------------------------------------------------------------------


def _latest_top_level_id(session: Session, channel_id: int) -> int:
    return int(core(session).execute(_LATEST_THREAD_ID, {"p_channel": channel_id}).scalar_one())


def join(session: Session, user: User, channel_id: int) -> None:
    require_active(user)
    channel = get_channel(session, channel_id)
    if channel.archived_at is not None:
        raise InvalidInput("アーカイブされたチャンネルには参加できません。")
    if session.get(Membership, (channel_id, user.id)) is not None:
        return
    session.add(Membership(channel_id=channel_id, user_id=user.id,  # type: ignore[arg-type]
                           last_read_id=_latest_top_level_id(session, channel_id)))
    session.flush()
    _forget_position(session, user.id or 0, channel_id)
    _recount(session, channel)
    record(session, ChannelChanged(channel_id))


def leave(session: Session, user: User, channel_id: int) -> None:
    require_active(user)
    channel = get_channel(session, channel_id)
    membership = session.get(Membership, (channel_id, user.id))
    if membership is None:
        return
    session.delete(membership)
    session.flush()
    _forget_position(session, user.id or 0, channel_id)
    _recount(session, channel)
    record(session, ChannelChanged(channel_id))


def _recount(session: Session, channel: Channel) -> None:
    # Imported members not yet claimed keep their channels but are not counted.
    channel.member_count = int(session.exec(
        select(sa.func.count()).select_from(Membership).join(User, User.id == Membership.user_id)  # type: ignore[arg-type]
        .where(Membership.channel_id == channel.id, User.status != UserStatus.unclaimed)
    ).one())
    session.add(channel)
    _forget_read_channels(session)


def mark_read(session: Session, user: User, channel_id: int, up_to_id: int | None = None) -> bool:
    """Move the member's reading position forward (never back), to the newest
    thread or to ``up_to_id`` if that is older. Returns True if it moved.

    One UPDATE: every page load of a channel with something new runs it, so
    a 1,000-person join burst is 1,000 of these writes."""
    return mark_read_of(session, user.id or 0, channel_id, up_to_id)


def mark_read_of(session: Session, user_id: int, channel_id: int, up_to_id: int | None = None) -> bool:
    """``mark_read`` by the member's id: for the page load that has just
    checked who the member is (a reading position is only ever the member's
    own: a member who is not in the channel has no row to move)."""
    params: dict[str, Any] = {"p_channel": channel_id, "p_user": user_id}
    if up_to_id is None:
        result = core(session).execute(_MARK_READ, params)
    else:
        result = core(session).execute(_MARK_READ_UP_TO, {**params, "p_up_to": int(up_to_id)})
    # The UPDATE bypassed the identity map: a loaded row must be read again.
    _forget_position(session, user_id, channel_id)
    membership = session.identity_map.get(session.identity_key(Membership, (channel_id, user_id)))  # type: ignore[arg-type]
    if membership is not None:
        session.expire(membership, ["last_read_id"])
    return bool(result.rowcount)


def _forget_position(session: Session, user_id: int, channel_id: int) -> None:
    """A membership changed in this session: what the sidebar's read kept of
    it (``my_channels_of``) is read again."""
    session.info.get(JOINED_IN_SESSION, {}).get(user_id, {}).pop(channel_id, None)


def last_read_id(session: Session, user: User, channel_id: int) -> int | None:
    """The member's reading position in the channel; None if not a member.
    Taken without a statement from the sidebar's read in this session
    (``my_channels``) when it has the channel."""
    kept = session.info.get(JOINED_IN_SESSION, {}).get(user.id, {})
    if channel_id in kept:
        return kept[channel_id]
    return core(session).execute(
        _LAST_READ, {"p_channel": channel_id, "p_user": user.id}).scalar()



# ---------------------------------------------------------------------------
# Administration (運営)
# ---------------------------------------------------------------------------


def _check_fields(slug: str, name: str, description: str) -> tuple[str, str, str]:
    slug = clean_line(slug, label="チャンネルID", max_len=40).lower()
    if not _SLUG.match(slug):
        raise InvalidInput(
            "チャンネルIDは半角英小文字・数字・ハイフンで2〜40文字にしてください（例: gov-cloud）。",
            field="slug",
        )
    name = clean_line(name, label="チャンネル名", max_len=60)
    description = clean_text(description, label="説明", max_len=500, required=False)
    return slug, name, description


def create_channel_unchecked(session: Session, *, slug: str, name: str, description: str = "",
                             announcement: bool = False, allow_replies: bool = True,
                             created_by: User | None = None) -> Channel:
    """Create a channel without a permission check (the CLI, demo data)."""
    slug, name, description = _check_fields(slug, name, description)
    if session.exec(select(Channel.id).where(Channel.slug == slug)).first() is not None:
        raise InvalidInput(f"チャンネルID「{slug}」はすでに使われています。", field="slug")
    channel = Channel(
        slug=slug, name=name, description=description,
        kind=ChannelKind.announcement if announcement else ChannelKind.topic,
        allow_replies=allow_replies, created_by_id=created_by.id if created_by else None,
        join_by_default=announcement,
    )
    session.add(channel)
    try:
        session.flush()
    except sa.exc.IntegrityError:
        raise InvalidInput(f"チャンネルID「{slug}」はすでに使われています。", field="slug") from None
    return channel


def create_channel(session: Session, actor: User, *, slug: str, name: str, description: str = "",
                   announcement: bool = False, allow_replies: bool = True) -> Channel:
    require_staff(actor)
    channel = create_channel_unchecked(session, slug=slug, name=name, description=description,
                                       announcement=announcement, allow_replies=allow_replies,
                                       created_by=actor)
    session.add(AuditLog(actor_id=actor.id, action="channel.create", target_type="channel",
                         target_id=channel.id, detail=channel.slug))
    return channel


def update_channel(session: Session, actor: User, channel_id: int, *, name: str, description: str,
                   allow_replies: bool, join_by_default: bool | None = None) -> None:
    require_staff(actor)
    channel = get_channel(session, channel_id)
    _, channel.name, channel.description = _check_fields(channel.slug, name, description)
    channel.allow_replies = bool(allow_replies)
    if join_by_default is not None:
        channel.join_by_default = bool(join_by_default)
    session.add(channel)
    _forget_read_channels(session)
    session.add(AuditLog(actor_id=actor.id, action="channel.update", target_type="channel",
                         target_id=channel.id, detail=channel.name))
    record(session, ChannelChanged(channel_id))


def set_archived(session: Session, actor: User, channel_id: int, archived: bool) -> None:
    require_staff(actor)
    channel = get_channel(session, channel_id)
    channel.archived_at = utcnow() if archived else None
    session.add(channel)
    _forget_read_channels(session)
    session.add(AuditLog(actor_id=actor.id, action="channel.archive" if archived else "channel.unarchive",
                         target_type="channel", target_id=channel.id, detail=channel.slug))
    record(session, ChannelChanged(channel_id))


def name_options(session: Session) -> list[tuple[str, str]]:
    """(slug, name) of every channel, archived ones last: a filter's choices."""
    return [(slug, name) for slug, name in session.exec(
        select(Channel.slug, Channel.name).order_by(col(Channel.archived_at).is_not(None), Channel.name)).all()]
