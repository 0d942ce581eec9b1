"""What a file is, decided from its content; and what it may be called.

The allow-list: PDF, Office (docx/xlsx/pptx) and OpenDocument (odt/ods/odp),
CSV and plain text, PNG/JPEG/GIF/WebP. Anything else is refused with a
message the member can act on. The name a member gave is only a label: it
is cleaned (NFC, no path parts, no control or bidi characters, a length cap)
and its extension is made to agree with the content.
"""

from __future__ import annotations

import codecs
import re
import unicodedata
import zipfile
from dataclasses import dataclass
from pathlib import Path

from kyoso.services.errors import InvalidInput

NAME_MAX = 120  # characters, extension included


@dataclass(frozen=True)
class FileType:
    kind: str  # image | pdf | office | text
    mime: str
    ext: str  # the canonical extension, without the dot
    label: str  # what a member reads (「PDF」「Excel」)
    exts: tuple[str, ...] = ()  # other extensions that name the same type


PDF = FileType("pdf", "application/pdf", "pdf", "PDF")
PNG = FileType("image", "image/png", "png", "PNG画像")
JPEG = FileType("image", "image/jpeg", "jpg", "JPEG画像", ("jpeg", "jpe"))
GIF = FileType("image", "image/gif", "gif", "GIF画像")
WEBP = FileType("image", "image/webp", "webp", "WebP画像")
DOCX = FileType("office", "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                "docx", "Word")
XLSX = FileType("office", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                "xlsx", "Excel")
PPTX = FileType("office", "application/vnd.openxmlformats-officedocument.presentationml.presentation",
                "pptx", "PowerPoint")
ODT = FileType("office", "application/vnd.oasis.opendocument.text", "odt", "OpenDocument文書")
ODS = FileType("office", "application/vnd.oasis.opendocument.spreadsheet", "ods", "OpenDocument表計算")
ODP = FileType("office", "application/vnd.oasis.opendocument.presentation", "odp",
               "OpenDocumentプレゼンテーション")
CSV = FileType("text", "text/csv; charset=utf-8", "csv", "CSV")
TXT = FileType("text", "text/plain; charset=utf-8", "txt", "テキスト", ("text", "md", "log"))

ALL_TYPES = (PDF, PNG, JPEG, GIF, WEBP, DOCX, XLSX, PPTX, ODT, ODS, ODP, CSV, TXT)
BY_MIME = {t.mime: t for t in ALL_TYPES}

ALLOWED_TEXT = "PDF、Word・Excel・PowerPoint（.docx .xlsx .pptx）、OpenDocument、CSV・テキスト、PNG・JPEG・GIF・WebP画像"
REFUSED = f"この種類のファイルは添付できません。添付できるのは {ALLOWED_TEXT} です。"

# Office files are zip archives: limits that a real document stays far below
# and a zip bomb does not.
ZIP_MAX_MEMBERS = 5000
ZIP_MAX_TOTAL = 300 * 1024 * 1024  # uncompressed bytes, all members
ZIP_MAX_RATIO = 200  # uncompressed / compressed, per member over 1 MiB

_ODF = {
    b"application/vnd.oasis.opendocument.text": ODT,
    b"application/vnd.oasis.opendocument.spreadsheet": ODS,
    b"application/vnd.oasis.opendocument.presentation": ODP,
}

# Control characters (C0, DEL, C1), bidi controls and other invisible format
# characters: a name like "report\u202Efdp.exe" reads as "reportexe.pdf".
_UNSAFE = re.compile(r"[\x00-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff\ufff9-\ufffb]")
_RESERVED = re.compile(r'[<>:"/\\|?*]')


# -- names ---------------------------------------------------------------------


def clean_name(raw: str) -> str:
    """A safe display and download name: NFC, the last path part only (both
    slashes, so ``../../etc/passwd`` is ``passwd``), no control or bidi
    characters, no characters Windows forbids, no leading dots, at most
    NAME_MAX characters with the extension kept."""
    name = unicodedata.normalize("NFC", str(raw or ""))
    name = re.split(r"[/\\]", name)[-1]
    name = _UNSAFE.sub("", name)
    name = _RESERVED.sub("_", name)
    name = " ".join(name.split())  # no runs of spaces, none at the ends
    name = name.lstrip(". ")
    if not name:
        name = "file"
    if len(name) > NAME_MAX:
        stem, dot, ext = name.rpartition(".")
        if dot and 0 < len(ext) <= 10:
            name = stem[: NAME_MAX - len(ext) - 1].rstrip() + "." + ext
        else:
            name = name[:NAME_MAX]
    return name


def named_for(name: str, ftype: FileType) -> str:
    """The name with an extension that says what the content is."""
    stem, dot, ext = name.rpartition(".")
    if dot and ext.lower() in (ftype.ext, *ftype.exts):
        return name
    if dot and stem and 0 < len(ext) <= 5 and ext.isascii():
        name = stem  # a wrong extension is replaced, not kept before the right one
    suffix = "." + ftype.ext
    return name[: NAME_MAX - len(suffix)] + suffix


# -- content -------------------------------------------------------------------


def _head(path: Path, size: int = 8192) -> bytes:
    with path.open("rb") as fh:
        return fh.read(size)


def _check_zip(path: Path) -> FileType:
    """An Office/OpenDocument file, or refused (another archive, macros, a bomb)."""
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
            if len(infos) > ZIP_MAX_MEMBERS:
                raise InvalidInput("ファイルの中身が多すぎます（圧縮ファイルの爆弾の疑い）。添付できません。")
            total = 0
            for info in infos:
                name = info.filename
                if name.startswith(("/", "\\")) or ".." in name.replace("\\", "/").split("/"):
                    raise InvalidInput("ファイルの中に不正なパスがあります。添付できません。")
                total += info.file_size
                if total > ZIP_MAX_TOTAL or (
                        info.file_size > 1024 * 1024
                        and info.file_size > ZIP_MAX_RATIO * max(info.compress_size, 1)):
                    raise InvalidInput("展開すると極端に大きくなるファイルです（圧縮ファイルの爆弾の疑い）。添付できません。")
            names = {i.filename for i in infos}
            if any(n.lower().endswith("vbaproject.bin") for n in names):
                raise InvalidInput("マクロを含むファイルは添付できません。マクロなしの形式（.docx .xlsx .pptx）で保存し直してください。")
            if "mimetype" in names:
                with zf.open("mimetype") as fh:
                    found = _ODF.get(fh.read(100).strip())
                if found is not None and "content.xml" in names:
                    return found
            if "[Content_Types].xml" in names:
                if "word/document.xml" in names:
                    return DOCX
                if "xl/workbook.xml" in names:
                    return XLSX
                if "ppt/presentation.xml" in names:
                    return PPTX
    except zipfile.BadZipFile:
        raise InvalidInput("ファイルが壊れているようです。保存し直してから添付してください。") from None
    raise InvalidInput(f"圧縮ファイル（zip）は添付できません。添付できるのは {ALLOWED_TEXT} です。")


_MARKUP = re.compile(rb"^\s*(<!doctype|<html|<head|<body|<script|<svg|<\?xml|<iframe|<!--|<meta|<a\s|<div|<img)",
                     re.IGNORECASE)


def _text_type(path: Path, name: str) -> FileType:
    """CSV or plain text in UTF-8 (or Shift_JIS, as Excel saves CSV): never
    markup, which a browser could be talked into running."""
    head = _head(path, 64 * 1024)
    if b"\x00" in head:
        raise InvalidInput(REFUSED)
    if _MARKUP.match(head.lstrip(b"\xef\xbb\xbf")):
        raise InvalidInput("HTML や SVG などのファイルは添付できません。PDF に変換してから添付してください。")
    whole = len(head) < 64 * 1024  # else a multibyte character may be cut at the end
    for encoding in ("utf-8", "cp932"):
        try:
            codecs.getincrementaldecoder(encoding)().decode(head, final=whole)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise InvalidInput(REFUSED)
    return CSV if name.lower().endswith(".csv") else TXT


def detect(path: Path, name: str) -> FileType:
    """The type of the file at ``path`` from its content; refused when it is
    not on the allow-list or is not what its first bytes claim to be."""
    head = _head(path)
    if head.startswith(b"%PDF-"):
        return PDF
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith((b"GIF87a", b"GIF89a")):
        return GIF
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return WEBP
    if head.startswith(b"PK\x03\x04"):
        return _check_zip(path)
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        raise InvalidInput("古い形式の Office ファイル（.doc .xls .ppt）は添付できません。"
                           ".docx .xlsx .pptx で保存し直してください。")
    return _text_type(path, name)
