"""The production shape on one machine: nginx (deploy/nginx/kyoso.conf) in
front of two kyoso nodes started with deploy/systemd/kyoso.service's own
command line, on one PostgreSQL and one Redis (bench/load/cluster.py starts
them; bench.nodekill uses the same).

The frontend is built once for both nodes, into its own web directory: the
build carries the address its websocket connects to (REFLEX_API_URL, here
nginx's), so the browser tests' build (which names its own port) cannot
serve, and building into .web/ would swap files under the browser tests'
running app. node_modules is shared with .web/ when it is there.

PostgreSQL: a database of its own on KYOSO_TEST_POSTGRES_URL's server when
that is set (.ci/run), otherwise a throwaway server (kyoso/ops/pgserver.py).
Skipped, with the reason, only when nginx, redis-server or PostgreSQL's
programs are missing (scripts/test installs them).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import pytest
import pytest_asyncio
import sqlalchemy as sa
from playwright.async_api import Browser, async_playwright

from bench.load.cluster import Node, build_frontend, nginx_binary, start_nginx, start_node, wait_http
from kyoso.db import dispose_engines, session_scope
from kyoso.ops import pgserver
from kyoso.settings import PROJECT_ROOT
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.utils.net import free_port

@dataclass
class Cluster:
    url: str  # nginx
    db_url: str
    redis_url: str
    nodes: list[Node]
    tmp: Path
    env: dict[str, str]
    procs: list[subprocess.Popen] = field(default_factory=list)

    def restart(self, node: Node) -> Node:
        """Start a stopped node again on its port."""
        fresh = start_node(node.name, node.port, self.env, self.tmp)
        self.nodes[self.nodes.index(node)] = fresh
        return fresh

    def session(self):  # type: ignore[no-untyped-def]
        return session_scope(self.db_url)


def _postgres(tmp: Path) -> tuple[str, pgserver.Throwaway | None, str | None]:
    """(url, throwaway server to stop, database to drop)."""
    shared = os.environ.get("KYOSO_TEST_POSTGRES_URL")
    if shared:
        admin = sa.engine.make_url(shared).set(drivername="postgresql")
        name = f"kyoso_deploy_{os.getpid()}"
        with psycopg.connect(admin.render_as_string(hide_password=False), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
            conn.execute(f'CREATE DATABASE "{name}"')
        return str(sa.engine.make_url(shared).set(database=name).render_as_string(hide_password=False)), None, name
    pg = pgserver.Throwaway(free_port()).start()
    return pg.url, pg, None


def _drop_database(name: str) -> None:
    admin = sa.engine.make_url(os.environ["KYOSO_TEST_POSTGRES_URL"]).set(drivername="postgresql")
    with psycopg.connect(admin.render_as_string(hide_password=False), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _start_redis(tmp: Path) -> tuple[str, subprocess.Popen]:
    port = free_port()
    proc = subprocess.Popen([shutil.which("redis-server") or "redis-server", "--bind", "127.0.0.1",
                             "--port", str(port), "--save", "", "--appendonly", "no"],
                            stdout=(tmp / "redis.log").open("w"), stderr=subprocess.STDOUT,
                            start_new_session=True)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.3).close()
            return f"redis://127.0.0.1:{port}/0", proc
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("redis-server did not start")


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    missing = [what for what, ok in (
        ("nginx", nginx_binary() is not None),
        ("redis-server", shutil.which("redis-server") is not None),
        ("PostgreSQL", bool(os.environ.get("KYOSO_TEST_POSTGRES_URL")) or pgserver.available()),
        ("chromium", Path(CHROMIUM).exists()),
    ) if not ok]
    if missing:
        pytest.skip(f"{', '.join(missing)} missing: ./scripts/test installs them (Debian packages)")
    tmp = tmp_path_factory.mktemp("deploy")
    if os.geteuid() == 0:
        tmp.chmod(0o755)  # nginx's workers run as nobody
    db_url, pg, database = _postgres(tmp)
    redis_url, redis_proc = _start_redis(tmp)
    procs: list[subprocess.Popen] = [redis_proc]
    nodes: list[Node] = []
    try:
        nginx_port, port_a, port_b = free_port(), free_port(), free_port()
        url = f"http://localhost:{nginx_port}"
        env = {k: v for k, v in os.environ.items() if not k.startswith(("GUNICORN_", "PROMETHEUS_"))}
        web = tmp / "web"
        env.update({
            "KYOSO_DATABASE_URL": db_url,
            "REFLEX_REDIS_URL": redis_url,
            "KYOSO_TRUSTED_PROXY_HOPS": "1",
            "KYOSO_LOG_FORMAT": "json",
            "KYOSO_BASE_URL": url,
            "REFLEX_WEB_WORKDIR": str(web),
            "REFLEX_USE_NPM": "1",
            "REFLEX_TELEMETRY_ENABLED": "false",
            "PATH": f"{Path(sys.executable).parent}:{env.get('PATH', '')}",
        })
        cli = [sys.executable, "-m", "kyoso.cli"]
        subprocess.run([*cli, "db", "upgrade"], env=env, check=True, cwd=PROJECT_ROOT, stdout=subprocess.DEVNULL)
        subprocess.run([*cli, "seed", "--demo"], env=env, check=True, cwd=PROJECT_ROOT, stdout=subprocess.DEVNULL)
        build_frontend(web, url, env, tmp / "build.log")

        nodes = [start_node("kyoso-a", port_a, env, tmp), start_node("kyoso-b", port_b, env, tmp)]

        procs.append(start_nginx(tmp / "nginx", nginx_port, nodes))
        wait_http(f"{url}/login", 30)
        yield Cluster(url=url, db_url=db_url, redis_url=redis_url, nodes=nodes, tmp=tmp, env=env, procs=procs)
    finally:
        for node in nodes:
            node.stop()
        for proc in reversed(procs):
            try:
                os.killpg(proc.pid, signal.SIGTERM)
                proc.wait(timeout=10)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                proc.kill()
        dispose_engines()
        if pg is not None:
            pg.stop()
        if database is not None:
            _drop_database(database)


@pytest_asyncio.fixture(scope="module")
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as p:
        b = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        await b.close()
