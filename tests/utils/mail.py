"""Reading the outbox in tests: the mails kyoso queued, and the links in them."""

from __future__ import annotations

import re

from sqlmodel import Session, col, select

from kyoso.models import Outbox

_TOKEN = re.compile(r"[?&]token=([A-Za-z0-9_\-.]+)")


def mails_to(session: Session, address: str, kind: str | None = None) -> list[Outbox]:
    """Mails queued for ``address`` (of ``kind``), oldest first."""
    stmt = select(Outbox).where(Outbox.to_addr == address.lower()).order_by(col(Outbox.id))
    if kind:
        stmt = stmt.where(Outbox.kind == kind)
    return list(session.exec(stmt).all())


def last_link(session: Session, address: str, path: str) -> str:
    """The newest link to ``path`` (e.g. "/verify") mailed to ``address``."""
    for mail in reversed(mails_to(session, address)):
        found = re.findall(r"https?://[^\s]+" + re.escape(path) + r"\?token=[^\s]+", mail.body_text)
        if found:
            return found[-1]
    raise AssertionError(f"no mail with a {path} link to {address}")


def token_of(link: str) -> str:
    match = _TOKEN.search(link)
    assert match, link
    return match.group(1)


def confirm_signup(session: Session, address: str) -> None:
    """Open the confirmation link mailed to ``address`` (the application goes to review)."""
    from kyoso.services import account_mail

    account_mail.confirm_email(session, token_of(last_link(session, address, "/verify")))
    session.commit()
