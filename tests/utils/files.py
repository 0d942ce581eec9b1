"""Test files made in the test: PDFs with Japanese text (a tiny hand-written
writer), images with EXIF, Office files, zip bombs."""

from __future__ import annotations

import io
import zipfile

from PIL import Image


def make_pdf(pages: list[str], *, pad: bytes = b"") -> bytes:
    """A PDF whose pages hold the given text (any script), extractable by
    pypdf: a Type0 font with Identity-H and a ToUnicode map, glyphs unnamed
    (a viewer draws boxes; extraction and thumbnails do not care)."""
    chars = sorted({c for page in pages for c in page if c != "\n"})
    cid = {c: i + 1 for i, c in enumerate(chars)}
    objs: list[bytes] = []

    def add(body: bytes) -> int:
        objs.append(body)
        return len(objs)

    cmap_lines = [f"<{cid[c]:04X}> <{ord(c):04X}>" for c in chars]
    cmap = ("/CIDInit /ProcSet findresource begin 12 dict begin begincmap\n"
            "/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n"
            "/CMapName /Adobe-Identity-UCS def /CMapType 2 def\n"
            "1 begincodespacerange <0000> <FFFF> endcodespacerange\n")
    for start in range(0, len(cmap_lines), 100):
        chunk = cmap_lines[start:start + 100]
        cmap += f"{len(chunk)} beginbfchar\n" + "\n".join(chunk) + "\nendbfchar\n"
    cmap += "endcmap CMapName currentdict /CMap defineresource pop end end\n"
    cmap_b = cmap.encode()
    tounicode = add(b"<< /Length %d >>\nstream\n" % len(cmap_b) + cmap_b + b"\nendstream")
    descendant = add(b"<< /Type /Font /Subtype /CIDFontType2 /BaseFont /KyosoTest "
                     b"/CIDSystemInfo << /Registry (Adobe) /Ordering (Identity) /Supplement 0 >> "
                     b"/DW 1000 /CIDToGIDMap /Identity >>")
    font = add(b"<< /Type /Font /Subtype /Type0 /BaseFont /KyosoTest /Encoding /Identity-H "
               b"/DescendantFonts [%d 0 R] /ToUnicode %d 0 R >>" % (descendant, tounicode))
    pages_id = len(objs) + 1 + 2 * len(pages)  # after every page and its content
    page_ids = []
    for text in pages:
        lines = text.split("\n")
        ops = ["BT", "/F1 16 Tf", "20 TL", "50 780 Td"]
        for line in lines:
            ops.append("<" + "".join(f"{cid[c]:04X}" for c in line) + "> Tj T*")
        ops.append("ET")
        stream = "\n".join(ops).encode()
        content = add(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
        page_ids.append(add(b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 595 842] "
                            b"/Resources << /Font << /F1 %d 0 R >> >> /Contents %d 0 R >>"
                            % (pages_id, font, content)))
    kids = b" ".join(b"%d 0 R" % p for p in page_ids)
    assert add(b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, len(page_ids))) == pages_id
    catalog = add(b"<< /Type /Catalog /Pages %d 0 R >>" % pages_id)
    if pad:  # an unreferenced stream: a big file that is still a valid PDF
        add(b"<< /Length %d >>\nstream\n" % len(pad) + pad + b"\nendstream")
    out = io.BytesIO()
    out.write(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for i, body in enumerate(objs, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % i + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1))
    for off in offsets:
        out.write(b"%010d 00000 n \n" % off)
    out.write(b"trailer\n<< /Size %d /Root %d 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, catalog, xref))
    return out.getvalue()


def make_image(fmt: str = "PNG", size: tuple[int, int] = (64, 48), *, gps: bool = False) -> bytes:
    image = Image.new("RGB", size, (200, 80, 40))
    buf = io.BytesIO()
    kwargs: dict[str, object] = {}
    if gps:
        exif = Image.Exif()
        exif[0x010F] = "KyosoCam"  # Make
        exif[0x8825] = {1: "N", 2: (35.0, 41.0, 22.0), 3: "E", 4: (139.0, 41.0, 30.0)}  # GPS IFD
        kwargs["exif"] = exif.tobytes()
    image.save(buf, format=fmt, **kwargs)
    return buf.getvalue()


def _zip(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


def make_docx(paragraphs: list[str]) -> bytes:
    body = "".join(f'<w:p><w:r><w:t>{p}</w:t></w:r></w:p>' for p in paragraphs)
    doc = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
           '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
           f'<w:body>{body}</w:body></w:document>')
    return _zip({
        "[Content_Types].xml": b'<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>',
        "word/document.xml": doc.encode("utf-8"),
    })


def make_zip_bomb(megabytes: int = 60) -> bytes:
    """An Office-looking zip with a member that inflates a thousandfold."""
    return _zip({
        "[Content_Types].xml": b"<Types/>",
        "word/document.xml": b"<w:document/>",
        "word/media/filler.bin": b"\0" * (megabytes * 1024 * 1024),
    })
