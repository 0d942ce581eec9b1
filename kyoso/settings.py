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

    # Breakdowns of anonymous polls and surveys (by 区分, region, prefecture)
    # hide a cell with fewer answers than this (k-anonymity): one voter from a
    # small 団体 must not be identifiable by where they work.
    anonymity_threshold: int = 3

    # Outgoing mail (services/mail). Without an SMTP URL mail stays in the
    # outbox, readable by 運営 at /admin/mail. smtp://host:25,
    # smtp+starttls://user:pass@host:587 or smtps://user:pass@host:465.
    smtp_url: str = ""
    mail_from: str = "共創 kyoso <noreply@localhost>"
    # The public address of kyoso: every link in a mail starts with it.
    base_url: str = "http://localhost:3000"
    # How long a mention or reply waits unread before it is mailed.
    notify_delay_seconds: int = 600
    # kyoso import slack: the largest file of an export read (a day of one
    # channel, users.json); a larger one is reported and skipped.
    slack_import_max_file_mb: int = 64

    # Load the demo data when the app is started by the README's run command.
    demo: bool = True

    # Operations (kyoso/ops/). Behind a reverse proxy: how many proxies in
    # front of kyoso append to X-Forwarded-For (nginx in deploy/: 1). 0 trusts
    # no header: the client address is the TCP peer.
    trusted_proxy_hops: int = 0
    # Client addresses (CIDRs, comma separated) that may read /metrics.
    metrics_allow: Annotated[tuple[str, ...], NoDecode] = ("127.0.0.1/32", "::1/128")
    # "text" (default) or "json": one JSON object per log line, with the
    # request or event id.
    log_format: str = "text"
    # The largest websocket message a browser may send, in bytes (the server
    # refuses a larger frame from its header and closes that socket: a client
    # without a session cannot make a worker hold more). Every legitimate
    # event is far below it: the largest, a 意見募集 form, is ~220 KB
    # (tests/ops/test_worker.py).
    ws_max_bytes: int = 320 * 1024
    # A tab whose socket has gone keeps its state in the worker this long
    # (seconds), then it is dropped: a worker's memory is bounded by the tabs
    # gone in that time, not in Reflex's hour. A tab back later loads its
    # page again (its on_load runs at every reconnect anyway); what it typed
    # is kept by the browser (kyoso_live.js). In-memory state only: with
    # Redis, Reflex's own expiry holds.
    gone_tab_seconds: int = 900
    # A worker with no open websocket this long (seconds) whose resident
    # memory is over its start by this much ends, and gunicorn starts a fresh
    # one: after a crowd has gone, the allocators keep its high-water mark
    # (kyoso/ops/recycle.py). 0: never.
    recycle_idle_seconds: int = 60
    recycle_growth_percent: int = 10

    @field_validator("metrics_allow", mode="before")
    @classmethod
    def _split_cidrs(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(c.strip() for c in value.split(",") if c.strip())
        return value
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
