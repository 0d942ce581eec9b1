"""``kyoso doctor``: checks this deployment's settings and says, in Japanese,
what is wrong. Exit 1 when something is wrong (問題); notes (注意) do not
change the exit code.

Run it on each node with the node's environment (the systemd unit's
EnvironmentFile): ``sudo -u kyoso env $(cat /etc/kyoso/kyoso.env) kyoso doctor``.
"""

from __future__ import annotations

import ipaddress
import json
import os
import re
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import sqlalchemy as sa
from sqlmodel import Session, select

from kyoso.db import get_engine
from kyoso.models import User, UserStatus
from kyoso.ops import health
from kyoso.services import demo, security
from kyoso.settings import PROJECT_ROOT, Settings, get_settings

PROBLEM, NOTE, OK = "問題", "注意", "OK"
SMTP_SCHEMES = {"smtp": 25, "smtp+starttls": 587, "smtps": 465}


@dataclass
class Finding:
    level: str
    topic: str
    message: str


def _setting(settings: Settings, name: str) -> str:
    """A setting another part of kyoso may own (mail, files): from Settings
    when it is there, else straight from the environment."""
    value = getattr(settings, name, None)
    if value is None:
        value = os.environ.get(f"KYOSO_{name.upper()}", "")
    return str(value or "")


def _workers() -> int:
    value = os.environ.get("KYOSO_WORKERS", "")
    if value.isdigit():
        return int(value)
    m = re.search(r"--workers[ =](\d+)", os.environ.get("GUNICORN_CMD_ARGS", ""))
    if m:
        return int(m.group(1))
    return 2 if health.redis_url() else 1


def check_database(settings: Settings) -> list[Finding]:
    label = health.database_label()
    if problem := health.check_database():
        return [Finding(PROBLEM, "データベース", f"{problem}（{label}）")]
    out = [Finding(OK, "データベース", f"接続できます（{label}）")]
    if problem := health.check_migrations():
        out.append(Finding(PROBLEM, "マイグレーション", problem))
    else:
        out.append(Finding(OK, "マイグレーション", "最新です"))
    if settings.database_url.startswith("sqlite") and (health.redis_url() or _workers() > 1):
        out.append(Finding(NOTE, "データベース",
                           "SQLite は 1 台のサーバーでしか使えません。複数のノードで動かすなら "
                           "KYOSO_DATABASE_URL に PostgreSQL を指定してください。"))
    return out


def check_redis_and_workers() -> list[Finding]:
    out: list[Finding] = []
    workers = _workers()
    if health.redis_url():
        if problem := health.check_redis():
            out.append(Finding(PROBLEM, "Redis", problem))
        else:
            out.append(Finding(OK, "Redis", "接続できます"))
    elif workers > 1:
        out.append(Finding(PROBLEM, "ワーカー数",
                           f"ワーカーが {workers} 個ですが REFLEX_REDIS_URL がありません。各ワーカーが画面の状態を"
                           "別々に持つため、接続が別のワーカーに移ると表示が壊れます。Redis を設定するか、"
                           "KYOSO_WORKERS=1 にしてください。"))
    else:
        out.append(Finding(OK, "ワーカー数", "1 ワーカー（Redis なし）"))
    return out


def check_base_url(settings: Settings) -> list[Finding]:
    base = _setting(settings, "base_url")
    if not base:
        return [Finding(NOTE, "公開 URL",
                        "KYOSO_BASE_URL が未設定です。メールの中のリンクが正しくなりません"
                        "（例: https://kyoso.example.lg.jp）。")]
    parts = urlsplit(base)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return [Finding(PROBLEM, "公開 URL", f"KYOSO_BASE_URL が URL として読めません: {base}")]
    out: list[Finding] = []
    if parts.scheme == "http" and parts.hostname not in ("localhost", "127.0.0.1"):
        out.append(Finding(NOTE, "公開 URL",
                           "KYOSO_BASE_URL が http です。ログイン情報が暗号化されずに流れます。"
                           "プロキシで TLS を終端し https にしてください。"))
    out += _check_frontend_build(base)
    return out or [Finding(OK, "公開 URL", base)]


def _check_frontend_build(base: str) -> list[Finding]:
    """The built frontend names the address its websocket connects to
    (REFLEX_API_URL at build time). Behind a proxy it must be the public one."""
    env_json = PROJECT_ROOT / ".web" / "env.json"
    if not env_json.exists():
        return []
    try:
        event = json.loads(env_json.read_text()).get("EVENT", "")
    except (OSError, ValueError):
        return []
    want, got = urlsplit(base), urlsplit(event)
    if got.hostname in ("localhost", "0.0.0.0") and want.scheme == "https":
        return []  # the browser keeps its own host and, on https, its own port
    if (got.hostname, got.port) != (want.hostname, want.port):
        return [Finding(PROBLEM, "フロントエンド",
                        f"ビルド済みの画面の接続先 ({event}) が KYOSO_BASE_URL ({base}) と違います。"
                        f"REFLEX_API_URL={base} を設定してビルドし直してください（deploy/README.md）。")]
    return []


def check_smtp(settings: Settings) -> list[Finding]:
    url = _setting(settings, "smtp_url")
    if not url:
        return [Finding(NOTE, "メール", "KYOSO_SMTP_URL が未設定です。メールは送られず、/admin/mail に溜まります。")]
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return [Finding(PROBLEM, "メール", f"KYOSO_SMTP_URL のポート番号が読めません: {_hide_password(url)}")]
    if parts.scheme not in SMTP_SCHEMES:
        return [Finding(PROBLEM, "メール",
                        f"KYOSO_SMTP_URL の形式が違います: {_hide_password(url)}（smtp://、smtp+starttls://、"
                        "smtps:// のいずれかで始めてください）")]
    if not parts.hostname:
        return [Finding(PROBLEM, "メール", f"KYOSO_SMTP_URL にホスト名がありません: {_hide_password(url)}")]
    return [Finding(OK, "メール", f"{parts.scheme}://{parts.hostname}:{port or SMTP_SCHEMES[parts.scheme]}")]


def check_proxy(settings: Settings) -> list[Finding]:
    hops = settings.trusted_proxy_hops
    base = _setting(settings, "base_url")
    behind = bool(base) and (urlsplit(base).scheme == "https" or urlsplit(base).port in (None, 80, 443))
    out: list[Finding] = []
    if hops < 0:
        out.append(Finding(PROBLEM, "プロキシ", "KYOSO_TRUSTED_PROXY_HOPS は 0 以上にしてください。"))
    elif behind and hops == 0:
        out.append(Finding(PROBLEM, "プロキシ",
                           "公開 URL からはリバースプロキシの後ろで動いているようですが、KYOSO_TRUSTED_PROXY_HOPS=0 です。"
                           "全員がプロキシのアドレスに見え、ログイン試行の制限が全員にまとめてかかり、"
                           "/metrics がプロキシ経由で誰にでも見えます。deploy/ の nginx なら 1 にしてください。"))
    elif hops > 2:
        out.append(Finding(NOTE, "プロキシ",
                           f"KYOSO_TRUSTED_PROXY_HOPS={hops} です。実際に経由するプロキシの数より多いと、"
                           "利用者が X-Forwarded-For に書いたアドレスを信じてしまいます。"))
    elif not behind and hops > 0:
        out.append(Finding(NOTE, "プロキシ",
                           f"KYOSO_TRUSTED_PROXY_HOPS={hops} です。プロキシを通さずに直接つながる経路があると、"
                           "X-Forwarded-For を偽ったアドレスが信じられます。ノードのポートはプロキシからだけ届くようにしてください。"))
    else:
        out.append(Finding(OK, "プロキシ", f"KYOSO_TRUSTED_PROXY_HOPS={hops}"))
    try:
        nets = [ipaddress.ip_network(c, strict=False) for c in settings.metrics_allow]
    except ValueError as exc:
        out.append(Finding(PROBLEM, "メトリクス", f"KYOSO_METRICS_ALLOW に読めないアドレスがあります: {exc}"))
    else:
        if any(n.prefixlen == 0 for n in nets):
            out.append(Finding(NOTE, "メトリクス", "KYOSO_METRICS_ALLOW がすべてのアドレスを許しています。"))
    return out


def check_files(settings: Settings) -> list[Finding]:
    out: list[Finding] = []
    dirs = {"データ": PROJECT_ROOT / "data"}
    if files := _setting(settings, "files_dir"):
        dirs["添付ファイル (KYOSO_FILES_DIR)"] = Path(files)
    for label, path in dirs.items():
        if not path.is_dir():
            if path == PROJECT_ROOT / "data" / "files" and (PROJECT_ROOT / "data").is_dir():
                # The default place: kyoso makes it when the first file is attached.
                out.append(Finding(OK, "ファイル", f"{label}: {path}（最初の添付で作られます）"))
            else:
                out.append(Finding(PROBLEM, "ファイル", f"{label}のディレクトリがありません: {path}"))
            continue
        try:
            with tempfile.NamedTemporaryFile(dir=path, prefix=".kyoso-doctor-"):
                pass
        except OSError as exc:
            out.append(Finding(PROBLEM, "ファイル", f"{label}のディレクトリに書き込めません: {path}（{exc.strerror}）"))
        else:
            out.append(Finding(OK, "ファイル", f"{label}: {path} に書き込めます"))
    return out


def check_accounts(settings: Settings) -> list[Finding]:
    """Demo accounts share a published password: none may be usable on a
    real deployment."""
    out: list[Finding] = []
    if settings.session_days <= 0:
        out.append(Finding(PROBLEM, "ログイン", "KYOSO_SESSION_DAYS は 1 以上にしてください。"))
    elif settings.session_days > 90:
        out.append(Finding(NOTE, "ログイン", f"ログインの有効期間が {settings.session_days} 日と長めです。"))
    if not settings.allowed_email_domains:
        out.append(Finding(PROBLEM, "参加申込", "KYOSO_ALLOWED_EMAIL_DOMAINS が空です。誰も参加申込できません。"))
    emails = [p[1] for p in demo.PEOPLE]
    try:
        with Session(get_engine()) as s:
            users = s.exec(select(User).where(User.email.in_(emails),  # type: ignore[attr-defined]
                                              User.status == UserStatus.active)).all()
            usable = [u.email for u in users if security.verify_password(demo.DEMO_PASSWORD, u.password_hash)[0]]
    except sa.exc.SQLAlchemyError:
        return out  # the database check has said what is wrong
    if usable:
        out.append(Finding(PROBLEM if not settings.database_url.startswith("sqlite") or not settings.demo else NOTE,
                           "デモデータ",
                           f"公開されているデモ用パスワードでログインできるアカウントが {len(usable)} 件あります"
                           f"（{usable[0]} など）。本番では KYOSO_DEMO=0 で動かし、デモデータのない"
                           "データベースを使ってください。"))
    elif settings.demo:
        out.append(Finding(NOTE, "デモデータ", "KYOSO_DEMO が有効です（scripts/run がデモデータを読み込みます）。本番では 0 にしてください。"))
    return out


def check_logging(settings: Settings) -> list[Finding]:
    if settings.log_format.lower() not in ("text", "json"):
        return [Finding(PROBLEM, "ログ", f"KYOSO_LOG_FORMAT は text か json です（今: {settings.log_format}）。")]
    return []


def run_checks(settings: Settings | None = None) -> list[Finding]:
    settings = settings or get_settings()
    findings: list[Finding] = []
    for check in (check_database, check_accounts):
        findings += check(settings)
    findings += check_redis_and_workers()
    for check in (check_base_url, check_smtp, check_proxy, check_files, check_logging):
        findings += check(settings)
    return findings


def _hide_password(url: str) -> str:
    return re.sub(r"//([^:/@]+):[^@]*@", r"//\1:***@", url)


def main() -> int:
    findings = run_checks()
    marks = {OK: "  ok ", NOTE: " 注意", PROBLEM: " 問題"}
    for f in findings:
        print(f"{marks[f.level]}  {f.topic}: {f.message}")
    problems = sum(f.level == PROBLEM for f in findings)
    notes = sum(f.level == NOTE for f in findings)
    if problems:
        print(f"\n問題が {problems} 件あります（注意 {notes} 件）。", file=sys.stderr)
        return 1
    print(f"\n問題は見つかりませんでした（注意 {notes} 件）。")
    return 0
