"""A channel page load's channel row (``channels.read_channel_by_slug``):
kept a few seconds for the arrivals of a crowd, never older than a change
made in this worker, and within ``CHANNEL_CACHE_SECONDS`` of one made in another."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy import event
from sqlmodel import Session

from kyoso import db
from kyoso.models import Channel, Role
from kyoso.services import channels
from kyoso.services.errors import NotFound
from tests.utils.factories import make_channel, make_user


def _general(session: Session) -> Channel:
    channel = make_channel(session, slug="general")
    channel.name = "雑談"
    session.add(channel)
    session.commit()
    return channel


def _read(db_url: str, slug: str) -> tuple[channels.ChannelHeader, list[str], bool]:
    """The header a page load gets, the statements it took, and whether the
    rest of the load finds the channel in its session."""
    seen: list[str] = []

    def statement(_conn, _cur, sql: str, *_a) -> None:  # type: ignore[no-untyped-def]
        seen.append(sql)

    event.listen(sa.Engine, "before_cursor_execute", statement)
    try:
        with db.read_scope(db_url) as s:
            channel = channels.read_channel_by_slug(s, slug)
            header = channels.header(channel)
            in_session = channels.get_channel(s, channel.id or 0) is channel
    finally:
        event.remove(sa.Engine, "before_cursor_execute", statement)
    return header, [q for q in seen if "channel" in q.lower()], in_session


def test_arrivals_share_the_row_and_the_load_finds_it_in_its_session(session: Session, db_url: str) -> None:
    _general(session)
    session.commit()
    first, statements, in_session = _read(db_url, "General")
    assert first.name == "雑談" and len(statements) == 1 and in_session
    again, statements, in_session = _read(db_url, "general")
    assert again == first and statements == [] and in_session
    with pytest.raises(NotFound), db.read_scope(db_url) as s:
        channels.read_channel_by_slug(s, "nowhere")


def test_a_change_in_this_worker_shows_at_the_next_load(session: Session, db_url: str) -> None:
    staff, member = make_user(session, role=Role.moderator), make_user(session)
    channel = _general(session)
    session.commit()
    assert _read(db_url, "general")[0].member_count == 0
    channels.join(session, member, channel.id or 0)
    session.commit()
    assert _read(db_url, "general")[0].member_count == 1
    channels.update_channel(session, staff, channel.id or 0, name="雑談・相談", description="何でも",
                            allow_replies=True)
    session.commit()
    assert _read(db_url, "general")[0].name == "雑談・相談"
    channels.set_archived(session, staff, channel.id or 0, True)
    session.commit()
    assert _read(db_url, "general")[0].archived


def test_a_change_made_elsewhere_shows_within_the_cache_time(
        session: Session, db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    channel = _general(session)
    session.commit()
    now = [1000.0]
    monkeypatch.setattr("kyoso.services.shared.time.monotonic", lambda: now[0])
    assert _read(db_url, "general")[0].name == "雑談"
    # Another worker renames it: this one does not hear of it.
    with db.session_scope(db_url) as s:
        s.execute(sa.update(Channel).where(Channel.id == channel.id).values(name="別の名前"))
    now[0] += channels.CHANNEL_CACHE_SECONDS - 1
    assert _read(db_url, "general")[0].name == "雑談"
    now[0] += 2
    assert _read(db_url, "general")[0].name == "別の名前"
