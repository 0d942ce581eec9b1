"""Test data made through the real domain functions."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta

from sqlmodel import Session

from kyoso.db import utcnow
from kyoso.models import Briefing, Channel, Message, Poll, Role, User
from kyoso.services import accounts, briefings, channels, messages, polls
from kyoso.services.timefmt import JST

PASSWORD = "correct horse battery"
_n = itertools.count(1)

# A few real 団体コード: 千代田区, 札幌市, 大阪市, 高知県, デジタル庁, 総務省
CHIYODA, SAPPORO, OSAKA, KOCHI, DIGITAL, SOUMU = "131016", "011002", "271004", "390003", "G00001", "G00016"


def make_user(session: Session, *, role: str = Role.member, org: str | None = None,
              name: str | None = None, email: str | None = None) -> User:
    n = next(_n)
    if org is None:
        org = DIGITAL if role in (Role.national, Role.moderator, Role.admin) else CHIYODA
    domain = "digital.go.jp" if org.startswith("G") else "city.example.lg.jp"
    user = accounts.create_user(
        session, email=email or f"user{n}@{domain}", password=PASSWORD,
        name=name or f"職員{n}", org_code=org, department="デジタル推進課", role=role,
    )
    session.commit()
    return user


def make_channel(session: Session, *, slug: str | None = None, announcement: bool = False,
                 allow_replies: bool = True) -> Channel:
    n = next(_n)
    channel = channels.create_channel_unchecked(
        session, slug=slug or f"ch-{n}", name=f"テストチャンネル{n}", description="テスト用",
        announcement=announcement, allow_replies=allow_replies,
    )
    session.commit()
    return channel


def post(session: Session, user: User, channel: Channel, body: str = "こんにちは",
         parent: Message | None = None) -> Message:
    message = messages.post_message(session, user, channel.id or 0, body,
                                    parent_id=parent.id if parent else None)
    session.commit()
    return message


def make_poll(session: Session, author: User, channel: Channel, **over: object) -> Poll:
    data: dict[str, object] = dict(question="移行の時期は？", options=["今年度", "来年度", "未定"])
    data.update(over)
    poll = polls.create_poll(session, author, channel.id or 0, polls.PollInput(**data))  # type: ignore[arg-type]
    session.commit()
    return poll


def make_briefing(session: Session, organiser: User, *, capacity: int = 0, channel: Channel | None = None,
                  starts: datetime | None = None) -> Briefing:
    start = starts or (utcnow() + timedelta(days=2)).astimezone(JST).replace(
        hour=14, minute=0, second=0, microsecond=0)
    briefing = briefings.create_briefing(session, organiser, briefings.BriefingInput(
        title="標準化説明会", description="説明します", starts_at=start,
        ends_at=start + timedelta(hours=1, minutes=30), capacity=capacity,
        channel_id=channel.id if channel else None))
    session.commit()
    return briefing
