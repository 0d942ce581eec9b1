"""Unclaimed members: 運営 link one to an existing member.

An unclaimed member (status ``unclaimed``) is someone from an import who has
no kyoso account. Signing up with the same e-mail address claims the row
itself (``accounts.do_signup``). When the person already has an account under
another address, 運営 link the two: messages, stamps, memberships and the rest
move to the member, and the unclaimed row goes.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlmodel import Session, select

from kyoso.models import (
    AuditLog,
    Channel,
    Membership,
    Message,
    Notification,
    SearchDoc,
    SlackImportUser,
    Stamp,
    User,
    UserStatus,
)
from kyoso.services.accounts import normalise_email, require_staff
from kyoso.services.channels import _recount
from kyoso.services.errors import InvalidInput, NotFound


def link_unclaimed(session: Session, staff: User, unclaimed_id: int, email: str) -> User:
    """Give everything of the unclaimed member ``unclaimed_id`` to the member
    with ``email``. Returns that member."""
    require_staff(staff)
    return link_unclaimed_unchecked(session, unclaimed_id, email, actor=staff)


def link_unclaimed_unchecked(session: Session, unclaimed_id: int, email: str, *,
                             actor: User | None = None) -> User:
    """``link_unclaimed`` without a permission check (the ``kyoso user link`` command)."""
    source = session.get(User, unclaimed_id)
    if source is None or source.status != UserStatus.unclaimed:
        raise NotFound("未登録のメンバーが見つかりません。すでに結びつけられたか、番号が違います。")
    target = session.exec(select(User).where(User.email == normalise_email(email))).first()
    if target is None:
        raise NotFound(f"メールアドレス {email} のメンバーが見つかりません。")
    if target.status == UserStatus.unclaimed:
        raise InvalidInput("結びつける先は、登録済みのメンバーにしてください（未登録のメンバー同士は結びつけられません）。")
    src, dst = source.id, target.id
    # Stamps and memberships the member already has stay; the duplicates go.
    stamp_t = Stamp.__table__  # type: ignore[attr-defined]
    other = stamp_t.alias("other")
    duplicate = sa.select(other.c.id).where(other.c.user_id == dst, other.c.message_id == stamp_t.c.message_id,
                                            other.c.stamp == stamp_t.c.stamp).exists()
    session.execute(sa.delete(stamp_t).where(stamp_t.c.user_id == src, duplicate))
    # A changed rev makes pages show the new author.
    session.execute(sa.update(Message).where(Message.author_id == src).values(rev=Message.rev + 1))  # type: ignore[arg-type]
    channels = list(session.exec(select(Membership.channel_id).where(Membership.user_id == src)).all())
    have = set(session.exec(select(Membership.channel_id).where(Membership.user_id == dst)).all())
    session.execute(sa.delete(Membership).where(Membership.user_id == src,  # type: ignore[arg-type]
                                                Membership.channel_id.in_(have)))  # type: ignore[attr-defined]
    moves = [
        (Message, "author_id"), (Stamp, "user_id"), (Membership, "user_id"), (SearchDoc, "author_id"),
        (Notification, "user_id"), (Notification, "actor_id"), (Channel, "created_by_id"),
        (SlackImportUser, "user_id"),
    ]
    for model, column in moves:
        col = getattr(model, column)
        session.execute(sa.update(model).where(col == src).values({column: dst}))
    session.flush()
    session.expunge(source)
    session.execute(sa.delete(User).where(User.id == src))  # type: ignore[arg-type]
    for cid in set(channels):
        channel = session.get(Channel, cid)
        if channel is not None:
            _recount(session, channel)
    session.add(AuditLog(
        actor_id=actor.id if actor else None, action="user.link", target_type="user", target_id=dst,
        detail=f"取り込んだメンバー「{source.name}」(id={src}) を {target.name} ({target.email}) に結びつけました",
    ))
    session.flush()
    return target
