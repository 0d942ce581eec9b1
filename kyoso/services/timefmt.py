"""Times as members read them: Japan Standard Time, Japanese formats."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

JST = timezone(timedelta(hours=9), "JST")
_WEEKDAYS = "月火水木金土日"


def to_jst(value: datetime) -> datetime:
    return value.astimezone(JST)


def jst_date(value: datetime) -> str:
    """2026年11月26日"""
    v = to_jst(value)
    return f"{v.year}年{v.month}月{v.day}日"


def jst_datetime(value: datetime) -> str:
    """2026年11月26日(木) 15:04"""
    v = to_jst(value)
    return f"{v.year}年{v.month}月{v.day}日({_WEEKDAYS[v.weekday()]}) {v:%H:%M}"


def jst_short(value: datetime, now: datetime | None = None) -> str:
    """A message's time: 15:04 today, 11/25 15:04 this year, else with the year."""
    v = to_jst(value)
    n = to_jst(now or datetime.now(timezone.utc))
    if v.date() == n.date():
        return f"{v:%H:%M}"
    if v.year == n.year:
        return f"{v.month}/{v.day} {v:%H:%M}"
    return f"{v.year}/{v.month}/{v.day} {v:%H:%M}"
