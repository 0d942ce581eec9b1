"""A consistent copy of the database while the app runs (``kyoso backup``).

SQLite: the online backup API copies a consistent snapshot page by page while
writers go on (WAL mode). PostgreSQL has its own tools (pg_dump).

Attachments kept in the local directory (``KYOSO_FILES_DIR``) are copied
beside the database file, into ``<backup>.files/``, after the database: a
file is never changed once written (it is named by its content hash), so
every file the copied database refers to is there. Attachments kept in the
database (``KYOSO_FILES_STORAGE=database``) are inside the copy already.
"""

from __future__ import annotations

import os
import shutil
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
    backup_files(path.with_name(path.name + ".files"))
    return path


def backup_files(target: Path, source: Path | None = None) -> int:
    """Copy the local attachment store to ``target`` (hard links when on the
    same disk: the files never change). Returns how many files were copied."""
    source = Path(source or get_settings().files_dir)
    if not source.is_dir():
        return 0
    count = 0
    for path in source.rglob("*"):
        if not path.is_file() or any(part.startswith(".") for part in path.relative_to(source).parts):
            continue  # ".<hash>.tmp", ".incoming/": files still being written
        dest = target / path.relative_to(source)
        dest.parent.mkdir(parents=True, exist_ok=True)
        if dest.exists():
            continue
        try:
            os.link(path, dest)
        except OSError:
            shutil.copy2(path, dest)
        count += 1
    return count
