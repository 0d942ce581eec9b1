"""Starting the app under test (kyoso, or the SharedState baseline), Redis,
and reading the backend's memory.

kyoso is started the way tests/browser/conftest.py and the README start it:
``kyoso db upgrade``, ``seed --demo``, then ``reflex run --env prod
--single-port``. With ``--redis`` the backend gets ``REFLEX_REDIS_URL`` (state
and tokens in Redis, kyoso's socket.io Redis manager) and
``KYOSO_WORKERS=<workers>`` (gunicorn's uvicorn workers, rxconfig.py).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[2]
BASELINE_DIR = ROOT / "bench" / "sharedstate_app"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def raise_fd_limit() -> None:
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def _wait_http(url: str, timeout: float, proc: subprocess.Popen | None, log: Path | None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            tail = log.read_text()[-4000:] if log else ""
            raise RuntimeError(f"the app exited early:\n{tail}")
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status < 500:
                    return
        except Exception:  # noqa: BLE001
            time.sleep(0.5)
    raise RuntimeError(f"no answer at {url}")


@dataclass
class Running:
    url: str
    proc: subprocess.Popen | None = None
    log: Path | None = None
    env: dict[str, str] = field(default_factory=dict)
    pid: int | None = None  # the process tree whose memory is reported

    def stop(self) -> None:
        if self.proc is None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout=20)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


def _base_env(extra: dict[str, str], python: str | None = None) -> dict[str, str]:
    env = dict(os.environ)
    env.update({
        "REFLEX_USE_NPM": "1",
        "REFLEX_TELEMETRY_ENABLED": "false",
        "PATH": f"{Path(python or sys.executable).parent}:{env.get('PATH', '')}",
    })
    env.update(extra)
    return env


def start_kyoso(db_url: str, workdir: Path, *, port: int | None = None, redis: str | None = None,
                workers: int = 1, python: str | None = None,
                extra_env: dict[str, str] | None = None) -> Running:
    """``python``: the app's interpreter (a venv's bin/python with kyoso
    installed), when it should differ from the load generator's;
    ``extra_env``: more of the app's environment (e.g. the inspector's,
    bench/load/peek.py)."""
    port = port or free_port()
    extra = {"KYOSO_DATABASE_URL": db_url}
    if redis:
        extra["REFLEX_REDIS_URL"] = redis
        extra["KYOSO_WORKERS"] = str(workers)
    elif workers != 1:
        raise SystemExit("several workers need Redis (--redis URL): without it Reflex runs one")
    env = _base_env({**extra, **(extra_env or {})}, python)
    exe = python or sys.executable
    cli = [exe, "-m", "kyoso.cli"]
    subprocess.run([*cli, "db", "upgrade"], env=env, check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
    subprocess.run([*cli, "seed", "--demo"], env=env, check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
    log = workdir / f"kyoso-{port}.log"
    proc = subprocess.Popen(
        [exe, "-m", "reflex", "run", "--env", "prod", "--single-port",
         "--frontend-port", str(port), "--backend-port", str(port), "--loglevel", "warning"],
        cwd=ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT, start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    _wait_http(f"{url}/ping", 900, proc, log)
    _wait_http(f"{url}/login", 120, proc, log)
    return Running(url=url, proc=proc, log=log, env=env, pid=proc.pid)


def start_baseline(workdir: Path, *, port: int | None = None) -> Running:
    """The SharedState comparison app (bench/sharedstate_app), backend only:
    headless clients need no frontend."""
    port = port or free_port()
    env = _base_env({})
    env.pop("REFLEX_REDIS_URL", None)
    log = workdir / f"sharedstate-{port}.log"
    proc = subprocess.Popen(
        [sys.executable, "-m", "reflex", "run", "--env", "prod", "--backend-only",
         "--backend-port", str(port), "--loglevel", "warning"],
        cwd=BASELINE_DIR, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    _wait_http(f"{url}/ping", 300, proc, log)
    return Running(url=url, proc=proc, log=log, env=env, pid=proc.pid)


def start_redis(workdir: Path, port: int | None = None) -> tuple[str, subprocess.Popen]:
    exe = shutil.which("redis-server")
    if exe is None:
        raise SystemExit("redis-server is missing: apt-get install -y redis-server")
    port = port or free_port()
    proc = subprocess.Popen(
        [exe, "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no",
         "--dir", str(workdir)],
        stdout=(workdir / f"redis-{port}.log").open("w"), stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return f"redis://127.0.0.1:{port}/0", proc
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("redis-server did not start")


def backend_memory(pid: int | None, port: int | None = None) -> list[tuple[int, str, int]]:
    """(pid, role, RSS bytes) of the backend's processes: the process tree
    started for the app, or, for an app given by --url, whatever listens on
    its port (and its children)."""
    procs: list[psutil.Process] = []
    try:
        if pid is not None:
            root = psutil.Process(pid)
            procs = [root, *root.children(recursive=True)]
        elif port is not None:
            for conn in psutil.net_connections("tcp"):
                if conn.laddr and conn.laddr.port == port and conn.status == "LISTEN" and conn.pid:
                    root = psutil.Process(conn.pid)
                    procs = [root, *root.children(recursive=True)]
                    break
    except psutil.Error:
        return []
    out = []
    for p in procs:
        try:
            role = "worker" if p.parent() and p.parent().pid in {q.pid for q in procs} else "main"
            out.append((p.pid, role, p.memory_info().rss))
        except psutil.Error:
            continue
    return out


def cpu_times(pid: int | None) -> float:
    """User+system CPU seconds of the app's process tree so far."""
    if pid is None:
        return 0.0
    try:
        root = psutil.Process(pid)
        total = 0.0
        for p in [root, *root.children(recursive=True)]:
            t = p.cpu_times()
            total += t.user + t.system
        return total
    except psutil.Error:
        return 0.0
