"""`pubcredit scheduler [--once] [--interval SECONDS] [--list]`: enqueue the periodic background
tasks (pubcredit.ops.schedule.JOBS: the daily publicity sweep and list expiry, …) when they are due;
the task worker (`pubcredit db_worker`) runs them. `pubcredit serve` (and so `make run`) starts
it; in production run one beside the workers (systemd, supervisor…).

--once: one pass, then exit (for cron or a check); --list: print the schedule as JSON and exit.
Stops cleanly on SIGINT/SIGTERM.
"""

from __future__ import annotations

import json
import signal
import threading

from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from pubcredit.ops.schedule import JOBS, Scheduler


class Command(BaseCommand):
    help = "定时任务调度:到点将每日公示期满清理、名单到期等后台任务加入队列(由 db_worker 执行)。"

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="只检查一次并加入到期任务后退出")
        parser.add_argument("--interval", type=int, default=60, help="两次检查之间的秒数(默认 60)")
        parser.add_argument("--list", action="store_true", help="以 JSON 列出调度表后退出")

    def handle(self, *args, **options):
        if options["list"]:
            rows = [
                {
                    "name": j.name,
                    "task": j.task,
                    "label": j.label,
                    "at": j.at.strftime("%H:%M") if j.at else None,
                    "every_minutes": j.minutes,
                }
                for j in JOBS
            ]
            self.stdout.write(json.dumps(rows, ensure_ascii=False, indent=2))
            return
        if options["interval"] < 1:
            raise CommandError("--interval 应为正整数(秒)", returncode=2)
        scheduler = Scheduler()
        if options["once"]:
            self._report(scheduler.run_due())
            return
        stop = threading.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: stop.set())
        if options["verbosity"] >= 1:
            self.stdout.write(
                f"定时任务调度已启动({len(JOBS)} 项,每 {options['interval']} 秒检查一次)"
            )
        while not stop.is_set():
            try:
                self._report(scheduler.run_due())
            except Exception as exc:  # the database may be briefly away; try again next round
                self.stderr.write(f"定时任务调度出错:{exc}")
            finally:
                connection.close_if_unusable_or_obsolete()
            stop.wait(options["interval"])

    def _report(self, enqueued) -> None:
        if self.verbosity >= 1:
            for item in enqueued:
                self.stdout.write(f"已加入队列:{item.job}({item.slot})任务 {item.result_id}")

    def execute(self, *args, **options):
        self.verbosity = options.get("verbosity", 1)
        return super().execute(*args, **options)
