"""Helpers for the Slack import tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from kyoso.db import get_engine
from kyoso.services.slack_import import Options, Report, run_import
from tests.services.slack_import.export import standard, write

TABLES = ("user", "channel", "membership", "message", "stamp", "search_doc", "notification", "auditlog",
          "slack_import_user", "slack_import_channel", "slack_import_message")


def do_import(db_url: str, path: Path, **options: Any) -> Report:
    return run_import(get_engine(db_url), str(path), Options(**options))


def counts(db_url: str) -> dict[str, int]:
    with get_engine(db_url).execution_options(kyoso_write=False).connect() as conn:
        return {t: conn.execute(sa.text(f'SELECT count(*) FROM "{t}"')).scalar_one() for t in TABLES}


@pytest.fixture
def export_dir(tmp_path: Path) -> Path:
    return write(tmp_path / "export", standard())
