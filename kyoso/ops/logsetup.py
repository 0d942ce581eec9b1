"""Log lines: plain text (default) or one JSON object per line
(``KYOSO_LOG_FORMAT=json``) with the request and event id, for a log
collector.

    {"time": "2026-12-01T23:59:01.123Z", "level": "error", "logger": "kyoso.tasks",
     "message": "periodic task failed", "request_id": "3f2a...", "event_id": "...",
     "event": "channel_state.post_message", "node": "kyoso-a", "pid": 4242,
     "exc_info": "Traceback ..."}

``configure()`` runs when the app module is imported (before gunicorn forks
its workers with ``--preload``), and puts the formatter on the root logger and
on gunicorn's and uvicorn's own loggers, so access and error lines are JSON
too. ``request_id`` is set per HTTP request/websocket (ops/http.py) and
``event_id``/``event_name`` per Reflex event (ops/reflex_hooks.py).
"""

from __future__ import annotations

import json
import logging
import os
import socket
from contextvars import ContextVar
from datetime import datetime, timezone

from kyoso.settings import get_settings

request_id: ContextVar[str] = ContextVar("kyoso_request_id", default="")
event_id: ContextVar[str] = ContextVar("kyoso_event_id", default="")
event_name: ContextVar[str] = ContextVar("kyoso_event_name", default="")

SERVER_LOGGERS = ("gunicorn", "gunicorn.error", "gunicorn.access", "uvicorn", "uvicorn.error",
                  "uvicorn.access")
NODE = os.environ.get("KYOSO_NODE_NAME") or socket.gethostname()

_STANDARD = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}


class ContextFilter(logging.Filter):
    """Copies the ids of the current request/event onto each record."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get()
        record.event_id = event_id.get()
        record.event = event_name.get()
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, timezone.utc)
            .isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            "node": NODE,
            "pid": record.process,
        }
        for key in ("request_id", "event_id", "event"):
            value = getattr(record, key, "")
            if value:
                out[key] = value
        # Anything passed with extra={...}.
        for key, value in record.__dict__.items():
            if key not in _STANDARD and key not in out and key not in ("request_id", "event_id", "event"):
                out[key] = value if isinstance(value, (str, int, float, bool, type(None))) else repr(value)
        if record.exc_info:
            out["exc_info"] = self.formatException(record.exc_info)
        return json.dumps(out, ensure_ascii=False)


_configured = False


def configure(fmt: str | None = None) -> None:
    """Install the formatter and the context filter (idempotent)."""
    global _configured
    fmt = (fmt or get_settings().log_format).lower()
    if fmt != "json" or _configured:
        return
    _configured = True
    formatter = JsonFormatter()
    context = ContextFilter()
    root = logging.getLogger()
    if not root.handlers:
        root.addHandler(logging.StreamHandler())
        root.setLevel(logging.INFO)
    for logger in (root, *(logging.getLogger(n) for n in SERVER_LOGGERS)):
        for handler in logger.handlers:
            handler.setFormatter(formatter)
            handler.addFilter(context)
