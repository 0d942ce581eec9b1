"""A consistent copy of the database while the app runs (``kyoso backup``).

SQLite: the online backup API copies a consistent snapshot page by page while
writers go on (WAL mode). PostgreSQL has its own tools (pg_dump).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import sqlalchemy as sa

from kyoso.db import utcnow
from kyoso.services.errors import InvalidInput
from kyoso.settings import PROJECT_ROOT, get_settings


def backup(target: str | None = None, url: str | None = None) -> Path:
    url = url or get_settings().database_url
    if not url.startswith("sqlite"):
        raise InvalidInput("PostgreSQL のバックアップには pg_dump をお使いください。")
    source = sa.engine.make_url(url).database
    if not source or not Path(source).exists():
        raise InvalidInput(f"データベースファイルが見つかりません: {source}")
    path = Path(target) if target else (
        PROJECT_ROOT / "data" / "backups" / f"kyoso-{utcnow():%Y%m%d-%H%M%S}.db")
    path.parent.mkdir(parents=True, exist_ok=True)
    src = sqlite3.connect(source, timeout=30)
    dst = sqlite3.connect(path)
    try:
        with dst:
            src.backup(dst, pages=1024)
        check = dst.execute("PRAGMA integrity_check").fetchone()[0]
        if check != "ok":
            raise InvalidInput(f"バックアップの検査に失敗しました: {check}")
    finally:
        dst.close()
        src.close()
    return path
