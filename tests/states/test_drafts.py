"""Nothing stored before the token check, and a size cap on every var a client
can set (issue 14): a client without a session costs no more than a page view."""

from __future__ import annotations

from sqlmodel import Session

from kyoso.states.auth import SignupState
from kyoso.states.channel import DRAFT_MAX, ChannelState
from kyoso.states.polls import MAX_OTHER_DRAFTS, PollState
from tests.utils.factories import make_channel, make_poll, make_user

BIG = "あ" * 400_000


async def test_a_client_without_a_session_stores_no_draft(session: Session, states) -> None:
    make_channel(session, slug="general")
    page = states(ChannelState, "", "/c/[slug]", slug="general", sid="sid-draft-0")
    await page.open_channel()  # redirected to the login page
    for i in range(20):
        await page.draft_changed(f"t{i}", BIG)
        await page.draft_changed("composer", BIG)
    assert page._drafts == {}
    polls_state = await page.get_state(PollState)
    for i in range(20):
        polls_state.set_other_draft(i, BIG)
    assert polls_state.other_drafts == {}


async def test_a_member_s_drafts_are_capped_and_keyed_by_the_page(session: Session, states, token_of) -> None:
    member = make_user(session)
    channel = make_channel(session, slug="general")
    poll = make_poll(session, member, channel, allow_other=True)
    page = states(ChannelState, token_of(member), "/c/[slug]", slug="general", sid="sid-draft-1")
    assert await page.open_channel() is None
    await page.draft_changed("composer", BIG)
    await page.draft_changed("not-a-composer", "x")
    assert set(page._drafts) == {"composer"} and len(page._drafts["composer"]) == DRAFT_MAX
    polls_state = await page.get_state(PollState)
    polls_state.set_other_draft(poll.id, BIG)
    assert len(polls_state.other_drafts[str(poll.id)]) == 300
    for i in range(100):  # a poll that arrived by a live patch is fine; a flood keeps the newest few
        polls_state.set_other_draft(100_000 + i, "x")
    polls_state.set_other_draft("not-a-number", "x")
    assert len(polls_state.other_drafts) == MAX_OTHER_DRAFTS and str(100_099) in polls_state.other_drafts


def test_the_signup_page_caps_its_search(states) -> None:
    page = states(SignupState, "", "/signup", sid="sid-draft-2")
    page.search_org("千代田" * 100_000)
    assert len(page.org_query) == 100
