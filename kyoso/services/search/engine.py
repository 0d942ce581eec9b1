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


def matching(db: Any, parsed: ParsedQuery, doc_table: Any) -> tuple[Any, Any, Any]:
    """(from clause, where clause, id column to order by) for a parsed query."""
    if dialect(db) == "sqlite":
        where = sa.text("search_fts MATCH :fts_q").bindparams(fts_q=fts5_query(parsed))
        return _FTS.join(doc_table, doc_table.c.id == _FTS.c.rowid), where, _FTS.c.rowid
    where = sa.text("search_doc.tsv @@ CAST(:ts_q AS tsquery)").bindparams(ts_q=tsquery(parsed))
    return doc_table, where, doc_table.c.id


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
