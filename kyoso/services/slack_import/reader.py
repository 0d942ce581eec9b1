"""Reading a Slack export: the zip Slack gives, or its unpacked folder.

    users.json  channels.json  [groups.json dms.json mpims.json]
    <channel name>/<YYYY-MM-DD>.json   (one JSON array of messages per day)

Day files are read one at a time (a large export never sits in memory).
Member names are checked before anything is read: no absolute paths, no
``..``, no backslashes, no links out of the folder; every file has a size
cap, enforced while reading (a zip may lie about sizes).
"""

from __future__ import annotations

import json
import re
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import Any

from kyoso.services.errors import InvalidInput

_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}\.json$")


class ExportError(InvalidInput):
    """The export as a whole cannot be read (corrupt zip, no users.json)."""


class FileProblem(Exception):
    """One file of the export cannot be read; the rest can."""

    def __init__(self, name: str, message: str, line: int = 0) -> None:
        super().__init__(message)
        self.name, self.message, self.line = name, message, line


def safe_name(name: str) -> bool:
    """A member name that stays inside the export once unpacked."""
    if not name or "\\" in name or "\x00" in name or name.startswith("/") or re.match(r"^[A-Za-z]:", name):
        return False
    return all(part not in ("..", "") for part in PurePosixPath(name).parts) and ".." not in name.split("/")


class Export:
    """The files of an export, by their name inside it (``general/2024-01-05.json``)."""

    def __init__(self, path: str | Path, *, max_file_bytes: int) -> None:
        self.path = Path(path)
        self.max_file_bytes = max_file_bytes
        self.unsafe: list[str] = []
        self._zip: zipfile.ZipFile | None = None
        self._root: Path | None = None
        self._names: dict[str, Any] = {}
        if not self.path.exists():
            raise ExportError(f"{self.path} が見つかりません。Slackのエクスポート（zipファイルかフォルダ）を指定してください。")
        if self.path.is_dir():
            self._open_folder()
        else:
            self._open_zip()
        if "users.json" not in self._names:
            raise ExportError(
                f"{self.path.name} に users.json がありません。Slackのワークスペースのエクスポートを指定してください。")
        if "channels.json" not in self._names:
            raise ExportError(
                f"{self.path.name} に channels.json がありません。Slackのワークスペースのエクスポートを指定してください。")

    def _open_zip(self) -> None:
        try:
            zf = zipfile.ZipFile(self.path)
            bad = zf.testzip() if self.path.stat().st_size < 64 * 1024 * 1024 else None
        except (zipfile.BadZipFile, zlib.error, OSError, EOFError) as exc:
            raise ExportError(f"{self.path.name} はzipファイルとして読めません（壊れているか、zipではありません）: {exc}") from None
        if bad is not None:
            raise ExportError(f"{self.path.name} は壊れています（{bad} が読めません）。エクスポートをやり直してください。")
        self._zip = zf
        infos = [i for i in zf.infolist() if not i.is_dir()]
        names = {}
        for info in infos:
            if not safe_name(info.filename):
                self.unsafe.append(info.filename)
                continue
            names[info.filename] = info
        self._names = _strip_common_folder(names)

    def _open_folder(self) -> None:
        root = self.path.resolve()
        self._root = root
        names: dict[str, Any] = {}
        for p in sorted(root.rglob("*")):
            if p.is_dir():
                continue
            rel = p.relative_to(root).as_posix()
            if not safe_name(rel) or not p.resolve().is_relative_to(root):
                self.unsafe.append(rel)
                continue
            names[rel] = p
        self._names = _strip_common_folder(names)

    def close(self) -> None:
        if self._zip is not None:
            self._zip.close()

    def has(self, name: str) -> bool:
        return name in self._names

    def size(self, name: str) -> int:
        entry = self._names.get(name)
        if isinstance(entry, zipfile.ZipInfo):
            return entry.file_size
        return entry.stat().st_size if entry is not None else 0

    def read_bytes(self, name: str) -> bytes:
        entry = self._names.get(name)
        if entry is None:
            raise FileProblem(name, f"{name} がありません。")
        cap = self.max_file_bytes
        too_big = FileProblem(name, f"{name} が大きすぎるため読み飛ばしました（上限 {cap // (1024 * 1024)} MB）。")
        try:
            if isinstance(entry, zipfile.ZipInfo):
                if entry.file_size > cap:
                    raise too_big
                with self._zip.open(entry) as fh:  # type: ignore[union-attr]
                    data = fh.read(cap + 1)
            else:
                if entry.stat().st_size > cap:
                    raise too_big
                with entry.open("rb") as fh:
                    data = fh.read(cap + 1)
        except (zipfile.BadZipFile, zlib.error, OSError, EOFError) as exc:
            raise FileProblem(name, f"{name} が読めません（壊れています）: {exc}") from None
        if len(data) > cap:
            raise too_big
        return data

    def read_json(self, name: str) -> tuple[Any, str]:
        """The parsed file and its text (for line numbers in warnings)."""
        data = self.read_bytes(name)
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise FileProblem(name, f"{name} がUTF-8のテキストではありません。") from None
        try:
            return json.loads(text), text
        except json.JSONDecodeError as exc:
            raise FileProblem(name, f"{name} がJSONとして読めません（{exc.lineno}行目）: {exc.msg}",
                              exc.lineno) from None

    def day_files(self, folder: str) -> list[str]:
        """A channel's day files, oldest first."""
        prefix = folder + "/"
        return sorted(n for n in self._names if n.startswith(prefix) and _DAY.match(n[len(prefix):]))

    def other_json(self, known_folders: set[str]) -> Iterator[str]:
        for n in self._names:
            top = n.split("/", 1)[0]
            if "/" in n and top not in known_folders:
                yield n


def _strip_common_folder(names: dict[str, Any]) -> dict[str, Any]:
    """Some zips put everything under one folder ("My Workspace Slack export/")."""
    if "users.json" in names:
        return names
    tops = {n.split("/", 1)[0] for n in names if "/" in n}
    for top in tops:
        if f"{top}/users.json" in names:
            cut = len(top) + 1
            return {n[cut:]: v for n, v in names.items() if n.startswith(top + "/")}
    return names


def line_of(text: str, ts: str) -> int:
    """The line of a message (found by its ts) in a day file's text; 0 if unknown."""
    m = re.search(r'"ts"\s*:\s*"' + re.escape(ts) + '"', text)
    return text.count("\n", 0, m.start()) + 1 if m else 0
