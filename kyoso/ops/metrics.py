"""Prometheus metrics of one kyoso process (served at /metrics by ops/http.py).

Plain functions the rest of kyoso calls; nothing here imports Reflex or the
states, so any module may record a figure:

    metrics.observe_event("channel_state.post_message", 0.012, ok=True)
    metrics.count_emit("channel:12", recipients=480)          # realtime hub
    metrics.set_queue_depth("mail_outbox", 3)                 # a value now
    metrics.track_queue_depth("mail_outbox", count_pending)   # read on refresh

Gauges that describe the process now (connected clients, database pool,
tracked queue depths) are refreshed by ``refresh()``: on every scrape and on a
5 s clock in each worker (ops/reflex_hooks.py), so that in multiprocess mode
(``PROMETHEUS_MULTIPROC_DIR`` set: several gunicorn workers answer for each
other) every worker's figure is recent.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable

import sqlalchemy as sa
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client import multiprocess
from prometheus_client import REGISTRY as DEFAULT_REGISTRY

from kyoso.db import pools

logger = logging.getLogger("kyoso.ops.metrics")

CONTENT_TYPE = CONTENT_TYPE_LATEST

# Seconds: from a few ms (a stamp) to a slow page load under a join burst.
LATENCY_BUCKETS = (0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
RECIPIENT_BUCKETS = (1, 10, 50, 100, 300, 1000, 3000, 10000)

CONNECTED_CLIENTS = Gauge(
    "kyoso_connected_clients", "Browser tabs connected to this worker (socket.io sessions).",
    multiprocess_mode="livesum")
EVENTS = Counter(
    "kyoso_events", "Reflex events handled, per handler and outcome.", ["handler", "outcome"])
EVENT_SECONDS = Histogram(
    "kyoso_event_seconds",
    "Time from picking up an event to its reply sent (state lock wait included).",
    ["handler"], buckets=LATENCY_BUCKETS)
EMITS = Counter("kyoso_emits", "Live updates emitted to a socket.io room, per kind of topic.",
                ["topic"])
EMIT_RECIPIENTS = Counter(
    "kyoso_emit_recipients", "Sockets of this worker that live updates were sent to.", ["topic"])
EMIT_ROOM_SIZE = Histogram(
    "kyoso_emit_room_size", "Recipients on this worker per live update.", ["topic"],
    buckets=RECIPIENT_BUCKETS)
QUEUE_DEPTH = Gauge("kyoso_queue_depth", "Items waiting in a queue (e.g. the mail outbox).",
                    ["queue"], multiprocess_mode="max")
DB_POOL = Gauge("kyoso_db_pool_connections",
                "Database connections of this worker's pools (readers: handlers' reads; "
                "others: writes and the rest), by state.", ["pool", "state"],
                multiprocess_mode="livesum")

_trackers: dict[str, Callable[[], int]] = {}
_clients: Callable[[], int] | None = None


def handler_label(event_name: str) -> str:
    """``reflex___state____state.kyoso___states___channel____channel_state.post_message``
    → ``channel_state.post_message``: short, and bounded by the handlers
    that exist (an unknown name never reaches the processor)."""
    parts = event_name.rsplit(".", 2)
    if len(parts) < 2:
        return event_name
    return f"{parts[-2].rsplit('____', 1)[-1]}.{parts[-1]}"


def observe_event(handler: str, seconds: float, ok: bool = True) -> None:
    EVENTS.labels(handler, "ok" if ok else "error").inc()
    EVENT_SECONDS.labels(handler).observe(seconds)


def count_emit(room: str, recipients: int) -> None:
    """One live update sent to ``room`` (``channel:12``): counted per kind of
    topic (``channel``), so the label set stays small."""
    topic = room.split(":", 1)[0] or "other"
    EMITS.labels(topic).inc()
    EMIT_RECIPIENTS.labels(topic).inc(recipients)
    EMIT_ROOM_SIZE.labels(topic).observe(recipients)


def set_queue_depth(queue: str, depth: int) -> None:
    QUEUE_DEPTH.labels(queue).set(depth)


def track_queue_depth(queue: str, read: Callable[[], int]) -> None:
    """``read()`` is called on each refresh (on the refresh thread: it may
    query the database); an exception leaves the last value."""
    _trackers[queue] = read


def count_clients_with(read: Callable[[], int]) -> None:
    global _clients
    _clients = read


def refresh() -> None:
    """Bring the gauges of this process up to date."""
    if _clients is not None:
        try:
            CONNECTED_CLIENTS.set(_clients())
        except Exception:  # noqa: BLE001 - a figure must never break a scrape
            logger.exception("counting connected clients failed")
    _refresh_pool()
    for queue, read in list(_trackers.items()):
        try:
            QUEUE_DEPTH.labels(queue).set(read())
        except Exception:  # noqa: BLE001
            logger.exception("reading queue depth %s failed", queue)


def _refresh_pool() -> None:
    for name, pool in pools().items():
        if isinstance(pool, sa.pool.QueuePool):
            DB_POOL.labels(name, "in_use").set(pool.checkedout())
            DB_POOL.labels(name, "idle").set(pool.checkedin())
            DB_POOL.labels(name, "overflow").set(max(0, pool.overflow()))
            DB_POOL.labels(name, "size").set(pool.size())


def render() -> bytes:
    """The text exposition format: this process, or every worker's in
    multiprocess mode."""
    refresh()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry)
    return generate_latest(DEFAULT_REGISTRY)
