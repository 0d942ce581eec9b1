"""Searching: words (AND, "phrases"), filters, and hits as members see them.

Every active member may search every channel (all channels are public). A
hit is always something visible: deleted and hidden messages are taken out
of the index when that happens, and checked once more when hits are built.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

import sqlalchemy as sa
from sqlmodel import Session, col, select

from kyoso import routes
from kyoso.db import utcnow
from kyoso.models import Channel, Message, Organisation, SearchDoc, User
from kyoso.services import channels as channel_rules
from kyoso.services.errors import InvalidInput
from kyoso.services.organisations import search_organisations
from kyoso.services.search import engine
from kyoso.services.search.highlight import snippet_html
from kyoso.services.search.index import MESSAGE
from kyoso.services.search.tokens import ParsedQuery, fold, parse_query
from kyoso.services.text import clean_line
from kyoso.services.timefmt import JST, jst_datetime, jst_short

PAGE_SIZE = 20
MAX_QUERY = 200


@dataclass
class SearchFilters:
    """Narrowing a search. Empty fields do not narrow."""

    channel_id: int | None = None
    org_codes: tuple[str, ...] = ()  # the author's 団体
    prefecture_code: str = ""  # the author's 団体's prefecture
    date_from: date | None = None  # JST days, both inclusive
    date_to: date | None = None
    resolved_only: bool = False  # only threads of questions that have an answer
    files_only: bool = False  # only attached files (「ファイルのみ」)

    @property
    def any(self) -> bool:
        return bool(self.channel_id or self.org_codes or self.prefecture_code or self.date_from
                    or self.date_to or self.resolved_only or self.files_only)


@dataclass
class SearchHit:
    id: int  # the document
    kind: str
    kind_label: str
    ref_id: int
    link: str
    channel_name: str
    channel_slug: str
    author_name: str
    org_name: str
    time: str
    time_full: str
    snippet_html: str
    is_reply: bool = False
    is_question: bool = False
    resolved: bool = False
    is_answer: bool = False
    # What the hit is called when it has a name of its own (a file's name).
    title: str = ""


@dataclass
class SearchPage:
    hits: list[SearchHit] = field(default_factory=list)
    more: bool = False
    # Pass as ``before_id`` for the next page.
    next_before: int = 0


# -- kinds of documents -----------------------------------------------------


@dataclass(frozen=True)
class DocKind:
    label: str
    # The page that shows the item: (document, channel slug) -> path.
    link: Callable[[SearchDoc, str], str]
    # (session, documents of this kind) -> {document id: (title, message id)}
    # for those a member may still see; the others are left out of the hits.
    # A message id makes the hit point at that message (a file on a post).
    describe: Callable[[Session, list[SearchDoc]], dict[int, tuple[str, int]]] | None = None


def _message_link(doc: SearchDoc, slug: str) -> str:
    return routes.message(slug, doc.ref_id, doc.thread_id or doc.ref_id)


KINDS: dict[str, DocKind] = {MESSAGE: DocKind("メッセージ", _message_link)}


def register_kind(kind: str, label: str, link: Callable[[SearchDoc, str], str],
                  describe: Callable[[Session, list[SearchDoc]], dict[int, tuple[str, int]]] | None = None
                  ) -> None:
    """Make another kind of item (an announcement, a poll, a file) show in results."""
    KINDS[kind] = DocKind(label, link, describe)


# -- filters as typed ----------------------------------------------------------


def _parse_day(value: str, label: str) -> date | None:
    value = clean_line(value, label=label, max_len=10, required=False)
    if not value:
        return None
    try:
        return date.fromisoformat(value.replace("/", "-"))
    except ValueError:
        raise InvalidInput(f"{label}は 2026-04-01 の形で入力してください。", field=label) from None


def resolve_orgs(session: Session, text: str) -> tuple[str, ...]:
    """団体 as typed (a name, 都道府県+name, or a code) → their codes.

    Every 団体 with exactly that name counts (府中市 is in 東京都 and 広島県);
    failing that, the names that start with it, when they are few.
    """
    q = clean_line(text, label="団体", max_len=40, required=False)
    if not q:
        return ()
    found = search_organisations(q, limit=50)
    key = fold(q).replace(" ", "")
    exact = [o.code for o in found
             if key in (fold(o.label).replace(" ", ""), fold(o.label.split(" ")[-1]), o.code.lower())]
    if exact:
        return tuple(exact)
    starts = [o.code for o in found if fold(o.label.split(" ")[-1]).startswith(key)]
    if 0 < len(starts) <= 10:
        return tuple(starts)
    if not found:
        raise InvalidInput(f"「{q}」に当たる団体が見つかりません。", field="org")
    raise InvalidInput(f"「{q}」に当たる団体が多すぎます。都道府県名から入力してください（例: 北海道札幌市）。",
                       field="org")


def make_filters(session: Session, *, channel: str = "", org: str = "", prefecture: str = "",
                 date_from: str = "", date_to: str = "", resolved_only: bool = False,
                 files_only: bool = False) -> SearchFilters:
    """Filters from what the search form sent (strings), checked."""
    channel_id = None
    if channel:
        channel_id = channel_rules.get_channel_by_slug(session, channel).id
    pref = clean_line(prefecture, label="都道府県", max_len=2, required=False)
    if pref and session.exec(select(Organisation.code).where(
            Organisation.prefecture_code == pref, Organisation.kind == "prefecture")).first() is None:
        raise InvalidInput("都道府県を一覧から選んでください。", field="prefecture")
    start, end = _parse_day(date_from, "開始日"), _parse_day(date_to, "終了日")
    if start and end and start > end:
        raise InvalidInput("開始日は終了日より前にしてください。", field="date")
    return SearchFilters(channel_id=channel_id, org_codes=resolve_orgs(session, org),
                         prefecture_code=pref, date_from=start, date_to=end,
                         resolved_only=bool(resolved_only), files_only=bool(files_only))


def _jst_start(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=JST)


def _conditions(f: SearchFilters) -> list[sa.ColumnElement[bool]]:
    d = SearchDoc
    out: list[sa.ColumnElement[bool]] = []
    if f.channel_id:
        out.append(col(d.channel_id) == f.channel_id)
    if f.org_codes:
        out.append(col(d.author_id).in_(select(User.id).where(col(User.org_code).in_(f.org_codes))))
    if f.prefecture_code:
        out.append(col(d.author_id).in_(
            select(User.id).join(Organisation, Organisation.code == User.org_code)  # type: ignore[arg-type]
            .where(Organisation.prefecture_code == f.prefecture_code)))
    if f.date_from:
        out.append(col(d.created_at) >= _jst_start(f.date_from))
    if f.date_to:
        out.append(col(d.created_at) < _jst_start(f.date_to + timedelta(days=1)))
    if f.files_only:
        out.append(col(d.kind) == "file")
    if f.resolved_only:
        out.append(col(d.kind) == MESSAGE)
        out.append(col(d.thread_id).in_(
            select(Message.id).where(col(Message.is_question).is_(True), col(Message.answer_id).is_not(None))))
    return out


# -- searching ---------------------------------------------------------------


def search(session: Session, user: User, query: str, filters: SearchFilters | None = None, *,
           before_id: int | None = None, limit: int = PAGE_SIZE) -> SearchPage:
    """Newest matches first. Words are ANDed; "quoted" words are a phrase.

    With no words, the filters alone list items (e.g. a channel's resolved
    questions); with neither, nothing is listed.
    """
    channel_rules.require_active(user)
    text = clean_line(query, label="検索語", max_len=MAX_QUERY, required=False)
    parsed = parse_query(text)
    filters = filters or SearchFilters()
    if parsed.empty and (text or not filters.any):
        return SearchPage()
    ids = _match_ids(session, parsed, filters, before_id=before_id, limit=limit + 1)
    more = len(ids) > limit
    ids = ids[:limit]
    hits = hits_for(session, ids, parsed)
    return SearchPage(hits=hits, more=more, next_before=ids[-1] if ids and more else 0)


def _match_ids(session: Session, parsed: ParsedQuery, filters: SearchFilters, *,
               before_id: int | None, limit: int) -> list[int]:
    table = SearchDoc.__table__  # type: ignore[attr-defined]
    conditions = _conditions(filters)
    if not parsed.empty:
        return engine.match_ids(session, parsed, table, conditions, before_id=before_id, limit=limit,
                                channel_id=filters.channel_id)
    stmt = sa.select(table.c.id).where(*conditions)
    if before_id:
        stmt = stmt.where(table.c.id < before_id)
    return [int(i) for i in session.execute(stmt.order_by(table.c.id.desc()).limit(limit)).scalars()]


def hits_for(session: Session, doc_ids: list[int], parsed: ParsedQuery) -> list[SearchHit]:
    """Hits in the given order, without anything that is no longer visible."""
    if not doc_ids:
        return []
    docs = {d.id: d for d in session.exec(select(SearchDoc).where(col(SearchDoc.id).in_(doc_ids))).all()}
    people = {
        u.id: (u, o) for u, o in session.exec(
            select(User, Organisation).join(Organisation, Organisation.code == User.org_code)  # type: ignore[arg-type]
            .where(col(User.id).in_({d.author_id for d in docs.values() if d.author_id}))).all()
    }
    chans = {c.id: c for c in session.exec(
        select(Channel).where(col(Channel.id).in_({d.channel_id for d in docs.values() if d.channel_id}))).all()}
    message_ids = {d.ref_id for d in docs.values() if d.kind == MESSAGE}
    message_ids |= {d.thread_id for d in docs.values() if d.kind == MESSAGE and d.thread_id}
    msgs = {m.id: m for m in session.exec(select(Message).where(col(Message.id).in_(message_ids))).all()}
    titles: dict[int, tuple[str, int]] = {}
    for kind in {d.kind for d in docs.values()}:
        describe = KINDS[kind].describe if kind in KINDS else None
        if describe is not None:
            titles.update(describe(session, [d for d in docs.values() if d.kind == kind]))
    now = utcnow()
    out = []
    for doc_id in doc_ids:
        doc = docs.get(doc_id)
        if doc is None:
            continue
        spec = KINDS.get(doc.kind, DocKind(doc.kind, lambda d, s: routes.channel(s) if s else routes.HOME))
        channel = chans.get(doc.channel_id)
        hit = SearchHit(
            id=doc.id or 0, kind=doc.kind, kind_label=spec.label, ref_id=doc.ref_id,
            link=spec.link(doc, channel.slug if channel else ""),
            channel_name=channel.name if channel else "", channel_slug=channel.slug if channel else "",
            author_name="", org_name="", time=jst_short(doc.created_at, now),
            time_full=jst_datetime(doc.created_at), snippet_html=snippet_html(doc.body, parsed.marks),
        )
        if spec.describe is not None:
            if doc.id not in titles:
                continue  # no longer visible to members
            hit.title, message_id = titles[doc.id or 0]
            if message_id and channel is not None:
                hit.ref_id = message_id
                hit.link = routes.message(channel.slug, message_id, doc.thread_id or message_id)
        person = people.get(doc.author_id)
        if person is not None:
            hit.author_name, hit.org_name = person[0].name, person[1].display_name
        if doc.kind == MESSAGE:
            message = msgs.get(doc.ref_id)
            if message is None or not message.is_visible:
                continue  # the index should not have it; never show it anyway
            thread = msgs.get(doc.thread_id) if doc.thread_id else None
            if message.parent_id and (thread is None or not thread.is_visible):
                continue  # a reply in a hidden or deleted thread hides with it (visibility.message_open)
            hit.is_reply = message.parent_id is not None
            hit.kind_label = "返信" if hit.is_reply else "スレッド"
            if thread is not None and thread.is_question:
                hit.is_question = True
                hit.resolved = thread.answer_id is not None
                hit.is_answer = thread.answer_id == message.id
        out.append(hit)
    return out
