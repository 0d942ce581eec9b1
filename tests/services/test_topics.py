"""Who may receive which live topic: one by one, and the batch a page asks for."""

from __future__ import annotations

from sqlmodel import Session

from kyoso.models import Role, UserStatus
from kyoso.services import channels, topics
from tests.utils.factories import make_channel, make_user


def test_unread_topics_only_for_joined_channels(session: Session) -> None:
    user = make_user(session)
    other = make_user(session)
    joined, also_joined, not_joined = (make_channel(session) for _ in range(3))
    for channel in (joined, also_joined):
        channels.join(session, user, channel.id or 0)
    channels.join(session, other, not_joined.id or 0)
    session.commit()
    asked = [
        "all", f"user:{user.id}", f"user:{other.id}",
        f"unread:{joined.id}", f"unread:{not_joined.id}", f"unread:{also_joined.id}",
        f"channel:{not_joined.id}", "channel:999999", "unread:x", "unread:", "nonsense:1",
    ]
    expected = ["all", f"user:{user.id}", f"unread:{joined.id}", f"unread:{also_joined.id}",
                f"channel:{not_joined.id}"]
    assert topics.granted(session, user, asked) == expected
    # The batch answers exactly as the single-topic rule does.
    assert [t for t in asked if topics.allowed(session, user, t)] == expected


def test_a_suspended_member_gets_no_topic(session: Session) -> None:
    user = make_user(session)
    channel = make_channel(session)
    channels.join(session, user, channel.id or 0)
    user.status = UserStatus.suspended
    session.add(user)
    session.commit()
    assert topics.granted(session, user, ["all", f"user:{user.id}", f"unread:{channel.id}"]) == []


def test_plain_topics_and_none(session: Session) -> None:
    staff = make_user(session, role=Role.moderator)
    assert topics.granted(session, staff, ["all"]) == ["all"]
    assert topics.granted(session, staff, []) == []
