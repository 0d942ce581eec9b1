"""The production shape on one machine: nginx (deploy/nginx/kyoso.conf) in
front of two kyoso nodes started with deploy/systemd/kyoso.service's own
command line, on one PostgreSQL and one Redis.

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
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import pytest
import pytest_asyncio
import sqlalchemy as sa
from playwright.async_api import Browser, async_playwright

from kyoso.db import dispose_engines, session_scope
from kyoso.ops import pgserver
from kyoso.settings import PROJECT_ROOT
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.utils.net import free_port

DEPLOY = PROJECT_ROOT / "deploy"
UNIT = DEPLOY / "systemd" / "kyoso.service"
NGINX_SITE = DEPLOY / "nginx" / "kyoso.conf"


def _nginx() -> str | None:
    return shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx",) if Path(p).exists()), None)


def _wait(url: str, timeout: float, proc: subprocess.Popen | None = None, log: Path | None = None,
          want: int | None = None) -> None:
    deadline = time.monotonic() + timeout
    last = ""
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"{proc.args[:3]} exited early:\n{log.read_text()[-4000:] if log else ''}")
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if want is None or r.status == want:
                    return
        except Exception as exc:  # noqa: BLE001
            last = str(exc)
        time.sleep(0.3)
    raise RuntimeError(f"no answer at {url} ({last}):\n{log.read_text()[-4000:] if log else ''}")


def unit_command(bind: str, workers: int) -> tuple[list[str], dict[str, str]]:
    """ExecStart and Environment= of deploy/systemd/kyoso.service, with this
    venv's Python and the node's bind address."""
    text = UNIT.read_text().replace("\\\n", " ")
    exec_start = re.search(r"^ExecStart=(.*)$", text, re.M)
    assert exec_start, "kyoso.service has no ExecStart"
    args = exec_start.group(1).split()
    assert args[0].endswith("/gunicorn")
    args = [sys.executable, "-m", "gunicorn", *args[1:]]
    args = [a.replace("${KYOSO_WORKERS}", str(workers)).replace("${KYOSO_BIND}", bind) for a in args]
    env = dict(re.findall(r"^Environment=(\w+)=(.*)$", text, re.M))
    return args, env


def render_nginx_site(listen_port: int, nodes: list[str]) -> str:
    """deploy/nginx/kyoso.conf on loopback without TLS: the listen line, the
    upstream servers and the redirect-to-https server replaced, nothing else."""
    site = NGINX_SITE.read_text()
    site = re.sub(r"server \{\s*listen 80;.*?\n\}\n", "", site, count=1, flags=re.S)
    servers = re.findall(r"^\s*server \d+\.\d+\.\d+\.\d+:\d+ .*$", site, re.M)
    assert len(servers) == 2, "the upstream lists two nodes"
    for line, node in zip(servers, nodes):
        site = site.replace(line, re.sub(r"\d+\.\d+\.\d+\.\d+:\d+", node, line))
    site = re.sub(r"listen 443 ssl[^;]*;", f"listen 127.0.0.1:{listen_port};", site)
    site = re.sub(r"^\s*ssl_\w+ .*$\n", "", site, flags=re.M)
    return site


@dataclass
class Node:
    name: str
    port: int
    proc: subprocess.Popen
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def kill(self) -> None:
        """kill -9 the whole node (gunicorn's master and its workers)."""
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc.poll() is not None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout=30)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            self.kill()


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


def _build_frontend(web: Path, api_url: str, env: dict[str, str], log: Path,
                    seed: Path = PROJECT_ROOT / ".web") -> None:
    source = seed
    if (source / "node_modules").is_dir():
        shutil.copytree(source, web, ignore=shutil.ignore_patterns("node_modules", "build", ".states"),
                        symlinks=True)
        (web / "node_modules").symlink_to(source / "node_modules")
    build_env = {**env, "REFLEX_WEB_WORKDIR": str(web), "REFLEX_API_URL": api_url}
    with log.open("w") as out:
        subprocess.run([sys.executable, "-m", "reflex", "export", "--frontend-only", "--no-zip",
                        "--env", "prod", "--loglevel", "warning"],
                       cwd=PROJECT_ROOT, env=build_env, stdout=out, stderr=subprocess.STDOUT, check=False)
    if not (web / "build" / "client" / "index.html").exists():
        raise RuntimeError(f"the frontend build failed:\n{log.read_text()[-4000:]}")


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


def start_node(name: str, port: int, base_env: dict[str, str], tmp: Path) -> Node:
    args, unit_env = unit_command(f"127.0.0.1:{port}", workers=1)
    metrics_dir = tmp / f"metrics-{name}"
    shutil.rmtree(metrics_dir, ignore_errors=True)
    metrics_dir.mkdir()
    env = {**base_env, **unit_env, "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir), "KYOSO_NODE_NAME": name}
    log = tmp / f"node-{name}.log"
    proc = subprocess.Popen(args, cwd=PROJECT_ROOT, env=env, stdout=log.open("a"),
                            stderr=subprocess.STDOUT, start_new_session=True)
    node = Node(name=name, port=port, proc=proc, log=log)
    _wait(f"{node.url}/readyz", 180, proc, log, want=200)
    return node


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    missing = [what for what, ok in (
        ("nginx", _nginx() is not None),
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
        _build_frontend(web, url, env, tmp / "build.log")

        nodes = [start_node("kyoso-a", port_a, env, tmp), start_node("kyoso-b", port_b, env, tmp)]

        conf = tmp / "nginx"
        conf.mkdir()
        (conf / "kyoso.conf").write_text(render_nginx_site(nginx_port, [f"127.0.0.1:{port_a}",
                                                                        f"127.0.0.1:{port_b}"]))
        (conf / "nginx.conf").write_text(
            ("user root;\n" if os.geteuid() == 0 else "")
            + f"daemon off;\nworker_processes 1;\npid {conf}/nginx.pid;\nerror_log {conf}/error.log info;\n"
            "events { worker_connections 1024; }\n"
            f"http {{\n  access_log {conf}/access.log;\n"
            + "".join(f"  {kind}_temp_path {conf}/{kind}-tmp;\n"
                      for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
            + f"  include /etc/nginx/mime.types;\n  include {conf}/kyoso.conf;\n}}\n")
        nginx = subprocess.Popen([_nginx() or "nginx", "-p", str(conf), "-c", str(conf / "nginx.conf"),
                                  "-e", str(conf / "error.log")],
                                 stdout=(conf / "stdout.log").open("w"), stderr=subprocess.STDOUT,
                                 start_new_session=True)
        procs.append(nginx)
        _wait(f"{url}/login", 30, nginx, conf / "error.log")
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
