"""deploy/'s shape on one machine, for tests/deploy and bench.nodekill:
nodes started with deploy/systemd/kyoso.service's own command line, and
nginx running deploy/nginx/kyoso.conf itself (only the listen address, the
upstream servers and TLS replaced).
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
UNIT = ROOT / "deploy" / "systemd" / "kyoso.service"
NGINX_SITE = ROOT / "deploy" / "nginx" / "kyoso.conf"


def nginx_binary() -> str | None:
    return shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx",) if Path(p).exists()), None)


def wait_http(url: str, timeout: float, proc: subprocess.Popen | None = None, log: Path | None = None,
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
    """deploy/nginx/kyoso.conf on loopback without TLS."""
    site = NGINX_SITE.read_text()
    site = re.sub(r"server \{\s*listen 80;.*?\n\}\n", "", site, count=1, flags=re.S)
    servers = re.findall(r"^\s*server \d+\.\d+\.\d+\.\d+:\d+ .*$", site, re.M)
    assert len(servers) == len(nodes), f"the upstream lists {len(servers)} nodes"
    for line, node in zip(servers, nodes):
        site = site.replace(line, re.sub(r"\d+\.\d+\.\d+\.\d+:\d+", node, line))
    site = re.sub(r"listen 443 ssl[^;]*;", f"listen 127.0.0.1:{listen_port};", site)
    site = re.sub(r"^\s*ssl_\w+ .*$\n", "", site, flags=re.M)
    return site


def build_frontend(web: Path, api_url: str, env: dict[str, str], log: Path,
                   seed: Path = ROOT / ".web") -> None:
    """One production build of the frontend into ``web``, whose websocket
    connects to ``api_url`` (the proxy). The build carries that address, so
    it is made apart from .web/ (another app may be serving from there);
    node_modules is shared with ``seed`` when it is there."""
    source = seed
    if (source / "node_modules").is_dir():
        shutil.copytree(source, web, ignore=shutil.ignore_patterns("node_modules", "build", ".states"),
                        symlinks=True)
        (web / "node_modules").symlink_to(source / "node_modules")
    build_env = {**env, "REFLEX_WEB_WORKDIR": str(web), "REFLEX_API_URL": api_url}
    with log.open("w") as out:
        subprocess.run([sys.executable, "-m", "reflex", "export", "--frontend-only", "--no-zip",
                        "--env", "prod", "--loglevel", "warning"],
                       cwd=ROOT, env=build_env, stdout=out, stderr=subprocess.STDOUT, check=False)
    if not (web / "build" / "client" / "index.html").exists():
        raise RuntimeError(f"the frontend build failed:\n{log.read_text()[-4000:]}")


@dataclass
class Node:
    name: str
    port: int
    proc: subprocess.Popen
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def alive(self) -> bool:
        return self.proc.poll() is None

    def kill(self) -> None:
        """kill -9 the whole node (gunicorn's master and its workers)."""
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        """systemctl stop: SIGTERM, then wait."""
        if self.proc.poll() is not None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout=30)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            self.kill()


def start_node(name: str, port: int, base_env: dict[str, str], tmp: Path, workers: int = 1) -> Node:
    """A node as systemd starts it; returns once /readyz says 200."""
    args, unit_env = unit_command(f"127.0.0.1:{port}", workers=workers)
    metrics_dir = tmp / f"metrics-{name}"
    shutil.rmtree(metrics_dir, ignore_errors=True)
    metrics_dir.mkdir(parents=True)
    env = {**base_env, **unit_env, "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir), "KYOSO_NODE_NAME": name,
           "KYOSO_WORKERS": str(workers)}
    log = tmp / f"node-{name}.log"
    proc = subprocess.Popen(args, cwd=ROOT, env=env, stdout=log.open("a"),
                            stderr=subprocess.STDOUT, start_new_session=True)
    node = Node(name=name, port=port, proc=proc, log=log)
    wait_http(f"{node.url}/readyz", 180, proc, log, want=200)
    return node


def start_nginx(conf: Path, listen_port: int, nodes: list[Node]) -> subprocess.Popen:
    conf.mkdir(parents=True, exist_ok=True)
    (conf / "kyoso.conf").write_text(render_nginx_site(listen_port, [f"127.0.0.1:{n.port}" for n in nodes]))
    (conf / "nginx.conf").write_text(
        # As root, nginx's workers would run as nobody and could not use
        # these temp directories.
        ("user root;\n" if os.geteuid() == 0 else "")
        + f"daemon off;\nworker_processes 1;\npid {conf}/nginx.pid;\nerror_log {conf}/error.log info;\n"
        "events { worker_connections 4096; }\n"
        f"http {{\n  access_log {conf}/access.log;\n"
        + "".join(f"  {kind}_temp_path {conf}/{kind}-tmp;\n"
                  for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
        + f"  include /etc/nginx/mime.types;\n  include {conf}/kyoso.conf;\n}}\n")
    proc = subprocess.Popen([nginx_binary() or "nginx", "-p", str(conf), "-c", str(conf / "nginx.conf"),
                             "-e", str(conf / "error.log")],
                            stdout=(conf / "stdout.log").open("w"), stderr=subprocess.STDOUT,
                            start_new_session=True)
    wait_http(f"http://127.0.0.1:{listen_port}/healthz", 30, proc, conf / "error.log")
    return proc


def connected(node: Node) -> int:
    """kyoso_connected_clients, read from the node itself (loopback may read /metrics)."""
    with urllib.request.urlopen(f"{node.url}/metrics", timeout=5) as r:
        text = r.read().decode()
    m = re.search(r"^kyoso_connected_clients(?:\{[^}]*\})? ([0-9.e+]+)$", text, re.M)
    return int(float(m.group(1))) if m else 0
