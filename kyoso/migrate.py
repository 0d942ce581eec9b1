"""Apply the alembic migrations, then bring reference data up to date."""

from __future__ import annotations

from alembic import command
from alembic.config import Config

from kyoso.db import get_engine, session_scope
from kyoso.settings import PROJECT_ROOT
from kyoso.services.organisations import sync_organisations


def alembic_config() -> Config:
    cfg = Config(str(PROJECT_ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(PROJECT_ROOT / "alembic"))
    return cfg


def upgrade(url: str | None = None) -> None:
    """Migrate the database to head and load the directory of 団体."""
    cfg = alembic_config()
    with get_engine(url).connect() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
    with session_scope(url) as session:
        sync_organisations(session)
