"""From domain events to live patches: which room, which state, which ops.

``publish(events)`` is the one call states make after a change has committed.
Payloads are built from the database when they are sent, so a coalesced
emit always carries the latest truth.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterable
from typing import Any

from kyoso.db import read_scope
from kyoso.realtime.hub import hub
from kyoso.realtime.registry import state_name
from kyoso.services import channels as channel_svc
from kyoso.services import messages as message_svc
from kyoso.services import notifications
from kyoso.services import polls as poll_svc
from kyoso.services.events import (
    AnnouncementPublished,
    BriefingChanged,
    ChannelChanged,
    Event,
    InboxChanged,
    MessageChanged,
    PollChanged,
    StampsChanged,
    TallyChanged,
    UnreadChanged,
)

logger = logging.getLogger("kyoso.realtime")


def _states() -> tuple[str, str]:
    from kyoso.states.channel import ChannelState
    from kyoso.states.sidebar import SidebarState

    return state_name(ChannelState), state_name(SidebarState)


def update(state: str, ops: list[dict[str, Any]]) -> dict[str, Any]:
    """A Reflex-shaped state update carrying one live patch."""
    return {"delta": {state: {"live_patch_rx_state_": hub.patch(ops)}}, "events": []}


def _asdict(view: Any) -> dict[str, Any]:
    return dataclasses.asdict(view)


# -- builders (run when the emit happens) ----------------------------------


def message_ops(view: message_svc.MessageView, change: str) -> list[dict[str, Any]]:
    """Ops that bring a channel page up to date with one message."""
    item = _asdict(view)
    gone = view.deleted or view.hidden
    if view.parent_id == 0:
        ops: list[dict[str, Any]] = []
        if gone and view.reply_count == 0:
            ops.append({"op": "remove", "var": "messages", "id": view.id})
        else:
            ops.append({"op": "upsert", "var": "messages", "item": item, "insert": change == "posted"})
        ops.append({"op": "replace", "var": "thread_parent", "item": item})
        return ops
    open_thread = {"var": "thread_open_id", "eq": view.parent_id}
    if gone:
        return [{"op": "remove", "var": "thread_replies", "id": view.id, "when": open_thread}]
    return [{"op": "upsert", "var": "thread_replies", "item": item, "insert": change == "posted",
             "when": open_thread}]


def _build_message(ev: MessageChanged):  # type: ignore[no-untyped-def]
    def build() -> dict[str, dict[str, Any]]:
        channel_state, _ = _states()
        with read_scope() as session:
            view = message_svc.view(session, ev.message_id)
        if view is None:
            return {}
        return {f"channel:{ev.channel_id}": update(channel_state, message_ops(view, ev.change))}

    return build


def _build_stamps(ev: StampsChanged):  # type: ignore[no-untyped-def]
    def build() -> dict[str, dict[str, Any]]:
        channel_state, _ = _states()
        with read_scope() as session:
            view = message_svc.view(session, ev.message_id)
        if view is None:
            return {}
        fields = {"stamps": [_asdict(s) for s in view.stamps]}
        var = "messages" if view.parent_id == 0 else "thread_replies"
        ops = [{"op": "patch", "var": var, "id": view.id, "fields": fields, "rev": view.rev}]
        if view.parent_id == 0:
            ops.append({"op": "patch", "var": "thread_parent", "id": view.id, "fields": fields,
                        "rev": view.rev})
        return {f"channel:{ev.channel_id}": update(channel_state, ops)}

    return build


def _build_unread(ev: UnreadChanged):  # type: ignore[no-untyped-def]
    def build() -> dict[str, dict[str, Any]]:
        _, sidebar_state = _states()
        with read_scope() as session:
            slug = channel_svc.get_channel(session, ev.channel_id).slug
        op = {
            "op": "incr", "var": "channels", "id": ev.channel_id, "field": "unread", "by": 1,
            "unless_me": ev.author_id,
            # Someone reading the channel right now sees the message itself.
            "unless": {"path": f"/c/{slug}"},
        }
        return {f"unread:{ev.channel_id}": update(sidebar_state, [op])}

    return build


def _build_inbox(ev: InboxChanged):  # type: ignore[no-untyped-def]
    def build() -> dict[str, dict[str, Any]]:
        _, sidebar_state = _states()
        with read_scope() as session:
            count = notifications.unread_count(session, ev.user_id)
        return {f"user:{ev.user_id}": update(sidebar_state, [
            {"op": "set", "var": "inbox_unread", "value": count}])}

    return build


def _build_channel(ev: ChannelChanged):  # type: ignore[no-untyped-def]
    def build() -> dict[str, dict[str, Any]]:
        channel_state, _ = _states()
        with read_scope() as session:
            header = channel_header(channel_svc.get_channel(session, ev.channel_id))
        return {f"channel:{ev.channel_id}": update(channel_state, [
            {"op": "replace", "var": "channel", "item": _asdict(header)}])}

    return build


def _poll_state() -> str:
    from kyoso.states.polls import PollState

    return state_name(PollState)


def _poll_rooms(poll: Any) -> list[str]:
    rooms = []
    if poll.channel_id:
        rooms.append(f"channel:{poll.channel_id}")
    if poll.briefing_id:
        rooms.append(f"briefing:{poll.briefing_id}")
    return rooms


def _build_poll(ev: PollChanged):  # type: ignore[no-untyped-def]
    """A poll was created, edited, closed or reopened: every reader gets the
    definition; the tally goes along only where the whole room may see it."""

    def build() -> dict[str, dict[str, Any]]:
        with read_scope() as session:
            poll = session.get(poll_svc.Poll, ev.poll_id)
            if poll is None:
                return {}
            view = poll_svc.view(session, poll)
            results_room = poll_svc.results_topic(poll)
            tally = poll_svc.tally(session, poll)
        out = {}
        for room in _poll_rooms(poll):
            ops: list[dict[str, Any]] = [
                {"op": "put", "var": "polls", "key": str(ev.poll_id), "value": _asdict(view)}]
            if room == results_room:
                ops.append({"op": "put", "var": "tallies", "key": str(ev.poll_id),
                            "value": _asdict(tally)})
            out[room] = update(_poll_state(), ops)
        return out

    return build


def _build_tally(ev: TallyChanged):  # type: ignore[no-untyped-def]
    """New counts, only to the room of those allowed to see them."""

    def build() -> dict[str, dict[str, Any]]:
        with read_scope() as session:
            poll = session.get(poll_svc.Poll, ev.poll_id)
            if poll is None:
                return {}
            tally = poll_svc.tally(session, poll)
            room = poll_svc.results_topic(poll)
        return {room: update(_poll_state(), [
            {"op": "put", "var": "tallies", "key": str(ev.poll_id), "value": _asdict(tally)}])}

    return build


def _build_briefing(ev: BriefingChanged):  # type: ignore[no-untyped-def]
    """The room's shared parts: the header (counts), the live poll, the questions."""

    def build() -> dict[str, dict[str, Any]]:
        from kyoso.services import briefings
        from kyoso.states.briefings import BriefingState

        with read_scope() as session:
            briefing = session.get(briefings.Briefing, ev.briefing_id)
            if briefing is None:
                return {}
            ops: list[dict[str, Any]] = []
            if ev.what == "attendance":
                ops.append({"op": "set", "var": "attendance",
                            "value": briefings.attendance(session, ev.briefing_id)})
            if ev.what in ("room", "registrations"):
                ops.append({"op": "replace", "var": "briefing",
                            "item": _asdict(briefings.view(session, briefing))})
                ops.append({"op": "set", "var": "live_poll_id", "value": briefing.live_poll_id or 0})
                ops.append({"op": "set", "var": "attendance",
                            "value": briefings.attendance(session, ev.briefing_id)})
            if ev.what in ("room", "questions"):
                version = briefings.questions_version(session, ev.briefing_id)
                ops.append({"op": "set", "var": "questions", "rev": version, "rev_var": "questions_rev",
                            "value": [_asdict(q) for q in briefings.questions(session, ev.briefing_id)]})
                ops.append({"op": "set", "var": "questions_rev", "rev": version, "rev_var": "questions_rev",
                            "value": version})
        return {f"briefing:{ev.briefing_id}": update(state_name(BriefingState), ops)}

    return build


def _build_announcement(ev: AnnouncementPublished):  # type: ignore[no-untyped-def]
    """A new お知らせ on the home page of the members of its channels (and of
    everyone when it is important)."""

    def build() -> dict[str, dict[str, Any]]:
        from kyoso.services import announcements
        from kyoso.states.home import HomeState

        with read_scope() as session:
            a = session.get(announcements.Announcement, ev.announcement_id)
            if a is None:
                return {}
            author = session.get(announcements.User, a.author_id)
            item = _asdict(announcements._views(session, author, [a])[0])  # type: ignore[arg-type]
        item["unread"] = True
        payload = update(state_name(HomeState), [
            {"op": "upsert", "var": "announcements", "item": item, "insert": True, "desc": True}])
        rooms = ["all"] if a.importance == "high" else [f"unread:{c}" for c in ev.channel_ids]
        return {room: payload for room in rooms}

    return build


@dataclasses.dataclass
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


def channel_header(channel: Any) -> ChannelHeader:
    return ChannelHeader(
        id=channel.id or 0, slug=channel.slug, name=channel.name, description=channel.description,
        kind=channel.kind, member_count=channel.member_count,
        archived=channel.archived_at is not None, allow_replies=channel.allow_replies,
    )


# -- publishing -----------------------------------------------------------


async def publish(events: Iterable[Event]) -> None:
    """Deliver committed events to the rooms of their topics."""
    from kyoso.db import assert_no_write_transaction

    assert_no_write_transaction("realtime.publish")
    seen: set[Event] = set()
    for ev in events:
        if ev in seen:
            continue
        seen.add(ev)
        route = _route(ev)
        if route is None:
            logger.debug("no live delivery for %r", ev)
            continue
        key, builder = route
        if key is None:
            await hub.send_now(builder)
        elif (task := hub.send_coalesced(key, builder)) is not None:
            await task


def _route(ev: Event) -> tuple[str | None, Any] | None:
    """(coalescing key or None to send at once, builder) for an event.
    Bursty changes (reply counts, stamps, tallies, questions) are coalesced."""
    if isinstance(ev, MessageChanged):
        return (f"msg:{ev.message_id}" if ev.change == "replied" else None), _build_message(ev)
    if isinstance(ev, StampsChanged):
        return f"stamps:{ev.message_id}", _build_stamps(ev)
    if isinstance(ev, UnreadChanged):
        return None, _build_unread(ev)
    if isinstance(ev, InboxChanged):
        return f"inbox:{ev.user_id}", _build_inbox(ev)
    if isinstance(ev, PollChanged):
        return None, _build_poll(ev)
    if isinstance(ev, TallyChanged):
        return f"tally:{ev.poll_id}", _build_tally(ev)
    if isinstance(ev, BriefingChanged):
        if ev.what == "attendance":
            return f"attendance:{ev.briefing_id}", _build_briefing(ev)
        return f"briefing:{ev.briefing_id}:{ev.what}", _build_briefing(ev)
    if isinstance(ev, AnnouncementPublished):
        return None, _build_announcement(ev)
    if isinstance(ev, ChannelChanged):
        return f"channel:{ev.channel_id}", _build_channel(ev)
    return None
