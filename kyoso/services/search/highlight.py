"""Snippets with the matched text marked, safe to render as HTML.

The snippet is cut from the plain text, every piece is HTML-escaped, and only
then are ``<mark>`` tags added, so nothing a member wrote becomes markup.
Matching runs on folded text (width, case, kana), mapped back to the
characters as they were written, so ｶﾞﾊﾞﾒﾝﾄ is marked when ガバメント was searched.
"""

from __future__ import annotations

import html
import unicodedata

from kyoso.services.search.tokens import fold, is_kana, is_word_char

SNIPPET_CHARS = 140
LEAD_CHARS = 30


def _clusters(text: str) -> list[tuple[int, int]]:
    """Spans of a base character and the marks that follow it (ｶﾞ is one)."""
    spans = []
    i, n = 0, len(text)
    while i < n:
        j = i + 1
        while j < n and (unicodedata.combining(text[j]) or text[j] in "\uff9e\uff9f"):
            j += 1
        spans.append((i, j))
        i = j
    return spans


def folded_with_map(text: str) -> tuple[str, list[tuple[int, int]]]:
    """The folded text and, for each of its characters, the span it came from."""
    out: list[str] = []
    where: list[tuple[int, int]] = []
    for start, end in _clusters(text):
        piece = fold(text[start:end])
        if piece == "ー" and out and out[-1] and is_kana(out[-1][-1]):
            # As fold() does: no long-vowel mark after a kana. It belongs to
            # the kana before it, and is marked with it.
            where[-1] = (where[-1][0], end)
            continue
        out.append(piece)
        where.extend([(start, end)] * len(piece))
    return "".join(out), where


def match_spans(text: str, marks: tuple[tuple[str, bool], ...]) -> list[tuple[int, int]]:
    """Spans of ``text`` (as written) that match the query's pieces, merged."""
    if not marks or not text:
        return []
    folded, where = folded_with_map(text)
    found: list[tuple[int, int]] = []
    for piece, is_word in marks:
        if not piece:
            continue
        hits = []
        at = folded.find(piece)
        while at >= 0:
            # A word matches at the start of a word only (as the index does).
            if not (is_word and at > 0 and is_word_char(folded[at - 1])):
                hits.append((at, at + len(piece)))
            at = folded.find(piece, at + 1)
        for s, e in hits:
            found.append((where[s][0], where[e - 1][1]))
    found.sort()
    merged: list[tuple[int, int]] = []
    for s, e in found:
        if merged and s <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(e, merged[-1][1]))
        else:
            merged.append((s, e))
    return merged


def snippet_html(text: str, marks: tuple[tuple[str, bool], ...], *,
                 length: int = SNIPPET_CHARS) -> str:
    """Up to ``length`` characters around the first match, matches in <mark>."""
    spans = match_spans(text, marks)
    start = 0
    if spans and spans[0][0] > LEAD_CHARS and len(text) > length:
        start = min(spans[0][0] - LEAD_CHARS, max(0, len(text) - length))
    end = min(len(text), start + length)
    out = ["…" if start > 0 else ""]
    at = start
    for s, e in spans:
        if e <= start or s >= end:
            continue
        s, e = max(s, start), min(e, end)
        out.append(html.escape(text[at:s]))
        out.append("<mark>" + html.escape(text[s:e]) + "</mark>")
        at = e
    out.append(html.escape(text[at:end]))
    if end < len(text):
        out.append("…")
    return "".join(out)
