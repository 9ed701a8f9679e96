"""Periodic background work: which tasks run when, and the scheduler that enqueues them.

django-tasks has no scheduler of its own. `pubcredit scheduler` (started by `pubcredit serve`,
which `make run` uses; in production one process beside the workers) calls `run_due()` once a
minute. Each job has slots: a calendar day (civil date in Asia/Shanghai, from its time of day on)
or a fixed interval of minutes. A slot's task is enqueued once; the worker (`pubcredit
db_worker`) runs it.

Idempotent twice over:
- a job is enqueued at most once per slot: with django-tasks' database backend the queue itself
  tells (a result row of the task enqueued since the slot began), so restarts of the scheduler
  and a second scheduler do not enqueue twice (on PostgreSQL they also serialise on an advisory
  lock); other backends (tests) remember the slots in memory;
- the tasks themselves are idempotent (the publicity sweep and the list expiry change nothing
  the second time on a day), so a duplicate would be harmless.

Every 5 minutes `jobs.sweep` takes over the long jobs whose worker died (pubcredit.core.jobs).

A scheduler started late (or down at 00:05) enqueues the day's jobs as soon as it runs: the
sweep for today covers every day missed, since it ends whatever ended on or before today. The
monthly bulletin and the reporting reminders catch up the same way: each is due from its day
(the 3rd working day; 5 working days before the month's last) to the month's end.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from django.conf import settings
from django.core.management import call_command
from django.db import connection, transaction
from django.utils import timezone
from django.utils.module_loading import import_string
from django_tasks import task

from pubcredit.core.jobs import sweep

log = logging.getLogger("pubcredit.ops.schedule")

_LOCK_KEY = 0x5343_4845  # "SCHE": pg_advisory_xact_lock key of the enqueueing


@dataclass(frozen=True)
class Job:
    """`task`: dotted path of a django-tasks task. Daily jobs run from `at` (local time) on each
    day, with `today=<ISO date>` when `pass_day`; interval jobs every `minutes`."""

    name: str
    task: str
    label: str
    at: dt.time | None = None
    minutes: int | None = None
    pass_day: bool = False

    def __post_init__(self) -> None:
        if (self.at is None) == (self.minutes is None):
            raise ValueError(f"job {self.name}: give exactly one of `at` and `minutes`")

    def slot(self, now: dt.datetime) -> tuple[str, dt.datetime] | None:
        """(slot key, slot start) of `now` (aware), or None before a daily job's time."""
        local = timezone.localtime(now)
        if self.at is not None:
            start = timezone.make_aware(dt.datetime.combine(local.date(), self.at))
            if local < start:
                return None
            return local.date().isoformat(), start
        minutes = local.hour * 60 + local.minute
        first = minutes - minutes % self.minutes
        start = local.replace(hour=first // 60, minute=first % 60, second=0, microsecond=0)
        return start.strftime("%Y-%m-%dT%H:%M"), start


@task()
def prune_task_results_task(min_age_days: int = 14) -> str:
    """Delete finished task results older than `min_age_days` from the database queue (the
    scheduler alone adds some 300 a day)."""

    backend = settings.TASKS.get("default", {}).get("BACKEND", "")
    if not backend.startswith("django_tasks_db."):
        return "skipped: not the database backend"
    call_command("prune_db_task_results", min_age_days=min_age_days, verbosity=0)
    return "pruned"


@task()
def sweep_jobs_task() -> list[dict]:
    """Take over the long jobs (intake submissions, batch checks…) whose worker died:
    re-enqueue them, or fail them after too many dead runs (pubcredit.core.jobs.sweep)."""

    return [swept.as_dict() for swept in sweep()]


# What runs when (Asia/Shanghai). Keep this list and README.md's in step.
JOBS: tuple[Job, ...] = (
    Job(
        "publicity.sweep",
        "pubcredit.publicity.tasks.sweep_publicity_task",
        "行政处罚等信息公示期满停止公示(每日)",
        at=dt.time(0, 5),
        pass_day=True,
    ),
    Job(
        "lists.expire",
        "pubcredit.lists.tasks.expire_entries_task",
        "信用名单条目有效期届满自动到期(每日)",
        at=dt.time(0, 10),
        pass_day=True,
    ),
    Job(
        "scoring.compute",
        "pubcredit.scoring.tasks.compute_all_task",
        "全量重新计算信用评价等级,使评价时间窗口随日期推移(每日)",
        at=dt.time(0, 20),
        pass_day=True,
    ),
    Job(
        "exchange.push",
        "pubcredit.exchange.pushing.exchange_push_task",
        "导出自上次确认以来变化的双公示和名单数据并上报(每日)",
        at=dt.time(1, 30),
    ),
    Job(
        "subjects.name_keys",
        "pubcredit.intake.tasks.backfill_subject_name_keys",
        "补全批量登记主体的模糊检索键(每日)",
        at=dt.time(2, 0),
    ),
    Job(
        "tasks.prune",
        "pubcredit.ops.schedule.prune_task_results_task",
        "清理 14 天前已完成的后台任务记录(每日)",
        at=dt.time(3, 0),
    ),
    Job(
        "bulletins.issue",
        "pubcredit.bulletins.tasks.issue_monthly_task",
        "每月第 3 个工作日发布上月归集情况通报(每日检查)",
        at=dt.time(7, 30),
        pass_day=True,
    ),
    Job(
        "bulletins.remind",
        "pubcredit.bulletins.tasks.send_reminders_task",
        "月末最后一个工作日前 5 个工作日提醒尚未报送的部门(每日检查)",
        at=dt.time(8, 0),
        pass_day=True,
    ),
    Job(
        "portal.search_index",
        "pubcredit.portal.tasks.refresh_search_index_task",
        "名称检索索引增量更新(每小时)",
        minutes=60,
    ),
    Job(
        "checks.webhooks",
        "pubcredit.checks.tasks.deliver_due_webhooks_task",
        "重试到期的核查通知推送(每 5 分钟)",
        minutes=5,
    ),
    Job(
        "bulletins.reminder_webhooks",
        "pubcredit.bulletins.tasks.deliver_due_reminders_task",
        "重试到期的报送提醒推送(每 5 分钟)",
        minutes=5,
    ),
    Job(
        "intake.watch_folders",
        "pubcredit.intake.tasks.scan_watch_folders_task",
        "扫描配置的下发投递目录,报送新文件(每 5 分钟)",
        minutes=5,
    ),
    Job(
        "jobs.sweep",
        "pubcredit.ops.schedule.sweep_jobs_task",
        "接管后台进程意外终止的报送入库、批量核查等任务(每 5 分钟)",
        minutes=5,
    ),
)


def _uses_database_queue(task_obj) -> bool:
    return type(task_obj.get_backend()).__module__.startswith("django_tasks_db")


def _enqueued_since(task_obj, since: dt.datetime) -> bool:
    # Imported here: the database backend's models need the app registry.
    from django_tasks_db.models import DBTaskResult

    return DBTaskResult.objects.filter(
        task_path=task_obj.module_path, enqueued_at__gte=since
    ).exists()


@dataclass(frozen=True)
class Enqueued:
    job: str
    slot: str
    result_id: str


class Scheduler:
    """Enqueues the jobs whose slot has come and was not enqueued yet (see the module
    docstring). `remembered` holds the slots enqueued by this instance (the only record with a
    queue that is not the database's)."""

    def __init__(self, jobs: tuple[Job, ...] = JOBS) -> None:
        self.jobs = jobs
        self.remembered: set[tuple[str, str]] = set()

    def due(self, now: dt.datetime | None = None) -> list[tuple[Job, str, dt.datetime]]:
        now = now or timezone.now()
        out = []
        for job in self.jobs:
            slot = job.slot(now)
            if slot is not None and (job.name, slot[0]) not in self.remembered:
                out.append((job, *slot))
        return out

    def run_due(self, now: dt.datetime | None = None) -> list[Enqueued]:
        """Enqueue what is due at `now` (default: now); returns what was enqueued."""
        now = now or timezone.now()
        done = []
        for job, key, start in self.due(now):
            task_obj = import_string(job.task)
            try:
                with transaction.atomic():
                    if connection.vendor == "postgresql":
                        with connection.cursor() as cursor:
                            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_LOCK_KEY])
                    if _uses_database_queue(task_obj) and _enqueued_since(task_obj, start):
                        self.remembered.add((job.name, key))
                        continue
                    kwargs = {"today": timezone.localtime(now).date().isoformat()}
                    result = task_obj.enqueue(**(kwargs if job.pass_day else {}))
            except Exception:  # one broken job must not stop the others
                log.exception("scheduler: could not enqueue %s for %s", job.name, key)
                continue
            self.remembered.add((job.name, key))
            done.append(Enqueued(job.name, key, str(result.id)))
            log.info("scheduler: enqueued %s for %s (%s)", job.name, key, result.id)
        # Keep memory bounded: forget slots of other days.
        today = timezone.localtime(now).date().isoformat()
        self.remembered = {(j, s) for j, s in self.remembered if s.startswith(today)}
        return done
