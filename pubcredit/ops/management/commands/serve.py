"""`pubcredit serve [ADDRPORT] [--no-worker] [--no-scheduler] [--noreload]`: what `make run`
serves with: Django's development server, the task worker (`pubcredit db_worker`: large uploads,
batch checks, webhooks, the scheduled jobs) and the scheduler (`pubcredit scheduler`: the daily
publicity sweep, list expiry… see pubcredit.ops.schedule), each in its own process.

The worker runs without the autoreloader (`--no-reload`: a reload would stop a long job half
way; restart `serve` after changing task code). When the worker or the scheduler exits (killed,
out of memory, a crash), it is started again after a pause that doubles from 1 s up to 60 s
while it keeps failing (back to 1 s once it has run for a minute); the jobs a dead worker left
are taken over by the restarted one (`pubcredit.core.jobs`). When the web server stops (Ctrl-C,
an error, the port already taken), everything is stopped (SIGTERM, then SIGKILL after a grace
period), and the exit status is the web server's (0 after Ctrl-C). For production run the three
separately under a process manager (gunicorn instead of runserver).
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Collection, Sequence

from django.core.management.base import BaseCommand

GRACE_SECONDS = 10.0
# Processes restarted when they exit (with back-off), rather than stopping everything.
RESTARTED = frozenset({"worker", "scheduler"})
BACKOFF_FIRST = 1.0
BACKOFF_MAX = 60.0
STABLE_SECONDS = 60.0  # a process that ran this long starts its back-off afresh


def pubcredit_command(*args: str) -> list[str]:
    """argv running a `pubcredit` management command with this interpreter."""
    return [sys.executable, "-m", "pubcredit", *args]


def commands(
    addrport: str, *, worker: bool = True, scheduler: bool = True, reload: bool = True
) -> list[tuple[str, list[str]]]:
    """(label, argv) of the processes `serve` runs, the web server last."""
    out = []
    if worker:
        out.append(("worker", pubcredit_command("db_worker", "--queue-name", "*", "--no-reload")))
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


class _Restarts:
    """When a restartable process may start again: the pause doubles from `first` to `most`
    while it keeps failing, and starts afresh after a run of STABLE_SECONDS."""

    def __init__(self, first: float, most: float):
        self.first, self.most = first, most
        self.pause: dict[str, float] = {}
        self.due: dict[str, float] = {}

    def schedule(self, label: str, ran: float, now: float) -> float:
        pause = self.first if ran >= STABLE_SECONDS else self.pause.get(label, self.first)
        self.pause[label] = min(pause * 2, self.most)
        self.due[label] = now + pause
        return pause


def supervise(
    specs: Sequence[tuple[str, list[str]]],
    *,
    restart: Collection[str] = RESTARTED,
    grace: float = GRACE_SECONDS,
    poll: float = 0.2,
    backoff: tuple[float, float] = (BACKOFF_FIRST, BACKOFF_MAX),
    log=print,
) -> int:
    """Start every (label, argv); a process labelled in `restart` that exits is started again
    after a back-off; when any other exits, stop the rest and return its exit status (128 + N
    if a signal N killed it), 0 on Ctrl-C or SIGTERM to this process."""
    argvs = dict(specs)
    procs: dict[str, subprocess.Popen] = {}
    started: dict[str, float] = {}
    restarts = _Restarts(*backoff)
    first: int | None = None

    def on_term(signum, frame):
        raise KeyboardInterrupt

    def start(label: str) -> None:
        procs[label] = subprocess.Popen(argvs[label])
        started[label] = time.monotonic()

    previous = signal.signal(signal.SIGTERM, on_term)
    try:
        for label in argvs:
            start(label)
        while first is None:
            now = time.monotonic()
            for label, proc in list(procs.items()):
                if proc.poll() is None:
                    continue
                if label not in restart:
                    first = proc.returncode
                    log(f"进程 {label} 已退出(状态 {first}),正在停止其余进程……")
                    break
                del procs[label]
                pause = restarts.schedule(label, now - started[label], now)
                log(f"进程 {label} 已退出(状态 {proc.returncode}),{pause:g} 秒后重新启动。")
            else:
                for label, due in list(restarts.due.items()):
                    if label not in procs and due <= now:
                        del restarts.due[label]
                        start(label)
                        log(f"进程 {label} 已重新启动。")
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
        self.stdout.write(
            f"正在启动:{names}(按 Ctrl-C 全部停止;worker、scheduler 退出后会自动重启)"
        )
        self.stdout.flush()
        code = supervise(specs, log=lambda m: self.stderr.write(m))
        if code:
            sys.exit(code)
