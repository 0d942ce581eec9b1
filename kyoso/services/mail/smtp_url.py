"""``KYOSO_SMTP_URL``: where mail goes, in one setting.

    smtp://host:25                         plain SMTP (a relay inside the LGWAN)
    smtp+starttls://user:pass@host:587     STARTTLS, then login
    smtps://user:pass@host:465             TLS from the first byte

User and password are percent-decoded (``%40`` for ``@``).
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from kyoso.services.errors import InvalidInput

_MODES = {"smtp": ("plain", 25), "smtp+starttls": ("starttls", 587), "smtps": ("ssl", 465)}


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int
    mode: str  # plain | starttls | ssl
    username: str = ""
    password: str = ""

    def describe(self) -> str:
        """For messages and logs: never the password."""
        who = f"{self.username}@" if self.username else ""
        return f"{self.mode} {who}{self.host}:{self.port}"


def parse_smtp_url(url: str) -> SmtpConfig | None:
    """The SMTP server of a URL, or None for an empty one (mail is held)."""
    url = (url or "").strip()
    if not url:
        return None
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise InvalidInput("KYOSO_SMTP_URL の形式が正しくありません（ポート番号を確認してください）。") from None
    scheme = parts.scheme.lower()
    if scheme not in _MODES:
        raise InvalidInput(
            "KYOSO_SMTP_URL は smtp://、smtp+starttls://、smtps:// のいずれかで始めてください。")
    if not parts.hostname:
        raise InvalidInput("KYOSO_SMTP_URL にサーバー名がありません（例: smtp://mail.example.lg.jp:25）。")
    mode, default_port = _MODES[scheme]
    return SmtpConfig(
        host=parts.hostname, port=port or default_port, mode=mode,
        username=unquote(parts.username or ""), password=unquote(parts.password or ""),
    )
