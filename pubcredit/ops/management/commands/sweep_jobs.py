"""`pubcredit sweep_jobs [--json]`: take over the long background jobs (intake submissions, batch
checks…) whose worker died: mark the dead worker's task result failed, re-enqueue the job, or fail
it with a Chinese message once PUBCREDIT_JOB_MAX_ATTEMPTS runs have died (pubcredit.core.jobs).
The scheduler runs the same sweep every 5 minutes (`jobs.sweep`) and every `pubcredit db_worker`
once when it starts; safe to run at any time.

--json: print what was done as one JSON array on stdout."""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand

from pubcredit.core.jobs import sweep

ACTIONS = {
    "requeued": "已重新加入队列",
    "failed": "多次中断,已标记失败",
    "released": "已完成,释放租约",
    "task_failed": "任务记录标记为失败",
}


class Command(BaseCommand):
    help = "接管后台进程意外终止的长任务:重新加入队列,或在多次中断后标记失败。"

    def add_arguments(self, parser):
        parser.add_argument("--json", action="store_true", help="以 JSON 数组输出处理结果")

    def handle(self, *args, **options):
        swept = sweep()
        if options["json"]:
            self.stdout.write(json.dumps([s.as_dict() for s in swept], ensure_ascii=False))
            return
        for s in swept:
            self.stdout.write(
                f"{ACTIONS[s.action]}:{s.kind} #{s.object_id}(第 {s.attempts} 次执行,进程 "
                f"{s.holder or '-'})"
            )
        if not swept:
            self.stdout.write("没有需要接管的任务。")
