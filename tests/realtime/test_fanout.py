"""From an event to rooms (``realtime/fanout.py``): a result hidden from
members never goes to a room everyone is in, a hidden post carries no text,
and a client is only ever put in rooms of topics its member may see."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from reflex.state import State
from sqlmodel import Session

import kyoso.kyoso  # noqa: F401 - the states register themselves as live
from kyoso import realtime
from kyoso.db import off_loop
from kyoso.models import ResultsVisibility, Role, UserStatus
from kyoso.realtime import fanout
from kyoso.realtime.registry import live_state_names, state_name
from kyoso.services import briefing_room, messages, polls
from kyoso.services.events import MessageChanged, PollChanged, TallyChanged
from tests.conftest import FakeSio
from tests.utils.factories import make_briefing, make_channel, make_poll, make_user, post

HIDDEN = [ResultsVisibility.owner, ResultsVisibility.after_vote, ResultsVisibility.after_close]


def built(event: Any) -> dict[str, dict[str, Any]]:
    routed = fanout.route(event)
    assert routed is not None, f"no route for {event!r}"
    return routed[1]()


def ops(payload: dict[str, Any]) -> list[dict[str, Any]]:
    (state, delta), = payload["delta"].items()
    return delta["live_patch_rx_state_"]["ops"]


@pytest.mark.parametrize("visibility", HIDDEN)
def test_a_hidden_tally_never_goes_to_the_channel_room(session: Session, visibility: str) -> None:
    author = make_user(session, role=Role.national)
    channel = make_channel(session)
    poll = make_poll(session, author, channel, visibility=visibility)
    rooms = built(TallyChanged(poll.id or 0))
    assert list(rooms) == [f"poll-results:{poll.id}"]
    # The poll's definition goes to the channel, without its tally.
    definition = built(PollChanged(poll.id or 0, channel.id))
    assert list(definition) == [f"channel:{channel.id}"]
    assert [op["var"] for op in ops(definition[f"channel:{channel.id}"])] == ["polls"]


def test_an_open_tally_goes_to_the_whole_room(session: Session) -> None:
    author = make_user(session, role=Role.national)
    channel = make_channel(session)
    poll = make_poll(session, author, channel)
    assert list(built(TallyChanged(poll.id or 0))) == [f"channel:{channel.id}"]
    definition = built(PollChanged(poll.id or 0, channel.id))[f"channel:{channel.id}"]
    assert [op["var"] for op in ops(definition)] == ["polls", "tallies"]


def test_a_briefing_poll_with_hidden_results_stays_out_of_the_room(session: Session) -> None:
    organiser = make_user(session, role=Role.national)
    briefing = make_briefing(session, organiser)
    poll = polls.create_briefing_poll(session, organiser, briefing.id or 0, polls.PollInput(
        "今日の説明は分かりやすかったですか", ["はい", "いいえ"], visibility=ResultsVisibility.owner))
    session.commit()
    assert list(built(TallyChanged(poll.id or 0))) == [f"poll-results:{poll.id}"]
    # Not shown yet: the room is not even told the question (issue 14).
    assert built(PollChanged(poll.id or 0, None, briefing.id)) == {}
    briefing_room.set_live_poll(session, organiser, briefing.id or 0, poll.id)
    session.commit()
    room = built(PollChanged(poll.id or 0, None, briefing.id))[f"briefing:{briefing.id}"]
    assert "tallies" not in [op["var"] for op in ops(room)]


def test_a_poll_hidden_with_its_message_stays_out_of_the_channel(session: Session) -> None:
    author, moderator = make_user(session), make_user(session, role=Role.moderator)
    channel = make_channel(session)
    poll = make_poll(session, author, channel)
    messages.hide_message(session, moderator, poll.message_id or 0)
    session.commit()
    assert f"channel:{channel.id}" not in built(PollChanged(poll.id or 0, channel.id))


def test_a_hidden_post_reaches_the_room_without_its_text(session: Session) -> None:
    author, moderator = make_user(session), make_user(session, role=Role.moderator)
    channel = make_channel(session)
    message = post(session, author, channel, "運営が隠す投稿")
    messages.hide_message(session, moderator, message.id or 0)
    session.commit()
    payload = built(MessageChanged(channel.id or 0, message.id or 0, None, "hidden"))
    assert list(payload) == [f"channel:{channel.id}"]
    assert "運営が隠す投稿" not in str(payload)
    assert ops(payload[f"channel:{channel.id}"])[0] == {"op": "remove", "var": "messages", "id": message.id}


def test_every_op_patches_a_var_of_its_registered_state() -> None:
    """The builders and the states agree on names (a renamed var would
    silently stop updating browsers)."""
    source = Path(fanout.__file__).read_text(encoding="utf-8")
    used = set(re.findall(r'"var": "(\w+)"', source))
    names = set(re.findall(r'update\("(\w+)"', source))
    held = set()
    for name in names:
        cls = State.get_class_substate(tuple(state_name(name).split(".")[1:]))
        assert "live_patch" in cls.base_vars, name
        held |= set(cls.base_vars)
    assert used <= held, used - held
    assert sorted(state_name(n) for n in names) == live_state_names()


class _Client:
    """What ``realtime.subscribe`` needs of a Reflex state: its socket id,
    in Reflex's router data as stored."""

    def __init__(self, sid: str) -> None:
        self.session = type("S", (), {"session_id": sid})()

    def get_value(self, name: str) -> object:
        assert name == "rx_router_session"
        return self.session




async def test_a_topic_the_member_may_not_see_is_never_joined(session: Session, sio: FakeSio) -> None:
    author = make_user(session, role=Role.national)
    member, other = make_user(session), make_user(session)
    channel = make_channel(session)
    owner_only = make_poll(session, author, channel, visibility=ResultsVisibility.owner)
    client = _Client("sid-member")
    granted = await off_loop(lambda: realtime.subscribe(client, "page", [
        f"channel:{channel.id}", f"user:{member.id}", f"user:{other.id}",
        f"poll-results:{owner_only.id}", "no-such-kind:1"], session, member))
    assert granted == [f"channel:{channel.id}", f"user:{member.id}"]
    assert sio.rooms["sid-member"] == {f"channel:{channel.id}", f"user:{member.id}"}
    assert not await off_loop(lambda: realtime.add_topic(client, "polls", f"poll-results:{owner_only.id}",
                                                         session, member))
    assert f"poll-results:{owner_only.id}" not in sio.rooms["sid-member"]
    # The author may.
    assert await off_loop(lambda: realtime.add_topic(_Client("sid-author"), "polls",
                                                     f"poll-results:{owner_only.id}", session, author))


async def test_a_suspended_member_joins_no_room(session: Session, sio: FakeSio) -> None:
    member = make_user(session)
    channel = make_channel(session)
    member.status = UserStatus.suspended
    assert await off_loop(lambda: realtime.subscribe(_Client("sid-s"), "page", [f"channel:{channel.id}", "all"],
                                                     session, member)) == []
    assert sio.rooms.get("sid-s", set()) == set()


def test_a_hidden_question_leaves_the_room_list(session: Session) -> None:
    organiser, asker = make_user(session, role=Role.national), make_user(session)
    briefing = make_briefing(session, organiser)
    question = briefing_room.ask(session, asker, briefing.id or 0, "非表示にされる質問")
    briefing_room.hide_question(session, organiser, question.id or 0)
    session.commit()
    from kyoso.services.events import BriefingChanged

    room = built(BriefingChanged(briefing.id or 0, "questions"))[f"briefing:{briefing.id}"]
    assert "非表示にされる質問" not in str(room)
