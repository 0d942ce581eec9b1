"""Who may receive which live topic. The realtime module asks before it puts a
client into a topic's room, so a wrong audience cannot happen by accident."""

from __future__ import annotations

from sqlmodel import Session

from kyoso.models import Channel, Membership, User, UserStatus


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
        from kyoso.services import polls

        return polls.can_subscribe(session, user, ident, results=kind == "poll-results")
    if kind == "briefing":
        from kyoso.services import briefings

        return briefings.can_view(session, user, ident)
    return False
