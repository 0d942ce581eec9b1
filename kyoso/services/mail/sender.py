"""Delivers the outbox over SMTP.

A round claims due rows (``queued``, ``next_attempt_at`` passed) by setting
them ``sending`` with this worker's id and a lease, in a short transaction
(on PostgreSQL with ``FOR UPDATE SKIP LOCKED``, so several workers share the
work and never take the same row). It then sends them on one SMTP
connection, outside any transaction, and writes the outcome of the batch.

* A refusal the server calls temporary (4xx), a connection that fails or
  drops before the message was handed over: the row waits and is retried
  with exponential backoff (30 s doubling, at most an hour between tries,
  ``MAX_ATTEMPTS`` tries, about 14 hours): an outage loses nothing.
* A permanent refusal (5xx): ``failed``, with the server's answer.
* At most once per Message-ID: a row is sent only by the worker holding its
  claim, and a row whose lease ran out while ``sending`` (the worker died,
  or the connection dropped after the message was handed over but before
  the server answered) is not sent again by itself: it becomes ``failed``
  ("届いたかどうか不明") and 運営 may requeue it at /admin/mail.
* Just before sending, the recipient is checked again: nothing goes to a
  suspended, rejected or removed member, nor mail a setting has since turned
  off (``cancelled``).
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import smtplib
import socket
import ssl
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from kyoso.db import session_scope, utcnow
from kyoso.models import MailSetting, Outbox, OutboxStatus, User, UserStatus
from kyoso.services.errors import DomainError, InvalidInput
from kyoso.services.mail import outbox, prefs, templates
from kyoso.services.mail.smtp_url import SmtpConfig, parse_smtp_url
from kyoso.settings import get_settings

logger = logging.getLogger("kyoso.mail")

BATCH = 50
LEASE = timedelta(minutes=5)
MAX_ATTEMPTS = 20
TIMEOUT_SECONDS = 30
IN_DOUBT = "送信中に処理が中断されたため、届いたかどうか分かりません。必要なら再送してください。"

_T = Outbox.__table__  # type: ignore[attr-defined]
_EMAIL = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@([A-Za-z0-9-]+\.)+[A-Za-z]{2,}$")


class MailError(DomainError):
    """The SMTP server could not be reached or refused (``kyoso mail test``)."""


def backoff(attempts: int) -> timedelta:
    """Wait before try number ``attempts + 1``: 30 s, 1 min, 2 min, ... at most 1 h."""
    return timedelta(seconds=min(30 * 2 ** max(attempts - 1, 0), 3600))


@dataclass
class DeliveryReport:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    cancelled: int = 0
    replies: list[str] = field(default_factory=list)

    @property
    def handled(self) -> int:
        return self.sent + self.retried + self.failed + self.cancelled


# ---------------------------------------------------------------------------
# SMTP
# ---------------------------------------------------------------------------


class _Refused(Exception):
    def __init__(self, code: int, reply: str) -> None:
        super().__init__(f"{code} {reply}")
        self.code, self.reply = code, reply

    @property
    def temporary(self) -> bool:
        return 400 <= self.code < 500


class _InDoubt(Exception):
    """The message was handed over, but the server's answer never came."""


def _text(reply: bytes | str) -> str:
    return (reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)).strip()


def connect(config: SmtpConfig, *, timeout: float = TIMEOUT_SECONDS) -> smtplib.SMTP:
    """An open, greeted (and logged-in) SMTP connection. Raises OSError or
    smtplib.SMTPException when the server cannot be used."""
    context = ssl.create_default_context()
    if config.mode == "ssl":
        smtp: smtplib.SMTP = smtplib.SMTP_SSL(config.host, config.port, timeout=timeout, context=context)
    else:
        smtp = smtplib.SMTP(config.host, config.port, timeout=timeout)
    try:
        smtp.ehlo_or_helo_if_needed()
        if config.mode == "starttls":
            smtp.starttls(context=context)
            smtp.ehlo()
        if config.username:
            smtp.login(config.username, config.password)
    except BaseException:
        smtp.close()
        raise
    return smtp


def _quote(data: bytes) -> bytes:
    data = re.sub(rb"(?m)^\.", b"..", data)
    return data if data.endswith(b"\r\n") else data + b"\r\n"


def send_one(smtp: smtplib.SMTP, sender: str, to: str, data: bytes) -> str:
    """MAIL, RCPT, DATA for one message; the server's final answer.

    Raises _Refused (with the server's code) when refused, _InDoubt when the
    connection failed after the message was handed over, and OSError /
    SMTPServerDisconnected when it failed before (nothing was delivered).
    """
    code, reply = smtp.mail(sender)
    if code != 250:
        smtp.rset()
        raise _Refused(code, _text(reply))
    code, reply = smtp.rcpt(to)
    if code not in (250, 251):
        smtp.rset()
        raise _Refused(code, _text(reply))
    smtp.putcmd("data")
    code, reply = smtp.getreply()
    if code != 354:
        smtp.rset()
        raise _Refused(code, _text(reply))
    try:
        smtp.send(_quote(data) + b".\r\n")
        code, reply = smtp.getreply()
    except (OSError, smtplib.SMTPServerDisconnected) as exc:
        raise _InDoubt(str(exc)) from exc
    if code != 250:
        raise _Refused(code, _text(reply))
    return f"{code} {_text(reply)}"


# ---------------------------------------------------------------------------
# Claiming and recording
# ---------------------------------------------------------------------------


def _worker_id() -> str:
    return f"{socket.gethostname()[:20]}-{os.getpid()}-{uuid.uuid4().hex[:8]}"


def _claim(session: Session, worker: str, now: datetime, limit: int) -> list[int]:
    # A lease that ran out while sending: in doubt, never sent again by itself.
    session.execute(
        sa.update(_T).where(_T.c.status == OutboxStatus.sending, _T.c.lease_until < now)
        .values(status=OutboxStatus.failed, last_error=IN_DOUBT, lease_until=None, claimed_by=""))
    due = (sa.select(_T.c.id).where(_T.c.status == OutboxStatus.queued, _T.c.next_attempt_at <= now)
           .order_by(_T.c.next_attempt_at, _T.c.id).limit(limit))
    if session.get_bind().dialect.name == "postgresql":
        due = due.with_for_update(skip_locked=True)
    ids = [int(i) for i in session.execute(due).scalars().all()]
    if ids:
        session.execute(
            sa.update(_T).where(_T.c.id.in_(ids), _T.c.status == OutboxStatus.queued)
            .values(status=OutboxStatus.sending, claimed_by=worker, lease_until=now + LEASE))
    return ids


@dataclass
class _Job:
    row: Outbox
    allowed: bool


def _load(session: Session, ids: list[int], worker: str) -> list[_Job]:
    rows = session.execute(
        sa.select(Outbox, User.status, MailSetting)  # type: ignore[call-overload]
        .outerjoin(User, User.id == Outbox.user_id)  # type: ignore[arg-type]
        .outerjoin(MailSetting, MailSetting.user_id == Outbox.user_id)  # type: ignore[arg-type]
        .where(Outbox.id.in_(ids), Outbox.claimed_by == worker)  # type: ignore[union-attr]
        .order_by(Outbox.id)
    ).all()
    jobs = []
    for row, status, setting in rows:
        if row.user_id is None:
            allowed = True
        elif row.kind in outbox.KINDS_FOR_APPLICANTS:
            allowed = status == UserStatus.unconfirmed
        else:
            allowed = status == UserStatus.active
        if allowed and row.setting:
            allowed = bool(getattr(setting, row.setting)) if setting is not None else prefs.DEFAULTS.get(
                row.setting, True)
        jobs.append(_Job(row, allowed))
    return jobs


def _record(session: Session, worker: str, outcomes: list[tuple[int, dict[str, Any]]]) -> None:
    for outbox_id, values in outcomes:
        session.execute(
            sa.update(_T).where(_T.c.id == outbox_id, _T.c.claimed_by == worker,
                                _T.c.status == OutboxStatus.sending)
            .values(lease_until=None, **values))


def _retry_or_fail(row: Outbox, error: str, now: datetime) -> dict[str, Any]:
    attempts = row.attempts + 1
    if attempts >= MAX_ATTEMPTS:
        return {"status": OutboxStatus.failed, "attempts": attempts, "claimed_by": "",
                "last_error": f"{MAX_ATTEMPTS}回試しても送信できませんでした: {error}"[:500]}
    return {"status": OutboxStatus.queued, "attempts": attempts, "claimed_by": "",
            "next_attempt_at": now + backoff(attempts), "last_error": error[:500]}


def _send_batch(config: SmtpConfig, jobs: list[_Job], secret: str,
                report: DeliveryReport) -> list[tuple[int, dict[str, Any]]]:
    outcomes: list[tuple[int, dict[str, Any]]] = []
    todo = []
    for job in jobs:
        if job.allowed:
            todo.append(job.row)
        else:
            outcomes.append((job.row.id, {"status": OutboxStatus.cancelled, "claimed_by": "",  # type: ignore[arg-type]
                                          "last_error": "受信者が受け取れない状態（利用停止・設定で停止など）のため取りやめました。"}))
            report.cancelled += 1
    if not todo:
        return outcomes
    sender = outbox.envelope_from()
    smtp: smtplib.SMTP | None = None
    try:
        smtp = connect(config)
    except (OSError, smtplib.SMTPException) as exc:
        error = f"SMTP サーバーに接続できませんでした: {exc}"
        now = utcnow()
        for row in todo:
            outcomes.append((row.id, _retry_or_fail(row, error, now)))  # type: ignore[arg-type]
            report.retried += 1
        logger.warning("mail: cannot connect to %s: %s", config.describe(), exc)
        return outcomes
    try:
        for index, row in enumerate(todo):
            now = utcnow()
            try:
                data = outbox.compose(row, secret=secret).as_bytes(policy=outbox.POLICY)
                reply = send_one(smtp, sender, row.to_addr, data)
            except _Refused as exc:
                if exc.temporary:
                    outcomes.append((row.id, _retry_or_fail(row, f"{exc.code} {exc.reply}", now)))  # type: ignore[arg-type]
                    report.retried += 1
                    if exc.code == 421:  # the server is closing the connection
                        raise smtplib.SMTPServerDisconnected(exc.reply) from exc
                else:
                    outcomes.append((row.id, {"status": OutboxStatus.failed, "claimed_by": "",  # type: ignore[arg-type]
                                              "attempts": row.attempts + 1,
                                              "last_error": f"{exc.code} {exc.reply}"[:500]}))
                    report.failed += 1
                continue
            except _InDoubt as exc:
                outcomes.append((row.id, {"status": OutboxStatus.failed, "claimed_by": "",  # type: ignore[arg-type]
                                          "attempts": row.attempts + 1,
                                          "last_error": f"{IN_DOUBT} ({exc})"[:500]}))
                report.failed += 1
                raise smtplib.SMTPServerDisconnected(str(exc)) from exc
            except (ValueError, UnicodeError) as exc:  # a message that cannot be built
                outcomes.append((row.id, {"status": OutboxStatus.failed, "claimed_by": "",  # type: ignore[arg-type]
                                          "attempts": row.attempts + 1,
                                          "last_error": f"メールを組み立てられませんでした: {exc}"[:500]}))
                report.failed += 1
                continue
            outcomes.append((row.id, {"status": OutboxStatus.sent, "claimed_by": "", "sent_at": now,  # type: ignore[arg-type]
                                      "attempts": row.attempts + 1, "smtp_reply": reply[:300],
                                      "last_error": ""}))
            report.sent += 1
            report.replies.append(reply)
    except (OSError, smtplib.SMTPException) as exc:
        # The connection broke: what was not handed over waits for the next try.
        done = {i for i, _ in outcomes}
        now = utcnow()
        for row in todo:
            if row.id not in done:
                outcomes.append((row.id, _retry_or_fail(row, f"SMTP の接続が切れました: {exc}", now)))  # type: ignore[arg-type]
                report.retried += 1
        logger.warning("mail: connection to %s broke: %s", config.describe(), exc)
    finally:
        try:
            smtp.quit()
        except (OSError, smtplib.SMTPException):
            smtp.close()
    return outcomes


def deliver_due(*, limit: int = 1000, now: datetime | None = None, worker: str | None = None,
                smtp_url: str | None = None) -> DeliveryReport:
    """Send what is due, in batches of BATCH, up to ``limit`` mails. Blocking:
    call it in a thread from async code (``run_sender`` does)."""
    report = DeliveryReport()
    config = parse_smtp_url(get_settings().smtp_url if smtp_url is None else smtp_url)
    if config is None:
        return report  # no server: mail stays held in the outbox
    worker = worker or _worker_id()
    while report.handled < limit:
        with session_scope() as session:
            ids = _claim(session, worker, now or utcnow(), min(BATCH, limit - report.handled))
        if not ids:
            break
        with session_scope() as session:
            jobs = _load(session, ids, worker)
            secret = prefs.link_secret(session)
        outcomes = _send_batch(config, jobs, secret, report)
        with session_scope() as session:
            _record(session, worker, outcomes)
        if report.retried and not report.sent:
            break  # the server is refusing: wait for the backoff
    return report


async def run_sender(*, interval: float = 5.0, stop: asyncio.Event | None = None) -> None:
    """The sender's loop for a worker (kyoso/tasks.py starts it): a round every
    ``interval`` seconds, at once again while there is more to send."""
    worker = _worker_id()
    while stop is None or not stop.is_set():
        try:
            report = await asyncio.to_thread(deliver_due, worker=worker)
            if report.handled:
                logger.info("mail: sent %d, retry %d, failed %d, cancelled %d",
                            report.sent, report.retried, report.failed, report.cancelled)
            busy = report.handled >= 1000
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: BLE001 - keep the loop alive, the next round retries
            logger.exception("mail sender failed")
            busy = False
        if not busy:
            await asyncio.sleep(interval)


# ---------------------------------------------------------------------------
# kyoso mail test ADDRESS
# ---------------------------------------------------------------------------


def send_test(address: str, *, smtp_url: str | None = None) -> str:
    """Send one test mail straight to the server (not through the outbox) and
    return the server's answer. Raises MailError with a Japanese message."""
    address = (address or "").strip()
    if not _EMAIL.match(address):
        raise InvalidInput("メールアドレスの形式が正しくありません（例: taro@city.example.lg.jp）。")
    config = parse_smtp_url(get_settings().smtp_url if smtp_url is None else smtp_url)
    if config is None:
        raise MailError("SMTP サーバーが設定されていません。KYOSO_SMTP_URL を設定してください"
                        "（例: smtp://mail.example.lg.jp:25）。")
    mail = templates.test_mail()
    row = Outbox(message_id=outbox.new_message_id("test"), kind="test", to_addr=address,
                 subject=mail.subject, body_text=mail.text, body_html=mail.html)
    data = outbox.compose(row, secret="").as_bytes(policy=outbox.POLICY)
    try:
        smtp = connect(config)
    except smtplib.SMTPAuthenticationError as exc:
        raise MailError(f"SMTP サーバー（{config.describe()}）にログインできませんでした: "
                        f"{exc.smtp_code} {_text(exc.smtp_error)}") from exc
    except (OSError, smtplib.SMTPException) as exc:
        raise MailError(f"SMTP サーバー（{config.describe()}）に接続できませんでした: {exc}") from exc
    try:
        return send_one(smtp, outbox.envelope_from(), address, data)
    except _Refused as exc:
        raise MailError(f"SMTP サーバーが受け付けませんでした: {exc.code} {exc.reply}") from exc
    except (_InDoubt, OSError, smtplib.SMTPException) as exc:
        raise MailError(f"送信中に SMTP サーバーとの接続が切れました: {exc}") from exc
    finally:
        try:
            smtp.quit()
        except (OSError, smtplib.SMTPException):
            smtp.close()
