"""Where operations meet Reflex: per-handler event metrics and log ids, the
connected-clients gauge, the metrics refresh clock, the states of tabs
that have gone (``GoneTabs``); a page load's own events are in
``reflex_page_load``.

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
import time
import uuid
from time import perf_counter
from typing import Any

from reflex.istate.manager.memory import StateManagerMemory
from reflex_base.event.processor.base_state_processor import BaseStateEventProcessor

from kyoso.ops import logsetup, metrics, reflex_page_load
from kyoso.ops.metrics import handler_label
from kyoso.settings import get_settings

logger = logging.getLogger("kyoso.ops")
REFRESH_SECONDS = 5.0


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


class GoneTabs:
    """Drop the in-memory state of a tab ``seconds`` after its socket went
    (Reflex keeps it ``redis_token_expiration``, an hour, after its last
    event: 3 waves of 1,000 tabs held 3,000 states, bench/README.md).

    At a disconnect the tab's deadline in Reflex's ``StateManagerMemory`` is
    brought forward; any event of the tab when it is back sets it to
    Reflex's own again. ``sweep`` runs Reflex's own purge, which skips a
    state whose lock is held."""

    def __init__(self, app: Any, seconds: float) -> None:
        self.app, self.seconds = app, seconds

    def _manager(self) -> Any:
        manager = getattr(self.app, "_state_manager", None)
        return manager if isinstance(manager, StateManagerMemory) else None

    def gone(self, token: str) -> None:
        manager = self._manager()
        if manager is None or not token:
            return
        # A tab's whole state tree is kept under its client token (Reflex's
        # ``BaseStateToken.cache_key``).
        held = manager._token_expires_at.get(token)
        deadline = time.time() + self.seconds
        if held is not None and held[0] > deadline:
            manager._token_expires_at[token] = (deadline, held[1])

    def sweep(self) -> None:
        manager = self._manager()
        if manager is not None:
            manager._purge_expired_tokens()

    def watch(self, namespace: Any) -> None:
        """Note every disconnect of ``namespace`` (Reflex's EventNamespace)."""
        if getattr(namespace, "kyoso_gone_tabs", None) is self:
            return
        on_disconnect = namespace.on_disconnect

        def noted(sid: str) -> Any:
            token = namespace.sid_to_token.get(sid)
            result = on_disconnect(sid)
            if token:
                self.gone(token)
            return result

        namespace.on_disconnect = noted
        namespace.kyoso_gone_tabs = self

    async def run(self) -> None:
        """The lifespan task: watch the namespace once it exists, sweep."""
        while True:
            namespace = getattr(self.app, "event_namespace", None)
            if namespace is not None:
                self.watch(namespace)
            try:
                self.sweep()
            except Exception:  # noqa: BLE001 - a sweep must never stop the clock
                logger.exception("dropping gone tabs' states failed")
            await asyncio.sleep(max(1.0, min(60.0, self.seconds / 4)))


def install(app: Any) -> None:
    """Called once by kyoso/kyoso.py after building the app."""
    logsetup.configure()
    instrument_events()
    reflex_page_load.install()

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
    app.register_lifespan_task(GoneTabs(app, get_settings().gone_tab_seconds).run)
