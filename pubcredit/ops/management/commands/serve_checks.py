"""`pubcredit serve_checks [--host H] [--port P] [--workers N] [--threads T] [--backpressure B]`:
the check server, a granian process serving pubcredit.wsgi_checks (settings
pubcredit.settings_checks: only `POST /api/v1/checks` with an API key, and the health check).

Production runs it beside the site's server, under the same process manager and behind the same
reverse proxy, which routes `POST /api/v1/checks` with an `Authorization: Bearer` header to it
(README, "Production"). The command replaces itself with granian (exec): the process manager
supervises and signals granian directly.

granian options, chosen for this workload (each a short database-bound request):
- `--workers`: one worker process per core (default: the machine's cores);
- `--threads` (granian's `--blocking-threads`): Python threads per worker running requests,
  each with its own persistent database connection; 2 keep a core busy while the other waits
  on PostgreSQL (default 2);
- `--backpressure`: requests a worker takes at once; the rest wait in the socket backlog rather
  than in the worker (default: `--threads`, so a request is never queued behind a busy thread
  inside a worker while another worker is idle);
- `--http 1`: the reverse proxy speaks HTTP/1.1 to it; no HTTP/2 negotiation;
- `--no-ws`: no websockets.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

APPLICATION = "pubcredit.wsgi_checks:application"
SETTINGS = "pubcredit.settings_checks"


def granian_command(
    *,
    host: str = "127.0.0.1",
    port: int = 8001,
    workers: int | None = None,
    threads: int = 2,
    backpressure: int | None = None,
    log_level: str = "warning",
) -> list[str]:
    """argv of the granian process serving the check server."""
    beside = Path(sys.executable).with_name("granian")
    exe = str(beside) if beside.exists() else shutil.which("granian")
    if exe is None:
        raise CommandError("granian is not installed (it is in requirements.lock)")
    workers = workers or os.cpu_count() or 1
    return [
        exe,
        "--interface",
        "wsgi",
        "--http",
        "1",
        "--no-ws",
        "--workers",
        str(workers),
        "--blocking-threads",
        str(threads),
        "--backpressure",
        str(backpressure or threads),
        "--host",
        host,
        "--port",
        str(port),
        "--log-level",
        log_level,
        APPLICATION,
    ]


class Command(BaseCommand):
    help = "Serve POST /api/v1/checks (API keys) as its own granian process (the check server)."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8001)
        parser.add_argument("--workers", type=int, default=None, help="default: the cores")
        parser.add_argument("--threads", type=int, default=2, help="per worker")
        parser.add_argument("--backpressure", type=int, default=None, help="default: --threads")
        parser.add_argument("--log-level", default="warning")

    def handle(self, *args, **options):
        argv = granian_command(
            host=options["host"],
            port=options["port"],
            workers=options["workers"],
            threads=options["threads"],
            backpressure=options["backpressure"],
            log_level=options["log_level"],
        )
        env = {**os.environ, "DJANGO_SETTINGS_MODULE": SETTINGS}
        sys.stdout.flush()
        sys.stderr.flush()
        os.execve(argv[0], argv, env)
