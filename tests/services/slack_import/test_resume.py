"""Killed with SIGKILL halfway, then run again: the database ends exactly as
after one clean run (rows counted table by table)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from bench.slack_gen import generate
from kyoso.db import get_engine
from tests.services.slack_import.conftest import counts, do_import

ROOT = Path(__file__).resolve().parents[3]
_CHILD = """
import sys
from kyoso.db import get_engine
from kyoso.services.slack_import import Options, run_import
run_import(get_engine(sys.argv[1]), sys.argv[2], Options(batch=25))
"""


def _shape(db_url: str) -> dict[str, object]:
    """What must match besides row counts: reply counts, read positions, the index."""
    with get_engine(db_url).connect() as conn:
        one = lambda q: conn.execute(sa.text(q)).scalar_one()  # noqa: E731
        return {
            "replies": one("SELECT coalesce(sum(reply_count), 0) FROM message"),
            "threads": one("SELECT count(*) FROM message WHERE reply_count > 0"),
            "read_to_latest": one(
                "SELECT count(*) FROM membership m WHERE m.last_read_id = "
                "(SELECT max(id) FROM message WHERE channel_id = m.channel_id AND parent_id IS NULL)"),
            "member_counts": one("SELECT sum(member_count) FROM channel"),
            "unfinished": one("SELECT count(*) FROM slack_import_channel WHERE finished_at IS NULL"),
            "indexed_ids": one("SELECT count(DISTINCT ref_id) FROM search_doc"),
        }


def test_kill_9_halfway_then_rerun_ends_as_one_clean_run(db_url: str, tmp_path: Path,
                                                        request: pytest.FixtureRequest) -> None:
    export = generate(tmp_path / "export", messages=4000, channels=6, users=300, seed=7)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    child = subprocess.Popen([sys.executable, "-c", _CHILD, db_url, str(export)], cwd=ROOT, env=env)
    written = 0
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline and child.poll() is None:
            written = counts(db_url)["slack_import_message"]
            if written >= 500:
                break
            time.sleep(0.02)
        assert child.poll() is None, "the import finished before it could be killed"
        child.send_signal(signal.SIGKILL)
        child.wait()
    finally:
        if child.poll() is None:
            child.kill()
    killed = counts(db_url)
    assert 0 < killed["slack_import_message"] < 3900
    # Every written key has its message, and every message its key: batches are whole.
    assert killed["slack_import_message"] == killed["message"]

    resumed_report = do_import(db_url, export)
    assert resumed_report.new_messages == resumed_report.messages - killed["message"]

    template = request.getfixturevalue("sqlite_template")
    clean_path = tmp_path / "clean.db"
    shutil.copy(template, clean_path)
    clean_url = f"sqlite:///{clean_path}"
    clean_report = do_import(clean_url, export)
    try:
        assert counts(db_url) == {**counts(clean_url), "auditlog": 1}  # the killed run logged nothing
        assert _shape(db_url) == _shape(clean_url)
        assert resumed_report.messages == clean_report.messages
        assert _shape(db_url)["unfinished"] == 0
    finally:
        get_engine(clean_url).dispose()
