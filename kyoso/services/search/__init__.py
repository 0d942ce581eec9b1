"""Japanese full-text search over messages (and, later, announcements and polls).

    from kyoso.services import search
    search.sync_message(session, message)        # after any change to a message
    page = search.search(session, user, "LGWAN 接続", search.make_filters(session, channel="gov-cloud"))
    search.similar_threads(session, user, draft)

Modules: ``tokens`` (folding and bigrams, shared by index and queries),
``engine`` (SQLite FTS5 / PostgreSQL tsvector), ``index`` (keeping it in step),
``query`` (searching and hits), ``highlight`` (safe snippets), ``similar``.
"""

from kyoso.services.search.index import drop, plain_body, put, rebuild, sync_message
from kyoso.services.search.query import (
    KINDS,
    SearchFilters,
    SearchHit,
    SearchPage,
    make_filters,
    register_kind,
    resolve_orgs,
    search,
)
from kyoso.services.search.similar import SimilarThread, content_words, similar_threads

__all__ = [
    "KINDS", "SearchFilters", "SearchHit", "SearchPage", "SimilarThread", "content_words", "drop",
    "make_filters", "plain_body", "put", "rebuild", "register_kind", "resolve_orgs", "search",
    "similar_threads", "sync_message",
]
