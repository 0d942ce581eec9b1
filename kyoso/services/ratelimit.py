"""Rate limits kept in the database, so every worker counts the same attempts."""

from __future__ import annotations

import time
from collections import deque
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


# Frequent actions (posts, stamps, votes) are limited in process memory: no
# row per click. Each worker counts its own clients, so a member with tabs on
# two workers could do up to twice as much; logins and sign-ups, where that
# matters, are counted in the database above.
_local: dict[str, deque[float]] = {}


def hit_local(keys: list[str], *, limit: int, within: timedelta, message: str) -> None:
    """Count one action for each key; refuse if any key is already at the limit."""
    now = time.monotonic()
    window = within.total_seconds()
    buckets = []
    for key in keys:
        bucket = _local.setdefault(key, deque())
        while bucket and now - bucket[0] > window:
            bucket.popleft()
        if len(bucket) >= limit:
            raise RateLimited(message)
        buckets.append(bucket)
    for bucket in buckets:
        bucket.append(now)
    if len(_local) > 100_000:
        for key in [k for k, b in _local.items() if not b or now - b[-1] > 3600]:
            del _local[key]


def reset_local() -> None:
    _local.clear()
