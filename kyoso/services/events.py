"""Domain events: what a committed change means for the people watching.

A change records the events it caused on its session (``record``), as
Zulip's ``send_event_on_commit`` does; whoever committed the transaction
takes them (``take``) and hands them to the realtime module, never before the
commit (a rolled-back change must reach no one). Which rooms an event reaches
is decided in ``kyoso.realtime.fanout`` from the database at send time; who may
be in a room is decided by ``kyoso.services.topics``.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session

_KEY = "kyoso.events"


@dataclass(frozen=True)
class Event:
    """Base class of the domain's events."""


def record(session: Session, *events: Event) -> None:
    """Note events caused by a change made in ``session``."""
    session.info.setdefault(_KEY, []).extend(events)


def count(session: Session) -> int:
    """How many events ``session`` has recorded so far (a place for ``insert``)."""
    return len(session.info.get(_KEY, ()))


def insert(session: Session, index: int, event: Event) -> None:
    """Record ``event`` at ``index``: delivered before those recorded after that point."""
    session.info.setdefault(_KEY, []).insert(index, event)


def take(session: Session) -> list[Event]:
    """The events recorded in ``session``, once (after its commit)."""
    return session.info.pop(_KEY, [])


@dataclass(frozen=True)
class MessageChanged(Event):
    """A message was posted, edited, deleted, hidden or restored."""

    channel_id: int
    message_id: int
    parent_id: int | None
    change: str  # posted | edited | deleted | hidden | restored | marked | replied


@dataclass(frozen=True)
class StampsChanged(Event):
    channel_id: int
    message_id: int
    parent_id: int | None
    user_id: int  # whose stamps changed
    stamp: str  # which one they pressed
    pressed: bool  # whether it is theirs now (added, or taken back)


@dataclass(frozen=True)
class ChannelChanged(Event):
    """A channel's name, description, archive state or membership changed."""

    channel_id: int


@dataclass(frozen=True)
class UnreadChanged(Event):
    """A new thread in a channel: members' unread counts move."""

    channel_id: int
    message_id: int
    author_id: int


@dataclass(frozen=True)
class InboxChanged(Event):
    user_id: int


@dataclass(frozen=True)
class PollChanged(Event):
    """A poll's definition or state changed (created, edited, closed, reopened)."""

    poll_id: int
    channel_id: int | None
    briefing_id: int | None = None


@dataclass(frozen=True)
class TallyChanged(Event):
    """A ballot was cast or changed. Delivered only to those allowed to see results."""

    poll_id: int


@dataclass(frozen=True)
class BriefingChanged(Event):
    """Questions, the live poll or registrations of a briefing changed."""

    briefing_id: int
    what: str = "room"  # room | questions | registrations | attendance


@dataclass(frozen=True)
class AnnouncementPublished(Event):
    announcement_id: int
    channel_ids: tuple[int, ...]


@dataclass(frozen=True)
class AnnouncementShown(Event):
    """An お知らせ was withdrawn (one of its channel messages hidden or
    deleted: ``shown`` false) or came back (restored by 運営)."""

    announcement_id: int
    shown: bool


@dataclass(frozen=True)
class SessionsEnded(Event):
    """A member's sessions ended (logout, log out everywhere, suspension): the
    open tabs of those sessions leave every live room at once."""

    user_id: int
    token_hash: str = ""  # only this session
    keep_hash: str = ""  # every session but this one (a password change keeps its own tab)


@dataclass(frozen=True)
class AccessChanged(Event):
    """What a member may receive changed (a role, a withdrawn vote), or who may
    receive a topic (a poll hidden with its message): the sockets concerned
    keep only the live topics ``services/topics.py`` still grants."""

    user_id: int = 0
    topic: str = ""  # with no user: every socket in this topic's room
