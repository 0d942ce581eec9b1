"""お知らせ leave with their channel messages: hidden by 運営 or deleted by its
author, an お知らせ leaves the home feed and the channels' pins for everyone."""

from __future__ import annotations

import pytest
from sqlmodel import Session, select

from kyoso.models import AnnouncementChannel, Role
from kyoso.services import announcements, channels, events, messages
from kyoso.services.errors import NotFound
from tests.utils.factories import make_channel, make_user


def _publish(session: Session, author, channel_ids: list[int], importance: str = "normal"):  # type: ignore[no-untyped-def]
    a = announcements.publish(session, author, announcements.AnnouncementInput(
        title="標準化の移行期限", body="ご確認ください。", category="policy", importance=importance,
        channel_ids=channel_ids))
    session.commit()
    events.take(session)
    return a


def _message_ids(session: Session, announcement_id: int) -> list[int]:
    return [m or 0 for m in session.exec(select(AnnouncementChannel.message_id).where(
        AnnouncementChannel.announcement_id == announcement_id)).all()]


@pytest.mark.parametrize("how", ["hidden", "deleted"])
def test_an_announcement_leaves_with_its_message_for_everyone(session: Session, how: str) -> None:
    national, member = make_user(session, role=Role.national), make_user(session)
    moderator = make_user(session, role=Role.moderator)
    channel = make_channel(session, announcement=True)
    for user in (member, moderator):
        channels.join(session, user, channel.id or 0)
    a = _publish(session, national, [channel.id or 0])
    announcements.set_pinned(session, national, a.id or 0, channel.id or 0, True)
    session.commit()
    assert [v.id for v in announcements.feed(session, member)] == [a.id]
    assert announcements.unread_count(session, member) == 1
    (message_id,) = _message_ids(session, a.id or 0)

    if how == "hidden":
        messages.hide_message(session, moderator, message_id, reason="誤った内容")
    else:
        messages.delete_message(session, national, message_id)
    assert events.AnnouncementShown(a.id or 0, False) in events.take(session)
    session.commit()

    for reader in (member, national, moderator):  # the author and 運営 too: it is withdrawn
        assert announcements.feed(session, reader) == []
        assert announcements.pinned_in(session, reader, channel.id or 0) == []
    assert announcements.unread_count(session, member) == 0
    assert announcements.broadcast_view(session, a.id or 0) is None
    with pytest.raises(NotFound):
        announcements.mark_read(session, member, a.id or 0)
    with pytest.raises(NotFound):
        announcements.set_pinned(session, national, a.id or 0, channel.id or 0, False)

    if how == "hidden":  # 運営 restore the message: the お知らせ is back, still pinned
        messages.restore_message(session, moderator, message_id)
        assert events.AnnouncementShown(a.id or 0, True) in events.take(session)
        session.commit()
        assert [v.id for v in announcements.feed(session, member)] == [a.id]
        assert [v.id for v in announcements.pinned_in(session, member, channel.id or 0)] == [a.id]


def test_an_important_announcement_in_two_channels_leaves_when_one_message_goes(session: Session) -> None:
    national, outsider, reader = make_user(session, role=Role.national), make_user(session), make_user(session)
    moderator = make_user(session, role=Role.moderator)
    first, second = make_channel(session), make_channel(session)
    channels.join(session, reader, second.id or 0)
    important = _publish(session, national, [first.id or 0, second.id or 0], importance="high")
    normal = _publish(session, national, [first.id or 0, second.id or 0])
    assert {v.id for v in announcements.feed(session, reader)} == {important.id, normal.id}
    assert [v.id for v in announcements.feed(session, outsider)] == [important.id]  # 重要: everyone

    for a in (important, normal):  # hidden in the first channel only
        messages.hide_message(session, moderator, _message_ids(session, a.id or 0)[0])
    session.commit()
    assert announcements.feed(session, reader) == []  # the second channel's copy does not keep it listed
    assert announcements.feed(session, outsider) == []
    # Other お知らせ stay.
    kept = _publish(session, national, [second.id or 0])
    assert [v.id for v in announcements.feed(session, reader)] == [kept.id]
