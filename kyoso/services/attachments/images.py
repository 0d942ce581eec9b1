"""Images and previews: what is stored of an image is a fresh encoding of its
pixels (no EXIF, so no GPS position; nothing appended after the image, so no
polyglot), and a decompression bomb is refused before it is decoded.
Previews are small PNGs: an image's, or a PDF's first page (drawn by PDFium
in a child process: ``thumb.py``)."""

from __future__ import annotations

import io
import subprocess
import sys
import threading
import warnings
from pathlib import Path

from PIL import Image, ImageOps, ImageSequence
from pypdf import PdfReader
from pypdf.errors import PdfReadError

from kyoso.services.attachments import thumb
from kyoso.services.attachments.checks import GIF, JPEG, PNG, WEBP, FileType
from kyoso.services.errors import InvalidInput

# 40 megapixels: a phone photo is 12-50 MP; a bomb is many times more.
MAX_PIXELS = 40_000_000
MAX_FRAMES = 300  # an animated GIF
THUMB_SIZE = 320
PDF_MAX_PAGES = 5000
THUMBNAILER = str(Path(thumb.__file__).resolve())
THUMB_SECONDS = 20
THUMB_CHILDREN = 2
_THUMB_SLOTS = threading.BoundedSemaphore(THUMB_CHILDREN)

_FORMATS = {"PNG": PNG, "JPEG": JPEG, "GIF": GIF, "WEBP": WEBP}
_BROKEN = "画像が壊れているか、対応していない形式です。保存し直してから添付してください。"
_BOMB = "画像の大きさが大きすぎます（4,000万画素まで）。縮小してから添付してください。"


def _open(path: Path) -> Image.Image:
    Image.MAX_IMAGE_PIXELS = MAX_PIXELS
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = Image.open(path)
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise InvalidInput(_BOMB) from None
        except Exception:  # noqa: BLE001 - any decoder error means a broken file
            raise InvalidInput(_BROKEN) from None
    if image.width * image.height > MAX_PIXELS:
        raise InvalidInput(_BOMB)
    return image


def sanitise_image(path: Path, ftype: FileType, out: Path) -> tuple[FileType, int, int, bytes]:
    """Re-encode the image at ``path`` into ``out`` without metadata.

    Returns the stored type, width, height and a PNG thumbnail. The content
    must decode fully as the format its first bytes claim."""
    image = _open(path)
    found = _FORMATS.get(image.format or "")
    if found is None or found != ftype:
        raise InvalidInput(_BROKEN)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            if ftype == GIF and getattr(image, "n_frames", 1) > 1:
                if image.n_frames > MAX_FRAMES:
                    raise InvalidInput("コマ数の多すぎるアニメーションGIFは添付できません。")
                frames = [f.copy() for f in ImageSequence.Iterator(image)]
                frames[0].save(out, format="GIF", save_all=True, append_images=frames[1:],
                               loop=image.info.get("loop", 0), duration=image.info.get("duration", 100))
                still = frames[0]
            else:
                image.load()
                still = ImageOps.exif_transpose(image)  # keep the orientation the EXIF gave
                if ftype == JPEG:
                    still = still.convert("RGB")
                    still.save(out, format="JPEG", quality=90, optimize=True)
                elif ftype == PNG:
                    still.save(out, format="PNG", optimize=False)
                elif ftype == WEBP:
                    still.save(out, format="WEBP", quality=90)
                else:
                    still.save(out, format="GIF")
    except InvalidInput:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise InvalidInput(_BOMB) from None
    except Exception:  # noqa: BLE001 - truncated or corrupt pixel data
        raise InvalidInput(_BROKEN) from None
    return ftype, still.width, still.height, thumbnail(still)


def thumbnail(image: Image.Image) -> bytes:
    small = image.convert("RGBA") if image.mode in ("P", "LA", "RGBA") else image.convert("RGB")
    small.thumbnail((THUMB_SIZE, THUMB_SIZE))
    buf = io.BytesIO()
    small.save(buf, format="PNG", optimize=True)
    return buf.getvalue()


def check_pdf(path: Path) -> int:
    """The number of pages of a PDF that parses; refused otherwise (an HTML
    page with a %PDF- line in front is not a PDF)."""
    try:
        # A file object, not the path: given a path, pypdf reads the whole
        # file into memory first (50 uploads of 10 MB at once: +300 MiB).
        fh = path.open("rb")
        reader = PdfReader(fh, strict=False)
        if reader.is_encrypted:
            try:
                if not reader.decrypt(""):
                    raise InvalidInput("パスワード付きのPDFは添付できません。パスワードを外してから添付してください。")
            except NotImplementedError:
                raise InvalidInput("パスワード付きのPDFは添付できません。") from None
        pages = len(reader.pages)
    except InvalidInput:
        raise
    except (PdfReadError, Exception):  # noqa: BLE001 - pypdf raises many kinds on junk
        raise InvalidInput("PDFとして読み取れないファイルです。保存し直してから添付してください。") from None
    finally:
        if "fh" in locals():
            fh.close()
    if pages < 1:
        raise InvalidInput("ページのないPDFは添付できません。")
    if pages > PDF_MAX_PAGES:
        raise InvalidInput("ページ数が多すぎるPDFです。分割してから添付してください。")
    return pages


def pdf_thumbnail(path: Path) -> tuple[bytes, int, int]:
    """The first page as a small PNG (empty when PDFium cannot draw it in
    time), drawn in a child process (``thumb.py`` says why); at most
    THUMB_CHILDREN at once, so 50 uploads do not start 50 renderers."""
    target = path.with_name(path.name + ".thumb.png")
    with _THUMB_SLOTS:
        try:
            done = subprocess.run([sys.executable, "-I", THUMBNAILER, str(path), str(target), str(THUMB_SIZE)],
                                  capture_output=True, timeout=THUMB_SECONDS, check=False)
        except subprocess.TimeoutExpired:
            return b"", 0, 0
    if done.returncode != 0 or not target.exists():
        return b"", 0, 0
    data = target.read_bytes()
    target.unlink(missing_ok=True)
    try:
        width, height = thumb_size(data)
    except Exception:  # noqa: BLE001 - not a PNG after all: no preview
        return b"", 0, 0
    return data, width, height


def thumb_size(data: bytes) -> tuple[int, int]:
    with Image.open(io.BytesIO(data)) as image:
        return image.width, image.height
