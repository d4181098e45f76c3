"""nginx for tests: deploy/nginx-townqa.conf as shipped, on a free port of 127.0.0.1, upstreams on given ports.

Only what a test cannot use is changed: TLS (the listen line and certificates) and the upstream ports. Each
change is checked, so a change of the shipped file that the test no longer runs fails here.
"""

from __future__ import annotations

import re
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from .conftest import ROOT

CONF = ROOT / "deploy" / "nginx-townqa.conf"
MISSING = "nginx is not installed: `apt-get install nginx` (make test does it when run as root with apt-get)"
UPSTREAMS = ("127.0.0.1:8001", "127.0.0.1:8002")


def site_conf(listen: int, upstream_ports: tuple[int, int]) -> str:
    text = CONF.read_text(encoding="utf-8")
    text, listens = re.subn(r"listen 443 ssl;", f"listen 127.0.0.1:{listen};", text)
    text, certificates = re.subn(r"\n\s*ssl_certificate(_key)? [^\n]*;", "", text)
    assert (listens, certificates) == (1, 2), "deploy/nginx-townqa.conf changed: update tests/proxy.py"
    for shipped, port in zip(UPSTREAMS, upstream_ports):
        assert f"server {shipped} " in text, f"deploy/nginx-townqa.conf has no upstream {shipped}"
        text = text.replace(f"server {shipped} ", f"server 127.0.0.1:{port} ")
    return text


class Nginx:
    def __init__(self, listen: int, upstream_ports: tuple[int, int]) -> None:
        self.binary = shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx",) if Path(p).exists()), None)
        self.listen = listen
        self.upstream_ports = upstream_ports
        self.folder: Path | None = None
        self.proc: subprocess.Popen | None = None

    def start(self) -> Nginx:
        if self.binary is None:
            pytest.skip(MISSING)
        self.folder = Path(tempfile.mkdtemp(prefix="townqa-nginx-"))
        self.folder.chmod(0o755)  # workers run as nobody when the test runs as root
        for temp in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
            (self.folder / temp).mkdir(mode=0o777)
            (self.folder / temp).chmod(0o777)
        (self.folder / "townqa.conf").write_text(site_conf(self.listen, self.upstream_ports), encoding="utf-8")
        f = self.folder
        (f / "nginx.conf").write_text(
            f"daemon off;\nworker_processes 1;\npid {f}/nginx.pid;\nerror_log {f}/error.log info;\n"
            "events { worker_connections 256; }\n"
            f"http {{\n  access_log {f}/access.log;\n  client_body_temp_path {f}/body;\n  proxy_temp_path {f}/proxy;\n"
            f"  fastcgi_temp_path {f}/fastcgi;\n  uwsgi_temp_path {f}/uwsgi;\n  scgi_temp_path {f}/scgi;\n"
            f"  include {f}/townqa.conf;\n}}\n",
            encoding="utf-8",
        )
        self.proc = subprocess.Popen(
            [self.binary, "-p", str(f), "-c", str(f / "nginx.conf"), "-e", str(f / "error.log")],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                pytest.fail(f"nginx exited: {self.proc.stderr.read()}\n{self.error_log()}")
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", self.listen)) == 0:
                    return self
            time.sleep(0.05)
        pytest.fail(f"nginx did not listen on {self.listen}: {self.error_log()}")

    def error_log(self) -> str:
        path = self.folder / "error.log" if self.folder else None
        return path.read_text(errors="replace") if path and path.exists() else ""

    def access_log(self) -> str:
        return (self.folder / "access.log").read_text(errors="replace") if self.folder else ""

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)
            self.folder = None
