"""Work on a clock, in each worker: polls close at their deadline, briefing
reminders go out the day before, mail is queued (services/mail/jobs.py) and
sent (services/mail/sender.py, its own loop), SQLite's write-ahead log is checkpointed,
the text of attached files is extracted for search, unsent uploads are collected,
expired sessions and old rate-limit counts are deleted, and the garbage
collector's full pass runs (``realtime/transport.py`` says why on a clock). Each step is idempotent (a row changes once),
so several workers doing it at the same time cannot double anything."""

from __future__ import annotations

import asyncio
import logging
import time

from kyoso import realtime
from kyoso.db import checkpoint, session_scope
from kyoso.realtime import transport
from kyoso.services import accounts, attachments, briefings, events, polls, ratelimit
from kyoso.services.events import Event
from kyoso.services.mail import jobs as mail_jobs
from kyoso.services.mail import sender as mail_sender

logger = logging.getLogger("kyoso.tasks")
INTERVAL_SECONDS = 10


_rounds = 0


def run_once() -> list[Event]:
    global _rounds
    _rounds += 1
    with session_scope() as session:
        polls.close_due(session)
        briefings.send_reminders(session)
        if _rounds % 360 == 1:  # about hourly: rows nobody reads any more
            ratelimit.prune(session)
            accounts.purge_expired_sessions(session)
            attachments.collect_orphans(session)
    changed = events.take(session)
    try:  # its own transaction: a failure here must not hold back the steps above
        with session_scope() as mail_session:
            mail_jobs.run_due(mail_session)  # unread notifications, reminders, digests -> outbox
        changed += events.take(mail_session)
    except Exception:  # noqa: BLE001 - the next round retries
        logger.exception("mail jobs failed")
    checkpoint()
    # Text of attached files for search: a few per round, each in a child
    # process (a broken file fails alone), outside any transaction.
    attachments.extract_pending(max_files=4)
    return changed


async def run_periodic_tasks() -> None:
    last_gc = time.monotonic()
    # The outbox's sender runs beside this loop in every worker: rows are
    # claimed with a lease, so workers share the work and never double it.
    sender = asyncio.create_task(mail_sender.run_sender())
    try:
        while True:
            try:
                changed = await asyncio.to_thread(run_once)
                if changed:
                    await realtime.publish(changed)
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - keep the loop alive, the next round retries
                logger.exception("periodic task failed")
            if transport.full_collection_due(time.monotonic() - last_gc):
                transport.collect_fully()
                last_gc = time.monotonic()
            await asyncio.sleep(INTERVAL_SECONDS)
    finally:
        sender.cancel()
