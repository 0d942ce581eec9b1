"""Work on a clock, in each worker: polls close at their deadline, briefing
reminders go out the day before, SQLite's write-ahead log is checkpointed,
the text of attached files is extracted for search, unsent uploads are collected,
expired sessions and old rate-limit counts are deleted, and the garbage
collector's full pass runs (``realtime/transport.py`` says why on a clock). Each step is idempotent (a row changes once),
so several workers doing it at the same time cannot double anything."""

from __future__ import annotations

import asyncio
import gc
import logging
import time

from kyoso import realtime
from kyoso.db import checkpoint, session_scope
from kyoso.realtime.transport import FULL_GC_SECONDS
from kyoso.services import accounts, attachments, briefings, events, polls, ratelimit
from kyoso.services.events import Event

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
    checkpoint()
    # Text of attached files for search: a few per round, each in a child
    # process (a broken file fails alone), outside any transaction.
    attachments.extract_pending(max_files=4)
    return events.take(session)


async def run_periodic_tasks() -> None:
    last_gc = time.monotonic()
    while True:
        try:
            changed = await asyncio.to_thread(run_once)
            if changed:
                await realtime.publish(changed)
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: BLE001 - keep the loop alive, the next round retries
            logger.exception("periodic task failed")
        if time.monotonic() - last_gc >= FULL_GC_SECONDS:
            gc.collect()
            last_gc = time.monotonic()
        await asyncio.sleep(INTERVAL_SECONDS)
