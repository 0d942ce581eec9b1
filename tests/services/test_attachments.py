"""Attachments: every bad input of issue 17 refused or served safely, the
rules of who may download, dedup, both storages, the scan hook, extraction
into search and the collection of orphans."""

from __future__ import annotations

import io
import sys
import tracemalloc
from datetime import timedelta
from pathlib import Path

import pytest
from PIL import Image
from sqlmodel import Session, select

from kyoso.models import Attachment, FileBlob, FileChunk, Role
from kyoso.services import attachments, messages, moderation, search
from kyoso.services import channels as channel_rules
from kyoso.services.attachments import checks, files
from kyoso.services.errors import InvalidInput, NotFound
from kyoso.settings import get_settings
from tests.utils.factories import make_channel, make_user
from tests.utils.files import make_docx, make_image, make_pdf, make_zip_bomb

PDF_TEXT = ["ガバメントクラウドへの移行手順\n標準準拠システムの接続確認", "第二章 費用の見積もり"]


@pytest.fixture(autouse=True)
def files_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "files"
    monkeypatch.setenv("KYOSO_FILES_DIR", str(root))
    monkeypatch.setenv("KYOSO_SCAN_CMD", "")
    get_settings.cache_clear()
    yield root
    get_settings.cache_clear()


def _prepare(data: bytes, name: str, tmp_path: Path, **kw: object) -> attachments.Prepared:
    scratch = tmp_path / f"scratch-{len(list(tmp_path.iterdir()))}"
    scratch.mkdir()
    return attachments.prepare(io.BytesIO(data), name, scratch, **kw)  # type: ignore[arg-type]


def _upload(session: Session, user, data: bytes, name: str, tmp_path: Path):  # type: ignore[no-untyped-def]
    view = attachments.add_upload(session, user, _prepare(data, name, tmp_path))
    session.commit()
    return view


def _stored_bytes(session: Session, attachment_id: int) -> bytes:
    a = session.get(Attachment, attachment_id)
    blob = session.get(FileBlob, a.blob_id)  # type: ignore[union-attr]
    found = attachments.Download(blob.id, blob.sha256, blob.storage, blob.mime, blob.size, a.name,  # type: ignore[union-attr,arg-type]
                                 False, "")
    return b"".join(attachments.read_bytes(found))


# -- the bad-input list (item 6) ----------------------------------------------


def test_an_empty_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="空のファイル"):
        _prepare(b"", "空.txt", tmp_path)


class Endless(io.RawIOBase):
    """A stream that never ends: counts what was read."""

    def __init__(self) -> None:
        self.read_bytes = 0

    def read(self, n: int = -1) -> bytes:  # type: ignore[override]
        n = 64 * 1024 if n is None or n < 0 else n
        self.read_bytes += n
        return b"a" * n


def test_a_file_over_the_limit_is_refused_before_it_is_all_read(tmp_path: Path) -> None:
    stream = Endless()
    limit = 1024 * 1024
    tracemalloc.start()
    try:
        with pytest.raises(InvalidInput, match="大きすぎます"):
            attachments.prepare(stream, "big.txt", tmp_path, limit=limit)  # type: ignore[arg-type]
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert stream.read_bytes <= limit + files.READ_CHUNK  # stopped at the limit, not at the end
    assert peak < 1024 * 1024  # chunks, never the whole file in memory


def test_a_known_size_over_the_limit_is_refused_without_reading(tmp_path: Path) -> None:
    stream = Endless()
    with pytest.raises(InvalidInput, match="大きすぎます"):
        attachments.prepare(stream, "big.pdf", tmp_path, limit=1024, size_hint=5000)  # type: ignore[arg-type]
    assert stream.read_bytes == 0


def test_a_pdf_that_is_really_html_is_refused(tmp_path: Path) -> None:
    page = b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>"
    with pytest.raises(InvalidInput, match="HTML"):
        _prepare(page, "通知案.pdf", tmp_path)
    with pytest.raises(InvalidInput, match="PDFとして読み取れない"):
        _prepare(b"%PDF-1.4\n" + page, "通知案.pdf", tmp_path)


def test_svg_is_refused_even_named_png(tmp_path: Path) -> None:
    svg = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    with pytest.raises(InvalidInput):
        _prepare(svg, "図.png", tmp_path)


def test_a_zip_bomb_is_refused(tmp_path: Path) -> None:
    bomb = make_zip_bomb(60)
    assert len(bomb) < 1024 * 1024  # small on the wire
    with pytest.raises(InvalidInput, match="爆弾"):
        _prepare(bomb, "見積.docx", tmp_path)


def test_a_plain_zip_and_a_macro_file_are_refused(tmp_path: Path) -> None:
    buf = io.BytesIO()
    import zipfile  # noqa: PLC0415 - only this test builds a zip by hand

    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("word/document.xml", "<w:document/>")
        zf.writestr("word/vbaProject.bin", b"\0" * 100)
    with pytest.raises(InvalidInput, match="マクロ"):
        _prepare(buf.getvalue(), "計画.docx", tmp_path)
    other = io.BytesIO()
    with zipfile.ZipFile(other, "w") as zf:
        zf.writestr("a.exe", b"MZ")
    with pytest.raises(InvalidInput, match="zip"):
        _prepare(other.getvalue(), "資料.zip", tmp_path)


def test_a_name_of_1000_characters_is_cut_and_keeps_its_extension(tmp_path: Path) -> None:
    prepared = _prepare(make_pdf(["本文"]), "資" * 1000 + ".pdf", tmp_path)
    assert len(prepared.name) <= checks.NAME_MAX
    assert prepared.name.endswith(".pdf") and prepared.name.startswith("資資")


def test_path_parts_control_and_bidi_characters_leave_the_name(session: Session, tmp_path: Path,
                                                                files_dir: Path) -> None:
    user = make_user(session)
    view = _upload(session, user, b"root:x:0:0\n", "../../etc/passwd", tmp_path)
    assert view.name == "passwd.txt"
    assert not Path("/etc/passwd.txt").exists()
    stored = list(files_dir.rglob("*"))
    assert stored and all(files_dir in p.parents for p in stored)  # under the files dir, by hash
    assert checks.clean_name("..\\..\\windows\\win.ini") == "win.ini"
    assert checks.clean_name("report\u202Efdp.exe") == "reportfdp.exe"
    assert checks.clean_name("a\x00b\x1b[31mc.txt") == "ab[31mc.txt"
    assert checks.clean_name("ｶﾞｲﾄﾞ.pdf") == "ｶﾞｲﾄﾞ.pdf"  # NFC, not NFKC: what was typed stays
    assert checks.clean_name("\u30ab\u3099.txt") == "\u30ac.txt"  # combining mark composed (NFC)


def test_a_polyglot_image_is_stored_as_pixels_only(session: Session, tmp_path: Path) -> None:
    user = make_user(session)
    payload = b"<html><script>alert(document.domain)</script></html>"
    view = _upload(session, user, make_image("PNG") + payload, "図.png", tmp_path)
    stored = _stored_bytes(session, view.id)
    assert b"<script" not in stored
    with Image.open(io.BytesIO(stored)) as image:
        assert image.format == "PNG" and image.size == (64, 48)
    assert attachments.open_download(session, user, view.id).mime == "image/png"


def test_exif_gps_is_stripped(session: Session, tmp_path: Path) -> None:
    user = make_user(session)
    photo = make_image("JPEG", (80, 60), gps=True)
    assert b"Exif" in photo and b"KyosoCam" in photo
    view = _upload(session, user, photo, "現場写真.jpg", tmp_path)
    stored = _stored_bytes(session, view.id)
    assert b"Exif" not in stored and b"KyosoCam" not in stored
    with Image.open(io.BytesIO(stored)) as image:
        assert not image.getexif()
    assert view.has_preview and view.preview_width > 0


def test_a_decompression_bomb_is_refused(tmp_path: Path) -> None:
    image = Image.new("1", (12000, 12000))  # 144 megapixels, a few KB as PNG
    buf = io.BytesIO()
    image.save(buf, format="PNG")
    assert len(buf.getvalue()) < 1024 * 1024
    with pytest.raises(InvalidInput, match="画素"):
        _prepare(buf.getvalue(), "bomb.png", tmp_path)


def test_an_image_that_is_not_what_its_header_says_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="画像が壊れて"):
        _prepare(b"\x89PNG\r\n\x1a\n" + b"garbage" * 100, "x.png", tmp_path)


def _attached(session: Session, user, channel, name: str, data: bytes, tmp_path: Path):  # type: ignore[no-untyped-def]
    view = _upload(session, user, data, name, tmp_path)
    message = messages.post_message(session, user, channel.id, "資料です", file_ids=[view.id])
    session.commit()
    return view, message


def test_another_channels_file_by_id_follows_that_channels_rule(session: Session, tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    author, reader = make_user(session), make_user(session)
    open_ch, closed_ch = make_channel(session), make_channel(session)
    ok, _ = _attached(session, author, open_ch, "公開.pdf", make_pdf(["公開"]), tmp_path)
    secret, _ = _attached(session, author, closed_ch, "非公開.pdf", make_pdf(["非公開"]), tmp_path)
    real = channel_rules.check_can_read

    def closed(user, channel):  # type: ignore[no-untyped-def]
        if channel.id == closed_ch.id and user.id != author.id:
            raise NotFound("チャンネルが見つかりません。")
        real(user, channel)

    monkeypatch.setattr(channel_rules, "check_can_read", closed)
    assert attachments.open_download(session, reader, ok.id).name == "公開.pdf"
    with pytest.raises(NotFound):
        attachments.open_download(session, reader, secret.id)
    assert attachments.open_download(session, author, secret.id).name == "非公開.pdf"


def test_someone_elses_unsent_upload_cannot_be_fetched_or_attached(session: Session, tmp_path: Path) -> None:
    owner, other = make_user(session), make_user(session)
    channel = make_channel(session)
    view = _upload(session, owner, make_pdf(["下書き"]), "下書き.pdf", tmp_path)
    assert attachments.open_download(session, owner, view.id).name == "下書き.pdf"
    with pytest.raises(NotFound):
        attachments.open_download(session, other, view.id)
    with pytest.raises(InvalidInput):
        messages.post_message(session, other, channel.id, "横取り", file_ids=[view.id])


def test_a_download_after_the_message_was_hidden_is_refused(session: Session, tmp_path: Path) -> None:
    author, reader = make_user(session), make_user(session)
    mod = make_user(session, role=Role.moderator)
    channel = make_channel(session)
    view, message = _attached(session, author, channel, "資料.pdf", make_pdf(["資料"]), tmp_path)
    assert attachments.open_download(session, reader, view.id)
    messages.hide_message(session, mod, message.id)
    session.commit()
    with pytest.raises(NotFound):
        attachments.open_download(session, reader, view.id)
    with pytest.raises(NotFound):
        attachments.open_download(session, reader, view.id, preview=True)
    assert attachments.open_download(session, mod, view.id)  # 運営 can still review it
    assert messages.view(session, message.id).attachments == []  # gone from the page too
    messages.restore_message(session, mod, message.id)
    session.commit()
    assert attachments.open_download(session, reader, view.id)


def test_deleted_messages_and_suspended_authors_withhold_their_files(session: Session, tmp_path: Path) -> None:
    author, reader = make_user(session), make_user(session)
    mod = make_user(session, role=Role.moderator)
    channel = make_channel(session)
    view, _ = _attached(session, author, channel, "a.pdf", make_pdf(["a"]), tmp_path)
    moderation.set_suspended(session, mod, author.id, True)
    session.commit()
    with pytest.raises(NotFound):
        attachments.open_download(session, reader, view.id)
    moderation.set_suspended(session, mod, author.id, False)
    session.commit()
    assert attachments.open_download(session, reader, view.id)
    view2, message2 = _attached(session, author, channel, "b.pdf", make_pdf(["b"]), tmp_path)
    messages.delete_message(session, author, message2.id)
    session.commit()
    with pytest.raises(NotFound):
        attachments.open_download(session, author, view2.id)


# -- storage, dedup, limits ------------------------------------------------------


def test_the_same_content_is_stored_once(session: Session, tmp_path: Path, files_dir: Path) -> None:
    a, b = make_user(session), make_user(session)
    data = make_pdf(["同じ資料"])
    v1 = _upload(session, a, data, "一.pdf", tmp_path)
    v2 = _upload(session, b, data, "二.pdf", tmp_path)
    assert v1.id != v2.id
    blobs = session.exec(select(FileBlob).where(FileBlob.kind == "pdf")).all()
    assert len(blobs) == 1
    assert len([p for p in files_dir.rglob("*") if p.is_file()]) == 2  # the PDF and its preview


def test_the_database_storage_needs_no_disk(session: Session, tmp_path: Path, files_dir: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KYOSO_FILES_STORAGE", "database")
    get_settings.cache_clear()
    user = make_user(session)
    data = make_pdf(["データベースに保存"] * 3) + b"%" + b"x" * (2 * 1024 * 1024)  # more than one chunk
    view = _upload(session, user, data, "大きめ.pdf", tmp_path)
    assert not files_dir.exists() or not any(p.is_file() for p in files_dir.rglob("*"))
    assert len(session.exec(select(FileChunk)).all()) >= 3
    assert _stored_bytes(session, view.id) == data


def test_the_daily_amount_per_member(session: Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KYOSO_DAILY_UPLOAD_MB", "1")
    get_settings.cache_clear()
    user = make_user(session)
    _upload(session, user, b"a" * (700 * 1024), "a.txt", tmp_path)
    with pytest.raises(InvalidInput, match="24時間"):
        _upload(session, user, b"b" * (700 * 1024), "b.txt", tmp_path)
    _upload(session, make_user(session), b"b" * (700 * 1024), "b.txt", tmp_path)  # someone else may


def test_at_most_ten_files_per_post(session: Session, tmp_path: Path) -> None:
    user = make_user(session)
    channel = make_channel(session)
    ids = [_upload(session, user, f"{i}".encode(), f"{i}.txt", tmp_path).id for i in range(11)]
    with pytest.raises(InvalidInput, match="10"):
        messages.post_message(session, user, channel.id, "多すぎ", file_ids=ids)


def test_a_post_may_be_only_files(session: Session, tmp_path: Path) -> None:
    user = make_user(session)
    channel = make_channel(session)
    view = _upload(session, user, make_image("PNG"), "画面.png", tmp_path)
    message = messages.post_message(session, user, channel.id, "", file_ids=[view.id])
    session.commit()
    shown = messages.view(session, message.id)
    assert [f.name for f in shown.attachments] == ["画面.png"]
    assert shown.attachments[0].preview_url.endswith("/preview")
    with pytest.raises(InvalidInput):
        messages.post_message(session, user, channel.id, "")


# -- the virus-scan hook ------------------------------------------------------------


def _scanner(tmp_path: Path) -> str:
    script = tmp_path / "fake_clamdscan.py"
    script.write_text("import sys\n"
                      "data = open(sys.argv[-1], 'rb').read()\n"
                      "sys.exit(1 if b'EICAR-STANDARD-ANTIVIRUS-TEST-FILE' in data else 0)\n")
    return f"{sys.executable} {script}"


def test_the_scan_hook_refuses_what_the_scanner_flags(tmp_path: Path) -> None:
    cmd = _scanner(tmp_path)
    eicar = b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"
    with pytest.raises(InvalidInput, match="ウイルス"):
        _prepare(eicar, "eicar.txt", tmp_path, scan_cmd=cmd)
    assert _prepare(b"ok", "ok.txt", tmp_path, scan_cmd=cmd).name == "ok.txt"
    with pytest.raises(InvalidInput, match="実行できなかった"):
        _prepare(b"ok", "ok.txt", tmp_path, scan_cmd="/nonexistent/clamdscan")


# -- text for search ------------------------------------------------------------------


def test_pdf_and_word_text_is_found_by_search_with_the_file_name(session: Session, tmp_path: Path,
                                                                 db_url: str) -> None:
    user = make_user(session)
    channel = make_channel(session)
    pdf, pdf_post = _attached(session, user, channel, "移行手順書.pdf", make_pdf(PDF_TEXT), tmp_path)
    doc, _ = _attached(session, user, channel, "会議メモ.docx", make_docx(["議題は住民記録システムの標準化"]),
                       tmp_path)
    assert attachments.text_status(session, pdf.id)[0] == "pending"
    session.commit()  # the test session holds SQLite's write lock while open
    assert attachments.extract_pending(url=db_url) == 2
    session.expire_all()
    assert attachments.text_status(session, pdf.id) == ("done", "")
    only_files = search.make_filters(session, files_only=True)
    page = search.search(session, user, "費用の見積", only_files)
    assert [h.title for h in page.hits] == ["移行手順書.pdf"]
    assert "<mark>" in page.hits[0].snippet_html
    assert page.hits[0].ref_id == pdf_post.id and f"m={pdf_post.id}" in page.hits[0].link
    assert [h.title for h in search.search(session, user, "住民記録", only_files).hits] == ["会議メモ.docx"]
    # The message itself says 資料です: with the filter, only files are listed.
    assert search.search(session, user, "資料", only_files).hits == []


def test_a_broken_file_is_reported_and_the_worker_goes_on(session: Session, tmp_path: Path, db_url: str) -> None:
    user = make_user(session)
    channel = make_channel(session)
    good, _ = _attached(session, user, channel, "ok.txt", "正常な本文".encode(), tmp_path)
    bad, _ = _attached(session, user, channel, "壊れた.pdf", make_pdf(["壊れる前"]), tmp_path)
    blob = session.get(FileBlob, session.get(Attachment, bad.id).blob_id)  # type: ignore[union-attr]
    path = get_settings().files_dir / blob.sha256[:2] / blob.sha256  # type: ignore[union-attr]
    path.write_bytes(b"%PDF-1.7\n" + b"\xff" * 5000)  # damaged on disk after upload
    session.commit()  # the test session holds SQLite's write lock while open
    assert attachments.extract_pending(url=db_url) == 2
    session.expire_all()
    status, error = attachments.text_status(session, bad.id)
    assert status == "failed" and error
    assert attachments.text_status(session, good.id) == ("done", "")


def test_hidden_messages_take_their_files_out_of_search(session: Session, tmp_path: Path, db_url: str) -> None:
    user, mod = make_user(session), make_user(session, role=Role.moderator)
    channel = make_channel(session)
    _, message = _attached(session, user, channel, "手順.pdf", make_pdf(PDF_TEXT), tmp_path)
    session.commit()
    attachments.extract_pending(url=db_url)
    session.expire_all()
    assert search.search(session, user, "見積もり").hits
    messages.hide_message(session, mod, message.id)
    session.commit()
    assert search.search(session, user, "見積もり").hits == []


# -- orphans ------------------------------------------------------------------------------


def test_orphans_are_collected(session: Session, tmp_path: Path, files_dir: Path) -> None:
    user = make_user(session)
    channel = make_channel(session)
    kept, _ = _attached(session, user, channel, "残す.pdf", make_pdf(["残す"]), tmp_path)
    dropped = _upload(session, user, make_image("PNG", (30, 20)), "送らない.png", tmp_path)
    assert attachments.collect_orphans(session) == 0  # a fresh upload may still be sent
    later = files.utcnow() + timedelta(hours=files.PENDING_HOURS + 1)
    assert attachments.collect_orphans(session, now=later) == 2  # the image and its preview
    session.commit()
    assert session.get(Attachment, dropped.id) is None
    assert attachments.open_download(session, user, kept.id)
    assert len([p for p in files_dir.rglob("*") if p.is_file()]) == 2
    assert _stored_bytes(session, kept.id).startswith(b"%PDF")


# -- お知らせ and 説明会 ------------------------------------------------------------


def test_an_announcements_files_show_in_the_feed_and_on_each_channel_message(session: Session, tmp_path: Path,
                                                                             db_url: str) -> None:
    from kyoso.models import AnnouncementChannel  # noqa: PLC0415 - only these tests read placements
    from kyoso.services import announcements  # noqa: PLC0415

    national, reader = make_user(session, role=Role.national), make_user(session)
    c1, c2 = make_channel(session), make_channel(session)
    view = _upload(session, national, make_pdf(["通知の本文 事務連絡"]), "事務連絡.pdf", tmp_path)
    ann = announcements.publish(session, national, announcements.AnnouncementInput(
        title="移行の通知", body="資料をご確認ください", category="policy", importance="high",
        channel_ids=[c1.id, c2.id]))
    attachments.attach_to_announcement(session, national, [view.id], ann.id)
    session.commit()
    feed = announcements.feed(session, reader)
    assert [f.name for f in feed[0].attachments] == ["事務連絡.pdf"]
    placements = session.exec(select(AnnouncementChannel).where(AnnouncementChannel.announcement_id == ann.id)).all()
    for p in placements:
        files_on_post = messages.view(session, p.message_id).attachments
        assert [f.name for f in files_on_post] == ["事務連絡.pdf"]
        assert attachments.open_download(session, reader, files_on_post[0].id)
    assert len(session.exec(select(FileBlob).where(FileBlob.kind == "pdf")).all()) == 1  # bytes stored once
    session.commit()
    attachments.extract_pending(url=db_url)
    page = search.search(session, reader, "事務連絡", search.make_filters(session, files_only=True))
    assert len(page.hits) == 2  # one per channel it went to


def test_a_withdrawn_announcements_files_are_kept_from_members(session: Session, tmp_path: Path) -> None:
    from kyoso.models import AnnouncementChannel  # noqa: PLC0415 - only these tests read placements
    from kyoso.services import announcements  # noqa: PLC0415

    national, reader = make_user(session, role=Role.national), make_user(session)
    moderator = make_user(session, role=Role.moderator)
    channel = make_channel(session)
    view = _upload(session, national, make_pdf(["撤回される通知"]), "通知.pdf", tmp_path)
    ann = announcements.publish(session, national, announcements.AnnouncementInput(
        title="通知", body="資料をご確認ください", category="policy", importance="high",
        channel_ids=[channel.id]))
    attachments.attach_to_announcement(session, national, [view.id], ann.id)
    session.commit()
    assert attachments.open_download(session, reader, view.id)
    placement = session.exec(select(AnnouncementChannel).where(AnnouncementChannel.announcement_id == ann.id)).one()
    messages.hide_message(session, moderator, placement.message_id)
    session.commit()
    with pytest.raises(NotFound):
        attachments.open_download(session, reader, view.id)
    assert attachments.open_download(session, moderator, view.id)
    assert attachments.open_download(session, national, view.id)  # who attached it


def test_briefing_materials_only_from_its_organiser(session: Session, tmp_path: Path) -> None:
    from tests.utils.factories import make_briefing  # noqa: PLC0415 - only this test makes a 説明会

    organiser, other = make_user(session, role=Role.national), make_user(session)
    briefing = make_briefing(session, organiser)
    slides = _upload(session, organiser, make_pdf(["説明会資料"]), "スライド.pdf", tmp_path)
    mine = _upload(session, other, make_pdf(["勝手に"]), "勝手.pdf", tmp_path)
    from kyoso.services.errors import NotAllowed  # noqa: PLC0415

    with pytest.raises(NotAllowed):
        attachments.attach_to_briefing(session, other, [mine.id], briefing.id)
    attachments.attach_to_briefing(session, organiser, [slides.id], briefing.id)
    session.commit()
    assert [f.name for f in attachments.for_briefings(session, [briefing.id])[briefing.id]] == ["スライド.pdf"]
    assert attachments.open_download(session, other, slides.id).name == "スライド.pdf"


def test_a_long_text_file_cut_inside_a_character_by_the_sniffer_is_still_text(tmp_path: Path) -> None:
    # 15 kana/kanji + a newline = 46 bytes: the 64 KiB the sniffer reads ends inside a character.
    body = ("ガバメントクラウド移行の議事録\n" * 3000).encode()
    assert _prepare(body, "議事録.txt", tmp_path).mime.startswith("text/plain")
    assert _prepare("件名,金額\n回線,100\n".encode("cp932") * 5000, "費用.csv", tmp_path).mime.startswith("text/csv")


def test_a_posts_files_read_back_as_they_were_uploaded(session: Session, tmp_path: Path) -> None:
    """The list every reader gets (one statement, previews joined) shows each
    file as its upload did: name, type, size, preview and its box."""
    user = make_user(session)
    channel = make_channel(session)
    channel_rules.join(session, user, channel.id or 0)
    photo = _upload(session, user, make_image("PNG", (80, 60)), "写真.png", tmp_path)
    pdf = _upload(session, user, make_pdf("資料"), "資料.pdf", tmp_path)
    memo = _upload(session, user, "議事メモ\n".encode(), "メモ.txt", tmp_path)
    message = messages.post_message(session, user, channel.id, "三つです", file_ids=[photo.id, pdf.id, memo.id])
    other = messages.post_message(session, user, channel.id, "ファイルなし")
    session.commit()
    views = attachments.for_messages(session, [message.id or 0, other.id or 0, 10_000])
    assert views == {message.id: [photo, pdf, memo]}
    assert photo.has_preview and photo.preview_width > 0 and not memo.has_preview
    assert attachments.for_messages(session, []) == {}
