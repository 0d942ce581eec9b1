"""Which stamps are mine: a page's ``my_stamps``, and what a press sends.

A press goes to the room as counts and names only (no presser's id: in a
room of 2,000 that list went to each of them with every press), and to the
presser's own tabs as whether the stamp is theirs now."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from kyoso.models import Message
from kyoso.services import messages, stamps
from kyoso.states.channel import ChannelState
from tests.utils.factories import make_channel, make_user, post


def _ops(payload: dict[str, Any]) -> list[dict[str, Any]]:
    return payload["delta"][ChannelState.get_full_name()]["live_patch_rx_state_"]["ops"]


async def test_a_press_tells_the_room_how_many_and_the_presser_that_it_is_theirs(
        session: Session, states, token_of, sio, published) -> None:
    author, presser = make_user(session), make_user(session)
    channel = make_channel(session, slug="general")
    m = post(session, author, channel, "意見をください")
    page = states(ChannelState, token_of(presser), "/c/[slug]", slug="general", sid="sid-p")
    other = states(ChannelState, token_of(author), "/c/[slug]", slug="general", sid="sid-a")
    await page.open_channel()
    await other.open_channel()
    assert page.my_stamps == [] and other.my_stamps == []

    await page.toggle_stamp(m.id, "賛成")
    await published()
    key = stamps.stamp_key(m.id or 0, "賛成")
    room = [p for r, p in sio.emitted if r == f"channel:{channel.id}"]
    fields = _ops(room[-1])[0]["fields"]
    assert fields["stamps"] == [{"stamp": "賛成", "count": 1, "who": presser.name}]
    own = [p for r, p in sio.emitted if r == f"user:{presser.id}"]
    assert [op for p in own for op in _ops(p)] == [
        {"op": "member", "var": "my_stamps", "value": key, "present": True}]
    assert not [r for r, _ in sio.emitted if r == f"user:{author.id}"]

    # Loaded again (from the shared page): mine for the presser only.
    await page.open_channel()
    await other.open_channel()
    assert page.my_stamps == [key] and other.my_stamps == []

    # Pressed again: gone, and the presser's tabs are told so.
    sio.emitted.clear()
    await page.toggle_stamp(m.id, "賛成")
    await published()
    own = [p for r, p in sio.emitted if r == f"user:{presser.id}"]
    assert [op["present"] for p in own for op in _ops(p)] == [False]


async def test_a_thread_and_older_threads_bring_their_own_stamps(
        session: Session, states, token_of, sio, published) -> None:
    author, reader = make_user(session), make_user(session)
    channel = make_channel(session, slug="general")
    first = post(session, author, channel, "最初の話題")
    reply = post(session, author, channel, "返信です", parent=first)
    for i in range(messages.FIRST_PAGE):
        session.add(Message(channel_id=channel.id, author_id=author.id, body=f"話題 {i}",  # type: ignore[arg-type]
                            body_html=f"<p>話題 {i}</p>"))
    stamps.toggle(session, reader, first.id or 0, "了解")
    stamps.toggle(session, reader, reply.id or 0, "👍")
    session.commit()
    page = states(ChannelState, token_of(reader), "/c/[slug]", slug="general")
    await page.open_channel()
    assert page.my_stamps == []  # the first thread is beyond the first page
    await page.load_older()
    assert page.my_stamps == [stamps.stamp_key(first.id or 0, "了解")]
    await page.open_thread(first.id)
    assert sorted(page.my_stamps) == sorted([stamps.stamp_key(first.id or 0, "了解"),
                                             stamps.stamp_key(reply.id or 0, "👍")])
    # A link to the thread opens it with the page, its stamps with it.
    linked = states(ChannelState, token_of(reader), "/c/[slug]", slug="general", sid="sid-2",
                    query={"thread": str(first.id)})
    await linked.open_channel()
    assert sorted(linked.my_stamps) == sorted(page.my_stamps)
