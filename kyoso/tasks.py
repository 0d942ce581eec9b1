"""Work on a clock, in each worker: polls close at their deadline, briefing
reminders go out the day before, SQLite's write-ahead log is checkpointed,
expired sessions and old rate-limit counts are deleted, and the garbage
collector's full pass runs (``realtime/transport.py`` says why on a clock). Each step is idempotent (a row changes once),
so several workers doing it at the same time cannot double anything."""

from __future__ import annotations

import asyncio
import gc
import logging
import time

from kyoso.db import checkpoint, session_scope
from kyoso.services import accounts, briefings, polls, ratelimit
from kyoso.services.events import Event

logger = logging.getLogger("kyoso.tasks")
INTERVAL_SECONDS = 10


_rounds = 0


def run_once() -> list[Event]:
    global _rounds
    _rounds += 1
    events: list[Event] = []
    with session_scope() as session:
        events += polls.close_due(session)
        events += briefings.send_reminders(session)
        if _rounds % 360 == 1:  # about hourly: rows nobody reads any more
            ratelimit.prune(session)
            accounts.purge_expired_sessions(session)
    checkpoint()
    return events


async def run_periodic_tasks() -> None:
    from kyoso import realtime
    from kyoso.realtime.transport import FULL_GC_SECONDS

    last_gc = time.monotonic()
    while True:
        try:
            events = await asyncio.to_thread(run_once)
            if events:
                await realtime.publish(events)
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: BLE001 - keep the loop alive, the next round retries
            logger.exception("periodic task failed")
        if time.monotonic() - last_gc >= FULL_GC_SECONDS:
            gc.collect()
            last_gc = time.monotonic()
        await asyncio.sleep(INTERVAL_SECONDS)
