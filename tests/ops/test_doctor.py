"""kyoso doctor (kyoso/ops/doctor.py): says what is wrong, exit 1 then."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from sqlmodel import Session

from kyoso import db
from kyoso.cli import main
from kyoso.ops import doctor
from kyoso.services import demo
from kyoso.settings import get_settings

SETTINGS = ("KYOSO_BASE_URL", "KYOSO_SMTP_URL", "KYOSO_WORKERS", "REFLEX_REDIS_URL", "GUNICORN_CMD_ARGS",
            "KYOSO_TRUSTED_PROXY_HOPS", "KYOSO_METRICS_ALLOW", "KYOSO_FILES_DIR", "KYOSO_LOG_FORMAT",
            "KYOSO_DEMO")


@pytest.fixture
def env(db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    """A deployment that is right: behind nginx on https, mail configured."""
    for name in SETTINGS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("KYOSO_BASE_URL", "https://kyoso.example.lg.jp")
    monkeypatch.setenv("KYOSO_SMTP_URL", "smtp+starttls://mail.example.lg.jp:587")
    monkeypatch.setenv("KYOSO_TRUSTED_PROXY_HOPS", "1")
    monkeypatch.setenv("KYOSO_DEMO", "0")
    get_settings.cache_clear()
    yield monkeypatch
    get_settings.cache_clear()


def _problems(monkeypatch: pytest.MonkeyPatch, **env: str) -> list[str]:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    return [f"{f.topic}: {f.message}" for f in doctor.run_checks() if f.level == doctor.PROBLEM]


def test_a_right_deployment_passes(env: pytest.MonkeyPatch, capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["doctor"]) == 0, capsys.readouterr()
    out = capsys.readouterr().out
    assert "問題は見つかりませんでした" in out and "マイグレーション: 最新です" in out


@pytest.mark.parametrize(("setting", "value", "says"), [
    ("KYOSO_SMTP_URL", "mail.example.lg.jp:25", "KYOSO_SMTP_URL の形式が違います"),
    ("KYOSO_SMTP_URL", "smtp://mail.example.lg.jp:abc", "ポート番号"),
    ("KYOSO_BASE_URL", "kyoso.example.lg.jp", "KYOSO_BASE_URL が URL として読めません"),
    ("KYOSO_TRUSTED_PROXY_HOPS", "0", "KYOSO_TRUSTED_PROXY_HOPS=0"),
    ("KYOSO_WORKERS", "4", "REFLEX_REDIS_URL がありません"),
    ("REFLEX_REDIS_URL", "redis://127.0.0.1:1/0", "Redis に接続できません"),
    ("KYOSO_METRICS_ALLOW", "10.0.0.0/33", "KYOSO_METRICS_ALLOW"),
    ("KYOSO_FILES_DIR", "/nonexistent/kyoso-files", "ディレクトリがありません"),
    ("KYOSO_LOG_FORMAT", "xml", "KYOSO_LOG_FORMAT"),
])
def test_each_wrong_setting_is_named(env: pytest.MonkeyPatch, setting: str, value: str, says: str) -> None:
    problems = _problems(env, **{setting: value})
    assert any(says in p for p in problems), problems


def test_migrations_behind_and_exit_code(env: pytest.MonkeyPatch, db_url: str, capsys) -> None:  # type: ignore[no-untyped-def]
    engine = db.get_engine(db_url)
    with engine.begin() as conn:
        head = conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar_one()
        conn.execute(sa.text("UPDATE alembic_version SET version_num = '0001_old'"))
    try:
        assert main(["doctor"]) == 1
    finally:
        with engine.begin() as conn:
            conn.execute(sa.text("UPDATE alembic_version SET version_num = :v"), {"v": head})
    captured = capsys.readouterr()
    assert "kyoso db upgrade" in captured.out and "問題が 1 件あります" in captured.err


def test_usable_demo_accounts_are_a_problem(env: pytest.MonkeyPatch, db_url: str) -> None:
    with Session(db.get_engine(db_url)) as s:
        demo.load_demo(s)
        s.commit()
    problems = _problems(env)
    assert any("デモ用パスワード" in p for p in problems), problems
