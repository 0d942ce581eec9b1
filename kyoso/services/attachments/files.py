"""Attachments: receiving an upload, attaching it, who may download it, its
text in search, and collecting what nobody references any more.

An upload goes in two steps so that no file work happens inside a writing
transaction: ``prepare`` (no database: read in chunks up to the limit, check
the type from the content, clean the name, re-encode images, make a preview,
run the virus scan) and then ``add_upload`` (quota, store once per content
hash, a pending attachment of its uploader). Sending the post attaches the
pending files (``attach``). Every download asks ``open_download``, per
request, whether this member may see what the file is attached to.
"""

from __future__ import annotations

import hashlib
import json
import logging
import subprocess
import sys
import tempfile
from collections import defaultdict
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import BinaryIO

import sqlalchemy as sa
from sqlmodel import Session, col, select

from kyoso import routes
from kyoso.db import core, session_scope, utcnow
from kyoso.models import (
    AnnouncementChannel,
    Attachment,
    Briefing,
    Channel,
    FileBlob,
    Message,
    SearchDoc,
    User,
    UserStatus,
)
from kyoso.services import briefings
from kyoso.services import channels as channel_rules
from kyoso.services import search as search_index
from kyoso.services import visibility
from kyoso.services.attachments import checks, extract, images
from kyoso.services.attachments.scan import scan
from kyoso.services.attachments.storage import default_storage, storage_named
from kyoso.services.errors import InvalidInput, NotFound
from kyoso.settings import get_settings

logger = logging.getLogger("kyoso.attachments")

FILE = "file"  # the kind of search documents made from attachments
READ_CHUNK = 64 * 1024
MAX_PER_POST = 10
PENDING_HOURS = 24  # an upload never sent is collected after this
EXTRACT_TIMEOUT = 60  # seconds for the child process, start-up included
STALE_CLAIM = timedelta(minutes=10)
EXTRACTOR = str(Path(extract.__file__).resolve())
_GONE = "ファイルが見つかりません。削除されたか、閲覧できない可能性があります。"


def limit_bytes() -> int:
    return get_settings().max_upload_mb * 1024 * 1024


def size_label(size: int) -> str:
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{size / 1024:.0f} KB"
    return f"{size / 1024 / 1024:.1f} MB"


# ---------------------------------------------------------------------------
# Step 1: prepare (no database)
# ---------------------------------------------------------------------------


@dataclass
class Prepared:
    """A checked upload, its stored form in a scratch file."""

    path: Path
    name: str
    mime: str
    kind: str
    label: str
    size: int
    sha256: str
    width: int = 0
    height: int = 0
    thumb: bytes = b""
    pages: int = 0


def too_large_message(limit: int) -> str:
    return f"ファイルが大きすぎます。1ファイル {limit // (1024 * 1024)} MB までです。"


def receive(stream: BinaryIO, target: Path, *, limit: int) -> int:
    """Copy ``stream`` to ``target`` in chunks; refused as soon as it passes
    ``limit`` bytes (at most one chunk more is read), or when it is empty."""
    size = 0
    with target.open("wb") as out:
        while True:
            chunk = stream.read(READ_CHUNK)
            if not chunk:
                break
            size += len(chunk)
            if size > limit:
                raise InvalidInput(too_large_message(limit))
            out.write(chunk)
    if size == 0:
        raise InvalidInput("空のファイル（0バイト）は添付できません。")
    return size


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(1024 * 1024):
            digest.update(chunk)
    return digest.hexdigest()


def prepare(stream: BinaryIO, raw_name: str, scratch: Path, *, limit: int | None = None,
            scan_cmd: str | None = None, size_hint: int | None = None) -> Prepared:
    """Check an upload and make what will be stored, in ``scratch`` (a
    directory the caller removes). Raises ``InvalidInput`` with the reason."""
    limit = limit if limit is not None else limit_bytes()
    if size_hint is not None and size_hint > limit:
        raise InvalidInput(too_large_message(limit))  # known before a byte is read
    name = checks.clean_name(raw_name)
    raw = scratch / "upload"
    receive(stream, raw, limit=limit)
    scan(raw, get_settings().scan_cmd if scan_cmd is None else scan_cmd)
    ftype = checks.detect(raw, name)
    stored = raw
    width = height = pages = 0
    thumb = b""
    if ftype.kind == "image":
        stored = scratch / "clean"
        ftype, width, height, thumb = images.sanitise_image(raw, ftype, stored)
    elif ftype.kind == "pdf":
        pages = images.check_pdf(raw)
        thumb, width, height = images.pdf_thumbnail(raw)
    return Prepared(path=stored, name=checks.named_for(name, ftype), mime=ftype.mime, kind=ftype.kind,
                    label=ftype.label, size=stored.stat().st_size, sha256=_sha256(stored),
                    width=width, height=height, thumb=thumb, pages=pages)


# ---------------------------------------------------------------------------
# Step 2: record (a writing transaction)
# ---------------------------------------------------------------------------


@dataclass
class AttachmentView:
    """A file on a post, the same for every reader (no per-member URL)."""

    id: int
    name: str
    label: str  # PDF, Excel, PNG画像, ...
    size_label: str
    kind: str
    has_preview: bool
    # The preview's box, so the page does not jump when it loads.
    preview_width: int
    preview_height: int
    url: str
    preview_url: str


def _view(a: Attachment, blob: FileBlob, thumb: FileBlob | None) -> AttachmentView:
    return _view_of(a.id or 0, a.name, blob.mime, blob.size, blob.kind,
                    (thumb.width, thumb.height) if thumb is not None else None)


def _view_of(attachment_id: int, name: str, mime: str, size: int, kind: str,
             preview: tuple[int, int] | None) -> AttachmentView:
    """``preview``: the preview's (width, height), None without one."""
    ftype = checks.BY_MIME.get(mime)
    tw, th = preview or (0, 0)
    return AttachmentView(
        id=attachment_id, name=name, label=ftype.label if ftype else mime, size_label=size_label(size),
        kind=kind, has_preview=preview is not None, preview_width=tw, preview_height=th,
        url=routes.file(attachment_id), preview_url=routes.file_preview(attachment_id) if preview else "",
    )


def used_today(session: Session, user: User) -> int:
    since = utcnow() - timedelta(hours=24)
    total = session.execute(
        sa.select(sa.func.coalesce(sa.func.sum(FileBlob.size), 0))
        .select_from(Attachment).join(FileBlob, FileBlob.id == Attachment.blob_id)  # type: ignore[arg-type]
        .where(Attachment.uploader_id == user.id, col(Attachment.created_at) >= since)
    ).scalar_one()
    return int(total or 0)


def check_quota(session: Session, user: User, incoming: int = 0) -> None:
    """The per-member daily amount (``KYOSO_DAILY_UPLOAD_MB``), checked before
    an upload is read and again when it is recorded."""
    channel_rules.require_active(user)
    quota = get_settings().daily_upload_mb * 1024 * 1024
    if used_today(session, user) + max(incoming, 0) > quota:
        raise InvalidInput(f"24時間に添付できるのは合計 {get_settings().daily_upload_mb} MB までです。"
                           "時間をおいてから添付してください。")


def _store_blob(session: Session, path: Path, *, sha256: str, size: int, mime: str, kind: str,
                width: int = 0, height: int = 0, text_status: str = "none") -> FileBlob:
    """The blob with this content, stored once (a second upload of the same
    bytes only adds an attachment)."""
    found = session.exec(select(FileBlob).where(FileBlob.sha256 == sha256)).first()
    if found is not None:
        return found
    storage = default_storage()
    blob = FileBlob(sha256=sha256, size=size, mime=mime, kind=kind, storage=storage.name,
                    width=width, height=height, text_status=text_status)
    try:
        with session.begin_nested():  # two nodes storing the same bytes at once
            session.add(blob)
            session.flush()
    except sa.exc.IntegrityError:
        found = session.exec(select(FileBlob).where(FileBlob.sha256 == sha256)).first()
        if found is None:
            raise
        return found
    storage.put(session, blob.id or 0, sha256, path)
    return blob


def add_upload(session: Session, user: User, prepared: Prepared) -> AttachmentView:
    """Record a prepared upload as a pending attachment of its uploader."""
    check_quota(session, user, prepared.size)
    blob = _store_blob(session, prepared.path, sha256=prepared.sha256, size=prepared.size, mime=prepared.mime,
                       kind=prepared.kind, width=prepared.width, height=prepared.height,
                       text_status="pending" if prepared.kind in ("pdf", "office", "text") else "none")
    thumb: FileBlob | None = session.get(FileBlob, blob.thumb_id) if blob.thumb_id else None
    if thumb is None and prepared.thumb:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "thumb.png"
            path.write_bytes(prepared.thumb)
            tw, th = images.thumb_size(prepared.thumb)
            thumb = _store_blob(session, path, sha256=hashlib.sha256(prepared.thumb).hexdigest(),
                                size=len(prepared.thumb), mime="image/png", kind="image", width=tw, height=th)
        blob.thumb_id = thumb.id
        session.add(blob)
    attachment = Attachment(blob_id=blob.id or 0, uploader_id=user.id or 0, name=prepared.name)
    session.add(attachment)
    session.flush()
    return _view(attachment, blob, thumb)


def remove_pending(session: Session, user: User, attachment_id: int) -> None:
    """Take back an upload before sending (its blob is collected later if unused)."""
    a = session.get(Attachment, attachment_id)
    if a is None or a.uploader_id != user.id or _target(a):
        raise NotFound(_GONE)
    session.delete(a)


def _target(a: Attachment) -> bool:
    return bool(a.message_id or a.announcement_id or a.briefing_id)


def attach(session: Session, user: User, attachment_ids: list[int], *, message: Message | None = None,
           announcement_id: int | None = None, briefing_id: int | None = None) -> list[Attachment]:
    """Attach the member's own pending uploads to what they are sending."""
    ids = list(dict.fromkeys(int(i) for i in attachment_ids or []))
    if not ids:
        return []
    if len(ids) > MAX_PER_POST:
        raise InvalidInput(f"1回に添付できるのは {MAX_PER_POST} ファイルまでです。")
    rows = list(session.exec(select(Attachment).where(col(Attachment.id).in_(ids))).all())
    mine = [a for a in rows if a.uploader_id == user.id and not _target(a)]
    if len(mine) != len(ids):
        raise InvalidInput("添付ファイルの一部が見つかりません。もう一度添付してください。")
    now = utcnow()
    for a in mine:
        a.message_id = message.id if message is not None else None
        a.announcement_id, a.briefing_id, a.attached_at = announcement_id, briefing_id, now
        session.add(a)
    session.flush()
    if message is not None:
        sync_message(session, message)
    return sorted(mine, key=lambda a: a.id or 0)


def attach_to_announcement(session: Session, user: User, attachment_ids: list[int],
                           announcement_id: int) -> None:
    """An お知らせ's files: on the お知らせ itself (the home feed) and, as
    copies sharing the stored bytes, on the message it put in each channel
    (so channel readers, the download rules and search treat them like any post's)."""
    files = attach(session, user, attachment_ids, announcement_id=announcement_id)
    if not files:
        return
    now = utcnow()
    for placement in session.exec(select(AnnouncementChannel).where(
            AnnouncementChannel.announcement_id == announcement_id)).all():
        message = session.get(Message, placement.message_id) if placement.message_id else None
        if message is None:
            continue
        for a in files:
            session.add(Attachment(blob_id=a.blob_id, uploader_id=a.uploader_id, name=a.name,
                                   message_id=message.id, created_at=a.created_at, attached_at=now))
        session.flush()
        sync_message(session, message)


def attach_to_briefing(session: Session, user: User, attachment_ids: list[int], briefing_id: int) -> None:
    """A 説明会's materials (slides, the 通知): only its organiser and 運営 add them."""
    briefing = session.get(Briefing, briefing_id)
    if briefing is None:
        raise NotFound("説明会が見つかりません。")
    briefings.require_manager(user, briefing)
    attach(session, user, attachment_ids, briefing_id=briefing_id)


# ---------------------------------------------------------------------------
# Views
# ---------------------------------------------------------------------------


_ATTACHMENT_T, _BLOB_T = Attachment.__table__, FileBlob.__table__  # type: ignore[attr-defined]
_PREVIEW_T = _BLOB_T.alias("preview")


def _views_of(key: str) -> sa.Select:
    """The files attached to the things whose ``key`` is in ``p_ids``, with
    their previews: one Core statement, built once (every arrival in a 説明会
    room reads its materials; two ORM statements were 3.5 % of a join)."""
    attachment = _ATTACHMENT_T
    return (sa.select(attachment.c.id, attachment.c.name, attachment.c[key].label("owner"),
                      _BLOB_T.c.mime, _BLOB_T.c.size, _BLOB_T.c.kind,
                      _PREVIEW_T.c.id.label("preview_id"), _PREVIEW_T.c.width, _PREVIEW_T.c.height)
            .select_from(attachment.join(_BLOB_T, _BLOB_T.c.id == attachment.c.blob_id)
                         .outerjoin(_PREVIEW_T, _PREVIEW_T.c.id == _BLOB_T.c.thumb_id))
            .where(attachment.c[key].in_(sa.bindparam("p_ids", expanding=True)))
            .order_by(attachment.c.id))


_OF_MESSAGES = _views_of("message_id")
_OF_ANNOUNCEMENTS = _views_of("announcement_id")
_OF_BRIEFINGS = _views_of("briefing_id")


def _views_where(session: Session, statement: sa.Select, ids: list[int]) -> dict[int, list[AttachmentView]]:
    if not ids:
        return {}
    out: dict[int, list[AttachmentView]] = defaultdict(list)
    for r in core(session).execute(statement, {"p_ids": list(ids)}):
        out[int(r.owner)].append(_view_of(r.id, r.name, r.mime, r.size, r.kind,
                                          (r.width, r.height) if r.preview_id is not None else None))
    return dict(out)


def for_messages(session: Session, message_ids: list[int]) -> dict[int, list[AttachmentView]]:
    return _views_where(session, _OF_MESSAGES, message_ids)


def for_announcements(session: Session, ids: list[int]) -> dict[int, list[AttachmentView]]:
    return _views_where(session, _OF_ANNOUNCEMENTS, ids)


def for_briefings(session: Session, ids: list[int]) -> dict[int, list[AttachmentView]]:
    return _views_where(session, _OF_BRIEFINGS, ids)


# ---------------------------------------------------------------------------
# Downloads: checked per request
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Download:
    blob_id: int
    sha256: str
    storage: str
    mime: str
    size: int
    name: str
    inline: bool  # only previews (PNG made by kyoso)
    etag: str


def check_can_see(session: Session, user: User, a: Attachment) -> None:
    """May ``user`` see the thing ``a`` is attached to, now? Raises NotFound
    (the same answer as for a file that does not exist)."""
    channel_rules.require_active(user)
    if not _target(a):
        if a.uploader_id != user.id:  # someone else's upload, not sent yet
            raise NotFound(_GONE)
        return
    if a.message_id:
        message = session.get(Message, a.message_id)
        if message is None or message.deleted_at is not None:
            raise NotFound(_GONE)
        if message.hidden_at is not None and not user.is_staff:
            raise NotFound(_GONE)
        channel_rules.check_can_read(user, channel_rules.get_channel(session, message.channel_id))
        author = session.get(User, message.author_id)
        # A suspended member's files are withheld until 運営 reinstate them
        # (the text stays readable; a file may be what got them suspended).
        if (author is None or author.status != UserStatus.active) and not user.is_staff:
            raise NotFound(_GONE)
    elif a.announcement_id:
        # A withdrawn お知らせ's files: 運営 and whoever attached them only.
        if not (visibility.announcement_shown(session, a.announcement_id) or user.is_staff
                or a.uploader_id == user.id):
            raise NotFound(_GONE)
    elif a.briefing_id:
        if not briefings.can_view(session, user, a.briefing_id):
            raise NotFound(_GONE)


def open_download(session: Session, user: User, attachment_id: int, *, preview: bool = False) -> Download:
    a = session.get(Attachment, attachment_id)
    if a is None:
        raise NotFound(_GONE)
    check_can_see(session, user, a)
    blob = session.get(FileBlob, a.blob_id)
    if blob is None:
        raise NotFound(_GONE)
    name = a.name
    if preview:
        blob = session.get(FileBlob, blob.thumb_id) if blob.thumb_id else None
        if blob is None:
            raise NotFound("プレビューはありません。")
        name = checks.named_for(a.name, checks.PNG)
    if blob.mime not in checks.BY_MIME and blob.mime != "image/png":
        raise NotFound(_GONE)  # never serve a type that is not on the allow-list
    return Download(blob_id=blob.id or 0, sha256=blob.sha256, storage=blob.storage, mime=blob.mime,
                    size=blob.size, name=name, inline=preview, etag=f'"{blob.sha256[:32]}"')


def read_bytes(download: Download):  # type: ignore[no-untyped-def]
    """The file's bytes in chunks."""
    return storage_named(download.storage).read(download.blob_id, download.sha256)


# ---------------------------------------------------------------------------
# Search: the text of a file, found like a message
# ---------------------------------------------------------------------------


def _doc_body(a: Attachment, blob: FileBlob) -> str:
    return f"{a.name}\n{blob.text}" if blob.text else a.name


def sync_message(session: Session, message: Message) -> None:
    """Index the files of a visible message, un-index those of a deleted or
    hidden one (called wherever the message's own document is synced)."""
    rows = session.exec(
        select(Attachment, FileBlob).join(FileBlob, FileBlob.id == Attachment.blob_id)  # type: ignore[arg-type]
        .where(Attachment.message_id == message.id)
    ).all()
    for a, blob in rows:
        if message.is_visible:
            search_index.put(session, kind=FILE, ref_id=a.id or 0, body=_doc_body(a, blob),
                             channel_id=message.channel_id, thread_id=message.parent_id or message.id,
                             author_id=message.author_id, created_at=message.created_at)
        else:
            search_index.drop(session, FILE, a.id or 0)


def _index_blob(session: Session, blob: FileBlob) -> None:
    for a, message in session.exec(
        select(Attachment, Message).join(Message, Message.id == Attachment.message_id)  # type: ignore[arg-type]
        .where(Attachment.blob_id == blob.id)
    ).all():
        if message.is_visible:
            search_index.put(session, kind=FILE, ref_id=a.id or 0, body=_doc_body(a, blob),
                             channel_id=message.channel_id, thread_id=message.parent_id or message.id,
                             author_id=message.author_id, created_at=message.created_at)


def _file_link(doc: SearchDoc, slug: str) -> str:
    thread = doc.thread_id or 0
    return routes.message(slug, thread, thread) if slug else routes.HOME


def describe_hits(session: Session, docs: list[SearchDoc]) -> dict[int, tuple[str, int]]:
    """doc id -> (the file name, its message), for file hits a member may still see."""
    ids = [d.ref_id for d in docs]
    rows = session.exec(
        select(Attachment, Message, User)
        .join(Message, Message.id == Attachment.message_id)  # type: ignore[arg-type]
        .join(User, User.id == Message.author_id)  # type: ignore[arg-type]
        .where(col(Attachment.id).in_(ids))
    ).all()
    ok = {a.id: (a.name, m.id or 0) for a, m, author in rows
          if m.is_visible and author.status == UserStatus.active}
    return {d.id or 0: ok[d.ref_id] for d in docs if d.ref_id in ok}


search_index.register_kind(FILE, "ファイル", _file_link, describe=describe_hits)


# ---------------------------------------------------------------------------
# Background work: text extraction, orphan collection
# ---------------------------------------------------------------------------


def _claim(session: Session) -> FileBlob | None:
    now = utcnow()
    for blob in session.exec(
        select(FileBlob).where(sa.or_(
            FileBlob.text_status == "pending",
            sa.and_(FileBlob.text_status == "working", col(FileBlob.claimed_at) < now - STALE_CLAIM)))
        .order_by(FileBlob.id).limit(5)  # type: ignore[arg-type]
    ).all():
        # Claimed by whoever changes the row first: several workers never extract one file twice.
        won = session.execute(
            sa.update(FileBlob).where(FileBlob.id == blob.id, FileBlob.text_status == blob.text_status,
                                      FileBlob.claimed_at.is_(blob.claimed_at) if blob.claimed_at is None  # type: ignore[union-attr]
                                      else FileBlob.claimed_at == blob.claimed_at)
            .values(text_status="working", claimed_at=now)
        ).rowcount
        if won:
            return blob
    return None


def extract_in_child(path: Path, kind: str) -> dict[str, object]:
    """Run the extractor in a child process, bounded in time (and in memory,
    by the child itself); a crash or a hang is an error, never the worker's."""
    try:
        done = subprocess.run(
            # The module as a script, isolated (-I): the child imports pypdf and the
            # standard library only, not kyoso's packages (0.3 s instead of 2.5 s to start).
            [sys.executable, "-I", EXTRACTOR, kind, str(path)],
            capture_output=True, timeout=EXTRACT_TIMEOUT, check=False)
    except subprocess.TimeoutExpired:
        return {"error": "時間内に読み取れませんでした"}
    if done.returncode != 0 or not done.stdout.strip():
        return {"error": f"読み取りに失敗しました (exit {done.returncode})"}
    try:
        return json.loads(done.stdout.decode("utf-8").strip().splitlines()[-1])
    except (ValueError, IndexError):
        return {"error": "読み取りに失敗しました"}


def extract_pending(max_files: int = 4, url: str | None = None) -> int:
    """Extract the text of up to ``max_files`` waiting files; returns how many
    were handled (done or failed). Safe to call from several workers."""
    handled = 0
    for _ in range(max_files):
        with session_scope(url) as session:
            blob = _claim(session)
        if blob is None:
            break
        with tempfile.TemporaryDirectory() as tmp:
            try:
                path = storage_named(blob.storage).path_for_reading(blob.id or 0, blob.sha256, Path(tmp))
                result = extract_in_child(path, blob.kind)
            except OSError as exc:
                result = {"error": f"ファイルを読めません: {exc}"}
        with session_scope(url) as session:
            row = session.get(FileBlob, blob.id)
            if row is None:
                continue
            if "error" in result:
                row.text_status, row.text_error = "failed", str(result["error"])[:300]
                logger.warning("text extraction failed for blob %s: %s", row.id, row.text_error)
            else:
                row.text_status, row.text, row.text_error = "done", str(result.get("text", "")), ""
            session.add(row)
            session.flush()
            if row.text_status == "done":
                _index_blob(session, row)
        handled += 1
    return handled


def collect_orphans(session: Session, *, now=None) -> int:  # type: ignore[no-untyped-def]
    """Delete uploads never sent (after a day), files of messages deleted a
    day ago, and every blob no attachment uses any more. Returns blobs freed."""
    now = now or utcnow()
    cutoff = now - timedelta(hours=PENDING_HOURS)
    stale = session.exec(select(Attachment).where(
        col(Attachment.message_id).is_(None), col(Attachment.announcement_id).is_(None),
        col(Attachment.briefing_id).is_(None), col(Attachment.created_at) < cutoff)).all()
    deleted = session.exec(
        select(Attachment).join(Message, Message.id == Attachment.message_id)  # type: ignore[arg-type]
        .where(col(Message.deleted_at).is_not(None), col(Message.deleted_at) < cutoff)).all()
    for a in [*stale, *deleted]:
        search_index.drop(session, FILE, a.id or 0)
        session.delete(a)
    session.flush()
    used = select(Attachment.blob_id)
    thumbs_in_use = select(FileBlob.thumb_id).where(col(FileBlob.id).in_(used), col(FileBlob.thumb_id).is_not(None))
    orphans = list(session.exec(select(FileBlob).where(
        col(FileBlob.id).not_in(used), col(FileBlob.id).not_in(thumbs_in_use))).all())
    # Blobs first (they point at their thumbnails), then the bytes.
    for blob in orphans:
        blob.thumb_id = None
        session.add(blob)
    session.flush()
    for blob in orphans:
        storage_named(blob.storage).delete(session, blob.id or 0, blob.sha256)
        session.delete(blob)
    session.flush()
    return len(orphans)


def channel_of_attachment(session: Session, attachment_id: int) -> Channel | None:
    a = session.get(Attachment, attachment_id)
    message = session.get(Message, a.message_id) if a is not None and a.message_id else None
    return session.get(Channel, message.channel_id) if message is not None else None


def text_status(session: Session, attachment_id: int) -> tuple[str, str]:
    """(status, error) of a file's text extraction: for tests and the admin."""
    a = session.get(Attachment, attachment_id)
    blob = session.get(FileBlob, a.blob_id) if a is not None else None
    return (blob.text_status, blob.text_error) if blob is not None else ("", "")

