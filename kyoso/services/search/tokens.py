"""Japanese-aware tokens, the same for indexing and for queries.

Japanese has no spaces between words, so the index holds overlapping
character pairs (bigrams) of every run of kanji and kana. Before that, text
is folded: NFKC (ｶﾞﾊﾞﾒﾝﾄ → ガバメント, ＬＧＷＡＮ → LGWAN), lower case,
katakana → hiragana (ガバメント → がばめんと), and the long-vowel mark after a
kana dropped (サーバー and サーバ → さば), so width, kana and 長音 variants
meet. Changing the folding needs ``kyoso search rebuild`` (or a migration
that rebuilds, like 0005).

    "ガバメントクラウドとLGWAN接続"
    grams: がば ばめ めん んと とく くら らう うど どと lgwan 接続
    tails: と 続

``grams`` keep the order of the text, so a query of n characters is the
phrase of its n-1 bigrams, and a two-character query is one token. The last
character of each run goes into ``tails`` (a separate column, so it never
sits between two grams of a phrase): with it, a one-character query is a
prefix query (``続*``) that finds the character at any place in a run. Runs
of letters and digits of other scripts (ASCII, mostly) are whole words,
matched by prefix.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass

# Longer words (a token, a hash) are cut: a PostgreSQL lexeme must stay small.
MAX_WORD = 60
# At most this many terms in one query; the rest is ignored.
MAX_TERMS = 8

_EXTRA_CJK = set("ー々〆〇ヶヵゝゞヽヾ")
_QUOTES = {'"': '"', "“": "”", "「": "」", "『": "』"}
_VOICED = {"\uff9e", "\uff9f", "\u3099", "\u309a"}


def is_cjk(ch: str) -> bool:
    """Kanji, kana and hangul: scripts written without spaces between words."""
    o = ord(ch)
    return (
        0x3040 <= o <= 0x30FF  # hiragana, katakana
        or 0x3400 <= o <= 0x4DBF or 0x4E00 <= o <= 0x9FFF or 0xF900 <= o <= 0xFAFF
        or 0x20000 <= o <= 0x3FFFF  # kanji, extensions
        or 0x31F0 <= o <= 0x31FF  # small katakana extension
        or 0xAC00 <= o <= 0xD7AF or 0x1100 <= o <= 0x11FF  # hangul
        or ch in _EXTRA_CJK
    ) and unicodedata.category(ch)[0] == "L"


def is_content_char(ch: str) -> bool:
    """Kanji or katakana: the characters that carry a Japanese sentence's topic."""
    o = ord(ch)
    return (0x30A1 <= o <= 0x30FA or ch == "ー" or 0x3400 <= o <= 0x4DBF or 0x4E00 <= o <= 0x9FFF
            or 0xF900 <= o <= 0xFAFF or ch in "々〆")


def _hiragana(ch: str) -> str:
    return chr(ord(ch) - 0x60) if "ァ" <= ch <= "ヶ" else ch


def is_kana(ch: str) -> bool:
    return "\u3041" <= ch <= "\u30fa"


def fold(text: str) -> str:
    """NFKC, lower case, katakana → hiragana, and no long-vowel mark after a
    kana: サーバー, サーバ and ｻｰﾊﾞｰ all fold to さば, インターフェース and
    インタフェース to いんたふぇす (both spellings are in official use)."""
    out: list[str] = []
    for c in unicodedata.normalize("NFKC", text).lower():
        if c == "ー" and out and is_kana(out[-1]):
            continue
        out.append(_hiragana(c))
    return "".join(out)


def is_word_char(ch: str) -> bool:
    cat = unicodedata.category(ch)
    return cat[0] in "LN" and not is_cjk(ch)


def segments(folded: str) -> Iterator[tuple[bool, str]]:
    """Runs of folded text: (True, kanji/kana run) or (False, word)."""
    run: list[str] = []
    run_cjk = False
    for ch in folded:
        if is_cjk(ch):
            kind: bool | None = True
        elif is_word_char(ch):
            kind = False
        else:
            kind = None
        if run and kind is not run_cjk:
            yield run_cjk, "".join(run)
            run = []
        if kind is not None:
            run_cjk = kind
            run.append(ch)
    if run:
        yield run_cjk, "".join(run)


def bigrams(run: str) -> list[str]:
    return [run[i:i + 2] for i in range(len(run) - 1)] if len(run) > 1 else [run]


@dataclass(frozen=True)
class DocTokens:
    grams: list[str]
    tails: list[str]

    def text(self) -> tuple[str, str]:
        """The two columns as space-separated text (what FTS5 is given)."""
        return " ".join(self.grams), " ".join(self.tails)


def document_tokens(text: str) -> DocTokens:
    grams: list[str] = []
    tails: list[str] = []
    for cjk, seg in segments(fold(text)):
        if not cjk:
            grams.append(seg[:MAX_WORD])
        elif len(seg) == 1:
            grams.append(seg)
        else:
            grams.extend(bigrams(seg))
            tails.append(seg[-1])
    return DocTokens(grams, tails)


# ---------------------------------------------------------------------------
# Queries
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Term:
    """One condition of a query: a phrase of tokens, or one token as a prefix."""

    tokens: tuple[str, ...]
    prefix: bool


@dataclass(frozen=True)
class ParsedQuery:
    terms: tuple[Term, ...]
    # Folded pieces to mark in results: (text, is_word).
    marks: tuple[tuple[str, bool], ...]

    @property
    def empty(self) -> bool:
        return not self.terms


def _chunks(query: str) -> Iterator[tuple[bool, str]]:
    """(quoted, text) pieces: spaces separate, quotes keep a phrase together."""
    text = unicodedata.normalize("NFKC", query)
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch.isspace():
            i += 1
            continue
        close = _QUOTES.get(ch)
        if close is not None:
            end = text.find(close, i + 1)
            end = n if end < 0 else end
            yield True, text[i + 1:end]
            i = end + 1
            continue
        j = i
        while j < n and not text[j].isspace() and text[j] not in _QUOTES:
            j += 1
        yield False, text[i:j]
        i = j


def parse_query(query: str) -> ParsedQuery:
    """Spaces mean AND; "..." (or 「...」) is a phrase.

    Unquoted, every run is its own term: ``LGWAN接続`` finds messages with
    both LGWAN and 接続. A kanji/kana run of one character, and a word,
    match as prefixes.
    """
    terms: list[Term] = []
    marks: list[tuple[str, bool]] = []
    for quoted, chunk in _chunks(query or ""):
        segs = list(segments(fold(chunk)))
        marks.extend((s, not cjk) for cjk, s in segs)
        if quoted and len(segs) > 1:
            tokens: list[str] = []
            for cjk, seg in segs:
                tokens.extend(bigrams(seg) if cjk else [seg[:MAX_WORD]])
            terms.append(Term(tuple(tokens), prefix=False))
            continue
        for cjk, seg in segs:
            if not cjk:
                terms.append(Term((seg[:MAX_WORD],), prefix=not quoted))
            elif len(seg) == 1:
                terms.append(Term((seg,), prefix=True))
            else:
                terms.append(Term(tuple(bigrams(seg)), prefix=False))
    unique = list(dict.fromkeys(terms))[:MAX_TERMS]
    return ParsedQuery(tuple(unique), tuple(dict.fromkeys(marks)))


def fts5_query(parsed: ParsedQuery) -> str:
    """SQLite FTS5 syntax: every token quoted, so nothing in it is an operator."""
    parts = []
    for term in parsed.terms:
        phrase = '"' + " ".join(t.replace('"', '""') for t in term.tokens) + '"'
        parts.append(phrase + " *" if term.prefix else phrase)
    return " AND ".join(parts)


def _lexeme(token: str) -> str:
    return "'" + token.replace("\\", "\\\\").replace("'", "''") + "'"


def tsquery(parsed: ParsedQuery) -> str:
    """PostgreSQL tsquery syntax, cast directly (no text search parser)."""
    parts = []
    for term in parsed.terms:
        if term.prefix:
            parts.append(_lexeme(term.tokens[0]) + ":*")
        else:
            parts.append("(" + " <-> ".join(_lexeme(t) for t in term.tokens) + ")")
    return " & ".join(parts)


def tsvector(tokens: DocTokens) -> str:
    """A tsvector literal: grams at positions 1..n, tails after them (as FTS5 does)."""
    positions: dict[str, list[int]] = {}
    pos = 0
    for tok in (*tokens.grams, *tokens.tails):
        pos = min(pos + 1, 16383)
        positions.setdefault(tok, []).append(pos)
    return " ".join(_lexeme(t) + ":" + ",".join(map(str, p[:256])) for t, p in positions.items())


_SPACE = re.compile(r"\s+")


def one_line(text: str) -> str:
    return _SPACE.sub(" ", text).strip()
