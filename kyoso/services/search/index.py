"""Keeping the index in step with what members may see.

The domain functions that change a message (post, edit, delete, hide,
restore) call ``sync_message`` in the same transaction: a visible message is
(re)indexed, a deleted or hidden one leaves the index. Other kinds
(announcements, polls) call ``put`` and ``drop`` with their own ``kind``.
"""

from __future__ import annotations

from datetime import datetime
from html.parser import HTMLParser
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, select

from kyoso.models import Message, SearchDoc
from kyoso.services.search import engine
from kyoso.services.search.tokens import document_tokens, one_line

MESSAGE = "message"
_BODY_MAX = 8000


class _Text(HTMLParser):
    _BREAKS = {"p", "br", "li", "blockquote", "pre", "ul", "ol"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        if tag in self._BREAKS:
            self.parts.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._BREAKS:
            self.parts.append(" ")

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def plain_body(body_html: str) -> str:
    """What is searched and shown in snippets: the rendered message as plain
    text, on one line (Markdown marks gone, what the member typed kept)."""
    parser = _Text()
    parser.feed(body_html)
    parser.close()
    return one_line("".join(parser.parts))[:_BODY_MAX]


def put(session: Session, *, kind: str, ref_id: int, body: str, channel_id: int | None,
        thread_id: int | None, author_id: int | None, created_at: datetime) -> SearchDoc:
    """Index an item, or re-index it with its new text."""
    doc = session.exec(select(SearchDoc).where(SearchDoc.kind == kind, SearchDoc.ref_id == ref_id)).first()
    body = body[:_BODY_MAX]
    if doc is not None and doc.body == body:
        # Same text, same tokens: only the columns used by filters may change.
        doc.channel_id, doc.thread_id, doc.author_id, doc.created_at = (
            channel_id, thread_id, author_id, created_at)
        session.add(doc)
        return doc
    if doc is not None:
        engine.remove(session, doc.id or 0, document_tokens(doc.body))
    else:
        doc = SearchDoc(kind=kind, ref_id=ref_id)
    doc.body, doc.channel_id, doc.thread_id = body, channel_id, thread_id
    doc.author_id, doc.created_at = author_id, created_at
    session.add(doc)
    session.flush()
    engine.add(session, doc.id or 0, document_tokens(body))
    return doc


def drop(session: Session, kind: str, ref_id: int) -> None:
    """Take an item out of the index (nothing happens if it is not there)."""
    doc = session.exec(select(SearchDoc).where(SearchDoc.kind == kind, SearchDoc.ref_id == ref_id)).first()
    if doc is None:
        return
    engine.remove(session, doc.id or 0, document_tokens(doc.body))
    session.delete(doc)
    session.flush()


def sync_message(session: Session, message: Message) -> None:
    """Index a visible message, un-index a deleted or hidden one."""
    if message.id is None:
        session.flush()
    if not message.is_visible:
        drop(session, MESSAGE, message.id or 0)
        return
    put(session, kind=MESSAGE, ref_id=message.id or 0, body=plain_body(message.body_html),
        channel_id=message.channel_id, thread_id=message.parent_id or message.id,
        author_id=message.author_id, created_at=message.created_at)


def rebuild(db: Any, *, batch: int = 5000) -> int:
    """Re-make the whole index: message documents from the messages, then the
    tokens of every document. For a changed tokenizer, or a restored backup.

    Works on a Session or a Connection (the migration uses it). Returns the
    number of documents indexed.
    """
    docs = SearchDoc.__table__
    msg = Message.__table__
    engine.clear(db)
    db.execute(sa.delete(docs).where(docs.c.kind == MESSAGE))
    last = 0
    while True:
        rows = db.execute(
            sa.select(msg.c.id, msg.c.channel_id, msg.c.parent_id, msg.c.author_id, msg.c.created_at,
                      msg.c.body_html)
            .where(msg.c.id > last, msg.c.deleted_at.is_(None), msg.c.hidden_at.is_(None))
            .order_by(msg.c.id).limit(batch)
        ).all()
        if not rows:
            break
        db.execute(sa.insert(docs), [
            {"kind": MESSAGE, "ref_id": r.id, "channel_id": r.channel_id,
             "thread_id": r.parent_id or r.id, "author_id": r.author_id, "created_at": r.created_at,
             "body": plain_body(r.body_html)}
            for r in rows
        ])
        last = rows[-1].id
    count = 0
    last = 0
    while True:
        rows = db.execute(sa.select(docs.c.id, docs.c.body).where(docs.c.id > last)
                          .order_by(docs.c.id).limit(batch)).all()
        if not rows:
            break
        for r in rows:
            engine.add(db, r.id, document_tokens(r.body))
        count += len(rows)
        last = rows[-1].id
    engine.optimize(db)
    return count
