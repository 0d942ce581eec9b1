"""The sidebar: my channels with their unread threads and my inbox's count,
in one statement; my reading position in each kept for the page's load."""

from __future__ import annotations

from sqlmodel import Session

from kyoso import db
from kyoso.db import utcnow
from kyoso.models import Notification, User
from kyoso.services import channels, sidebar
from tests.utils.factories import make_channel, make_user, post
from tests.utils.statements import statements


def _inbox(session: Session, user: User, unread: int, read: int) -> None:
    for i in range(unread + read):
        session.add(Notification(user_id=user.id or 0, kind="mention", text=f"通知{i}",
                                 read_at=utcnow() if i >= unread else None))


def test_channels_and_the_inbox_count_in_one_statement(session: Session, db_url: str) -> None:
    member, writer = make_user(session), make_user(session)
    general, other, not_mine = make_channel(session), make_channel(session), make_channel(session)
    for channel in (general, other):
        channels.join(session, member, channel.id or 0)
    post(session, writer, other, "新しいスレッド")
    post(session, writer, not_mine, "関係のないスレッド")
    _inbox(session, member, unread=2, read=1)
    _inbox(session, writer, unread=4, read=0)
    session.commit()
    with db.read_scope(db_url) as s:
        reader = s.get(User, member.id)
        with statements() as seen:
            read = sidebar.read(s, reader)  # type: ignore[arg-type]
    assert sorted((c.id, c.unread) for c in read.channels) == [(general.id, 0), (other.id, 1)]
    assert read.inbox_unread == 2
    assert len(seen) == 1


def test_a_member_in_no_channel_still_sees_the_inbox_count(session: Session, db_url: str) -> None:
    member = make_user(session)
    _inbox(session, member, unread=3, read=2)
    session.commit()
    with db.read_scope(db_url) as s:
        read = sidebar.read(s, s.get(User, member.id))  # type: ignore[arg-type]
    assert read.channels == [] and read.inbox_unread == 3


def test_the_reading_position_comes_with_the_sidebar_and_is_read_again_once_moved(session: Session, db_url: str) -> None:
    """A channel page's load takes the member's reading position from the
    sidebar's read (no statement); a channel the sidebar does not show
    (archived, not joined) is asked; a position moved in the same session
    is read again."""
    member, writer = make_user(session), make_user(session)
    joined, not_joined = make_channel(session), make_channel(session)
    channels.join(session, member, joined.id or 0)
    session.commit()
    newest = post(session, writer, joined, "未読のスレッド")
    session.commit()
    with db.session_scope(db_url) as s:
        reader = s.get(User, member.id)
        sidebar.read(s, reader)  # type: ignore[arg-type]
        with statements() as seen:
            before = channels.last_read_id(s, reader, joined.id or 0)  # type: ignore[arg-type]
            assert seen == []
            assert channels.last_read_id(s, reader, not_joined.id or 0) is None  # type: ignore[arg-type]
            assert len(seen) == 1
        assert before is not None and before < (newest.id or 0)
        assert channels.mark_read_of(s, member.id or 0, joined.id or 0)
        assert channels.last_read_id(s, reader, joined.id or 0) == newest.id  # type: ignore[arg-type]
        channels.leave(s, reader, joined.id or 0)  # type: ignore[arg-type]
        assert channels.last_read_id(s, reader, joined.id or 0) is None  # type: ignore[arg-type]
