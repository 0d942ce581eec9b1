"""Stamps: toggling, the one-per-person constraint, concurrency, the palette."""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa
from sqlmodel import Session, select

from kyoso.db import get_engine
from kyoso.models import Role, Stamp
from kyoso.services import messages, stamps
from kyoso.services.errors import InvalidInput, NotAllowed, NotFound
from tests.utils.factories import make_channel, make_user, post


def test_a_stamp_toggled_twice_is_gone(session: Session) -> None:
    user = make_user(session)
    message = post(session, user, make_channel(session))
    added = stamps.toggle(session, user, message.id or 0, "了解")
    assert added
    view = messages.view(session, message.id or 0)
    assert view and [(s.stamp, s.count, s.who) for s in view.stamps] == [("了解", 1, user.name)]
    assert stamps.my_stamps(session, user, [message.id or 0]) == [f"{message.id}:了解"]
    added = stamps.toggle(session, user, message.id or 0, "了解")
    assert not added
    assert session.exec(select(Stamp)).all() == []
    assert stamps.my_stamps(session, user, [message.id or 0]) == []


def test_the_database_refuses_a_second_identical_stamp(session: Session) -> None:
    user = make_user(session)
    message = post(session, user, make_channel(session))
    session.add(Stamp(message_id=message.id, user_id=user.id, stamp="👍"))  # type: ignore[arg-type]
    session.commit()
    session.add(Stamp(message_id=message.id, user_id=user.id, stamp="👍"))  # type: ignore[arg-type]
    with pytest.raises(sa.exc.IntegrityError):
        session.commit()
    session.rollback()


def test_counts_and_names(session: Session) -> None:
    author = make_user(session)
    message = post(session, author, make_channel(session))
    people = [make_user(session, name=f"押した人{i}") for i in range(12)]
    for p in people:
        stamps.toggle(session, p, message.id or 0, "参考になります")
    stamps.toggle(session, people[0], message.id or 0, "👍")
    view = messages.view(session, message.id or 0)
    assert view is not None
    by = {s.stamp: s for s in view.stamps}
    assert by["参考になります"].count == 12
    assert by["参考になります"].who.endswith("ほか2人")
    assert by["👍"].count == 1 and by["👍"].who == "押した人0"


def test_unknown_stamp_is_refused_and_custom_ones_work(session: Session) -> None:
    user = make_user(session)
    moderator = make_user(session, role=Role.moderator)
    message = post(session, user, make_channel(session))
    with pytest.raises(InvalidInput):
        stamps.toggle(session, user, message.id or 0, "<script>")
    with pytest.raises(NotAllowed):
        stamps.add_custom(session, user, "完全に同意")
    stamps.add_custom(session, moderator, "完全に同意")
    added = stamps.toggle(session, user, message.id or 0, "完全に同意")
    assert added
    assert "完全に同意" in stamps.palette(session, user)


def test_stamp_on_a_deleted_message_is_refused(session: Session) -> None:
    user = make_user(session)
    message = post(session, user, make_channel(session))
    messages.delete_message(session, user, message.id or 0)
    with pytest.raises(NotFound):
        stamps.toggle(session, user, message.id or 0, "了解")


def test_palette_puts_recently_used_first(session: Session) -> None:
    user = make_user(session)
    message = post(session, user, make_channel(session))
    assert stamps.palette(session, user)[:2] == ["了解", "ありがとうございます"]
    stamps.toggle(session, user, message.id or 0, "🎉")
    stamps.toggle(session, user, message.id or 0, "なるほど")
    assert stamps.palette(session, user)[:2] == ["なるほど", "🎉"]


def test_concurrent_toggles_by_one_person_stay_consistent(db_url: str, session: Session) -> None:
    """Two tabs clicking at once: whatever the interleaving, the person has at
    most one such stamp and the count equals the rows."""
    user = make_user(session)
    message = post(session, user, make_channel(session))
    engine = get_engine(db_url)
    barrier = threading.Barrier(4)
    errors: list[BaseException] = []

    def click() -> None:
        try:
            barrier.wait()
            with Session(engine, expire_on_commit=False) as s:
                stamps.toggle(s, user, message.id or 0, "賛成")
                s.commit()
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=click) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    rows = session.exec(select(Stamp).where(Stamp.message_id == message.id)).all()
    view = messages.view(session, message.id or 0)
    assert len(rows) <= 1
    assert sum(s.count for s in view.stamps) == len(rows)  # type: ignore[union-attr]


def test_custom_stamps_are_read_once_per_window_and_change_at_once_here(session: Session) -> None:
    """Every channel page load builds the palette: the custom labels are kept
    for ``CUSTOM_SECONDS``, but 運営's change shows in this worker at its commit."""
    import sqlalchemy as sa

    user = make_user(session)
    moderator = make_user(session, role=Role.moderator)
    reads: list[str] = []

    def seen(_conn, _cur, statement: str, *_a) -> None:  # type: ignore[no-untyped-def]
        if "customstamp" in statement.lower():
            reads.append(statement)

    sa.event.listen(sa.Engine, "before_cursor_execute", seen)
    try:
        for _ in range(3):
            assert "完全に同意" not in stamps.palette(session, user)
        assert len(reads) == 1
        stamps.add_custom(session, moderator, "完全に同意")
        session.commit()
        assert "完全に同意" in stamps.palette(session, user)
        stamps.remove_custom(session, moderator, "完全に同意")
        session.commit()
        assert "完全に同意" not in stamps.palette(session, user)
    finally:
        sa.event.remove(sa.Engine, "before_cursor_execute", seen)
