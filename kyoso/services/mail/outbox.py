"""The outbox: every mail is a row, written in the transaction of the change
that causes it, so a rolled-back change sends nothing and a committed one is
never lost (services/mail/sender.py delivers the rows).

Without ``KYOSO_SMTP_URL`` rows are ``held``: 運営 read them at /admin/mail.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, parseaddr
from typing import Any
from urllib.parse import urlsplit

import sqlalchemy as sa
from sqlmodel import Session, col, select

from kyoso.db import utcnow
from kyoso.models import Outbox, OutboxStatus, User, UserStatus
from kyoso.services.errors import InvalidInput, NotAllowed, NotFound
from kyoso.services.mail import prefs
from kyoso.services.timefmt import jst_short
from kyoso.settings import get_settings

# email's SMTP policy: CRLF line ends, and it refuses a header value with a
# CR or LF in it (ValueError), so no text can add a header of its own.
POLICY = SMTP

KIND_LABELS = {
    "verify": "アドレスの確認", "reset": "パスワードの再設定", "mention": "メンション",
    "reply": "返信", "answer": "回答の決定", "question": "説明会への質問", "digest": "ダイジェスト",
    "reminder": "説明会のリマインダー", "announcement": "重要なお知らせ", "test": "テスト",
}
STATUS_LABELS = {
    OutboxStatus.held: "保留（SMTP未設定）", OutboxStatus.queued: "送信待ち",
    OutboxStatus.sending: "送信中", OutboxStatus.sent: "送信済み",
    OutboxStatus.failed: "送信できませんでした", OutboxStatus.cancelled: "取りやめ",
}
# Kinds that may go to an application not yet approved; every other mail goes
# to active members only (checked when queued and again when sent).
KINDS_FOR_APPLICANTS = {"verify"}

_LINE_BREAK = re.compile(r"[\r\n\x00]")
_LINK = re.compile(r"https?://[^\s<>\"']+")


@dataclass
class Draft:
    """A mail to queue. ``setting`` names the member setting that stops it
    (prefs.SETTINGS), "" for mail that always goes (confirmation, reset)."""

    kind: str
    to_addr: str
    subject: str
    text: str
    html: str = ""
    to_name: str = ""
    user_id: int | None = None
    setting: str = ""
    attachment_name: str = ""
    attachment_type: str = ""
    attachment_body: str = ""
    dedupe_key: str | None = None


def check_header(value: str, *, label: str) -> str:
    """A header value: refused if it holds a line break (header injection)."""
    if _LINE_BREAK.search(value or ""):
        raise InvalidInput(f"{label}に改行を含めることはできません。改行を取り除いてください。", field=label)
    return value


def one_line(value: str, max_len: int = 200) -> str:
    """Text from the database made into a header-safe line (subjects built from titles)."""
    text = " ".join((value or "").split())
    return text if len(text) <= max_len else text[: max_len - 1] + "…"


def new_message_id(kind: str) -> str:
    host = urlsplit(get_settings().base_url).hostname or "kyoso.invalid"
    return f"<{uuid.uuid4().hex}.{kind}@{host}>"


def initial_status() -> str:
    return OutboxStatus.queued if get_settings().smtp_url.strip() else OutboxStatus.held


def _row(draft: Draft, status: str, now: datetime) -> dict[str, Any]:
    check_header(draft.subject, label="件名")
    check_header(draft.to_name, label="氏名")
    check_header(draft.to_addr, label="メールアドレス")
    check_header(draft.attachment_name, label="添付ファイル名")
    return {
        "message_id": new_message_id(draft.kind), "kind": draft.kind, "user_id": draft.user_id,
        "to_addr": draft.to_addr, "to_name": draft.to_name[:100], "subject": draft.subject[:300],
        "body_text": draft.text, "body_html": draft.html, "setting": draft.setting,
        "attachment_name": draft.attachment_name, "attachment_type": draft.attachment_type,
        "attachment_body": draft.attachment_body, "dedupe_key": draft.dedupe_key,
        "status": status, "attempts": 0, "next_attempt_at": now, "lease_until": None,
        "claimed_by": "", "last_error": "", "smtp_reply": "", "created_at": now, "sent_at": None,
    }


def queue(session: Session, draft: Draft) -> Outbox:
    """Queue one mail in the caller's transaction."""
    row = Outbox(**_row(draft, initial_status(), utcnow()))
    session.add(row)
    session.flush()
    return row


_OUTBOX_T = Outbox.__table__  # type: ignore[attr-defined]


def queue_many(session: Session, drafts: list[Draft]) -> int:
    """Queue many mails with one executemany (15,000 お知らせ in well under a second)."""
    if not drafts:
        return 0
    status, now = initial_status(), utcnow()
    rows = [_row(d, status, now) for d in drafts]
    session.flush()
    for start in range(0, len(rows), 2000):
        session.execute(sa.insert(_OUTBOX_T), rows[start:start + 2000])
    return len(rows)


# ---------------------------------------------------------------------------
# The MIME message
# ---------------------------------------------------------------------------


def compose(row: Outbox, *, secret: str, mail_from: str | None = None) -> EmailMessage:
    """The message of an outbox row: plain text and HTML, headers that say it
    is automatic, and a one-click unsubscribe for mail a setting can stop."""
    settings = get_settings()
    from_name, from_addr = parseaddr(mail_from or settings.mail_from)
    msg = EmailMessage(policy=POLICY)
    msg["From"] = Address(display_name=from_name, addr_spec=from_addr)
    msg["To"] = Address(display_name=row.to_name, addr_spec=row.to_addr)
    msg["Subject"] = row.subject
    msg["Date"] = format_datetime(utcnow())
    msg["Message-ID"] = row.message_id
    msg["Auto-Submitted"] = "auto-generated"
    msg["X-Auto-Response-Suppress"] = "All"  # no out-of-office replies from Exchange
    if row.setting and row.user_id:
        url = prefs.unsubscribe_url(secret, row.user_id, row.setting)
        msg["List-Unsubscribe"] = f"<{url}>"
        msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    msg.set_content(row.body_text, cte="base64")
    if row.body_html:
        msg.add_alternative(row.body_html, subtype="html", cte="base64")
    if row.attachment_name:
        maintype, _, subtype = (row.attachment_type or "application/octet-stream").partition("/")
        msg.add_attachment(row.attachment_body.encode("utf-8"), maintype=maintype, subtype=subtype,
                           filename=row.attachment_name)
    return msg


def envelope_from(mail_from: str | None = None) -> str:
    return parseaddr(mail_from or get_settings().mail_from)[1]


# ---------------------------------------------------------------------------
# The outbox as 運営 see it (/admin/mail)
# ---------------------------------------------------------------------------


def waiting(session: Session) -> int:
    """Mails not yet handed to the SMTP server (queued, being sent, or held
    while no server is set): the outbox's depth for /metrics."""
    return int(session.exec(select(sa.func.count()).select_from(Outbox).where(
        col(Outbox.status).in_([OutboxStatus.queued, OutboxStatus.sending, OutboxStatus.held]))).one())


def _require_staff(user: User | None) -> User:
    if user is None or user.status != UserStatus.active or not user.is_staff:
        raise NotAllowed("この操作は運営だけが行えます。")
    return user


@dataclass
class OutboxItem:
    id: int
    to: str
    to_name: str
    subject: str
    kind: str
    kind_label: str
    status: str
    status_label: str
    created: str
    sent: str
    attempts: int
    last_error: str
    body_text: str
    links: list[str] = field(default_factory=list)


def _item(row: Outbox) -> OutboxItem:
    return OutboxItem(
        id=row.id or 0, to=row.to_addr, to_name=row.to_name, subject=row.subject, kind=row.kind,
        kind_label=KIND_LABELS.get(row.kind, row.kind), status=row.status,
        status_label=STATUS_LABELS.get(OutboxStatus(row.status), row.status),
        created=jst_short(row.created_at), sent=jst_short(row.sent_at) if row.sent_at else "",
        attempts=row.attempts, last_error=row.last_error, body_text=row.body_text,
        links=[u for u in _LINK.findall(row.body_text) if "/unsubscribe?" not in u],
    )


def list_outbox(session: Session, viewer: User, *, status: str = "", to: str = "",
                limit: int = 100) -> list[OutboxItem]:
    """The newest mails first, for 運営 only; ``status``/``to`` narrow the list."""
    _require_staff(viewer)
    stmt = select(Outbox).order_by(col(Outbox.id).desc()).limit(max(1, min(limit, 500)))
    if status:
        if status not in set(OutboxStatus):
            raise InvalidInput("状態の指定が正しくありません。", field="status")
        stmt = stmt.where(Outbox.status == status)
    if to:
        stmt = stmt.where(Outbox.to_addr == to.strip().lower())
    return [_item(r) for r in session.exec(stmt).all()]


def outbox_counts(session: Session, viewer: User) -> dict[str, int]:
    """How many mails are in each state (the header of /admin/mail)."""
    _require_staff(viewer)
    rows = session.exec(select(Outbox.status, sa.func.count()).group_by(Outbox.status)).all()  # type: ignore[call-overload]
    return {status: int(n) for status, n in rows}


def requeue(session: Session, viewer: User, outbox_id: int) -> OutboxItem:
    """Send a held or failed mail again (運営, e.g. after setting up SMTP)."""
    _require_staff(viewer)
    row = session.get(Outbox, outbox_id)
    if row is None:
        raise NotFound("このメールは見つかりません。")
    if row.status not in (OutboxStatus.held, OutboxStatus.failed):
        raise InvalidInput("送信待ち・送信済みのメールは再送できません。")
    if not get_settings().smtp_url.strip():
        raise InvalidInput("SMTP サーバーが設定されていないため、送信できません（KYOSO_SMTP_URL）。")
    row.status, row.attempts, row.next_attempt_at, row.last_error = OutboxStatus.queued, 0, utcnow(), ""
    session.add(row)
    session.flush()
    return _item(row)


def release_held(session: Session, viewer: User) -> int:
    """Queue every held mail (once an SMTP server is set). Returns how many."""
    _require_staff(viewer)
    if not get_settings().smtp_url.strip():
        raise InvalidInput("SMTP サーバーが設定されていないため、送信できません（KYOSO_SMTP_URL）。")
    result = session.execute(
        sa.update(_OUTBOX_T).where(_OUTBOX_T.c.status == OutboxStatus.held)
        .values(status=OutboxStatus.queued, next_attempt_at=utcnow()))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
