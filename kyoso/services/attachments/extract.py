"""Text of a document for search, bounded in pages, characters and time.

Runs in a child process (``python -I .../extract.py KIND PATH``: it
imports nothing of kyoso) with a time limit and a memory cap, so a hostile or broken file
can at worst fail its own extraction, never the worker that asked for it.
Office and OpenDocument text is read straight from their XML (no DTDs:
an entity bomb is refused), PDF text with pypdf.
"""

from __future__ import annotations

import json
import re
import sys
import time
import zipfile
from pathlib import Path
from xml.etree.ElementTree import XMLPullParser

from pypdf import PdfReader

MAX_PAGES = 200
MAX_CHARS = 200_000
MAX_SECONDS = 30.0
MAX_XML_BYTES = 50 * 1024 * 1024  # read from one archive, all members


class ExtractError(Exception):
    pass


def _pdf(path: Path, deadline: float) -> tuple[str, int]:
    with path.open("rb") as fh:  # a file object: pypdf would read a path whole into memory
        return _pdf_pages(PdfReader(fh, strict=False), deadline)


def _pdf_pages(reader: PdfReader, deadline: float) -> tuple[str, int]:
    if reader.is_encrypted:
        reader.decrypt("")
    parts: list[str] = []
    size = 0
    pages = 0
    for page in reader.pages[:MAX_PAGES]:
        if time.monotonic() > deadline:
            break
        text = page.extract_text() or ""
        parts.append(text)
        size += len(text)
        pages += 1
        if size >= MAX_CHARS:
            break
    return "\n".join(parts), pages


_OFFICE_PARTS = (
    re.compile(r"^word/(document|header\d*|footer\d*|footnotes|endnotes)\.xml$"),
    re.compile(r"^xl/sharedStrings\.xml$"),
    re.compile(r"^xl/worksheets/sheet\d+\.xml$"),  # inline strings and numbers
    re.compile(r"^ppt/slides/slide\d+\.xml$"),
    re.compile(r"^ppt/notesSlides/notesSlide\d+\.xml$"),
    re.compile(r"^content\.xml$"),  # OpenDocument
)
# Elements whose text is content: w:t, a:t (DrawingML), t (sheet strings),
# v (cell values), and OpenDocument's text:p / text:h / text:span.
_TEXT_TAGS = {"t", "v", "p", "h", "span", "s"}
_BREAK_TAGS = {"p", "h", "si", "row", "tr", "br", "tab", "c"}


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _slide_number(name: str) -> tuple[int, str]:
    digits = re.findall(r"\d+", name)
    return (int(digits[-1]) if digits else 0, name)


def _xml_text(fh, parts: list[str], budget: list[int], deadline: float) -> None:  # type: ignore[no-untyped-def]
    parser = XMLPullParser(events=("start", "end"))
    seen_root = False
    while True:
        chunk = fh.read(64 * 1024)
        if not chunk:
            break
        budget[0] -= len(chunk)
        if budget[0] < 0 or time.monotonic() > deadline:
            raise ExtractError("too large or too slow")
        if not seen_root:
            if b"<!DOCTYPE" in chunk or b"<!ENTITY" in chunk:
                raise ExtractError("a DTD in an Office part")
        parser.feed(chunk)
        for event, elem in parser.read_events():
            seen_root = True
            tag = _local(elem.tag)
            if event == "end":
                if tag in _TEXT_TAGS and elem.text:
                    parts.append(elem.text)
                if tag in _BREAK_TAGS:
                    parts.append("\n" if tag in ("p", "h", "si", "row", "tr", "br") else " ")
                elem.clear()
    parser.close()


def _office(path: Path, deadline: float) -> tuple[str, int]:
    parts: list[str] = []
    budget = [MAX_XML_BYTES]
    with zipfile.ZipFile(path) as zf:
        names = [n for n in zf.namelist() if any(p.match(n) for p in _OFFICE_PARTS)]
        names.sort(key=_slide_number)
        for name in names:
            with zf.open(name) as fh:
                _xml_text(fh, parts, budget, deadline)
            if sum(len(p) for p in parts) >= MAX_CHARS:
                break
    pages = sum(1 for n in names if n.startswith("ppt/slides/")) or 1
    return "".join(parts), pages


def _text(path: Path) -> tuple[str, int]:
    with path.open("rb") as fh:
        raw = fh.read(MAX_CHARS * 3)
    for encoding in ("utf-8-sig", "cp932"):
        try:
            return raw.decode(encoding), 1
        except UnicodeDecodeError:
            continue
    return raw.decode("utf-8", errors="replace"), 1


def extract_text(path: Path, kind: str, *, max_seconds: float = MAX_SECONDS) -> tuple[str, int]:
    """(text, pages read) of the file at ``path``; raises on a broken file."""
    deadline = time.monotonic() + max_seconds
    if kind == "pdf":
        text, pages = _pdf(path, deadline)
    elif kind == "office":
        text, pages = _office(path, deadline)
    elif kind == "text":
        text, pages = _text(path)
    else:
        return "", 0
    text = re.sub(r"[ \t\u3000]+", " ", text)
    text = re.sub(r"\s*\n\s*", "\n", text).strip()
    return text[:MAX_CHARS], pages


def main(argv: list[str]) -> int:
    """Child process: ``KIND PATH`` → one JSON line on stdout."""
    kind, path = argv[0], Path(argv[1])
    try:
        # The memory cap of this child only (the worker is not limited).
        import resource  # noqa: PLC0415 - POSIX only, and only in the child

        cap = 1024 * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    except (ImportError, ValueError, OSError):
        pass
    started = time.monotonic()
    try:
        text, pages = extract_text(path, kind)
    except Exception as exc:  # noqa: BLE001 - reported to the parent, which records it
        print(json.dumps({"error": f"{type(exc).__name__}: {exc}"[:300]}))
        return 0
    print(json.dumps({"text": text, "pages": pages, "seconds": round(time.monotonic() - started, 3)},
                     ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
