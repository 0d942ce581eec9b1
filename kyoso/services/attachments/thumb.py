"""A PDF's first page as a small PNG, drawn by PDFium in a child process
(``python -I .../thumb.py PDF PNG SIZE``; it imports nothing of kyoso).

PDFium is native code and not thread-safe: in the worker, two uploads at
once crashed the process (SIGTRAP), and a crafted PDF could do the same.
In a child, the worst a PDF can do is lose its preview.
"""

from __future__ import annotations

import sys


def main(argv: list[str]) -> int:
    source, target, size = argv[0], argv[1], int(argv[2])
    try:
        import resource  # noqa: PLC0415 - POSIX only, and only in the child

        cap = 1024 * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    except (ImportError, ValueError, OSError):
        pass
    import pypdfium2  # noqa: PLC0415 - loaded in the child only, after the memory cap

    pdf = pypdfium2.PdfDocument(source)
    try:
        page = pdf[0]
        width, height = page.get_size()
        scale = min(size / max(width, height, 1), 2.0)
        page.render(scale=scale).to_pil().save(target, format="PNG", optimize=True)
    finally:
        pdf.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
