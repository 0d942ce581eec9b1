"""The migrations build the schema the models describe, on both engines."""

from __future__ import annotations

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
    assert count == 47 + 1741 + 47  # prefectures, municipalities, agencies
