"""From domain events to live patches: which room, which state, which ops.

``publish(events)`` delivers committed events. For each event ``route``
gives a coalescing key (or none: send at once) and a builder; builders run
when the emit happens and read the database then, so a coalesced emit always
carries the latest truth. A builder returns ``{room: payload}``: the rooms
are topics (``kyoso.services.topics`` decides who may be in each), the
payload a Reflex-shaped update of one registered live state (``registry``).
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Iterable
from typing import Any

from kyoso import routes
from kyoso.db import assert_no_write_transaction, read_scope
from kyoso.models import Announcement, Briefing, Message, Poll
from kyoso.realtime.hub import hub
from kyoso.realtime.registry import state_name
from kyoso.services import (
    announcements,
    briefing_room,
    channels,
    messages,
    notifications,
    polls,
    stamps,
    visibility,
)
from kyoso.services.events import (
    AccessChanged,
    AnnouncementPublished,
    AnnouncementShown,
    BriefingChanged,
    ChannelChanged,
    Event,
    InboxChanged,
    MessageChanged,
    PollChanged,
    SessionsEnded,
    StampsChanged,
    TallyChanged,
    UnreadChanged,
)

logger = logging.getLogger("kyoso.realtime")

Builder = Callable[[], dict[str, dict[str, Any]]]


def update(live_name: str, ops: list[dict[str, Any]]) -> dict[str, Any]:
    """A Reflex-shaped state update carrying one live patch for the state
    registered as ``live_name``."""
    return {"delta": {state_name(live_name): {"live_patch_rx_state_": hub.patch(ops)}}, "events": []}


def _asdict(view: Any) -> dict[str, Any]:
    return dataclasses.asdict(view)


# -- ops ---------------------------------------------------------------------


def message_ops(view: messages.MessageView, change: str) -> list[dict[str, Any]]:
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


def poll_rooms(poll: Poll) -> list[str]:
    """Where a poll is shown: its channel, or its 説明会's room."""
    rooms = []
    if poll.channel_id:
        rooms.append(f"channel:{poll.channel_id}")
    if poll.briefing_id:
        rooms.append(f"briefing:{poll.briefing_id}")
    return rooms


# -- builders (run when the emit happens) -------------------------------------


def _build_message(ev: MessageChanged) -> Builder:
    def build() -> dict[str, dict[str, Any]]:
        with read_scope() as session:
            view = messages.view(session, ev.message_id)
        if view is None:
            return {}
        return {f"channel:{ev.channel_id}": update("channel", message_ops(view, ev.change))}

    return build


def _build_stamps(ev: StampsChanged) -> Builder:
    def build() -> dict[str, dict[str, Any]]:
        with read_scope() as session:
            view = messages.view(session, ev.message_id)
        if view is None:
            return {}
        fields = {"stamps": [_asdict(s) for s in view.stamps]}
        var = "messages" if view.parent_id == 0 else "thread_replies"
        ops = [{"op": "patch", "var": var, "id": view.id, "fields": fields, "rev": view.rev}]
        if view.parent_id == 0:
            ops.append({"op": "patch", "var": "thread_parent", "id": view.id, "fields": fields,
                        "rev": view.rev})
        return {f"channel:{ev.channel_id}": update("channel", ops)}

    return build


def _my_stamp(ev: StampsChanged) -> dict[str, dict[str, Any]]:
    """The presser's own tabs learn whether the stamp is theirs now (the room's
    update says only how many pressed it): from the event, with no read, as a
    stamp vote sends one per press."""
    op = {"op": "member", "var": "my_stamps", "value": stamps.stamp_key(ev.message_id, ev.stamp),
          "present": ev.pressed}
    return {f"user:{ev.user_id}": update("channel", [op])}


def _build_unread(ev: UnreadChanged) -> Builder:
    def build() -> dict[str, dict[str, Any]]:
        with read_scope() as session:
            slug = channels.get_channel(session, ev.channel_id).slug
        op = {
            "op": "incr", "var": "channels", "id": ev.channel_id, "field": "unread", "by": 1,
            "unless_me": ev.author_id,
            # Someone reading the channel right now sees the message itself.
            "unless": {"path": routes.channel(slug)},
        }
        return {f"unread:{ev.channel_id}": update("sidebar", [op])}

    return build


def _build_inbox(ev: InboxChanged) -> Builder:
    def build() -> dict[str, dict[str, Any]]:
        with read_scope() as session:
            count = notifications.unread_count(session, ev.user_id)
        return {f"user:{ev.user_id}": update("sidebar", [
            {"op": "set", "var": "inbox_unread", "value": count}])}

    return build


def _build_channel(ev: ChannelChanged) -> Builder:
    def build() -> dict[str, dict[str, Any]]:
        with read_scope() as session:
            header = channels.header(channels.get_channel(session, ev.channel_id))
        return {f"channel:{ev.channel_id}": update("channel", [
            {"op": "replace", "var": "channel", "item": _asdict(header)}])}

    return build


def _build_poll(ev: PollChanged) -> Builder:
    """A poll was created, edited, closed or reopened: every reader gets the
    definition; the tally goes along only where the whole room may see it."""

    def build() -> dict[str, dict[str, Any]]:
        with read_scope() as session:
            poll = session.get(Poll, ev.poll_id)
            if poll is None:
                return {}
            view = polls.view(session, poll)
            results_room = polls.results_topic(poll)
            tally = polls.tally(session, poll)
            # The room sees the poll only where every reader may
            # (visibility.py): not once its message is hidden, nor a 説明会's
            # poll the organiser has not shown yet.
            rooms = [room for room in poll_rooms(poll) if _room_may_see(session, poll, room)]
        out = {}
        for room in rooms:
            ops: list[dict[str, Any]] = [
                {"op": "put", "var": "polls", "key": str(ev.poll_id), "value": _asdict(view)}]
            if room == results_room:
                ops.append({"op": "put", "var": "tallies", "key": str(ev.poll_id),
                            "value": _asdict(tally)})
            out[room] = update("polls", ops)
        return out

    return build


def _room_may_see(session: Any, poll: Poll, room: str) -> bool:
    if room.startswith("channel:"):
        return visibility.message_open(session, session.get(Message, poll.message_id) if poll.message_id else None)
    briefing = session.get(Briefing, poll.briefing_id) if poll.briefing_id else None
    return briefing is not None and visibility.briefing_poll_shown(session, poll, briefing)


def _build_tally(ev: TallyChanged) -> Builder:
    """New counts, only to the room of those allowed to see them."""

    def build() -> dict[str, dict[str, Any]]:
        with read_scope() as session:
            poll = session.get(Poll, ev.poll_id)
            if poll is None:
                return {}
            tally = polls.tally(session, poll)
            room = polls.results_topic(poll)
        return {room: update("polls", [
            {"op": "put", "var": "tallies", "key": str(ev.poll_id), "value": _asdict(tally)}])}

    return build


def _build_briefing(ev: BriefingChanged) -> Builder:
    """The room's shared parts: the header (counts), the live poll, the questions."""

    def build() -> dict[str, dict[str, Any]]:
        bid = ev.briefing_id
        with read_scope() as session:
            if ev.what == "attendance":  # an arrival storm's event: the count alone
                return {f"briefing:{bid}": update("briefing", [
                    {"op": "set", "var": "attendance", "value": briefing_room.attendance(session, bid)}])}
            briefing = session.get(Briefing, bid)
            if briefing is None:
                return {}
            ops: list[dict[str, Any]] = []
            if ev.what in ("room", "registrations"):
                view, came = briefing_room.header(session, briefing)
                ops.append({"op": "set", "var": "attendance", "value": came})
                ops.append({"op": "replace", "var": "briefing", "item": _asdict(view)})
                ops.append({"op": "set", "var": "live_poll_id", "value": briefing.live_poll_id or 0})
            if ev.what in ("room", "questions"):
                version = briefing_room.questions_version(session, bid)
                guard = {"rev": version, "rev_var": "questions_rev"}
                ops.append({"op": "set", "var": "questions", **guard,
                            "value": [_asdict(q) for q in briefing_room.questions(session, bid)]})
                ops.append({"op": "set", "var": "questions_rev", **guard, "value": version})
        return {f"briefing:{bid}": update("briefing", ops)}

    return build


def _build_announcement(ev: AnnouncementPublished) -> Builder:
    """A new お知らせ on the home page of the members of its channels (and of
    everyone when it is important)."""

    def build() -> dict[str, dict[str, Any]]:
        with read_scope() as session:
            made = announcements.broadcast_view(session, ev.announcement_id)
        if made is None:
            return {}
        view, importance, channel_ids = made
        # Unread for every receiver; its author's own browser reads it as read (as_me).
        payload = update("home", [
            {"op": "upsert", "var": "announcements", "item": _asdict(view), "insert": True, "desc": True,
             "as_me": {"id": view.author_id, "fields": {"unread": False}}}])
        rooms = ["all"] if importance == "high" else [f"unread:{c}" for c in channel_ids]
        return {room: payload for room in rooms}

    return build


def _build_announcement_withdrawn(ev: AnnouncementShown) -> Builder:
    """An お知らせ withdrawn (one of its channel messages hidden or deleted)
    leaves the home feeds and the channels' pins at once. (Restored by 運営,
    it is back on the next page load: who had read it differs per reader.)"""

    def build() -> dict[str, dict[str, Any]]:
        with read_scope() as session:
            a = session.get(Announcement, ev.announcement_id)
            if a is None or visibility.announcement_shown(session, ev.announcement_id):
                return {}  # restored since
            channel_ids = announcements.channel_ids_of(session, ev.announcement_id)
            important = a.importance == "high"
        rooms = ["all"] if important else [f"unread:{c}" for c in channel_ids]
        home = update("home", [{"op": "remove", "var": "announcements", "id": ev.announcement_id}])
        pins = update("channel", [{"op": "remove", "var": "pinned", "id": ev.announcement_id}])
        return {**{room: home for room in rooms}, **{f"channel:{c}": pins for c in channel_ids}}

    return build


# -- routing and publishing ----------------------------------------------------


def revocation_of(ev: Event) -> dict[str, Any] | None:
    """The hub's revocation for an event that takes rights away (hub.py, "Leaving rooms")."""
    if isinstance(ev, SessionsEnded):
        return {"user": ev.user_id, "token": ev.token_hash, "keep": ev.keep_hash, "all": True}
    if isinstance(ev, AccessChanged):
        return {"user": ev.user_id, "topic": ev.topic, "all": False}
    return None



def route(ev: Event) -> tuple[str | None, Builder] | None:
    """(coalescing key, or None to send at once; builder) for an event.
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
    if isinstance(ev, AnnouncementShown) and not ev.shown:
        return None, _build_announcement_withdrawn(ev)
    if isinstance(ev, ChannelChanged):
        return f"channel:{ev.channel_id}", _build_channel(ev)
    return None


def own_tabs(ev: Event) -> dict[str, dict[str, Any]]:
    """What the member who caused an event sees besides the room's update, in
    all their tabs (``{room: payload}``, from the event alone): sent at once,
    never coalesced with another member's."""
    if isinstance(ev, StampsChanged):
        return _my_stamp(ev)
    return {}


async def publish(events: Iterable[Event]) -> None:
    """Deliver committed events to the rooms of their topics."""
    assert_no_write_transaction("realtime.publish")
    seen: set[Event] = set()
    for ev in events:
        if ev in seen:
            continue
        seen.add(ev)
        if (revocation := revocation_of(ev)) is not None:
            await hub.revoke(revocation)
            continue
        routed = route(ev)
        if routed is None:
            logger.debug("no live delivery for %r", ev)
            continue
        key, builder = routed
        if key is None:
            await hub.send_now(builder)
        elif (task := hub.send_coalesced(key, builder)) is not None:
            await task
        for room, payload in own_tabs(ev).items():
            await hub.emit(room, payload)
