"""Exports: CSV that Excel opens with Japanese intact, safe against formula
injection; a bar chart as a standalone SVG for reports."""

from __future__ import annotations

import csv
import html
import io

# A cell starting with one of these is a formula to a spreadsheet (and tab/CR
# can smuggle one in): prefix it with an apostrophe so it stays text.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")


def neutralise(cell: object) -> str:
    text = "" if cell is None else str(cell)
    if text.startswith(_FORMULA_START):
        # Plain negative numbers are data, not formulas.
        try:
            float(text)
            return text
        except ValueError:
            return "'" + text
    return text


def to_csv(header: list[str], rows: list[list[object]]) -> bytes:
    """UTF-8 with BOM (Excel detects the encoding), CRLF line ends."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow([neutralise(h) for h in header])
    for row in rows:
        writer.writerow([neutralise(c) for c in row])
    return "\ufeff".encode() + buf.getvalue().encode("utf-8")


def bar_chart_svg(title: str, labels: list[str], counts: list[int], *, subtitle: str = "") -> str:
    """A horizontal bar chart: the poll's results as an image for a report."""
    width, bar_h, gap, left = 760, 26, 10, 240
    top = 70 if subtitle else 50
    height = top + len(labels) * (bar_h + gap) + 30
    total = max(sum(counts), 1)
    peak = max(counts + [1])
    esc = html.escape
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="Noto Sans CJK JP, Hiragino Sans, Meiryo, sans-serif">',
        f'<rect width="{width}" height="{height}" fill="#ffffff"/>',
        f'<text x="20" y="32" font-size="18" font-weight="bold" fill="#1d2740">{esc(title)}</text>',
    ]
    if subtitle:
        parts.append(f'<text x="20" y="54" font-size="13" fill="#555">{esc(subtitle)}</text>')
    for i, (label, count) in enumerate(zip(labels, counts)):
        y = top + i * (bar_h + gap)
        w = int((width - left - 120) * count / peak)
        pct = round(100 * count / total)
        parts += [
            f'<text x="{left - 10}" y="{y + 18}" font-size="14" text-anchor="end" fill="#222">{esc(label[:24])}</text>',
            f'<rect x="{left}" y="{y}" width="{max(w, 2)}" height="{bar_h}" rx="3" fill="#3e63dd"/>',
            f'<text x="{left + max(w, 2) + 8}" y="{y + 18}" font-size="14" fill="#222">{count}（{pct}%）</text>',
        ]
    parts.append("</svg>")
    return "".join(parts)
