"""The home feed live: an お知らせ whose channel message 運営 hide (or its
author deletes) leaves every open home page and the channel's pins at once,
and is gone on the next load."""

from __future__ import annotations

from typing import Any

import pytest
from sqlmodel import Session, select

from kyoso.models import AnnouncementChannel, Role
from kyoso.realtime.registry import state_name
from kyoso.services import announcements, channels
from kyoso.states.channel import ChannelState
from kyoso.states.home import HomeState
from tests.utils.factories import make_channel, make_user


def _removals(sio: Any, room: str, live: str, var: str) -> list[int]:
    return [op["id"] for r, payload in sio.emitted if r == room
            for op in payload["delta"].get(state_name(live), {}).get("live_patch_rx_state_", {}).get("ops", [])
            if op["op"] == "remove" and op["var"] == var]


@pytest.mark.parametrize("how", ["hidden", "deleted"])
async def test_a_withdrawn_announcement_leaves_the_live_home_feed(session: Session, states, token_of, sio,
                                                                  published, how: str) -> None:
    national, member = make_user(session, role=Role.national), make_user(session)
    moderator = make_user(session, role=Role.moderator)
    channel = make_channel(session, slug="oshirase", announcement=True)
    channels.join(session, member, channel.id or 0)
    session.commit()
    a = announcements.publish(session, national, announcements.AnnouncementInput(
        title="移行期限のお知らせ", body="ご確認ください。", category="policy", importance="normal",
        channel_ids=[channel.id or 0]))
    announcements.set_pinned(session, national, a.id or 0, channel.id or 0, True)
    session.commit()
    message_id = session.exec(select(AnnouncementChannel.message_id).where(
        AnnouncementChannel.announcement_id == a.id)).one()

    home = states(HomeState, token_of(member), "/", sid=f"sid-home-{how}")
    await home.open_home()
    assert [v.id for v in home.announcements] == [a.id]
    assert f"unread:{channel.id}" in sio.rooms[f"sid-home-{how}"]  # where the feed is live

    actor = moderator if how == "hidden" else national
    page = states(ChannelState, token_of(actor), "/c/[slug]", sid=f"sid-actor-{how}", slug="oshirase")
    await page.open_channel()
    assert [v.id for v in page.pinned] == [a.id]
    sio.emitted.clear()
    await (page.hide(message_id) if how == "hidden" else page.delete(message_id))
    assert page.error == ""
    await published()

    assert _removals(sio, f"unread:{channel.id}", "home", "announcements") == [a.id]
    assert _removals(sio, f"channel:{channel.id}", "channel", "pinned") == [a.id]
    await home.open_home()
    assert home.announcements == []
    await page.open_channel()
    assert page.pinned == []
