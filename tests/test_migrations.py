"""The migrations build the schema the models describe, on both engines."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel, select

import kyoso.models  # noqa: F401
from kyoso.db import get_engine, read_scope
from kyoso.models import Organisation, include_in_migrations


def test_head_matches_the_models(db_url: str) -> None:
    """Autogenerate finds nothing to do on a database migrated to head."""
    engine = get_engine(db_url)
    with engine.connect() as conn:
        ctx = MigrationContext.configure(
            conn, opts={"compare_type": True, "include_object": include_in_migrations})
        diff = compare_metadata(ctx, SQLModel.metadata)
    assert diff == []


def test_every_table_exists(db_url: str) -> None:
    names = set(sa.inspect(get_engine(db_url)).get_table_names())
    assert set(SQLModel.metadata.tables) <= names
    assert "alembic_version" in names


def test_upgrade_loads_the_directory(db_url: str) -> None:
    with read_scope(db_url) as session:
        count = len(session.exec(select(Organisation.code)).all())
    assert count == 47 + 1741 + 47 + 1  # prefectures, municipalities, agencies, 未設定


def test_the_search_migration_indexes_existing_messages(db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """0002 on a database that already has messages: they become searchable,
    deleted ones do not."""
    from datetime import datetime, timezone

    from alembic import command

    from kyoso.migrate import alembic_config, upgrade
    from kyoso.models import Message
    from kyoso.services import search
    from tests.utils.factories import make_user

    engine = get_engine(db_url)
    cfg = alembic_config()
    with engine.connect() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0001_initial")
    assert "search_doc" not in sa.inspect(engine).get_table_names()
    now = datetime.now(timezone.utc)
    # The channel table as 0001 made it (the model has columns added since).
    old_channel = sa.table("channel", *(sa.column(c) for c in (
        "id", "slug", "name", "description", "kind", "allow_replies", "created_at", "member_count")))
    with engine.begin() as conn:
        conn.execute(sa.insert(old_channel).values(id=1, slug="old", name="以前から", description="",
                                                   kind="topic", allow_replies=True, created_at=now,
                                                   member_count=0))
    from sqlmodel import Session

    from kyoso.services import accounts

    # At 0001 there are no default channels (0007) to join.
    monkeypatch.setattr(accounts, "join_default_channels", lambda session, user: [])

    with Session(engine, expire_on_commit=False) as s:
        user = make_user(s)
        for mid, body, deleted in [(1, "ガバメントクラウドの経費", None), (2, "ガバメントクラウド削除済み", now)]:
            s.execute(sa.insert(Message.__table__).values(
                id=mid, channel_id=1, author_id=user.id, body=body, body_html=f"<p>{body}</p>", created_at=now,
                deleted_at=deleted, reply_count=0, rev=1, is_question=False))
        s.commit()
    upgrade(db_url)
    with Session(engine, expire_on_commit=False) as s:
        hits = search.search(s, user, "ｶﾞﾊﾞﾒﾝﾄｸﾗｳﾄﾞ").hits
        assert [h.ref_id for h in hits] == [1]


def test_the_long_vowel_migration_rebuilds_the_index(db_url: str) -> None:
    """0005 on an index made before the long-vowel folding: a message written
    サーバ is found by サーバー afterwards (and the other way round)."""
    from alembic import command
    from sqlmodel import Session

    from kyoso.migrate import alembic_config, upgrade
    from kyoso.services import search
    from kyoso.services.search import engine as search_engine
    from tests.utils.factories import make_channel, make_user, post

    engine = get_engine(db_url)
    with Session(engine, expire_on_commit=False) as s:
        user = make_user(s)
        channel = make_channel(s)
        post(s, user, channel, "サーバ更新の手順を共有します")
        post(s, user, channel, "インターフェース仕様書の最新版です")
    cfg = alembic_config()
    with engine.connect() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0004_search")
        conn.commit()
    with engine.begin() as conn:
        search_engine.clear(conn)  # an index from before: nothing in it matches now
    with Session(engine) as s:
        assert search.search(s, user, "サーバー").hits == []
    upgrade(db_url)
    with Session(engine) as s:
        assert [h.snippet_html for h in search.search(s, user, "サーバー").hits] == [
            "<mark>サーバ</mark>更新の手順を共有します"]
        assert len(search.search(s, user, "インタフェース").hits) == 1
