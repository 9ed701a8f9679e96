"""`pubcredit serve [ADDRPORT] [--no-worker] [--no-scheduler] [--noreload]`: what `make run`
serves with: Django's development server, the task worker (`pubcredit db_worker`: large uploads,
batch checks, webhooks, the scheduled jobs) and the scheduler (`pubcredit scheduler`: the daily
publicity sweep, list expiry… see pubcredit.ops.schedule), each in its own process.

When any of them stops (Ctrl-C, an error, the port already taken), the others are stopped too
(SIGTERM, then SIGKILL after a grace period), and the exit status is that of the one that
stopped first (0 after Ctrl-C). For production run the three separately under a process manager
(gunicorn instead of runserver).
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Sequence

from django.core.management.base import BaseCommand

GRACE_SECONDS = 10.0


def pubcredit_command(*args: str) -> list[str]:
    """argv running a `pubcredit` management command with this interpreter."""
    return [sys.executable, "-m", "pubcredit", *args]


def commands(
    addrport: str, *, worker: bool = True, scheduler: bool = True, reload: bool = True
) -> list[tuple[str, list[str]]]:
    """(label, argv) of the processes `serve` runs, the web server last."""
    out = []
    if worker:
        out.append(("worker", pubcredit_command("db_worker", "--queue-name", "*")))
    if scheduler:
        out.append(("scheduler", pubcredit_command("scheduler")))
    # --insecure: runserver serves the static files with DEBUG off too (the default).
    web = ["runserver", addrport, "--insecure"] + ([] if reload else ["--noreload"])
    out.append(("web", pubcredit_command(*web)))
    return out


def _stop(procs: dict[str, subprocess.Popen], grace: float) -> None:
    for proc in procs.values():
        if proc.poll() is None:
            proc.terminate()
    deadline = time.monotonic() + grace
    for proc in procs.values():
        try:
            proc.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def supervise(
    specs: Sequence[tuple[str, list[str]]],
    *,
    grace: float = GRACE_SECONDS,
    poll: float = 0.2,
    log=print,
) -> int:
    """Start every (label, argv), wait until one exits, stop the others; returns the exit
    status of the one that stopped first (128 + N if a signal N killed it), 0 on Ctrl-C or
    SIGTERM to this process."""
    procs: dict[str, subprocess.Popen] = {}
    first: int | None = None

    def on_term(signum, frame):
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, on_term)
    try:
        for label, argv in specs:
            procs[label] = subprocess.Popen(argv)
        while first is None:
            for label, proc in procs.items():
                if proc.poll() is not None:
                    first = proc.returncode
                    log(f"进程 {label} 已退出(状态 {first}),正在停止其余进程……")
                    break
            else:
                time.sleep(poll)
    except KeyboardInterrupt:
        first = 0
    finally:
        # Ctrl-C reached the whole process group already; stop whatever is still running.
        _stop(procs, grace)
        signal.signal(signal.SIGTERM, previous)
    return 128 - first if first < 0 else first


class Command(BaseCommand):
    help = "启动开发服务器,并同时启动后台任务处理进程(db_worker)和定时任务调度(scheduler)。"
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument(
            "addrport", nargs="?", default="127.0.0.1:8000", help="地址和端口(默认 127.0.0.1:8000)"
        )
        parser.add_argument("--no-worker", action="store_true", help="不启动后台任务处理进程")
        parser.add_argument("--no-scheduler", action="store_true", help="不启动定时任务调度")
        parser.add_argument("--noreload", action="store_true", help="代码修改后不自动重启服务器")

    def handle(self, *args, **options):
        specs = commands(
            options["addrport"],
            worker=not options["no_worker"],
            scheduler=not options["no_scheduler"],
            reload=not options["noreload"],
        )
        names = "、".join(label for label, _argv in specs)
        self.stdout.write(f"正在启动:{names}(按 Ctrl-C 全部停止)")
        self.stdout.flush()
        code = supervise(specs, log=lambda m: self.stderr.write(m))
        if code:
            sys.exit(code)
