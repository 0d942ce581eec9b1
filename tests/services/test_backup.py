"""kyoso backup: a consistent copy while writers go on; kyoso restore puts
it back (the restore drill, on SQLite and on PostgreSQL)."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlmodel import Session

from kyoso.cli import main
from kyoso.db import get_engine
from kyoso.models import Message
from kyoso.services import backup, messages
from kyoso.services.errors import InvalidInput
from tests.utils.factories import make_channel, make_user


def test_backup_while_writing(db_url: str, session: Session, tmp_path: Path) -> None:
    if not db_url.startswith("sqlite"):
        return  # pg_dump's snapshot: test_restore_drill
    author = make_user(session)
    channel = make_channel(session)
    stop = threading.Event()
    written: list[int] = []

    def writer() -> None:
        with Session(get_engine(db_url)) as s:
            i = 0
            while not stop.is_set():
                m = messages.post_message(s, author, channel.id or 0, f"書き込み中 {i}", rate_limited=False)
                s.commit()
                written.append(m.id or 0)
                i += 1

    t = threading.Thread(target=writer)
    t.start()
    try:
        deadline = time.monotonic() + 30
        while len(written) < 20 and time.monotonic() < deadline:
            time.sleep(0.01)
        path = backup.backup(str(tmp_path / "copy.db"), url=db_url)
    finally:
        stop.set()
        t.join()
    con = sqlite3.connect(path)
    try:
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        copied = con.execute("select count(*) from message").fetchone()[0]
    finally:
        con.close()
    assert 20 <= copied <= len(written)


def test_checkpoint_empties_the_write_ahead_log(db_url: str, session: Session) -> None:
    from kyoso.db import checkpoint

    author = make_user(session)
    channel = make_channel(session)
    for i in range(50):
        messages.post_message(session, author, channel.id or 0, f"ログ {i}", rate_limited=False)
    session.commit()
    checkpoint(db_url)  # a no-op on PostgreSQL
    if db_url.startswith("sqlite"):
        path = Path(sa.engine.make_url(db_url).database or "")
        con = sqlite3.connect(path)
        try:
            busy, log, done = con.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        finally:
            con.close()
        assert busy == 0 and log == done  # nothing left behind


def _bodies(db_url: str) -> list[str]:
    with Session(get_engine(db_url)) as s:
        return sorted(m.body for m in s.exec(sa.select(Message)).scalars())


def test_restore_drill(db_url: str, session: Session, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    """Back up, lose data after it, restore: the database is as it was at
    the backup, and the app's own queries work on it."""
    author = make_user(session)
    channel = make_channel(session)
    for i in range(3):
        messages.post_message(session, author, channel.id or 0, f"残す投稿 {i}", rate_limited=False)
    session.commit()
    session.close()
    suffix = ".db" if db_url.startswith("sqlite") else ".dump"
    assert main(["backup", str(tmp_path / f"drill{suffix}")]) == 0
    path = tmp_path / f"drill{suffix}"
    assert path.stat().st_size > 0 and str(path) in capsys.readouterr().out
    with Session(get_engine(db_url)) as s:
        messages.post_message(s, author, channel.id or 0, "バックアップの後の投稿", rate_limited=False)
        s.execute(sa.delete(Message).where(Message.body == "残す投稿 0"))
        s.commit()
    assert _bodies(db_url) == ["バックアップの後の投稿", "残す投稿 1", "残す投稿 2"]

    assert main(["restore", str(path)]) == 2  # not without --yes
    assert _bodies(db_url) == ["バックアップの後の投稿", "残す投稿 1", "残す投稿 2"]
    assert main(["restore", str(path), "--yes"]) == 0
    assert _bodies(db_url) == ["残す投稿 0", "残す投稿 1", "残す投稿 2"]
    with Session(get_engine(db_url)) as s:  # the domain works on the restored data
        m = messages.post_message(s, author, channel.id or 0, "復元の後の投稿", rate_limited=False)
        s.commit()
        assert m.id is not None


def test_restore_refuses_what_is_not_a_backup(db_url: str, tmp_path: Path) -> None:
    junk = tmp_path / "junk.bin"
    junk.write_bytes(b"not a backup at all" * 100)
    before = _bodies(db_url)
    with pytest.raises(InvalidInput):
        backup.restore(str(junk), url=db_url)
    with pytest.raises(InvalidInput, match="見つかりません"):
        backup.restore(str(tmp_path / "missing.dump"), url=db_url)
    assert _bodies(db_url) == before
def test_backup_includes_the_attached_files(db_url: str, session: Session, tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    if not db_url.startswith("sqlite"):
        return
    import io  # noqa: PLC0415 - only this test uploads

    from kyoso.services import attachments  # noqa: PLC0415
    from kyoso.settings import get_settings  # noqa: PLC0415

    monkeypatch.setenv("KYOSO_FILES_DIR", str(tmp_path / "files"))
    get_settings.cache_clear()
    user = make_user(session)
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    view = attachments.add_upload(session, user, attachments.prepare(io.BytesIO("議事録".encode()), "議事録.txt",
                                                                      scratch))
    session.commit()
    path = backup.backup(str(tmp_path / "copy.db"), url=db_url)
    copied = [p for p in (tmp_path / "copy.db.files").rglob("*") if p.is_file()]
    assert [p.read_bytes() for p in copied] == ["議事録".encode()]
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT name FROM attachment WHERE id = ?", (view.id,)).fetchone() == ("議事録.txt",)
    get_settings.cache_clear()
