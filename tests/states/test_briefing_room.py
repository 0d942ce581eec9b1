"""The 説明会 room page: opening it while it is on counts a first visit as
attendance, written only then (a reload storm of members already counted
takes no write lock), and the count reaches the room live."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy import event
from sqlmodel import Session, select

from kyoso import db
from kyoso.db import utcnow
from kyoso.models import Registration, Role
from kyoso.states.briefings import BriefingState
from kyoso.services.timefmt import JST
from tests.utils.factories import make_briefing, make_user


async def test_a_first_visit_counts_once_and_a_reload_writes_nothing(
        session: Session, states, token_of, sio, published, db_url: str, token_checks: list[str]) -> None:
    organiser, member = make_user(session, role=Role.national), make_user(session)
    briefing = make_briefing(session, organiser, starts=(utcnow() - timedelta(minutes=5)).astimezone(JST))
    token, bid = token_of(member), str(briefing.id)
    room = states(BriefingState, token, "/briefings/[id]", id=bid)
    assert await room.open_room() is None
    await published()
    assert session.exec(select(Registration.attended_at).where(Registration.user_id == member.id)).one()
    # The write is made as the member the load found: one token check.
    assert len(token_checks) == 1
    # The room heard the new count (this client is in it).
    assert any(r == f"briefing:{bid}" for r, _ in sio.emitted)

    writes: list[str] = []

    def seen(_conn, _cur, statement: str, *_a) -> None:  # type: ignore[no-untyped-def]
        if statement.split()[0].upper() in ("INSERT", "UPDATE", "DELETE") or "IMMEDIATE" in statement:
            writes.append(statement)

    event.listen(sa.Engine, "before_cursor_execute", seen)
    try:
        again = states(BriefingState, token, "/briefings/[id]", sid="sid-2", id=bid)
        assert await again.open_room() is None
    finally:
        event.remove(sa.Engine, "before_cursor_execute", seen)
    assert writes == []
    assert again.attendance == 1
    session.expire_all()
    assert len(session.exec(select(Registration)).all()) == 1
    assert db.in_write_transaction.get() is False


async def test_only_the_presenter_view_is_sent_the_join_qr_code(session: Session, states, token_of) -> None:
    organiser = make_user(session, role=Role.national)
    briefing = make_briefing(session, organiser, starts=(utcnow() + timedelta(days=1)).astimezone(JST))
    token, bid = token_of(organiser), str(briefing.id)
    room = states(BriefingState, token, "/briefings/[id]", id=bid)
    assert await room.open_room() is None
    assert room.join_url == room.join_qr == ""
    shown = states(BriefingState, token, "/briefings/[id]/present", sid="sid-2", id=bid)
    assert await shown.open_room() is None
    assert shown.join_url.endswith(f"/briefings/{bid}") and shown.join_qr.startswith("data:image/svg+xml")
