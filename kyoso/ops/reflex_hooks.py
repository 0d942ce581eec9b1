"""Where operations meet Reflex: per-handler event metrics and log ids, the
connected-clients gauge, and the metrics refresh clock.

Reflex 0.10.1 runs every event through
``BaseStateEventProcessor._execute_event`` (take the client's state lock, run
the handler, send the delta); app middleware only sees events before they
run. Timing that one method per event gives each handler's count and latency
(lock wait included, as the client feels it) without touching kyoso's states.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import uuid
from time import perf_counter
from typing import Any

from reflex_base.event.processor.base_state_processor import BaseStateEventProcessor

from kyoso.ops import logsetup, metrics

logger = logging.getLogger("kyoso.ops")
REFRESH_SECONDS = 5.0


def handler_label(event_name: str) -> str:
    """``reflex___state____state.kyoso___states___channel____channel_state.post_message``
    → ``channel_state.post_message``: short, and bounded by the handlers
    that exist (an unknown name never reaches the processor)."""
    parts = event_name.rsplit(".", 2)
    if len(parts) < 2:
        return event_name
    return f"{parts[-2].rsplit('____', 1)[-1]}.{parts[-1]}"


def _timed(execute: Any) -> Any:
    @functools.wraps(execute)
    async def execute_timed(self: Any, *, entry: Any, registered_handler: Any) -> None:
        name = handler_label(entry.event.name)
        name_token = logsetup.event_name.set(name)
        id_token = logsetup.event_id.set(getattr(entry.ctx, "txid", None) or uuid.uuid4().hex[:16])
        start = perf_counter()
        ok = False
        try:
            await execute(self, entry=entry, registered_handler=registered_handler)
            ok = True
        finally:
            metrics.observe_event(name, perf_counter() - start, ok)
            logsetup.event_id.reset(id_token)
            logsetup.event_name.reset(name_token)

    execute_timed.kyoso_timed = True  # type: ignore[attr-defined]
    return execute_timed


def instrument_events() -> None:
    """Time every Reflex event (idempotent)."""
    if not getattr(BaseStateEventProcessor._execute_event, "kyoso_timed", False):
        BaseStateEventProcessor._execute_event = _timed(BaseStateEventProcessor._execute_event)  # type: ignore[method-assign]


def install(app: Any) -> None:
    """Called once by kyoso/kyoso.py after building the app."""
    logsetup.configure()
    instrument_events()

    def connected() -> int:
        sio = getattr(app, "sio", None)
        eio = getattr(sio, "eio", None)
        return len(getattr(eio, "sockets", ()) or ())

    metrics.count_clients_with(connected)

    async def _refresh_metrics() -> None:
        while True:
            try:
                await asyncio.to_thread(metrics.refresh)
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - a figure must never stop the clock
                logger.exception("refreshing metrics failed")
            await asyncio.sleep(REFRESH_SECONDS)

    app.register_lifespan_task(_refresh_metrics)
