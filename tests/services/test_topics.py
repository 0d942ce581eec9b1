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


def test_the_sidebar_read_answers_for_its_channels_and_no_further(session: Session, db_url: str) -> None:
    """After ``my_channels`` the member's ``unread:`` topics need no query
    for the channels it found; others are still looked up, and another
    member's sidebar read answers nothing for this one."""
    import sqlalchemy as sa
    from sqlalchemy import event

    from kyoso import db

    user, other = make_user(session), make_user(session)
    mine, archived, others = (make_channel(session) for _ in range(3))
    for channel in (mine, archived):
        channels.join(session, user, channel.id or 0)
    channels.join(session, other, others.id or 0)
    channels.set_archived(session, make_user(session, role=Role.moderator), archived.id or 0, True)
    session.commit()
    asked = [f"unread:{mine.id}", f"unread:{archived.id}", f"unread:{others.id}"]
    seen: list[str] = []

    def statement(_conn, _cur, sql: str, *_a) -> None:  # type: ignore[no-untyped-def]
        seen.append(sql)

    with db.read_scope(db_url) as s:
        reader, someone = s.get(type(user), user.id), s.get(type(other), other.id)
        channels.my_channels(s, someone)
        event.listen(sa.Engine, "before_cursor_execute", statement)
        try:
            assert topics.granted(s, reader, asked) == [f"unread:{mine.id}", f"unread:{archived.id}"]
            assert len(seen) == 1  # nothing known of this member yet
            seen.clear()
            assert [c.id for c in channels.my_channels(s, reader)] == [mine.id]  # no archived one
            seen.clear()
            assert topics.granted(s, reader, asked) == [f"unread:{mine.id}", f"unread:{archived.id}"]
            assert len(seen) == 1  # the archived channel is asked, the sidebar's is not
            seen.clear()
            assert topics.granted(s, reader, [f"unread:{mine.id}"]) == [f"unread:{mine.id}"]
            assert seen == []
        finally:
            event.remove(sa.Engine, "before_cursor_execute", statement)


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
