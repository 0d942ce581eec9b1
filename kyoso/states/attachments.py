"""Files being attached in a composer: uploaded at once (drop, pick, paste),
shown with progress, removable, then sent with the post.

Each composer is a *slot* (``composer``, ``thread``, ``announcement``,
``briefing``): its upload zone's id and the key of its pending files. The
state that sends the post reads ``_ids(slot)`` and calls ``_clear(slot)``
after the post succeeded. The checks are the domain's
(``services/attachments``): here only the handler shape.
"""

from __future__ import annotations

import asyncio
import dataclasses
import tempfile
from pathlib import Path
from typing import Any

import reflex as rx

from kyoso.services import attachments
from kyoso.states.session import SessionState

SLOTS = ("composer", "thread", "announcement", "briefing")


@dataclasses.dataclass
class PendingFile:
    slot: str = ""
    id: int = 0
    name: str = ""
    label: str = ""
    size_label: str = ""
    kind: str = ""
    preview_url: str = ""


class AttachmentState(SessionState):
    pending: list[PendingFile] = []
    attach_error: str = ""
    error_slot: str = ""
    # The slot whose files are on their way, and how far (0-100).
    uploading: str = ""
    progress: int = 0

    def _ids(self, slot: str) -> list[int]:
        return [p.id for p in self.pending if p.slot == slot]

    def _clear(self, slot: str) -> None:
        self.pending = [p for p in self.pending if p.slot != slot]

    @rx.event
    def upload_progress(self, slot: str, progress: dict):
        self.uploading = slot
        try:
            self.progress = int(float(progress.get("progress", 0) or 0) * 100)
        except (TypeError, ValueError):
            self.progress = 0

    def _prepare(self, session: Any, user: Any, file: rx.UploadFile, scratch: Path) -> attachments.Prepared:
        attachments.check_quota(session, user, file.size or 0)
        # Give the connection back before the long file work: 50 uploads at
        # once holding pooled connections across an await starved the pool,
        # and the next checkout waited inside the event loop (bench/README.md).
        session.close()
        # The file work (hashing, images, the scan) runs off the event loop.
        return self._wait(asyncio.to_thread(attachments.prepare, file.file, file.filename or "file", scratch,
                                            size_hint=file.size))

    @rx.event
    async def upload(self, files: list[rx.UploadFile], slot: str):
        """Files dropped, picked or pasted into a composer's zone."""
        slot = slot if slot in SLOTS else "composer"
        self.error_slot = slot
        self.uploading = slot
        for file in files:
            with tempfile.TemporaryDirectory(prefix="kyoso-upload-", dir=attachments.scratch_root()) as tmp:
                prepared = await self._read(self._prepare, file, Path(tmp), error="attach_error",
                                            then=lambda p: p)
                if prepared is None:
                    break  # the reason is in attach_error
                await self._change(attachments.add_upload, prepared, error="attach_error",
                                   then=lambda view, s=slot: self._add(s, view))
                if self.attach_error:
                    break
        self.uploading = ""
        self.progress = 0

    def _add(self, slot: str, view: attachments.AttachmentView) -> None:
        self.pending = [*self.pending, PendingFile(
            slot=slot, id=view.id, name=view.name, label=view.label, size_label=view.size_label,
            kind=view.kind, preview_url=view.preview_url)]

    @rx.event
    def rejected(self, slot: str, files: list[dict]):
        """Files the browser refused before sending them (too large)."""
        self.error_slot = slot
        limit = attachments.limit_bytes() // (1024 * 1024)
        self.attach_error = f"ファイルが大きすぎます。1ファイル {limit} MB までです。"

    @rx.event
    async def remove(self, attachment_id: int):
        """Take a file back before sending."""
        def removed(_: Any) -> None:
            self.pending = [p for p in self.pending if p.id != int(attachment_id)]

        return await self._change(attachments.remove_pending, int(attachment_id), error="attach_error",
                                  then=removed)
