"""Work on a clock, in each worker: polls close at their deadline, briefing
reminders go out the day before, SQLite's write-ahead log is checkpointed. Each step is idempotent (a row changes once),
so several workers doing it at the same time cannot double anything."""

from __future__ import annotations

import asyncio
import logging

from kyoso.db import checkpoint, session_scope
from kyoso.services import briefings, polls
from kyoso.services.events import Event

logger = logging.getLogger("kyoso.tasks")
INTERVAL_SECONDS = 10


def run_once() -> list[Event]:
    events: list[Event] = []
    with session_scope() as session:
        events += polls.close_due(session)
        events += briefings.send_reminders(session)
    checkpoint()
    return events


async def run_periodic_tasks() -> None:
    from kyoso import realtime

    while True:
        try:
            events = await asyncio.to_thread(run_once)
            if events:
                await realtime.publish(events)
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: BLE001 - keep the loop alive, the next round retries
            logger.exception("periodic task failed")
        await asyncio.sleep(INTERVAL_SECONDS)
