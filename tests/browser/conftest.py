"""One running kyoso (the production build, as the README's run command serves
it) shared by every browser test, on its own SQLite database with the demo
data; Debian's Chromium driven by Playwright.

Tests that need their own people or channels make them through the domain,
in the same database file, and log in by putting a session token into the
browser's localStorage (the login page itself has its own tests).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import pytest_asyncio
from playwright.async_api import Browser, BrowserContext, Page, async_playwright

from kyoso.db import session_scope
from kyoso.settings import PROJECT_ROOT
from tests.utils.net import free_port

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
    "--disable-features=Translate,MediaRouter,OptimizationHints",
]
ARTIFACTS = PROJECT_ROOT / "test-artifacts"


def _wait_http(url: str, timeout: float, proc: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"kyoso exited early:\n{log.read_text()[-4000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status < 500:
                    return
        except Exception:  # noqa: BLE001
            time.sleep(0.5)
    raise RuntimeError(f"kyoso did not answer at {url}:\n{log.read_text()[-4000:]}")


@dataclass
class App:
    url: str
    db_url: str
    port: int
    proc: subprocess.Popen
    log: Path
    env: dict = field(default_factory=dict)

    def session(self):  # type: ignore[no-untyped-def]
        return session_scope(self.db_url)


def start_app(tmp: Path, *, extra_env: dict[str, str] | None = None, port: int | None = None,
              db_url: str | None = None) -> App:
    port = port or free_port()
    db_url = db_url or f"sqlite:///{tmp / 'kyoso.db'}"
    env = dict(os.environ)
    env.update({
        "KYOSO_DATABASE_URL": db_url,
        "KYOSO_FILES_DIR": str(tmp / "files"),
        "REFLEX_USE_NPM": "1",
        "REFLEX_TELEMETRY_ENABLED": "false",
        "PATH": f"{Path(sys.executable).parent}:{env.get('PATH', '')}",
    })
    env.update(extra_env or {})
    kyoso_cli = [sys.executable, "-m", "kyoso.cli"]
    subprocess.run([*kyoso_cli, "db", "upgrade"], env=env, check=True, cwd=PROJECT_ROOT)
    subprocess.run([*kyoso_cli, "seed", "--demo"], env=env, check=True, cwd=PROJECT_ROOT)
    log = tmp / f"kyoso-{port}.log"
    proc = subprocess.Popen(
        [sys.executable, "-m", "reflex", "run", "--env", "prod", "--single-port",
         "--frontend-port", str(port), "--backend-port", str(port), "--loglevel", "warning"],
        cwd=PROJECT_ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://localhost:{port}"
    _wait_http(f"{url}/ping", 600, proc, log)
    _wait_http(f"{url}/login", 120, proc, log)
    return App(url=url, db_url=db_url, port=port, proc=proc, log=log, env=env)


def stop_app(app: App) -> None:
    try:
        os.killpg(app.proc.pid, signal.SIGTERM)
        app.proc.wait(timeout=20)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        try:
            os.killpg(app.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


@pytest.fixture(scope="session")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:
    # A mention waits this long unread before it is mailed (test_mail_pages).
    running = start_app(tmp_path_factory.mktemp("app"), extra_env={"KYOSO_NOTIFY_DELAY_SECONDS": "30"})
    yield running
    stop_app(running)


@pytest_asyncio.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail("Debian's chromium is missing: run the tests with ./scripts/test")
    async with async_playwright() as p:
        b = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        await b.close()


class Recorder:
    """Every request a page makes, and console errors, for checks and for failures."""

    def __init__(self) -> None:
        self.requests: list[str] = []
        self.errors: list[str] = []


async def new_context(browser: Browser, *, width: int = 1280, height: int = 800,
                      token: str | None = None, recorder: Recorder | None = None) -> BrowserContext:
    ctx = await browser.new_context(viewport={"width": width, "height": height}, locale="ja-JP",
                                    timezone_id="Asia/Tokyo")
    if token:
        # rx.LocalStorage keeps the raw string; set it once per tab, so that a
        # logout in the test is not undone by the next navigation.
        await ctx.add_init_script(
            "if (!sessionStorage.getItem('kyoso_seeded')) {"
            f" localStorage.setItem('kyoso_session', {json.dumps(token)});"
            " sessionStorage.setItem('kyoso_seeded', '1'); }")
    if recorder is not None:
        ctx.on("request", lambda r: recorder.requests.append(r.url))
        ctx.on("weberror", lambda e: recorder.errors.append(str(e.error)))
    ctx.set_default_timeout(15000)
    return ctx


def login_token(app: App, email: str) -> str:
    from sqlmodel import select

    from kyoso.models import User
    from kyoso.services import accounts

    with app.session() as s:
        user = s.exec(select(User).where(User.email == email)).one()
        return accounts.create_session(s, user)


async def open_as(browser: Browser, app: App, email: str, path: str = "/", **kw: object) -> Page:
    ctx = await new_context(browser, token=login_token(app, email), **kw)  # type: ignore[arg-type]
    page = await ctx.new_page()
    await page.goto(app.url + path)
    return page


async def wait_hydrated(page: Page) -> None:
    """Reflex has connected and run the page's on_load."""
    await page.wait_for_function(
        "() => document.querySelector('[data-testid=user-menu]') !== null", timeout=20000)


AXE_VERSION = "4.14.1"


@pytest.fixture(scope="session")
def axe_source() -> str:
    """axe-core from the npm registry, installed once into .cache/."""
    target = PROJECT_ROOT / ".cache" / "axe"
    script = target / "node_modules" / "axe-core" / "axe.min.js"
    if not script.exists():
        target.mkdir(parents=True, exist_ok=True)
        npm = Path(sys.executable).parent / "npm"
        subprocess.run([str(npm) if npm.exists() else "npm", "install", "--no-save", "--silent",
                        "--prefix", str(target), f"axe-core@{AXE_VERSION}"], check=True)
    return script.read_text()


async def axe_violations(page: Page, axe: str) -> list[dict]:
    """Serious and critical axe-core violations on the page as it is now."""
    await page.add_script_tag(content=axe)
    result = await page.evaluate(
        "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
        ".filter(v => v.impact === 'serious' || v.impact === 'critical')"
        ".map(v => ({id: v.id, impact: v.impact, help: v.help,"
        " nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}))")
    return result


def shot_path(name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS / f"{name}.png"


# Demo people (kyoso/services/demo.py)
SAPPORO = "tanaka.yuki@city.sapporo.lg.jp"
NAHA = "higa.shinji@city.naha.lg.jp"
FUKUOKA = "yoshida.mika@city.fukuoka.lg.jp"
DIGITAL = "sato.kenji@digital.go.jp"
MODERATOR = "moderator@digital.go.jp"
ADMIN = "unei@digital.go.jp"
