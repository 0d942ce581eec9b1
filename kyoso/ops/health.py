"""Is this node ready to serve? The checks behind /readyz and ``kyoso doctor``.

Each check returns None when all is well, or a Japanese sentence an operator
can act on. They block (a database round trip, a Redis PING): the HTTP route
runs them on a thread.
"""

from __future__ import annotations

import os
from functools import lru_cache

import redis
import sqlalchemy as sa
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from kyoso.db import get_engine
from kyoso.migrate import alembic_config
from kyoso.settings import get_settings

TIMEOUT_SECONDS = 3


def redis_url() -> str | None:
    return os.environ.get("REFLEX_REDIS_URL") or None


@lru_cache(maxsize=1)
def migration_heads() -> frozenset[str]:
    """The revisions this code expects the database to be at."""
    return frozenset(ScriptDirectory.from_config(alembic_config()).get_heads())


def check_database(url: str | None = None) -> str | None:
    try:
        with get_engine(url).connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001 - any failure means "not reachable"
        return f"データベースに接続できません: {_short(exc)}"
    return None


def check_migrations(url: str | None = None) -> str | None:
    try:
        with get_engine(url).connect() as conn:
            current = frozenset(MigrationContext.configure(conn).get_current_heads())
    except Exception as exc:  # noqa: BLE001
        return f"マイグレーションの状態を読めません: {_short(exc)}"
    expected = migration_heads()
    if current == expected:
        return None
    if not current:
        return "データベースにマイグレーションが適用されていません。`kyoso db upgrade` を実行してください。"
    return (f"データベースのマイグレーションが最新ではありません（現在 {', '.join(sorted(current))}、"
            f"最新 {', '.join(sorted(expected))}）。`kyoso db upgrade` を実行してください。")


def check_redis(url: str | None = None) -> str | None:
    url = url or redis_url()
    if not url:
        return None
    try:
        client = redis.Redis.from_url(url, socket_timeout=TIMEOUT_SECONDS,
                                      socket_connect_timeout=TIMEOUT_SECONDS)
        try:
            client.ping()
        finally:
            client.close()
    except Exception as exc:  # noqa: BLE001
        return f"Redis に接続できません（REFLEX_REDIS_URL）: {_short(exc)}"
    return None


def readiness() -> dict[str, str]:
    """{check: "ok" or what is wrong}; the migrations are only read when the
    database answered."""
    result: dict[str, str] = {}
    db = check_database()
    result["database"] = db or "ok"
    result["migrations"] = (check_migrations() or "ok") if db is None else "未確認（データベースに接続できません）"
    if redis_url():
        result["redis"] = check_redis() or "ok"
    return result


def database_label() -> str:
    """The database URL without its password, for messages."""
    return sa.engine.make_url(get_settings().database_url).render_as_string(hide_password=True)


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:200]
