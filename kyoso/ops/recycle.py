"""An idle worker that has grown is replaced by a fresh one.

After a crowd has come and gone, a worker keeps what its allocators took at
the crowd's height: the objects are freed, but CPython's arenas and glibc's
heap give back only what is wholly free, so a worker stays at ~150-170 % of
its start after 1,000 tabs have come and gone (bench/README.md, "Seventh
sitting": a full collection and ``malloc_trim`` return 2 MiB of it).

So a worker with no open websocket for ``KYOSO_RECYCLE_IDLE_SECONDS`` whose
resident memory is over its start by ``KYOSO_RECYCLE_GROWTH_PERCENT`` ends
as at a deploy (uvicorn's graceful shutdown: requests in flight finish), and
gunicorn starts a fresh one from its preloaded app in its place. Nothing is
lost: no tab is connected to it; a tab that comes back later loads its page
anyway (its on_load runs at every reconnect); the periodic tasks are
idempotent and the mail sender's rows are leased (``kyoso/tasks.py``).

Only under gunicorn (``kyoso.ops.worker.UvicornWorker``): ``reflex run`` in
development runs uvicorn alone, with no one to start another.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

logger = logging.getLogger("kyoso.ops.recycle")


@dataclass
class Recycler:
    """When to end: ``tick`` is told the time, the open websockets and the
    resident memory; ``start_rss`` is the worker's before it served (else
    the first it is told)."""

    idle_seconds: float
    growth: float  # 1.10: 10 % over the start
    start_rss: int = 0
    idle_since: float | None = None

    def tick(self, now: float, sockets: int, rss: int) -> bool:
        if not self.start_rss:
            self.start_rss = rss
        if sockets:
            self.idle_since = None
            return False
        if self.idle_since is None:
            self.idle_since = now
        return now - self.idle_since >= self.idle_seconds and rss > self.start_rss * self.growth


def rss_bytes() -> int:
    """This process's resident memory (Linux; 0 elsewhere: never recycled)."""
    try:
        with open("/proc/self/statm", "rb") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


async def watch(server: Any, recycler: Recycler, sockets: Callable[[], int], every: float) -> None:
    """Until uvicorn's ``server`` exits: end it (``should_exit``, as SIGTERM
    does) when ``recycler`` says so."""
    while not server.should_exit:
        await asyncio.sleep(every)
        rss = rss_bytes()
        if rss and recycler.tick(time.monotonic(), sockets(), rss):
            logger.info("no client for %.0f s and %.0f MiB resident (%.0f MiB at start): this worker "
                        "ends and gunicorn starts a fresh one", recycler.idle_seconds, rss / 2**20,
                        recycler.start_rss / 2**20)
            server.should_exit = True
            return
