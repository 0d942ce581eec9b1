"""PostgreSQL's tools, and a throwaway server for benches and tests.

``pg_bin("pg_dump")`` finds a client program on PATH or under
/usr/lib/postgresql/<version>/bin (Debian's package puts the server
programs only there). ``Throwaway`` starts a private server the way .ci/run
does (initdb with trust on loopback, fsync off, a socket in its own
directory), for ``bench.loadgen --db postgres`` and the deployment tests;
never for a real deployment.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

PG_ROOT = Path("/usr/lib/postgresql")


def pg_bin(program: str, prefer_server_dir: bool = False) -> str | None:
    """The newest ``program`` from Debian's directories, or from PATH."""
    versions = sorted(PG_ROOT.glob("*/bin"), key=lambda p: _version(p.parent.name))
    candidates = [str(v / program) for v in reversed(versions) if (v / program).exists()]
    on_path = shutil.which(program)
    if on_path and not prefer_server_dir:
        candidates.insert(0, on_path)
    elif on_path:
        candidates.append(on_path)
    return candidates[0] if candidates else None


def _version(name: str) -> tuple[int, ...]:
    return tuple(int(p) for p in name.split(".") if p.isdigit()) or (0,)


def available() -> bool:
    return pg_bin("initdb", prefer_server_dir=True) is not None


@dataclass
class Throwaway:
    port: int
    user: str = "kyoso"
    database: str = "kyoso"
    data_dir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="kyoso-pg-")))
    _started: bool = False

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://{self.user}@127.0.0.1:{self.port}/{self.database}"

    def _as_pg(self, cmd: list[str], **kw: object) -> subprocess.CompletedProcess:
        # PostgreSQL refuses to run as root: as root, run it as the postgres
        # user (Debian's package creates it), as .ci/run does.
        if os.geteuid() == 0:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        return subprocess.run(cmd, check=True, capture_output=True, text=True, **kw)  # type: ignore[call-overload]

    def start(self) -> Throwaway:
        initdb = pg_bin("initdb", prefer_server_dir=True)
        pg_ctl = pg_bin("pg_ctl", prefer_server_dir=True)
        if not initdb or not pg_ctl:
            raise RuntimeError("PostgreSQL's server programs are missing (Debian package postgresql)")
        if os.geteuid() == 0:
            shutil.chown(self.data_dir, "postgres")
        self._as_pg([initdb, "-D", str(self.data_dir), "-A", "trust", "-U", self.user,
                     "-E", "UTF8", "--locale=C.UTF-8"])
        self._as_pg([pg_ctl, "-D", str(self.data_dir), "-o",
                     f"-p {self.port} -k {self.data_dir} -c listen_addresses=127.0.0.1 "
                     "-c fsync=off -c max_connections=300",
                     "-l", str(self.data_dir / "log"), "-w", "start"])
        self._started = True
        self.create_database(self.database)
        return self

    def create_database(self, name: str) -> str:
        createdb = pg_bin("createdb", prefer_server_dir=True)
        assert createdb
        self._as_pg([createdb, "-h", "127.0.0.1", "-p", str(self.port), "-U", self.user, name])
        return f"postgresql+psycopg://{self.user}@127.0.0.1:{self.port}/{name}"

    def stop(self) -> None:
        if self._started:
            pg_ctl = pg_bin("pg_ctl", prefer_server_dir=True)
            try:
                self._as_pg([pg_ctl, "-D", str(self.data_dir), "-m", "immediate", "stop"])
            except subprocess.CalledProcessError:
                pass
            self._started = False
        shutil.rmtree(self.data_dir, ignore_errors=True)

    def __enter__(self) -> Throwaway:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
