"""Bad input: clear Japanese errors or warnings naming the file; nothing
half-written for the bad item; the rest imported."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest
from sqlmodel import Session, select

from kyoso.models import Message
from kyoso.services.slack_import import ExportError
from kyoso.services.slack_import.reader import safe_name
from tests.services.slack_import.conftest import counts, do_import
from tests.services.slack_import.export import standard, ts, write


def _messages(session: Session) -> list[Message]:
    session.expire_all()
    return list(session.exec(select(Message)).all())


def test_a_corrupt_zip_is_refused_by_name(db_url: str, tmp_path: Path) -> None:
    path = tmp_path / "slack-export.zip"
    path.write_bytes(b"PK\x03\x04" + "壊れたデータ".encode() * 100)
    with pytest.raises(ExportError) as err:
        do_import(db_url, path)
    assert "slack-export.zip" in err.value.message and "zip" in err.value.message
    assert counts(db_url)["message"] == 0


def test_a_zip_with_a_damaged_member_is_refused(db_url: str, tmp_path: Path) -> None:
    path = write(tmp_path / "ws", standard(), as_zip=True)
    raw = bytearray(path.read_bytes())
    middle = len(raw) // 3  # inside a member's compressed data
    raw[middle:middle + 40] = b"\xff" * 40
    path.write_bytes(bytes(raw))
    with pytest.raises(ExportError) as err:
        do_import(db_url, path)
    assert "ws.zip" in err.value.message
    assert counts(db_url)["user"] == 0


def test_missing_users_json_is_refused(db_url: str, tmp_path: Path) -> None:
    data = standard()
    del data["users.json"]
    with pytest.raises(ExportError) as err:
        do_import(db_url, write(tmp_path / "ws", data))
    assert "users.json がありません" in err.value.message
    assert counts(db_url)["channel"] == 0


def test_a_day_file_that_is_not_json_is_skipped_and_named(session: Session, db_url: str, tmp_path: Path) -> None:
    path = write(tmp_path / "ws", standard(), raw={"general/2023-11-16.json": b'[\n {"ts": "1.0",\n oops\n]'})
    report = do_import(db_url, path)
    [warning] = report.warnings
    assert warning["file"] == "general/2023-11-16.json" and warning["line"] == 3
    assert "JSONとして読めません" in warning["message"]
    assert len(_messages(session)) == 7


def test_unknown_author_mention_and_channel(session: Session, db_url: str, tmp_path: Path) -> None:
    data = standard()
    data["general"]["2023-11-16.json"] = [
        {"type": "message", "user": "U404", "text": "だれでしょう", "ts": ts(5000)},
        {"type": "message", "user": "U02", "text": "<@U998> さんと <#C777|秘密の部屋> の件", "ts": ts(5001)},
    ]
    report = do_import(db_url, write(tmp_path / "ws", data))
    by_message = {w["message"]: w for w in report.warnings}
    author = next(w for m, w in by_message.items() if "U404" in m)
    assert author["file"] == "general/2023-11-16.json" and author["line"] > 1
    assert "取り込みませんでした" in author["message"]
    refs = next(w for m, w in by_message.items() if "U998" in m)
    assert "C777" in refs["message"] and "文字のまま" in refs["message"]
    bodies = [m.body_html for m in _messages(session)]
    assert len(bodies) == 8
    assert not any("だれでしょう" in b for b in bodies)
    assert any("@U998" in b and "#秘密の部屋" in b and "<a " not in b for b in bodies)


def test_a_10_mb_message_is_skipped_and_the_rest_imported(session: Session, db_url: str, tmp_path: Path) -> None:
    data = standard()
    data["general"]["2023-11-16.json"] = [
        {"type": "message", "user": "U02", "text": "あ" * 10_000_000, "ts": ts(5000)},
        {"type": "message", "user": "U02", "text": "同じ日の普通の投稿", "ts": ts(5001)},
    ]
    report = do_import(db_url, write(tmp_path / "ws", data))
    [warning] = report.warnings
    assert warning["file"] == "general/2023-11-16.json" and "長すぎる" in warning["message"]
    assert "10,000,000文字" in warning["message"]
    bodies = [m.body for m in _messages(session)]
    assert "同じ日の普通の投稿" in bodies and max(len(b) for b in bodies) < 100


def test_a_file_over_the_size_cap_is_skipped(session: Session, db_url: str, tmp_path: Path) -> None:
    data = standard()
    data["general"]["2023-11-16.json"] = [
        {"type": "message", "user": "U02", "text": "い" * 3000, "ts": ts(5000)}]
    report = do_import(db_url, write(tmp_path / "ws", data), max_file_bytes=8000)
    assert [w["file"] for w in report.warnings] == ["general/2023-11-16.json"]
    assert "大きすぎる" in report.warnings[0]["message"]
    assert len(_messages(session)) == 7


@pytest.mark.parametrize("name", ["../evil.json", "/etc/passwd", "general/../../evil.json", "..\\evil.json",
                                  "C:/evil.json"])
def test_unsafe_names(name: str) -> None:
    assert not safe_name(name)


def test_path_traversal_in_zip_names_is_refused_and_reported(session: Session, db_url: str,
                                                             tmp_path: Path) -> None:
    path = write(tmp_path / "ws", standard(), as_zip=True)
    with zipfile.ZipFile(path, "a") as zf:
        zf.writestr("../../evil.json", json.dumps([{"ts": ts(9000), "user": "U02", "text": "外"}]))
        zf.writestr("general/../../../2023-12-01.json", json.dumps([{"ts": ts(9001), "user": "U02", "text": "外"}]))
    report = do_import(db_url, path)
    files = {w["file"] for w in report.warnings}
    assert files == {"../../evil.json", "general/../../../2023-12-01.json"}
    assert all("安全でないファイル名" in w["message"] for w in report.warnings)
    assert not (tmp_path.parent / "evil.json").exists()
    assert len(_messages(session)) == 7


def test_a_channel_folder_not_in_channels_json_is_reported(session: Session, db_url: str,
                                                           tmp_path: Path) -> None:
    data = standard()
    data["秘密"] = {"2023-11-14.json": [{"type": "message", "user": "U02", "text": "内緒", "ts": ts(10)}]}
    report = do_import(db_url, write(tmp_path / "ws", data))
    [warning] = report.warnings
    assert warning["file"] == "秘密" and "channels.json にない" in warning["message"]
    assert len(_messages(session)) == 7


def test_a_reply_whose_thread_is_missing_becomes_a_post(session: Session, db_url: str, tmp_path: Path) -> None:
    data = standard()
    data["general"]["2023-11-16.json"] = [
        {"type": "message", "user": "U02", "text": "親がない返信", "ts": ts(5000), "thread_ts": ts(4999)}]
    report = do_import(db_url, write(tmp_path / "ws", data))
    assert "返信先のスレッド" in report.warnings[0]["message"]
    orphan = next(m for m in _messages(session) if m.body == "親がない返信")
    assert orphan.parent_id is None


def test_users_json_that_is_not_a_list_is_refused(db_url: str, tmp_path: Path) -> None:
    data = standard()
    data["users.json"] = {"members": []}
    with pytest.raises(ExportError) as err:
        do_import(db_url, write(tmp_path / "ws", data))
    assert "users.json" in err.value.message
    assert counts(db_url)["user"] == 0
