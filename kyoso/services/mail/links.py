"""One-time links sent by mail: confirming an address (24 h) and resetting a
password (30 min). Only the SHA-256 of a token is stored; a link works once.
"""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from sqlmodel import Session, col, select

from kyoso.db import utcnow
from kyoso.models import MailToken, User
from kyoso.services.errors import InvalidInput
from kyoso.services.mail import outbox, templates
from kyoso.services.security import hash_token, new_token

VERIFY, RESET = "verify", "reset"
LIFETIME = {VERIFY: timedelta(hours=24), RESET: timedelta(minutes=30)}
PATH = {VERIFY: "/verify", RESET: "/password/reset"}

FORGED = "このリンクは無効です。メールに書かれたリンクを、途中で切れないようにそのまま開いてください。"
USED = {
    VERIFY: "このリンクはすでに使われています。確認は済んでいるので、運営の審査をお待ちください。",
    RESET: "このリンクはすでに使われています。もう一度パスワードの再設定を申し込んでください。",
}
EXPIRED = {
    VERIFY: "このリンクの有効期限（24時間）が切れています。確認メールをもう一度送ってください。",
    RESET: "このリンクの有効期限（30分）が切れています。もう一度パスワードの再設定を申し込んでください。",
}


def issue(session: Session, user: User, purpose: str) -> str:
    """A new link token for ``user``; earlier unused ones of the same purpose stop working."""
    now = utcnow()
    session.execute(
        sa.update(MailToken).where(MailToken.user_id == user.id, MailToken.purpose == purpose,
                                   col(MailToken.used_at).is_(None))
        .values(expires_at=now))
    token = new_token()
    session.add(MailToken(purpose=purpose, token_hash=hash_token(token), user_id=user.id,  # type: ignore[arg-type]
                          created_at=now, expires_at=now + LIFETIME[purpose]))
    session.flush()
    return token


def find(session: Session, token: str, purpose: str) -> MailToken:
    """The valid token row, or a DomainError saying why not (forged, used, expired)."""
    token = (token or "").strip()
    if not token or len(token) > 100:
        raise InvalidInput(FORGED)
    row = session.exec(select(MailToken).where(MailToken.token_hash == hash_token(token))).first()
    if row is None or row.purpose != purpose:
        raise InvalidInput(FORGED)
    if row.used_at is not None:
        raise InvalidInput(USED[purpose])
    if row.expires_at <= utcnow():
        raise InvalidInput(EXPIRED[purpose])
    return row


def consume(session: Session, token: str, purpose: str) -> MailToken:
    row = find(session, token, purpose)
    # Guarded update: of two uses at the same moment only one wins.
    done = session.execute(
        sa.update(MailToken).where(MailToken.id == row.id, col(MailToken.used_at).is_(None))
        .values(used_at=utcnow()))
    if not done.rowcount:  # type: ignore[attr-defined]
        raise InvalidInput(USED[purpose])
    session.refresh(row)
    return row


def link(purpose: str, token: str) -> str:
    return templates.url(f"{PATH[purpose]}?token={token}")


def queue_confirmation(session: Session, user: User, org_name: str) -> None:
    """A new confirmation link for an application, and its mail."""
    token = issue(session, user, VERIFY)
    mail = templates.verify(user.name, org_name, link(VERIFY, token))
    outbox.queue(session, outbox.Draft(kind="verify", to_addr=user.email, to_name=user.name,
                                       user_id=user.id, subject=mail.subject, text=mail.text, html=mail.html))


def queue_reset(session: Session, user: User, *, by_staff: bool = False) -> None:
    token = issue(session, user, RESET)
    mail = templates.reset(user.name, link(RESET, token), by_staff=by_staff)
    outbox.queue(session, outbox.Draft(kind="reset", to_addr=user.email, to_name=user.name,
                                       user_id=user.id, subject=mail.subject, text=mail.text, html=mail.html))
