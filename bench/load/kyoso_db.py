"""Bench people and their login sessions, made directly in kyoso's database.

``accounts.create_user`` hashes each password with argon2 (~50 ms each); the
bench inserts N users in bulk with ONE precomputed hash instead, and gives each
a fresh session the way ``accounts.create_session`` stores it (the SHA-256 of
a random token). They become members of the bench channel, which is made
through the domain (``channels.create_channel_unchecked``); every run empties
it and posts the same 12 threads with a few stamps, so each run opens the same
page.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from kyoso.db import session_scope, utcnow
from kyoso.models import AuthSession, Channel, Membership, Message, Role, Stamp, User, UserStatus
from kyoso.services import channels, messages, stamps
from kyoso.services.security import hash_password, hash_token, new_token

EMAIL = "bench-{:05d}@city.bench.lg.jp"
ORG = "131016"  # 千代田区
SEED_THREADS = 12


@dataclass
class BenchPeople:
    channel_id: int
    slug: str
    user_ids: list[int]
    tokens: list[str]


def _ensure_users(session: Session, n: int) -> list[int]:
    like = EMAIL.split("{")[0] + "%"
    have = {email: uid for uid, email in session.exec(
        select(User.id, User.email).where(col(User.email).like(like))).all()}
    missing = [i for i in range(n) if EMAIL.format(i) not in have]
    if missing:
        pw_hash = hash_password("bench-password-0000")  # one hash for all
        now = utcnow()
        session.execute(sa.insert(User), [{
            "email": EMAIL.format(i), "name": f"負荷 {i:05d}", "org_code": ORG,
            "department": "負荷試験課", "role": Role.member, "status": UserStatus.active,
            "password_hash": pw_hash, "bio": "", "interests": "", "rejection_reason": "",
            "created_at": now, "reviewed_at": now, "session_epoch": 0,
        } for i in missing])
        have = {email: uid for uid, email in session.exec(
            select(User.id, User.email).where(col(User.email).like(like))).all()}
    return [have[EMAIL.format(i)] for i in range(n)]  # type: ignore[misc]


def _ensure_channel(session: Session, slug: str) -> Channel:
    channel = session.exec(select(Channel).where(Channel.slug == slug)).first()
    if channel is None:
        channel = channels.create_channel_unchecked(
            session, slug=slug, name="負荷試験ルーム", description="ベンチマーク用（bench/）")
        session.flush()
    return channel


def _ensure_members(session: Session, channel: Channel, user_ids: list[int]) -> None:
    have = set(session.exec(select(Membership.user_id).where(
        Membership.channel_id == channel.id)).all())
    latest = int(session.exec(select(sa.func.coalesce(sa.func.max(Message.id), 0)).where(
        Message.channel_id == channel.id, col(Message.parent_id).is_(None))).one())
    new = [uid for uid in user_ids if uid not in have]
    if new:
        now = utcnow()
        session.execute(sa.insert(Membership), [
            {"channel_id": channel.id, "user_id": uid, "joined_at": now, "last_read_id": latest}
            for uid in new])
        channels._recount(session, channel)  # noqa: SLF001 - the domain's own count


def _delete_polls(session: Session, where: Any) -> None:
    """Delete the polls matching ``where`` with their options and ballots."""
    from kyoso.models import Ballot, BallotChoice, Poll, PollOption

    polls = select(Poll.id).where(where)
    session.execute(sa.delete(BallotChoice).where(col(BallotChoice.poll_id).in_(polls)))
    session.execute(sa.delete(Ballot).where(col(Ballot.poll_id).in_(polls)))
    session.execute(sa.delete(PollOption).where(col(PollOption.poll_id).in_(polls)))
    session.execute(sa.delete(Poll).where(where))


def _reset_channel(session: Session, channel: Channel) -> None:
    """Empty the bench channel, so every run starts from the same page."""
    from kyoso.models import Notification

    from kyoso.models import Poll

    _delete_polls(session, Poll.channel_id == channel.id)
    ids = select(Message.id).where(Message.channel_id == channel.id)
    session.execute(sa.delete(Notification).where(col(Notification.message_id).in_(ids)))
    session.execute(sa.delete(Stamp).where(col(Stamp.message_id).in_(ids)))
    session.execute(sa.update(Message).where(Message.channel_id == channel.id).values(parent_id=None))
    session.execute(sa.delete(Message).where(Message.channel_id == channel.id))
    session.execute(sa.update(Membership).where(Membership.channel_id == channel.id)
                    .values(last_read_id=0))


def _seed_threads(session: Session, channel: Channel, user_ids: list[int]) -> None:
    if len(user_ids) < 3:
        return
    for i in range(SEED_THREADS):
        author = session.get(User, user_ids[i % len(user_ids)])
        msg = messages.post_message(session, author, channel.id,  # type: ignore[arg-type]
                                       f"準備の投稿 {i + 1}: **説明会**の資料は共有フォルダにあります。")
        for j, stamp in enumerate(("了解", "👍", "ありがとうございます")[: 1 + i % 3]):
            voter = session.get(User, user_ids[(i + j + 1) % len(user_ids)])
            stamps.toggle(session, voter, msg.id, stamp)  # type: ignore[arg-type]


def _fresh_sessions(session: Session, user_ids: list[int]) -> list[str]:
    session.execute(sa.delete(AuthSession).where(col(AuthSession.user_id).in_(user_ids)))
    now = utcnow()
    tokens = [new_token() for _ in user_ids]
    session.execute(sa.insert(AuthSession), [{
        "token_hash": hash_token(tok), "user_id": uid, "created_at": now, "last_seen_at": now,
        "expires_at": now + timedelta(days=1), "session_epoch": 0,
    } for uid, tok in zip(user_ids, tokens, strict=True)])
    return tokens


def prepare(db_url: str, n: int, slug: str = "bench-room") -> BenchPeople:
    """N bench members of channel ``slug``, each with a fresh session token."""
    with session_scope(db_url) as session:
        user_ids = _ensure_users(session, n)
        channel = _ensure_channel(session, slug)
        _reset_channel(session, channel)
        _ensure_members(session, channel, user_ids)
        _seed_threads(session, channel, user_ids)
        tokens = _fresh_sessions(session, user_ids)
        return BenchPeople(channel.id or 0, channel.slug, user_ids, tokens)


BRIEFING_TITLE = "負荷試験 説明会（bench）"


def prepare_briefing(db_url: str, people: BenchPeople) -> int:
    """A 説明会 that is on now, organised by the first bench member, related to
    the bench channel, emptied of questions, polls and registrations: every
    run opens the same room. Returns its id."""
    from kyoso.models import Briefing, Poll, BriefingQuestion, BriefingQuestionVote, Registration

    now = utcnow()
    with session_scope(db_url) as session:
        briefing = session.exec(select(Briefing).where(Briefing.title == BRIEFING_TITLE)).first()
        if briefing is None:
            briefing = Briefing(title=BRIEFING_TITLE, description="ベンチマーク用の説明会（bench/）",
                                starts_at=now, ends_at=now, organiser_id=people.user_ids[0],
                                channel_id=people.channel_id, online_url="https://example.lg.jp/live")
        briefing.starts_at = now - timedelta(minutes=10)
        briefing.ends_at = now + timedelta(hours=3)
        briefing.organiser_id = people.user_ids[0]
        briefing.live_poll_id = None
        session.add(briefing)
        session.flush()
        bid = briefing.id
        questions = select(BriefingQuestion.id).where(BriefingQuestion.briefing_id == bid)
        session.execute(sa.delete(BriefingQuestionVote).where(col(BriefingQuestionVote.question_id).in_(questions)))
        session.execute(sa.delete(BriefingQuestion).where(BriefingQuestion.briefing_id == bid))
        _delete_polls(session, Poll.briefing_id == bid)
        session.execute(sa.delete(Registration).where(Registration.briefing_id == bid))
        return int(bid or 0)


def clear_rate_hits(db_url: str, user_ids: list[int]) -> None:
    """Forget the bench members' rate-limit hits of earlier runs (posts, stamps,
    questions)."""
    from kyoso.models import RateHit

    keys = [f"{kind}:{uid}" for uid in user_ids for kind in ("post", "stamp", "ask")]
    with session_scope(db_url) as session:
        for i in range(0, len(keys), 500):
            session.execute(sa.delete(RateHit).where(col(RateHit.key).in_(keys[i:i + 500])))


def count_stamps(db_url: str, message_id: int, stamp: str) -> int:
    from kyoso.db import read_scope

    with read_scope(db_url) as session:
        return int(session.exec(select(sa.func.count()).select_from(Stamp).where(
            Stamp.message_id == message_id, Stamp.stamp == stamp)).one())


def stamp_rows(db_url: str, message_id: int, stamp: str) -> tuple[int, int]:
    """(rows, distinct users) of one stamp on one message."""
    from kyoso.db import read_scope

    with read_scope(db_url) as session:
        rows, users = session.exec(select(sa.func.count(), sa.func.count(sa.distinct(Stamp.user_id)))
                                   .where(Stamp.message_id == message_id, Stamp.stamp == stamp)).one()
        return int(rows), int(users)


def ballot_rows(db_url: str, poll_id: int) -> tuple[int, int]:
    """(ballots, distinct voters) of one poll."""
    from kyoso.db import read_scope
    from kyoso.models import Ballot

    with read_scope(db_url) as session:
        rows, users = session.exec(select(sa.func.count(), sa.func.count(sa.distinct(Ballot.user_id)))
                                   .where(Ballot.poll_id == poll_id)).one()
        return int(rows), int(users)
