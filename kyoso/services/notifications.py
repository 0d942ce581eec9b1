"""The inbox (受信箱): mentions, replies to my threads, reminders."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlmodel import Session, col, select

from kyoso.db import core, utcnow
from kyoso.models import Message, Notification, User
from kyoso.services import visibility
from kyoso.services.timefmt import jst_short

KIND_LABELS = {"mention": "メンション", "reply": "返信", "reminder": "リマインダー", "announcement": "お知らせ",
               "answer": "回答", "question": "質問"}


@dataclass
class InboxItem:
    id: int
    kind: str
    kind_label: str
    text: str
    link: str
    time: str
    unread: bool


_NOTIFICATION_T = Notification.__table__  # type: ignore[attr-defined]
# On every page load (the sidebar's badge, ``services.sidebar``): built once.
UNREAD_COUNT = sa.select(sa.func.count()).select_from(_NOTIFICATION_T).where(
    _NOTIFICATION_T.c.user_id == sa.bindparam("p_user"), _NOTIFICATION_T.c.read_at.is_(None))


def unread_count(session: Session, user_id: int) -> int:
    return int(core(session).execute(UNREAD_COUNT, {"p_user": user_id}).scalar_one())


def inbox(session: Session, user: User, *, limit: int = 100) -> list[InboxItem]:
    rows = session.exec(
        select(Notification).where(Notification.user_id == user.id)
        .order_by(col(Notification.id).desc()).limit(limit)
    ).all()
    return [
        InboxItem(n.id or 0, n.kind, KIND_LABELS.get(n.kind, n.kind), _text(session, n), n.link,
                  jst_short(n.created_at), n.read_at is None)
        for n in rows
    ]


GONE_TEXT = "（この投稿は削除または非表示になりました）"


def _text(session: Session, n: Notification) -> str:
    """A notification's excerpt lives only as long as the post it quotes
    (``visibility.message_open``): a hidden or deleted post, or one in a
    hidden thread, leaves only a placeholder."""
    if n.message_id is None:
        return n.text
    return n.text if visibility.message_open(session, session.get(Message, n.message_id)) else GONE_TEXT


def mark_all_read(session: Session, user: User) -> None:
    session.execute(
        sa.update(Notification)
        .where(Notification.user_id == user.id, col(Notification.read_at).is_(None))
        .values(read_at=utcnow())
    )


def mark_read(session: Session, user: User, notification_id: int) -> None:
    session.execute(
        sa.update(Notification)
        .where(Notification.id == notification_id, Notification.user_id == user.id,
               col(Notification.read_at).is_(None))
        .values(read_at=utcnow())
    )
