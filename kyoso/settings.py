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
    # Failed logins within the window before further attempts are refused for
    # the rest of it (services/accounts.py, "Login throttling"):
    # per account from one client address, and per browser that logged in
    # before (its device token); failures elsewhere never lock those out.
    login_max_failures: int = 5
    login_failure_window_minutes: int = 15
    # Per client address, all accounts together: generous, since a whole
    # 自治体 may reach kyoso through one LGWAN gateway address.
    login_max_failures_per_address: int = 200
    # Per account from browsers that never logged in to it, all addresses
    # together (slows guessing from many addresses; 0 turns it off).
    login_max_failures_per_account: int = 50
    # Reverse proxies in front of kyoso that append X-Forwarded-For: the client
    # address is that many entries from the right. 0: the header is ignored.
    trusted_proxy_hops: int = 0

    # Breakdowns of anonymous polls and surveys (by 区分, region, prefecture)
    # hide a cell with fewer answers than this (k-anonymity): one voter from a
    # small 団体 must not be identifiable by where they work.
    anonymity_threshold: int = 3

    # Load the demo data when the app is started by the README's run command.
    demo: bool = True

    @field_validator("allowed_email_domains", mode="before")
    @classmethod
    def _split_domains(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(d.strip().lower().lstrip(".") for d in value.split(",") if d.strip())
        return value


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
