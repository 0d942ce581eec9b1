"""Live membership follows rights at once: logout, log out everywhere,
suspension, a role change and a withdrawn vote leave the rooms concerned
(``realtime/hub.py`` "Leaving rooms"; across workers: tests/realtime/test_revocation.py)."""

from __future__ import annotations

from sqlmodel import Session

from kyoso.models import ResultsVisibility, Role
from kyoso.services import moderation
from kyoso.states.admin import AdminState
from kyoso.states.channel import ChannelState
from kyoso.states.polls import PollState
from kyoso.states.session import SessionState
from tests.utils.factories import make_channel, make_poll, make_user


# Socket ids differ between tests: the hub is the process's.
async def _open(states, token: str, sid: str) -> ChannelState:  # type: ignore[no-untyped-def]
    page = states(ChannelState, token, "/c/[slug]", slug="general", sid=sid)
    assert await page.open_channel() is None
    return page


async def test_logout_leaves_every_room_of_that_session_only(session: Session, states, token_of, sio,
                                                            published) -> None:
    member = make_user(session)
    make_channel(session, slug="general")
    first, second = token_of(member), token_of(member)
    page = await _open(states, first, "sid-a0")
    await _open(states, second, "sid-b0")
    assert f"user:{member.id}" in sio.rooms["sid-a0"] and sio.rooms["sid-b0"]
    await (await page.get_state(SessionState)).logout()
    await published()
    assert sio.rooms["sid-a0"] == set()
    assert f"user:{member.id}" in sio.rooms["sid-b0"]  # another browser of the same member


async def test_log_out_everywhere_and_suspension_leave_every_tab(session: Session, states, token_of, sio,
                                                                 published) -> None:
    member, other = make_user(session), make_user(session)
    moderator = make_user(session, role=Role.moderator)
    make_channel(session, slug="general")
    page = await _open(states, token_of(member), "sid-a1")
    await _open(states, token_of(member), "sid-b1")
    await _open(states, token_of(other), "sid-c1")
    await (await page.get_state(SessionState)).logout_everywhere()
    await published()
    assert sio.rooms["sid-a1"] == sio.rooms["sid-b1"] == set()
    # Suspended by 運営 from another browser: every tab of the member leaves.
    session.refresh(member)  # its session epoch moved on
    await _open(states, token_of(member), "sid-d1")
    admin = states(AdminState, token_of(moderator), "/admin", sid="sid-m1")
    await admin.set_suspended(member.id, True)
    await published()
    assert sio.rooms["sid-d1"] == set()
    assert f"user:{other.id}" in sio.rooms["sid-c1"]


async def test_a_withdrawn_vote_leaves_a_voters_only_results_room(session: Session, states, token_of, sio,
                                                                  published) -> None:
    author, voter = make_user(session), make_user(session)
    channel = make_channel(session, slug="general")
    poll = make_poll(session, author, channel, visibility=ResultsVisibility.after_vote)
    page = await _open(states, token_of(voter), "sid-v2")
    polls_state = await page.get_state(PollState)
    await polls_state.choose(poll.id, 0)
    assert f"poll-results:{poll.id}" in sio.rooms["sid-v2"]
    await polls_state.choose(poll.id, 0)  # the same option again: withdrawn
    await published()
    assert f"poll-results:{poll.id}" not in sio.rooms["sid-v2"]
    assert f"channel:{channel.id}" in sio.rooms["sid-v2"]


async def test_a_role_change_leaves_the_rooms_of_the_old_role(session: Session, states, token_of, sio,
                                                              published) -> None:
    author = make_user(session)
    admin_user = make_user(session, role=Role.admin)
    staff = make_user(session, role=Role.moderator)
    channel = make_channel(session, slug="general")
    poll = make_poll(session, author, channel, visibility=ResultsVisibility.owner)
    await _open(states, token_of(staff), "sid-s3")
    assert f"poll-results:{poll.id}" in sio.rooms["sid-s3"]
    admin = states(AdminState, token_of(admin_user), "/admin", sid="sid-admin3")
    await admin._change(moderation.set_role, staff.id, Role.member)
    await published()
    assert f"poll-results:{poll.id}" not in sio.rooms["sid-s3"]
    assert f"channel:{channel.id}" in sio.rooms["sid-s3"]
