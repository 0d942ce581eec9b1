"""JSON log lines with the request/event id (kyoso/ops/logsetup.py)."""

from __future__ import annotations

import json
import logging
import sys

from kyoso.ops import logsetup


def test_json_line_carries_ids_and_extras() -> None:
    record = logging.LogRecord("kyoso.test", logging.WARNING, __file__, 1, "投稿 %s 件", (3,), None)
    record.user_id = 7
    token = logsetup.request_id.set("req-1")
    etoken = logsetup.event_name.set("channel_state.post_message")
    try:
        assert logsetup.ContextFilter().filter(record)
    finally:
        logsetup.request_id.reset(token)
        logsetup.event_name.reset(etoken)
    line = json.loads(logsetup.JsonFormatter().format(record))
    assert line["level"] == "warning" and line["logger"] == "kyoso.test"
    assert line["message"] == "投稿 3 件"
    assert line["request_id"] == "req-1" and line["event"] == "channel_state.post_message"
    assert line["user_id"] == 7
    assert "event_id" not in line  # empty ids are left out
    assert line["time"].endswith("Z")


def test_exception_is_one_json_line() -> None:
    try:
        raise ValueError("壊れた")
    except ValueError:
        record = logging.LogRecord("kyoso.test", logging.ERROR, __file__, 1, "failed", (), sys.exc_info())
    out = logsetup.JsonFormatter().format(record)
    assert "\n" not in out
    assert "ValueError: 壊れた" in json.loads(out)["exc_info"]
