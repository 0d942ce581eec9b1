"""Who may receive which live topic. The realtime module asks before it puts a
client into a topic's room, so a wrong audience cannot happen by accident."""

from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa
from sqlmodel import Session

from kyoso.db import core
from kyoso.models import Channel, Membership, User, UserStatus
from kyoso.services import briefings, channels, polls


_MEMBERSHIP_T = Membership.__table__  # type: ignore[attr-defined]
_JOINED = sa.select(_MEMBERSHIP_T.c.channel_id).where(
    _MEMBERSHIP_T.c.user_id == sa.bindparam("p_user"),
    _MEMBERSHIP_T.c.channel_id.in_(sa.bindparam("p_channels", expanding=True)))


def granted(session: Session, user: User, topics: Iterable[str]) -> list[str]:
    """The topics among ``topics`` the member may receive, in their order.

    Same answers as ``allowed`` one by one, but the sidebar's ``unread:<id>``
    topics (one per joined channel, on every page load) cost one query
    together rather than one each, and none for the channels this session
    has just found the member in (``channels.my_channels``)."""
    topics = list(topics)
    if user.status != UserStatus.active:
        return []
    unread = {t: int(raw) for t in topics
              for kind, _, raw in [t.partition(":")] if kind == "unread" and raw.isdecimal()}
    joined: set[int] = set()
    if unread:
        joined = session.info.get(channels.JOINED_IN_SESSION, {}).get(user.id, {}).keys() & set(unread.values())
        ask = sorted(set(unread.values()) - joined)
        if ask:
            joined |= set(core(session).execute(_JOINED, {"p_user": user.id, "p_channels": ask}).scalars())
    return [t for t in topics if (unread[t] in joined if t in unread else allowed(session, user, t))]


def allowed(session: Session, user: User, topic: str) -> bool:
    if user.status != UserStatus.active:
        return False
    if topic == "all":
        return True
    kind, _, raw = topic.partition(":")
    try:
        ident = int(raw)
    except ValueError:
        return False
    if kind == "user":
        return ident == user.id
    if kind == "channel":
        return session.get(Channel, ident) is not None
    if kind == "unread":
        return session.get(Membership, (ident, user.id)) is not None
    if kind in ("poll", "poll-results"):
        return polls.can_subscribe(session, user, ident, results=kind == "poll-results")
    if kind == "briefing":
        return briefings.can_view(session, user, ident)
    return False
