"""A throwaway PostgreSQL server for tests: initdb and pg_ctl in a temporary folder, on a free port of 127.0.0.1.

Debian's `postgresql` package brings the binaries (/usr/lib/postgresql/<version>/bin); `make test` installs it
where it runs as root with apt-get. initdb refuses to run as root, so as root the server runs as the
`postgres` user (or `nobody`). Each test takes a database of its own from `new_database`.
"""

from __future__ import annotations

import glob
import itertools
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import pytest

HOST = "127.0.0.1"
USER = "townqa"
MISSING = (
    "PostgreSQL is not installed (no initdb/pg_ctl on PATH or in /usr/lib/postgresql/*/bin): "
    "`apt-get install postgresql` (make test does it when run as root with apt-get)"
)


def binaries() -> Path | None:
    """The folder holding initdb and pg_ctl, the newest version first."""
    found = shutil.which("pg_ctl")
    if found and shutil.which("initdb"):
        return Path(found).parent
    for folder in sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda f: int(Path(f).parent.name), reverse=True):
        if Path(folder, "initdb").exists() and Path(folder, "pg_ctl").exists():
            return Path(folder)
    return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


class Postgres:
    def __init__(self) -> None:
        self.bin = binaries()
        self.port = 0
        self.folder: Path | None = None
        self._owner: str | None = None
        self._names = itertools.count(1)

    def _run(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
        command = [str(self.bin / args[0]), *args[1:]]
        if self._owner:
            command = ["runuser", "-u", self._owner, "--", *command]
        return subprocess.run(command, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)

    def start(self) -> Postgres:
        if self.bin is None:
            pytest.skip(MISSING)
        self.folder = Path(tempfile.mkdtemp(prefix="townqa-pg-"))
        if os.geteuid() == 0:
            self._owner = next(u for u in ("postgres", "nobody") if _exists(u))
            entry = pwd.getpwnam(self._owner)
            os.chown(self.folder, entry.pw_uid, entry.pw_gid)
        data = self.folder / "data"
        done = self._run("initdb", "-D", str(data), "-U", USER, "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8")
        if done.returncode != 0:
            pytest.fail(f"initdb failed: {done.stdout}{done.stderr}")
        for _attempt in range(3):
            self.port = free_port()
            done = self._pg_ctl("start")
            if done.returncode == 0:
                return self
        pytest.fail(f"PostgreSQL did not start: {done.stdout}{done.stderr}\n{self.log()}")

    def _pg_ctl(self, action: str) -> subprocess.CompletedProcess:
        options = f"-h {HOST} -p {self.port} -k {self.folder} -c fsync=on -c max_connections=60"
        data = str(self.folder / "data")
        if action == "start":
            return self._run("pg_ctl", "-D", data, "-l", str(self.folder / "server.log"), "-o", options, "-w", "start")
        return self._run("pg_ctl", "-D", data, "-m", "fast", "-w", "stop")

    def pause(self) -> None:
        """Stop the server (its connections are cut), keeping its data for `resume`."""
        assert self._pg_ctl("stop").returncode == 0, self.log()

    def resume(self) -> None:
        done = self._pg_ctl("start")
        assert done.returncode == 0, f"{done.stdout}{done.stderr}\n{self.log()}"

    def log(self) -> str:
        path = self.folder / "server.log" if self.folder else None
        return path.read_text(errors="replace") if path and path.exists() else ""

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://{USER}@{HOST}:{self.port}/{database}"

    def new_database(self) -> str:
        """A fresh, empty database; its URL."""
        import psycopg

        name = f"t{os.getpid()}_{next(self._names)}"
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name}")
        return self.url(name)

    def stop(self) -> None:
        if self.folder is None:
            return
        self._pg_ctl("stop")
        shutil.rmtree(self.folder, ignore_errors=True)
        self.folder = None


def _exists(user: str) -> bool:
    try:
        pwd.getpwnam(user)
    except KeyError:
        return False
    return True
