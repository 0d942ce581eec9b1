"""Channels, messages, threads and their rules."""

from __future__ import annotations

import pytest
from sqlmodel import Session, select

from kyoso.models import Membership, Message, Notification, Role
from kyoso.services import channels, events, messages
from kyoso.services.errors import InvalidInput, NotAllowed, NotFound
from kyoso.services.events import InboxChanged, MessageChanged, UnreadChanged
from tests.utils.factories import make_channel, make_user, post


def test_member_cannot_start_a_thread_in_an_announcement_channel(session: Session) -> None:
    member = make_user(session)
    channel = make_channel(session, announcement=True)
    with pytest.raises(NotAllowed):
        messages.post_message(session, member, channel.id or 0, "勝手にお知らせ")
    assert session.exec(select(Message)).all() == []


def test_national_staff_announce_and_members_reply(session: Session) -> None:
    national = make_user(session, role=Role.national)
    member = make_user(session)
    channel = make_channel(session, announcement=True)
    notice = post(session, national, channel, "説明会のお知らせです")
    reply = post(session, member, channel, "参加します", parent=notice)
    assert reply.parent_id == notice.id


def test_replies_can_be_closed_in_an_announcement_channel(session: Session) -> None:
    national = make_user(session, role=Role.national)
    member = make_user(session)
    channel = make_channel(session, announcement=True, allow_replies=False)
    notice = post(session, national, channel, "お知らせ")
    with pytest.raises(NotAllowed):
        messages.post_message(session, member, channel.id or 0, "返信", parent_id=notice.id)


def test_lurkers_read_without_joining(session: Session) -> None:
    author = make_user(session)
    lurker = make_user(session)
    channel = make_channel(session)
    post(session, author, channel, "見てください")
    views, more = messages.channel_page(session, lurker, channel.id or 0)
    assert [v.body_html for v in views] == ["<p>見てください</p>\n"]
    assert not more
    assert not channels.is_member(session, lurker, channel.id or 0)


def test_editing_or_deleting_another_members_message_is_refused(session: Session) -> None:
    author = make_user(session)
    other = make_user(session)
    channel = make_channel(session)
    message = post(session, author, channel, "元の文")
    with pytest.raises(NotAllowed):
        messages.edit_message(session, other, message.id or 0, "書き換え")
    with pytest.raises(NotAllowed):
        messages.delete_message(session, other, message.id or 0)
    session.refresh(message)
    assert message.body == "元の文" and message.deleted_at is None


def test_edit_marks_edited_and_bumps_rev(session: Session) -> None:
    author = make_user(session)
    channel = make_channel(session)
    message = post(session, author, channel, "元の文")
    events.take(session)
    messages.edit_message(session, author, message.id or 0, "直した文")
    view = messages.view(session, message.id or 0)
    assert view and view.edited and "直した文" in view.body_html and view.rev == 2
    assert events.take(session) == [MessageChanged(channel.id, message.id, None, "edited")]  # type: ignore[arg-type]


def test_deleted_parent_with_replies_stays_as_a_placeholder(session: Session) -> None:
    author = make_user(session)
    other = make_user(session)
    channel = make_channel(session)
    parent = post(session, author, channel, "質問です")
    post(session, other, channel, "回答です", parent=parent)
    lonely = post(session, author, channel, "消える投稿")
    messages.delete_message(session, author, parent.id or 0)
    messages.delete_message(session, author, lonely.id or 0)
    views, _ = messages.channel_page(session, other, channel.id or 0)
    assert [v.id for v in views] == [parent.id]
    assert views[0].deleted and views[0].body_html == "" and views[0].author_name == ""
    assert views[0].reply_count == 1


def test_reply_updates_the_parent_and_notifies_the_thread(session: Session) -> None:
    starter = make_user(session, name="始めた人")
    replier = make_user(session, name="返信した人")
    channel = make_channel(session)
    parent = post(session, starter, channel, "スレッド")
    events.take(session)
    messages.post_message(session, replier, channel.id or 0, "返信です", parent_id=parent.id)
    recorded = events.take(session)
    session.refresh(parent)
    assert parent.reply_count == 1 and parent.rev == 2
    view = messages.view(session, parent.id or 0)
    assert view and view.repliers == "返信した人"
    assert InboxChanged(starter.id) in recorded  # type: ignore[arg-type]
    note = session.exec(select(Notification).where(Notification.user_id == starter.id)).one()
    assert note.kind == "reply" and "返信した人" in note.text


def test_a_new_thread_moves_unread_counts(session: Session) -> None:
    author = make_user(session)
    reader = make_user(session)
    channel = make_channel(session)
    channels.join(session, reader, channel.id or 0)
    channels.join(session, author, channel.id or 0)
    events.take(session)
    message = messages.post_message(session, author, channel.id or 0, "新しい話題")
    assert UnreadChanged(channel.id, message.id, author.id) in events.take(session)  # type: ignore[arg-type]
    session.commit()
    assert channels.unread_counts(session, reader) == {channel.id: 1}
    assert channels.unread_counts(session, author) == {}
    channels.mark_read(session, reader, channel.id or 0)
    assert channels.unread_counts(session, reader) == {}


def test_the_reading_position_only_moves_forward_to_a_real_thread(session: Session) -> None:
    author = make_user(session)
    reader = make_user(session)
    lurker = make_user(session)
    channel = make_channel(session)
    cid = channel.id or 0
    channels.join(session, reader, cid)
    first = post(session, author, channel, "一つ目")
    second = post(session, author, channel, "二つ目")
    post(session, author, channel, "返信", parent=second)  # replies do not move it
    held = session.get(Membership, (cid, reader.id))  # loaded before the UPDATE
    assert held is not None and held.last_read_id == 0
    assert channels.mark_read(session, reader, cid, first.id)
    assert held.last_read_id == first.id
    assert not channels.mark_read(session, reader, cid, first.id)        # not moved
    assert not channels.mark_read(session, reader, cid, 0)               # never back
    assert channels.last_read_id(session, reader, cid) == first.id
    assert channels.mark_read(session, reader, cid, 10**9)               # clamped
    assert channels.last_read_id(session, reader, cid) == second.id
    session.commit()
    assert channels.unread_counts(session, reader) == {}
    assert not channels.mark_read(session, lurker, cid)                  # not a member
    assert channels.last_read_id(session, lurker, cid) is None


def test_mentions_are_linked_and_notified(session: Session) -> None:
    author = make_user(session)
    target = make_user(session, name="高橋 亮")
    channel = make_channel(session)
    events.take(session)
    message = messages.post_message(
        session, author, channel.id or 0, "@[高橋 亮] さん、ご確認ください",
        mention_ids={"高橋 亮": target.id or 0})
    assert f'data-user-id="{target.id}"' in message.body_html
    assert InboxChanged(target.id) in events.take(session)  # type: ignore[arg-type]


def test_forged_mention_id_is_not_trusted(session: Session) -> None:
    author = make_user(session)
    victim = make_user(session, name="本物")
    make_user(session, name="偽物A")
    make_user(session, name="偽物A")
    channel = make_channel(session)
    # The client claims "偽物A" is the victim's id: the names do not match.
    events.take(session)
    message = messages.post_message(
        session, author, channel.id or 0, "@[偽物A] こんにちは", mention_ids={"偽物A": victim.id or 0})
    assert "mention" not in message.body_html  # two 偽物A: ambiguous, and the id lies
    assert not [e for e in events.take(session) if isinstance(e, InboxChanged)]


def test_length_limit_has_a_clear_error(session: Session) -> None:
    author = make_user(session)
    channel = make_channel(session)
    with pytest.raises(InvalidInput) as err:
        messages.post_message(session, author, channel.id or 0, "あ" * (messages.MAX_BODY + 1))
    assert "4,000文字以内" in err.value.message


def test_empty_message_is_refused(session: Session) -> None:
    author = make_user(session)
    channel = make_channel(session)
    with pytest.raises(InvalidInput):
        messages.post_message(session, author, channel.id or 0, "  \n\u200b ")


def test_reply_to_a_thread_of_another_channel_is_refused(session: Session) -> None:
    author = make_user(session)
    a, b = make_channel(session), make_channel(session)
    parent = post(session, author, a, "Aの話題")
    with pytest.raises(NotFound):
        messages.post_message(session, author, b.id or 0, "返信", parent_id=parent.id)


def test_moderator_hides_and_restores(session: Session) -> None:
    author = make_user(session)
    moderator = make_user(session, role=Role.moderator)
    member = make_user(session)
    channel = make_channel(session)
    message = post(session, author, channel, "不適切な投稿")
    with pytest.raises(NotAllowed):
        messages.hide_message(session, member, message.id or 0)
    messages.hide_message(session, moderator, message.id or 0, reason="ルール違反")
    views, _ = messages.channel_page(session, member, channel.id or 0)
    assert views == []
    messages.restore_message(session, moderator, message.id or 0)
    views, _ = messages.channel_page(session, member, channel.id or 0)
    assert [v.id for v in views] == [message.id]


def test_archived_channel_is_read_only(session: Session) -> None:
    moderator = make_user(session, role=Role.moderator)
    member = make_user(session)
    channel = make_channel(session)
    channels.set_archived(session, moderator, channel.id or 0, True)
    with pytest.raises(NotAllowed):
        messages.post_message(session, member, channel.id or 0, "投稿")


def test_only_staff_manage_channels(session: Session) -> None:
    member = make_user(session)
    moderator = make_user(session, role=Role.moderator)
    with pytest.raises(NotAllowed):
        channels.create_channel(session, member, slug="mine", name="私のチャンネル")
    channel = channels.create_channel(session, moderator, slug="new-one", name="新しいチャンネル")
    with pytest.raises(NotAllowed):
        channels.update_channel(session, member, channel.id or 0, name="x", description="", allow_replies=True)
    with pytest.raises(NotAllowed):
        channels.set_archived(session, member, channel.id or 0, True)


def test_bad_slug_and_duplicate_slug(session: Session) -> None:
    moderator = make_user(session, role=Role.moderator)
    with pytest.raises(InvalidInput):
        channels.create_channel(session, moderator, slug="日本語", name="x")
    channels.create_channel(session, moderator, slug="dup", name="x")
    with pytest.raises(InvalidInput):
        channels.create_channel(session, moderator, slug="dup", name="y")


def test_directory_counts_members_and_searches(session: Session) -> None:
    a = make_user(session)
    b = make_user(session)
    channel = make_channel(session)
    other = make_channel(session)
    channels.join(session, a, channel.id or 0)
    channels.join(session, b, channel.id or 0)
    channels.join(session, b, channel.id or 0)  # twice: still one membership
    entries = {e.id: e for e in channels.directory(session, a)}
    assert entries[channel.id].member_count == 2 and entries[channel.id].joined
    assert entries[other.id].member_count == 0 and not entries[other.id].joined
    found = channels.directory(session, a, other.name)
    assert [e.id for e in found] == [other.id]
    channels.leave(session, b, channel.id or 0)
    assert {e.id: e for e in channels.directory(session, a)}[channel.id].member_count == 1


def test_a_long_channel_pages_backwards(session: Session) -> None:
    author = make_user(session)
    channel = make_channel(session)
    for i in range(120):
        session.add(Message(channel_id=channel.id, author_id=author.id, body=f"{i}",  # type: ignore[arg-type]
                            body_html=f"<p>{i}</p>"))
    session.commit()
    newest, more = messages.channel_page(session, author, channel.id or 0)
    assert len(newest) == messages.PAGE_SIZE and more
    assert newest[-1].body_html == "<p>119</p>"
    older, more2 = messages.channel_page(session, author, channel.id or 0, before_id=newest[0].id)
    assert older[-1].id < newest[0].id and len(older) == messages.PAGE_SIZE and more2
    oldest, more3 = messages.channel_page(session, author, channel.id or 0, before_id=older[0].id)
    assert len(oldest) == 20 and not more3


def test_newest_page_is_shared_and_follows_every_change(session: Session) -> None:
    from kyoso.services import stamps

    author, reader = make_user(session), make_user(session)
    channel = make_channel(session)
    m = post(session, author, channel, "最初")
    first, _, mine = messages.newest_page(session, reader, channel.id or 0)
    again, _, _ = messages.newest_page(session, author, channel.id or 0)
    assert first[0] is again[0]  # the same views, not rebuilt
    assert mine == []
    # A stamp, a reply, an edit, a new thread and a deletion all show.
    stamps.toggle(session, reader, m.id or 0, "了解")
    views, _, mine = messages.newest_page(session, reader, channel.id or 0)
    assert views[0].stamps[0].count == 1 and mine == [stamps.stamp_key(m.id or 0, "了解")]
    # The shared page tells each reader their own stamps, and nobody the others'.
    assert messages.newest_page(session, author, channel.id or 0)[2] == []
    assert "user_ids" not in str(views[0].stamps[0])
    post(session, reader, channel, "返信", parent=m)
    assert messages.newest_page(session, reader, channel.id or 0)[0][0].reply_count == 1
    messages.edit_message(session, author, m.id or 0, "直した")
    assert "直した" in messages.newest_page(session, reader, channel.id or 0)[0][0].body_html
    second = post(session, author, channel, "二つ目")
    assert [v.id for v in messages.newest_page(session, reader, channel.id or 0)[0]] == [m.id, second.id]
    messages.delete_message(session, author, second.id or 0)
    assert [v.id for v in messages.newest_page(session, reader, channel.id or 0)[0]] == [m.id]
