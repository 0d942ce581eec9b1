"""Domain events: what a committed change means for the people watching.

A ``do_*`` function returns the events its change caused. The caller publishes
them through the realtime module after the transaction has committed, never
before (a rolled-back change must not reach anyone). Each event names its
audience as topics; the domain decides who may subscribe to a topic
(``kyoso.services.topics``).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Event:
    """Base class. ``topics`` are the audiences this event is delivered to."""

    @property
    def topics(self) -> tuple[str, ...]:
        return ()


@dataclass(frozen=True)
class MessageChanged(Event):
    """A message was posted, edited, deleted, hidden or restored."""

    channel_id: int
    message_id: int
    parent_id: int | None
    change: str  # posted | edited | deleted | hidden | restored | marked

    @property
    def topics(self) -> tuple[str, ...]:
        return (f"channel:{self.channel_id}",)


@dataclass(frozen=True)
class StampsChanged(Event):
    channel_id: int
    message_id: int
    parent_id: int | None
    user_id: int  # whose stamps changed (their other tabs learn it too)

    @property
    def topics(self) -> tuple[str, ...]:
        return (f"channel:{self.channel_id}", f"user:{self.user_id}")


@dataclass(frozen=True)
class ChannelChanged(Event):
    """A channel's name, description, archive state or membership changed."""

    channel_id: int

    @property
    def topics(self) -> tuple[str, ...]:
        return (f"channel:{self.channel_id}",)


@dataclass(frozen=True)
class UnreadChanged(Event):
    """A new thread in a channel: members' unread counts move."""

    channel_id: int
    message_id: int
    author_id: int

    @property
    def topics(self) -> tuple[str, ...]:
        return (f"unread:{self.channel_id}",)


@dataclass(frozen=True)
class InboxChanged(Event):
    user_id: int

    @property
    def topics(self) -> tuple[str, ...]:
        return (f"user:{self.user_id}",)


@dataclass(frozen=True)
class PollChanged(Event):
    """A poll's definition or state changed (created, edited, closed, reopened)."""

    poll_id: int
    channel_id: int | None
    briefing_id: int | None = None

    @property
    def topics(self) -> tuple[str, ...]:
        t = (f"poll:{self.poll_id}",)
        if self.channel_id:
            t += (f"channel:{self.channel_id}",)
        if self.briefing_id:
            t += (f"briefing:{self.briefing_id}",)
        return t


@dataclass(frozen=True)
class TallyChanged(Event):
    """A ballot was cast or changed. Delivered only to those allowed to see results."""

    poll_id: int

    @property
    def topics(self) -> tuple[str, ...]:
        return (f"poll-results:{self.poll_id}",)


@dataclass(frozen=True)
class BriefingChanged(Event):
    """Questions, the live poll or registrations of a briefing changed."""

    briefing_id: int
    what: str = "room"  # room | questions | registrations | attendance

    @property
    def topics(self) -> tuple[str, ...]:
        return (f"briefing:{self.briefing_id}",)


@dataclass(frozen=True)
class AnnouncementPublished(Event):
    announcement_id: int
    channel_ids: tuple[int, ...]

    @property
    def topics(self) -> tuple[str, ...]:
        # Members of those channels (their sidebar rooms); everyone if important.
        return tuple(f"unread:{c}" for c in self.channel_ids) + ("all",)
