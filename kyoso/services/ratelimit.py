"""Rate limits kept in the database, so every worker counts the same attempts."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from sqlmodel import Session, select

from kyoso.db import utcnow
from kyoso.models import RateHit
from kyoso.services.errors import RateLimited


def count(session: Session, key: str, *, within: timedelta) -> int:
    since = utcnow() - within
    stmt = select(sa.func.count()).select_from(RateHit).where(
        RateHit.key == key, RateHit.created_at >= since
    )
    return int(session.exec(stmt).one())


def hit(session: Session, key: str) -> None:
    session.add(RateHit(key=key))


def clear(session: Session, key: str) -> None:
    session.exec(sa.delete(RateHit).where(RateHit.key == key))  # type: ignore[call-overload]


def check(session: Session, keys: list[str], *, limit: int, within: timedelta,
          message: str) -> None:
    """Refuse when any key already has ``limit`` hits within the window."""
    for key in keys:
        if count(session, key, within=within) >= limit:
            raise RateLimited(message)


def prune(session: Session, *, older_than: timedelta = timedelta(days=2)) -> None:
    session.exec(sa.delete(RateHit).where(RateHit.created_at < utcnow() - older_than))  # type: ignore[call-overload]
