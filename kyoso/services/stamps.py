"""Stamps (スタンプ): one click adds or removes one.

One stamp of a kind per person per message is a database constraint, so a
double click or two open tabs cannot count twice.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Iterable
from datetime import timedelta

import sqlalchemy as sa
from sqlmodel import Session, select

from kyoso.db import core, insert_of, utcnow
from kyoso.models import AuditLog, CustomStamp, Message, Stamp, User
from kyoso.services import channels as channel_rules
from kyoso.services import ratelimit
from kyoso.services.errors import InvalidInput, NotAllowed, NotFound
from kyoso.services.events import StampsChanged, record
from kyoso.services.text import clean_line

# Japanese workplace text stamps first, then emoji (product.md).
DEFAULT_STAMPS: tuple[str, ...] = (
    "了解", "ありがとうございます", "なるほど", "参考になります", "賛成", "いいね",
    "おつかれさまです", "確認します",
    "👍", "🙏", "🎉", "👀", "😂", "✅",
)


_STAMP_T, _CUSTOM_T = Stamp.__table__, CustomStamp.__table__  # type: ignore[attr-defined]
# On every channel page load: built once.
_CUSTOM_LABELS = sa.select(_CUSTOM_T.c.label).order_by(_CUSTOM_T.c.id)
_last = sa.func.max(_STAMP_T.c.id).label("last")
_RECENT = (
    sa.select(_STAMP_T.c.stamp, _last)
    .where(_STAMP_T.c.user_id == sa.bindparam("p_user"))
    .group_by(_STAMP_T.c.stamp)
    .order_by(_last.desc())
    .limit(8)
)


# The custom stamps, read by every channel page load: kept per database for
# CUSTOM_SECONDS (a stamp 運営 add shows in other workers' pickers that much
# later; in this one at once).
CUSTOM_SECONDS = 30.0
_custom_cache: dict[sa.URL, tuple[float, list[str]]] = {}


def _custom(session: Session) -> list[str]:
    key = session.get_bind().url
    cached = _custom_cache.get(key)
    if cached is not None and time.monotonic() - cached[0] < CUSTOM_SECONDS:
        return cached[1]
    labels = custom_labels(session)
    _custom_cache[key] = (time.monotonic(), labels)
    return labels


def _forget_custom(session: Session) -> None:
    """At the commit of a change to the custom stamps (a page load between
    now and then would keep the old list)."""
    _custom_cache.clear()
    sa.event.listen(session, "after_commit", lambda _s: _custom_cache.clear(), once=True)


def palette(session: Session, user: User) -> list[str]:
    """Stamps for the picker: the member's recently used first, then the rest."""
    conn = core(session)
    custom = _custom(session)
    everything = list(DEFAULT_STAMPS) + [c for c in custom if c not in DEFAULT_STAMPS]
    recent = conn.execute(_RECENT, {"p_user": user.id}).all()
    recent_labels = [s for s, _ in recent if s in everything]
    return recent_labels + [s for s in everything if s not in recent_labels]


def custom_labels(session: Session) -> list[str]:
    """The custom stamps as they are now (運営's page; the picker keeps them a while)."""
    return list(core(session).execute(_CUSTOM_LABELS).scalars())


def allowed(session: Session, stamp: str) -> bool:
    if stamp in DEFAULT_STAMPS:
        return True
    return session.exec(select(CustomStamp.id).where(CustomStamp.label == stamp)).first() is not None


# A press (a stamp vote: everyone in a room at once) in three statements, no
# savepoint and no ORM object: built once.
_MESSAGE_T = Message.__table__  # type: ignore[attr-defined]
_TAKE_BACK = sa.delete(_STAMP_T).where(
    _STAMP_T.c.message_id == sa.bindparam("p_message"), _STAMP_T.c.user_id == sa.bindparam("p_user"),
    _STAMP_T.c.stamp == sa.bindparam("p_stamp"))
_BUMP_REV = sa.update(_MESSAGE_T).where(_MESSAGE_T.c.id == sa.bindparam("p_message")).values(
    rev=_MESSAGE_T.c.rev + 1)


@functools.cache
def _press(dialect: str) -> sa.Insert:
    """The member's stamp, unless a transaction of theirs has just put it there."""
    return insert_of(dialect, _STAMP_T).values(
        message_id=sa.bindparam("p_message"), user_id=sa.bindparam("p_user"), stamp=sa.bindparam("p_stamp"),
        created_at=sa.bindparam("p_now", type_=_STAMP_T.c.created_at.type),
    ).on_conflict_do_nothing(index_elements=["message_id", "user_id", "stamp"]).returning(_STAMP_T.c.id)


def stamp_key(message_id: int, stamp: str) -> str:
    """A stamp on a message, as a member's ``my_stamps`` lists it (the page's
    stamp button, ``components/messages.py``, writes the same in the browser)."""
    return f"{message_id}:{stamp}"


_MY_STAMPS = sa.select(_STAMP_T.c.message_id, _STAMP_T.c.stamp).where(
    _STAMP_T.c.user_id == sa.bindparam("p_user"),
    _STAMP_T.c.message_id.in_(sa.bindparam("p_ids", expanding=True))).order_by(_STAMP_T.c.id)


def my_stamps(session: Session, user: User, message_ids: Iterable[int]) -> list[str]:
    """The member's own stamps on these messages (``stamp_key``s), in one statement."""
    ids = list(dict.fromkeys(message_ids))
    if not ids:
        return []
    rows = core(session).execute(_MY_STAMPS, {"p_user": user.id, "p_ids": ids}).all()
    return [stamp_key(mid, stamp) for mid, stamp in rows]


def toggle(session: Session, user: User, message_id: int, stamp: str) -> bool:
    """Add the stamp if the member has not pressed it, remove it if they have.

    Returns whether it was added. Concurrent toggles by the same person serialize on
    the unique constraint: the loser sees the winner's row and removes it, the
    same result as two clicks one after the other.
    """
    channel_rules.require_active(user)
    message = session.get(Message, message_id)
    if message is None or not message.is_visible:
        raise NotFound("メッセージが見つかりません。")
    channel = channel_rules.get_channel(session, message.channel_id)
    channel_rules.check_can_read(user, channel)
    if channel.archived_at is not None:
        raise NotAllowed("アーカイブされたチャンネルではスタンプを押せません。")
    if not allowed(session, stamp):
        raise InvalidInput("このスタンプは使えません。一覧から選んでください。")
    ratelimit.hit_local([f"stamp:{user.id}"], limit=120, within=timedelta(minutes=1),
                        message="短時間に多くのスタンプが押されました。少し待ってから、もう一度お試しください。")
    conn = core(session)
    params = {"p_message": message_id, "p_user": user.id, "p_stamp": stamp}
    added = False
    if not conn.execute(_TAKE_BACK, params).rowcount:
        # (RETURNING says whether it went in: psycopg's rowcount is -1 when none did.)
        added = conn.execute(_press(conn.dialect.name), {**params, "p_now": utcnow()}).first() is not None
        if not added:
            # Another transaction of the same person added it just now: this
            # click removes it.
            conn.execute(_TAKE_BACK, params)
    conn.execute(_BUMP_REV, {"p_message": message_id})
    record(session, StampsChanged(message.channel_id, message_id, message.parent_id, user.id or 0, stamp, added))
    return added



def add_custom(session: Session, staff: User, label: str) -> CustomStamp:
    channel_rules.require_staff(staff)
    label = clean_line(label, label="スタンプ", max_len=20)
    if label in DEFAULT_STAMPS or session.exec(
        select(CustomStamp.id).where(CustomStamp.label == label)
    ).first() is not None:
        raise InvalidInput(f"スタンプ「{label}」はすでにあります。")
    custom = CustomStamp(label=label, created_by_id=staff.id)
    _forget_custom(session)
    session.add(custom)
    session.add(AuditLog(actor_id=staff.id, action="stamp.add", target_type="stamp", detail=label))
    session.flush()
    return custom


def remove_custom(session: Session, staff: User, label: str) -> None:
    channel_rules.require_staff(staff)
    row = session.exec(select(CustomStamp).where(CustomStamp.label == label)).first()
    if row is None:
        raise NotFound("スタンプが見つかりません。")
    _forget_custom(session)
    session.delete(row)
    session.add(AuditLog(actor_id=staff.id, action="stamp.remove", target_type="stamp", detail=label))
