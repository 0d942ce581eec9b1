"""The handler shape (``SessionState._open`` / ``_change`` / ``_read``):
the token is checked on every event, an expired session goes to the login
page, a refused change shows its Japanese message and changes nothing, and
what a change caused is published after its commit."""

from __future__ import annotations

from sqlmodel import Session, select

from kyoso.models import Message
from kyoso.states.channel import ChannelState
from kyoso.states.sidebar import SidebarState
from tests.utils.factories import make_channel, make_user, post


async def test_a_page_load_reads_the_shell_and_the_page(session: Session, states, token_of, sio) -> None:
    member = make_user(session, name="山田 花子")
    channel = make_channel(session, slug="general")
    post(session, member, channel, "最初の投稿")
    page = states(ChannelState, token_of(member), "/c/[slug]", slug="general")
    assert await page.open_channel() is None
    assert page.me.name == "山田 花子"
    assert [m.author_name for m in page.messages] == ["山田 花子"]
    sidebar = await page.get_state(SidebarState)
    assert sidebar.inbox_unread == 0
    # The client was put in the channel's room (and its own user room).
    assert {f"channel:{channel.id}", f"user:{member.id}"} <= sio.rooms["sid-1"]


async def test_a_page_load_never_waits_on_the_loop(session: Session, states, token_of, sio, monkeypatch) -> None:
    """The sidebar and the page's polls are got before the load leaves the
    loop, and its rooms are joined without waiting: on PostgreSQL each wait
    was a round trip from the reader thread to a busy loop and back."""
    from kyoso import db
    from kyoso.states.polls import PollState
    from tests.utils.factories import make_poll

    member = make_user(session)
    channel = make_channel(session, slug="general")
    poll = make_poll(session, member, channel)

    def refused(awaitable):  # type: ignore[no-untyped-def]
        getattr(awaitable, "close", lambda: None)()
        raise AssertionError("a page load waited on the loop")

    monkeypatch.setattr(db, "wait", refused)
    monkeypatch.setattr("kyoso.states.session.wait", refused)
    page = states(ChannelState, token_of(member), "/c/[slug]", slug="general")
    assert await page.open_channel() is None
    assert str(poll.id) in (await page.get_state(PollState)).polls
    assert page.me.id == member.id
    assert {f"channel:{channel.id}", f"user:{member.id}"} <= sio.rooms["sid-1"]


async def test_an_expired_session_goes_to_the_login_page(session: Session, states) -> None:
    make_channel(session, slug="general")
    page = states(ChannelState, "not-a-token", "/c/[slug]", slug="general")
    redirect = await page.open_channel()
    assert redirect is not None and "/login?next=/c/general" in str(redirect)
    page.channel.id = 1
    redirect = await page.post({"body": "ログインせずに投稿"})
    assert redirect is not None and "/login" in str(redirect)
    assert session.exec(select(Message)).all() == []
    session.rollback()


async def test_a_refused_change_shows_why_and_changes_nothing(session: Session, states, token_of) -> None:
    author, other = make_user(session), make_user(session)
    channel = make_channel(session, slug="general")
    message_id = post(session, author, channel, "私の投稿").id
    page = states(ChannelState, token_of(other), "/c/[slug]", slug="general")
    await page.open_channel()
    assert await page.delete(message_id) is None
    assert page.error == "ほかの人のメッセージは編集・削除できません。"
    session.expire_all()
    assert session.get(Message, message_id).deleted_at is None  # type: ignore[union-attr]
    session.rollback()  # the test's own read lets go of SQLite's lock
    # The next change clears the message.
    await page.toggle_stamp(message_id, "👍")
    assert page.error == ""


async def test_a_change_is_published_to_the_room_after_its_commit(
        session: Session, states, token_of, sio, published) -> None:
    author = make_user(session)
    make_channel(session, slug="general")
    page = states(ChannelState, token_of(author), "/c/[slug]", slug="general")
    await page.open_channel()
    result = await page.post({"body": "新しい話題です"})
    assert "composer" in str(result)  # the composer is cleared on success
    await published()
    rooms = [room for room, _ in sio.emitted]
    assert f"channel:{page.channel.id}" in rooms
    payload = next(p for room, p in sio.emitted if room == f"channel:{page.channel.id}")
    ops = payload["delta"][ChannelState.get_full_name()]["live_patch_rx_state_"]["ops"]
    assert ops[0]["op"] == "upsert" and "新しい話題です" in ops[0]["item"]["body_html"]


async def test_a_first_visit_marks_the_channel_read_after_one_token_check(
        session: Session, states, token_of, token_checks: list[str]) -> None:
    """The page load checks the token once; its reading-position write is
    made as the member it found (not a second check), and only when there is
    something new."""
    from kyoso.models import Membership
    from kyoso.services import channels

    author, reader = make_user(session), make_user(session)
    channel = make_channel(session, slug="general")
    channels.join(session, reader, channel.id or 0)
    newest = post(session, author, channel, "新しいお知らせ").id
    session.commit()
    page = states(ChannelState, token_of(reader), "/c/[slug]", slug="general")
    assert await page.open_channel() is None
    assert page.first_unread_id == newest
    assert len(token_checks) == 1
    session.expire_all()
    assert session.get(Membership, (channel.id, reader.id)).last_read_id == newest  # type: ignore[union-attr]
    session.rollback()
    # Nothing new: the next load reads only.
    again = states(ChannelState, token_of(reader), "/c/[slug]", sid="sid-2", slug="general")
    assert await again.open_channel() is None
    assert again.first_unread_id == 0 and len(token_checks) == 2
