"""Real web servers for tests: the site (`pubcredit.wsgi` under granian) and the check server
(`pubcredit serve_checks`, pubcredit.wsgi_checks) as processes of their own, on free ports,
against the test database as other processes see it (`pubcredit.testing.processes`).

`start_servers` starts them together (each takes a few seconds to import Django) and waits
until both answer their health check; `request` sends one HTTP request and returns
(status, headers in order, body)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from http.client import HTTPConnection
from pathlib import Path

from django.conf import settings

from pubcredit.testing.processes import SharedDatabase

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, label: str, argv: list[str], env: dict, port: int):
        self.label, self.port = label, port
        self.proc = subprocess.Popen(
            argv,
            env=env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )

    def request(self, method: str, path: str, body: bytes = b"", headers=None):
        """(status, [(name, value)…] as sent, body) of one request on a fresh connection."""
        conn = HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            response = conn.getresponse()
            return response.status, response.getheaders(), response.read()
        finally:
            conn.close()

    def wait(self, deadline: float) -> None:
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.label} exited: {self.proc.stderr.read().decode()}")
            try:
                # Any answer but a server error (with PUBCREDIT_HTTPS, a redirect to https).
                if self.request("GET", "/api/v1/health")[0] < 500:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"{self.label} did not answer on port {self.port}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.proc.stderr.close()


def server_env(db: SharedDatabase, **extra: str) -> dict:
    """The processes' environment: the shared database, this test run's keys (a person's
    身份证号 is found by its blind index), DEBUG off, the database cache as the shared cache."""
    env = {
        **db.env,
        "PYTHONPATH": str(ROOT),
        "PUBCREDIT_DEBUG": "0",
        "PUBCREDIT_SECRET_KEY": settings.SECRET_KEY,
        "PUBCREDIT_FIELD_KEY": settings.PUBCREDIT_FIELD_KEY,
        "PUBCREDIT_INDEX_KEY": settings.PUBCREDIT_INDEX_KEY,
        **extra,
    }
    for name in ("PUBCREDIT_CACHE_URL", "PUBCREDIT_REDIS_URL", "DJANGO_SETTINGS_MODULE"):
        env.pop(name, None)
    env.update(extra)
    return env


def site_argv(port: int) -> list[str]:
    granian = str(Path(sys.executable).with_name("granian"))
    return [
        granian,
        "--interface",
        "wsgi",
        "--workers",
        "1",
        "--blocking-threads",
        "1",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--log-level",
        "warning",
        "pubcredit.wsgi:application",
    ]


def checks_argv(db: SharedDatabase, port: int) -> list[str]:
    return db.command("serve_checks", "--port", str(port), "--workers", "1", "--threads", "1")


def start_servers(db: SharedDatabase, *, site: bool = True, **extra: str) -> dict[str, Server]:
    """{"site": …, "checks": …} started and answering (stop them with `stop_servers`)."""
    env = server_env(db, **extra)
    servers = {}
    try:
        if site:
            port = free_port()
            servers["site"] = Server("the site", site_argv(port), env, port)
        port = free_port()
        servers["checks"] = Server("the check server", checks_argv(db, port), env, port)
        deadline = time.monotonic() + 120
        for server in servers.values():
            server.wait(deadline)
    except BaseException:
        stop_servers(servers)
        raise
    return servers


def stop_servers(servers: dict[str, Server]) -> None:
    for server in servers.values():
        server.stop()
