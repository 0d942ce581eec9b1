from __future__ import annotations

from collections.abc import Iterator

import pytest

from kyoso.settings import get_settings
from tests.utils.smtp import SmtpServer


@pytest.fixture
def smtp(db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[SmtpServer]:
    """A running SMTP server, and KYOSO_SMTP_URL pointing at it."""
    server = SmtpServer()
    server.start()
    monkeypatch.setenv("KYOSO_SMTP_URL", server.url)
    monkeypatch.setenv("KYOSO_BASE_URL", "https://kyoso.example.lg.jp")
    get_settings.cache_clear()
    yield server
    server.stop()
    get_settings.cache_clear()
