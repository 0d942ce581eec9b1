"""Similar past threads, suggested while a question is being written.

The draft's content words are found without a dictionary: runs of kanji and
runs of katakana (a change of script is a word boundary in Japanese text
often enough: 情報|システム|標準化), and Latin words. Each word is searched as
a phrase among thread starters (newest first, a bounded number each, so a
common word costs no more than a rare one); a thread scores by the words it
shares with the draft, rarer and longer words counting more.
"""

from __future__ import annotations

import math
import unicodedata
from dataclasses import dataclass

from sqlmodel import Session, col, select

from kyoso import routes
from kyoso.models import Channel, Message, SearchDoc, User
from kyoso.services import channels as channel_rules
from kyoso.services import markup
from kyoso.services.search import engine
from kyoso.services.search.index import MESSAGE
from kyoso.services.search.tokens import bigrams, fold, is_content_char, parse_query, segments

MAX_WORDS = 6
PER_WORD = 100
MIN_DRAFT = 6
# Words too general to tell two questions apart.
_STOP = {"について", "質問", "教えて", "お願い", "場合", "対応", "確認", "方法", "状況", "予定", "今回", "現在",
         "よろしく", "皆様", "みなさん", "自治体", "団体"}


@dataclass
class SimilarThread:
    id: int
    channel_slug: str
    channel_name: str
    excerpt: str
    link: str
    reply_count: int
    is_question: bool
    resolved: bool


def _script(ch: str) -> str:
    if "\u30a1" <= ch <= "\u30fa" or ch == "ー":
        return "katakana"
    if is_content_char(ch):
        return "kanji"
    if ch.isascii() and ch.isalnum():
        return "latin"
    return ""


def content_words(text: str) -> list[str]:
    """Distinct content words of a draft, most telling first (longest)."""
    text = unicodedata.normalize("NFKC", text)
    words: list[str] = []
    run, kind = "", ""
    for ch in text + " ":
        k = _script(ch)
        if k and k == kind:
            run += ch
            continue
        if run and (len(run) >= 2 if kind != "latin" else len(run) >= 2 and not run.isdigit()):
            words.append(run)
        run, kind = (ch, k) if k else ("", "")
    seen: dict[str, str] = {}
    for w in words:
        key = fold(w)
        if key not in seen and w not in _STOP and key not in _STOP:
            seen[key] = w
    ordered = sorted(seen.values(), key=lambda w: -min(len(w), 6))
    return ordered[:MAX_WORDS]


def _pairs(text: str) -> set[str]:
    return {g for cjk, seg in segments(fold(text)) for g in (bigrams(seg) if cjk else [seg])}


def _dice(a: set[str], b: set[str]) -> float:
    return 2 * len(a & b) / (len(a) + len(b)) if a and b else 0.0


def similar_threads(session: Session, user: User, draft: str, *, limit: int = 5,
                    channel_id: int | None = None) -> list[SimilarThread]:
    """Up to ``limit`` past threads like the draft, best first."""
    channel_rules.require_active(user)
    if len((draft or "").strip()) < MIN_DRAFT:
        return []
    words = content_words(draft[:2000])
    if not words:
        return []
    table = SearchDoc.__table__  # type: ignore[attr-defined]
    scores: dict[int, float] = {}
    matched: dict[int, int] = {}
    for word in words:
        parsed = parse_query(word)
        if parsed.empty:
            continue
        ids = engine.match_ids(session, parsed, table,
                               [table.c.kind == MESSAGE, table.c.thread_id == table.c.ref_id],
                               before_id=None, limit=PER_WORD)
        if not ids:
            continue
        weight = (1 + math.log((PER_WORD + 1) / (len(ids) + 1))) * min(len(word), 4) / 2
        for i in ids:
            scores[i] = scores.get(i, 0.0) + weight
            matched[i] = matched.get(i, 0) + 1
    if not scores:
        return []
    # One shared word is a match only when the draft has one word, or the word is rare.
    need = 2 if len(words) >= 2 else 1
    ranked = sorted(
        (i for i in scores if matched[i] >= need or scores[i] >= 4),
        key=lambda i: (scores[i], i), reverse=True,
    )[: limit * 3]
    if not ranked:
        return []
    rows = session.exec(
        select(SearchDoc, Message, Channel)
        .join(Message, Message.id == SearchDoc.ref_id)  # type: ignore[arg-type]
        .join(Channel, Channel.id == Message.channel_id)  # type: ignore[arg-type]
        .where(col(SearchDoc.id).in_(ranked))
    ).all()
    by_id = {d.id: (d, m, c) for d, m, c in rows
             if m.is_visible and (channel_id is None or m.channel_id == channel_id)}
    # Among threads sharing the same words, the one closest to the draft as a
    # whole comes first (shared character pairs).
    draft_pairs = _pairs(draft)
    for i, (doc, _, _) in by_id.items():
        scores[i] += 3 * _dice(draft_pairs, _pairs(doc.body))
    out = []
    for i in sorted(by_id, key=lambda i: (scores[i], by_id[i][1].is_question, i), reverse=True)[:limit]:
        doc, m, c = by_id[i]
        out.append(SimilarThread(
            id=m.id or 0, channel_slug=c.slug, channel_name=c.name,
            excerpt=markup.plain_text(m.body, 90),
            link=routes.thread(c.slug, m.id or 0), reply_count=m.reply_count,
            is_question=m.is_question, resolved=m.answer_id is not None,
        ))
    return out
