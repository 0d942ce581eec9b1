"""A consistent copy of the database while the app runs (``kyoso backup``),
and putting one back (``kyoso restore``).

SQLite: the online backup API copies a consistent snapshot page by page while
writers go on (WAL mode); a restore copies the file back the same way.
PostgreSQL: ``pg_dump`` in its custom format (one consistent snapshot,
compressed) and ``pg_restore --clean`` into the configured database, in one
transaction. The programs come from PATH or Debian's
/usr/lib/postgresql/<version>/bin; pg_dump must be at least the server's
version.

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
import subprocess
from pathlib import Path

import sqlalchemy as sa

from kyoso.db import get_engine, utcnow
from kyoso.ops.pgserver import pg_bin
from kyoso.services.errors import InvalidInput
from kyoso.settings import PROJECT_ROOT, get_settings

BACKUP_DIR = PROJECT_ROOT / "data" / "backups"


def backup(target: str | None = None, url: str | None = None) -> Path:
    url = url or get_settings().database_url
    if url.startswith("sqlite"):
        path = _backup_sqlite(url, target)
    elif url.startswith("postgresql"):
        path = _backup_postgres(url, target)
    else:
        raise InvalidInput(f"このデータベースのバックアップには対応していません: {sa.engine.make_url(url).drivername}")
    backup_files(path.with_name(path.name + ".files"))
    return path


def restore(source: str, url: str | None = None) -> None:
    """Replace the database's contents with a backup. Stop the app first:
    clients connected meanwhile would see the old and the new data mixed."""
    url = url or get_settings().database_url
    path = Path(source)
    if not path.is_file():
        raise InvalidInput(f"バックアップファイルが見つかりません: {source}")
    # Connections held by this process would block the restore (PostgreSQL)
    # or keep reading the old file (SQLite).
    get_engine(url).dispose()
    if url.startswith("sqlite"):
        _restore_sqlite(url, path)
    elif url.startswith("postgresql"):
        _restore_postgres(url, path)
    else:
        raise InvalidInput(f"このデータベースの復元には対応していません: {sa.engine.make_url(url).drivername}")


def _default_target(suffix: str) -> Path:
    return BACKUP_DIR / f"kyoso-{utcnow():%Y%m%d-%H%M%S}{suffix}"


# -- SQLite ------------------------------------------------------------------

def _sqlite_file(url: str) -> Path:
    source = sa.engine.make_url(url).database
    if not source or not Path(source).exists():
        raise InvalidInput(f"データベースファイルが見つかりません: {source}")
    return Path(source)


def _backup_sqlite(url: str, target: str | None) -> Path:
    source = _sqlite_file(url)
    path = Path(target) if target else _default_target(".db")
    path.parent.mkdir(parents=True, exist_ok=True)
    _copy_sqlite(source, path)
    return path


def _restore_sqlite(url: str, backup_file: Path) -> None:
    target = sa.engine.make_url(url).database
    if not target or target == ":memory:":
        raise InvalidInput("復元先のデータベースファイルが設定されていません。")
    try:
        con = sqlite3.connect(f"file:{backup_file}?mode=ro", uri=True)
        try:
            check = con.execute("PRAGMA integrity_check").fetchone()[0]
        finally:
            con.close()
    except sqlite3.DatabaseError as exc:
        raise InvalidInput(f"SQLite のバックアップファイルではありません: {backup_file} ({exc})") from exc
    if check != "ok":
        raise InvalidInput(f"バックアップファイルが壊れています: {check}")
    Path(target).parent.mkdir(parents=True, exist_ok=True)
    # The backup API writes through SQLite's own locking and journal, so a
    # leftover write-ahead log of the old file cannot be replayed over it.
    _copy_sqlite(backup_file, Path(target))


def _copy_sqlite(source: Path, target: Path) -> None:
    src = sqlite3.connect(source, timeout=30)
    dst = sqlite3.connect(target, timeout=30)
    try:
        with dst:
            src.backup(dst, pages=1024)
        check = dst.execute("PRAGMA integrity_check").fetchone()[0]
        if check != "ok":
            raise InvalidInput(f"バックアップの検査に失敗しました: {check}")
    finally:
        dst.close()
        src.close()


# -- PostgreSQL --------------------------------------------------------------

def _libpq(url: str) -> tuple[list[str], dict[str, str]]:
    """Connection options for pg_dump/pg_restore, the password in the
    environment (never on the command line, where ps shows it)."""
    u = sa.engine.make_url(url)
    args = [f"--dbname={u.database}"]
    if u.host:
        args.append(f"--host={u.host}")
    if u.port:
        args.append(f"--port={u.port}")
    if u.username:
        args.append(f"--username={u.username}")
    env = dict(os.environ)
    if u.password:
        env["PGPASSWORD"] = str(u.password)
    return args, env


def _program(name: str) -> str:
    path = pg_bin(name)
    if path is None:
        raise InvalidInput(f"{name} が見つかりません。PostgreSQL のクライアント（Debian では postgresql-client）を"
                           "インストールしてください。")
    return path


def _run(cmd: list[str], env: dict[str, str], what: str) -> None:
    result = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        detail = (result.stderr or result.stdout).strip().splitlines()
        raise InvalidInput(f"{what}に失敗しました: {detail[-1] if detail else result.returncode}")


def _backup_postgres(url: str, target: str | None) -> Path:
    path = Path(target) if target else _default_target(".dump")
    path.parent.mkdir(parents=True, exist_ok=True)
    args, env = _libpq(url)
    _run([_program("pg_dump"), "--format=custom", "--no-owner", "--no-privileges",
          f"--file={path}", *args], env, "pg_dump によるバックアップ")
    # A dump pg_restore cannot read is no backup.
    _run([_program("pg_restore"), "--list", str(path)], env, "バックアップの検査")
    return path


def _restore_postgres(url: str, backup_file: Path) -> None:
    args, env = _libpq(url)
    _run([_program("pg_restore"), "--list", str(backup_file)], env,
         "バックアップファイルの読み込み（pg_dump のカスタム形式ですか）")
    _run([_program("pg_restore"), "--clean", "--if-exists", "--no-owner", "--no-privileges",
          "--single-transaction", "--exit-on-error", *args, str(backup_file)], env,
         "pg_restore による復元")


# -- attachments -------------------------------------------------------------

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
