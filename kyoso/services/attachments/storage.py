"""Where the bytes of a blob live, behind one small interface.

``LocalStorage`` keeps each blob as a file named by its SHA-256 under
``KYOSO_FILES_DIR`` (the embedded default: one node). ``DatabaseStorage``
keeps it in ``file_chunk`` rows of 1 MiB in the database itself, so several
nodes serving one kyoso share no disk (PostgreSQL's bytea; SQLite's blob).
Both write from a file and read as a stream of chunks: a 20 MB file is never
held in memory whole.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

import sqlalchemy as sa
from sqlmodel import Session

from kyoso.db import read_scope
from kyoso.models import FileChunk
from kyoso.settings import get_settings

CHUNK = 1024 * 1024


class Storage(Protocol):
    name: str

    def put(self, session: Session, blob_id: int, sha256: str, source: Path) -> None:
        """Store the file at ``source`` (inside the caller's transaction)."""

    def read(self, blob_id: int, sha256: str) -> Iterator[bytes]:
        """The stored bytes, in chunks (opens its own read scopes)."""

    def delete(self, session: Session, blob_id: int, sha256: str) -> None:
        """Forget the bytes (an orphaned blob)."""

    def path_for_reading(self, blob_id: int, sha256: str, scratch: Path) -> Path:
        """A path holding the bytes (the stored file, or a copy in ``scratch``)."""


class LocalStorage:
    name = "local"

    def __init__(self, root: Path | None = None) -> None:
        self.root = Path(root or get_settings().files_dir)

    def _path(self, sha256: str) -> Path:
        if len(sha256) != 64 or not all(c in "0123456789abcdef" for c in sha256):
            raise ValueError("not a sha256")
        return self.root / sha256[:2] / sha256

    def put(self, session: Session, blob_id: int, sha256: str, source: Path) -> None:
        target = self._path(sha256)
        if target.exists():
            return
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{sha256}.{os.getpid()}.tmp")
        try:
            # Uploads are prepared under the same directory (``scratch_root``):
            # a hard link, not a 10 MB copy inside the writing transaction.
            os.link(source, tmp)
        except OSError:
            shutil.copyfile(source, tmp)
        os.replace(tmp, target)  # atomic: a reader sees all of it or nothing

    def read(self, blob_id: int, sha256: str) -> Iterator[bytes]:
        with self._path(sha256).open("rb") as fh:
            while chunk := fh.read(CHUNK):
                yield chunk

    def delete(self, session: Session, blob_id: int, sha256: str) -> None:
        self._path(sha256).unlink(missing_ok=True)

    def path_for_reading(self, blob_id: int, sha256: str, scratch: Path) -> Path:
        return self._path(sha256)


class DatabaseStorage:
    name = "database"

    def __init__(self, url: str | None = None) -> None:
        self.url = url

    def put(self, session: Session, blob_id: int, sha256: str, source: Path) -> None:
        table = FileChunk.__table__  # type: ignore[attr-defined]
        if session.execute(sa.select(table.c.seq).where(table.c.blob_id == blob_id).limit(1)).first():
            return
        with source.open("rb") as fh:
            seq = 0
            while chunk := fh.read(CHUNK):
                session.execute(sa.insert(table).values(blob_id=blob_id, seq=seq, data=chunk))
                seq += 1

    def read(self, blob_id: int, sha256: str) -> Iterator[bytes]:
        table = FileChunk.__table__  # type: ignore[attr-defined]
        seq = 0
        while True:
            # One short read per chunk: a slow download holds no transaction open.
            with read_scope(self.url) as session:
                row = session.execute(
                    sa.select(table.c.data).where(table.c.blob_id == blob_id, table.c.seq == seq)).first()
            if row is None:
                return
            yield bytes(row[0])
            seq += 1

    def delete(self, session: Session, blob_id: int, sha256: str) -> None:
        table = FileChunk.__table__  # type: ignore[attr-defined]
        session.execute(sa.delete(table).where(table.c.blob_id == blob_id))

    def path_for_reading(self, blob_id: int, sha256: str, scratch: Path) -> Path:
        target = scratch / sha256
        with target.open("wb") as fh:
            for chunk in self.read(blob_id, sha256):
                fh.write(chunk)
        return target


def scratch_root() -> Path | None:
    """Where uploads are prepared: beside the local store (so storing is a
    link), or the system's temporary directory for the database storage."""
    if get_settings().files_storage == "database":
        return None
    root = Path(get_settings().files_dir) / ".incoming"
    root.mkdir(parents=True, exist_ok=True)
    return root


def storage_named(name: str) -> Storage:
    if name == "database":
        return DatabaseStorage()
    return LocalStorage()


def default_storage() -> Storage:
    """The storage new blobs go to (``KYOSO_FILES_STORAGE``)."""
    return storage_named(get_settings().files_storage)
