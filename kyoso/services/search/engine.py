"""The engine-specific half of search: how tokens get into the index and how
a query is matched. Everything else (documents, filters, views) is portable.

- SQLite: a contentless FTS5 table ``search_fts(grams, tails)`` whose rowid is
  ``search_doc.id``. Contentless keeps the index small; the price is that
  removing a document needs its tokens again, which are re-made from
  ``search_doc.body`` (so the tokenizer must not change without a
  ``kyoso search rebuild``).
- PostgreSQL: ``search_doc.tsv``, a tsvector built from a literal with the
  same tokens and positions, under a GIN index. No extension needed.

Both return matches newest first (by document id) and stop after the page:
a common word costs no more than a rare one.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from kyoso.services.search.tokens import DocTokens, ParsedQuery, fts5_query, tsquery, tsvector

_FTS = sa.table("search_fts", sa.column("rowid", sa.Integer))


def dialect(db: Any) -> str:
    """The dialect name of a Session or a Connection."""
    bind = db.get_bind() if hasattr(db, "get_bind") else db
    return bind.dialect.name


def add(db: Any, doc_id: int, tokens: DocTokens) -> None:
    grams, tails = tokens.text()
    if dialect(db) == "sqlite":
        db.execute(sa.text("INSERT INTO search_fts(rowid, grams, tails) VALUES (:id, :g, :t)"),
                   {"id": doc_id, "g": grams, "t": tails})
    else:
        db.execute(sa.text("UPDATE search_doc SET tsv = CAST(:v AS tsvector) WHERE id = :id"),
                   {"id": doc_id, "v": tsvector(tokens)})


def remove(db: Any, doc_id: int, tokens: DocTokens) -> None:
    """Take a document's tokens out of the index (the row itself stays)."""
    if dialect(db) == "sqlite":
        grams, tails = tokens.text()
        db.execute(sa.text("INSERT INTO search_fts(search_fts, rowid, grams, tails) "
                           "VALUES ('delete', :id, :g, :t)"),
                   {"id": doc_id, "g": grams, "t": tails})
    else:
        db.execute(sa.text("UPDATE search_doc SET tsv = NULL WHERE id = :id"), {"id": doc_id})


def clear(db: Any) -> None:
    """Empty the full-text index (documents stay)."""
    if dialect(db) == "sqlite":
        db.execute(sa.text("INSERT INTO search_fts(search_fts) VALUES ('delete-all')"))
    else:
        db.execute(sa.text("UPDATE search_doc SET tsv = NULL"))


def optimize(db: Any) -> None:
    """After a bulk load: merge FTS5 segments / refresh PostgreSQL statistics."""
    if dialect(db) == "sqlite":
        db.execute(sa.text("INSERT INTO search_fts(search_fts) VALUES ('optimize')"))
    else:
        db.execute(sa.text("ANALYZE search_doc"))


# PostgreSQL: how many of the newest documents the first pass reads.
RECENT_WINDOW = 20_000


def match_ids(db: Any, parsed: ParsedQuery, table: Any, conditions: list[Any], *,
              before_id: int | None, limit: int, channel_id: int | None = None) -> list[int]:
    """Ids of matching documents, newest first, at most ``limit``.

    ``conditions`` (filters over ``table``, the search_doc table) are ANDed.
    """
    if dialect(db) == "sqlite":
        # FTS5 walks its doclists in descending rowid order and stops at the
        # limit: no ranking of every match, whatever the word.
        match = sa.text("search_fts MATCH :fts_q").bindparams(fts_q=fts5_query(parsed))
        stmt = (sa.select(_FTS.c.rowid).select_from(_FTS.join(table, table.c.id == _FTS.c.rowid))
                .where(match, *conditions))
        if before_id:
            stmt = stmt.where(_FTS.c.rowid < before_id)
        return [int(i) for i in db.execute(stmt.order_by(_FTS.c.rowid.desc()).limit(limit)).scalars()]
    return _postgres_match_ids(db, tsquery(parsed), table, conditions, before_id=before_id, limit=limit,
                               channel_id=channel_id)


def _postgres_match_ids(db: Any, q: str, table: Any, conditions: list[Any], *, before_id: int | None,
                        limit: int, channel_id: int | None) -> list[int]:
    """Two passes, each with a plan chosen here rather than by the planner,
    whose estimates for phrases of bigrams are far off (the bigrams of a word
    are not independent), so it picks a full backward scan for a word nobody
    wrote, or sorts 50,000 matches of a common one.

    1. The newest RECENT_WINDOW documents, read backwards by id with the
       match as a plain filter (the GIN index deliberately not usable): a
       common word fills the page at once, a rare one costs a bounded scan.
    2. Only if the page is not full: the older documents through the GIN
       index (sorted by ``id + 0`` so no backward scan is possible), which
       is cheap because a word rare among the newest is rare overall; or,
       with a channel filter, that channel's documents by id.
    """
    top = before_id or int(db.execute(sa.text("SELECT coalesce(max(id), 0) + 1 FROM search_doc")).scalar_one())
    floor = max(0, top - RECENT_WINDOW)
    plain = sa.text("coalesce(search_doc.tsv, ''::tsvector) @@ CAST(:ts_q AS tsquery)").bindparams(ts_q=q)
    indexed = sa.text("search_doc.tsv @@ CAST(:ts_q AS tsquery)").bindparams(ts_q=q)
    ids = [int(i) for i in db.execute(
        sa.select(table.c.id).where(plain, table.c.id < top, table.c.id >= floor, *conditions)
        .order_by(table.c.id.desc()).limit(limit)).scalars()]
    if len(ids) >= limit or floor == 0:
        return ids
    if channel_id:
        older = (sa.select(table.c.id).where(plain, table.c.id < floor, *conditions)
                 .order_by(table.c.id.desc()))
    else:
        older = (sa.select(table.c.id).where(indexed, table.c.id < floor, *conditions)
                 .order_by((table.c.id + 0).desc()))
    ids += [int(i) for i in db.execute(older.limit(limit - len(ids))).scalars()]
    return ids


def index_size(db: Any) -> dict[str, int]:
    """Bytes on disk: the full-text index, and the documents table with its indexes."""
    if dialect(db) == "sqlite":
        try:
            rows = db.execute(sa.text(
                "SELECT name, SUM(pgsize) FROM dbstat WHERE name LIKE 'search_%' "
                "OR name LIKE 'sqlite_autoindex_search_doc%' OR name LIKE 'ix_search_doc%' GROUP BY name"
            )).all()
        except sa.exc.OperationalError:  # dbstat not compiled in
            return {}
        fts = sum(int(n) for name, n in rows if name.startswith("search_fts"))
        docs = sum(int(n) for name, n in rows if not name.startswith("search_fts"))
        return {"fulltext": fts, "documents": docs}
    fts = db.execute(sa.text("SELECT pg_relation_size('ix_search_doc_tsv')")).scalar_one()
    total = db.execute(sa.text("SELECT pg_total_relation_size('search_doc')")).scalar_one()
    return {"fulltext": int(fts), "documents": int(total) - int(fts)}
