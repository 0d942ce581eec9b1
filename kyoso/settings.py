"""kyoso's settings, read once from the environment (prefix ``KYOSO_``).

Every knob an operator may turn lives here, so that a newcomer finds them in one
place and the README can list them. Nothing here imports Reflex.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from typing_extensions import Annotated

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="KYOSO_", extra="ignore")

    # Database: a SQLite file under data/ unless KYOSO_DATABASE_URL says otherwise
    # (e.g. postgresql+psycopg://user:pass@host/kyoso).
    database_url: str = f"sqlite:///{PROJECT_ROOT / 'data' / 'kyoso.db'}"

    # E-mail domains allowed to sign up; a subdomain of an entry is allowed too.
    allowed_email_domains: Annotated[tuple[str, ...], NoDecode] = ("lg.jp", "go.jp")

    # Login sessions.
    session_days: int = 14
    # Failed logins per e-mail address or per client address within the window
    # before further attempts are refused for the rest of the window.
    login_max_failures: int = 5
    login_failure_window_minutes: int = 15

    # Load the demo data when the app is started by the README's run command.
    demo: bool = True

    # Attachments (services/attachments). Where files are kept: a local
    # directory (one node, the default) or "database" (in PostgreSQL or the
    # SQLite file: several nodes share nothing but the database).
    files_dir: Path = PROJECT_ROOT / "data" / "files"
    files_storage: str = "local"
    # Largest file a member may attach, and how much one member may upload in 24 hours.
    max_upload_mb: int = 20
    daily_upload_mb: int = 200
    # Optional virus scan: a command given the file's path as its last
    # argument (e.g. "clamdscan --no-summary"); a non-zero exit refuses the file.
    scan_cmd: str = ""

    @field_validator("allowed_email_domains", mode="before")
    @classmethod
    def _split_domains(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(d.strip().lower().lstrip(".") for d in value.split(",") if d.strip())
        return value


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
