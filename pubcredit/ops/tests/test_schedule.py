"""The scheduler (pubcredit.ops.schedule, `pubcredit scheduler`) and `pubcredit serve`'s supervision
of runserver, the task worker and the scheduler."""

from __future__ import annotations

import datetime as dt
import io
import json
import sys
import time
import zoneinfo
from importlib import import_module

import pytest
from django.apps import apps
from django.core.management import call_command

from pubcredit.accounts.models import AuditEvent
from pubcredit.ops.management.commands import serve
from pubcredit.ops.schedule import JOBS, Job, Scheduler

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")


def at(hour: int, minute: int, day: int = 2) -> dt.datetime:
    return dt.datetime(2026, 12, day, hour, minute, tzinfo=SHANGHAI)


def test_slots():
    daily = Job("x", "t", "x", at=dt.time(0, 5), pass_day=True)
    assert daily.slot(at(0, 4)) is None
    key, start = daily.slot(at(0, 5))
    assert key == "2026-12-02" and start == at(0, 5)
    assert daily.slot(at(23, 59))[0] == "2026-12-02"
    # A UTC instant belongs to its Shanghai day.
    assert daily.slot(dt.datetime(2026, 12, 1, 17, 0, tzinfo=dt.UTC))[0] == "2026-12-02"
    every5 = Job("y", "t", "y", minutes=5)
    assert every5.slot(at(10, 7)) == ("2026-12-02T10:05", at(10, 5))
    hourly = Job("z", "t", "z", minutes=60)
    assert hourly.slot(at(10, 59))[0] == "2026-12-02T10:00"
    with pytest.raises(ValueError):
        Job("bad", "t", "bad")


def test_schedule_lists_the_periodic_tasks_that_exist():
    from django.utils.module_loading import import_string

    names = {j.name for j in JOBS}
    assert {"publicity.sweep", "lists.expire", "exchange.push"} <= names
    for job in JOBS:
        assert hasattr(import_string(job.task), "enqueue"), job.task
    out = io.StringIO()
    call_command("scheduler", "--list", stdout=out)
    listed = json.loads(out.getvalue())
    assert {r["name"] for r in listed} == names
    sweep = next(r for r in listed if r["name"] == "publicity.sweep")
    assert sweep["at"] == "00:05"
    scoring = next(r for r in listed if r["name"] == "scoring.compute")
    assert scoring["at"] == "00:20"
    assert scoring["task"] == "pubcredit.scoring.tasks.compute_all_task"


@pytest.mark.django_db
def test_daily_jobs_run_once_a_day_with_the_immediate_backend():
    scheduler = Scheduler()
    assert scheduler.due(at(0, 1)) and all(j.minutes for j, _k, _s in scheduler.due(at(0, 1)))
    first = {e.job for e in scheduler.run_due(at(0, 7))}
    assert "publicity.sweep" in first and "lists.expire" not in first
    sweep = AuditEvent.objects.get(action="publicity.sweep")
    assert sweep.object_id == "2026-12-02"
    assert scheduler.run_due(at(0, 8)) == []  # same slots
    later = {e.job for e in scheduler.run_due(at(0, 12))}
    assert "lists.expire" in later and "publicity.sweep" not in later
    assert "checks.webhooks" in later  # a new 5-minute slot
    assert "scoring.compute" not in later
    assert "scoring.compute" in {e.job for e in scheduler.run_due(at(0, 21))}
    nxt = {e.job for e in scheduler.run_due(at(0, 6, day=3))}
    assert "publicity.sweep" in nxt
    assert AuditEvent.objects.filter(action="publicity.sweep").count() == 2


# transaction=True: the worker closes the connection between tasks, as a real worker does.
@pytest.mark.django_db(transaction=True)
def test_the_database_queue_tells_a_restarted_scheduler_what_is_done(settings):
    from django_tasks_db.models import DBTaskResult

    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    # A transactional test starts from a flushed database, without the rows data migrations
    # add: put back the default ranking scheme, which the monthly bulletin needs whenever the
    # real clock makes it due (from the 3rd working day of a month, at 07:30).
    import_module("pubcredit.bulletins.migrations.0003_default_scheme").add_default(apps, None)
    # The queue records real enqueue times, so this test runs on the real clock.
    now = dt.datetime.now(SHANGHAI)
    daily = {j.name for j in JOBS if j.at is not None and j.slot(now) is not None}
    enqueued = Scheduler().run_due(now)
    assert {e.job for e in enqueued} == daily | {j.name for j in JOBS if j.minutes}
    if "publicity.sweep" in daily:
        sweep = DBTaskResult.objects.get(task_path="pubcredit.publicity.tasks.sweep_publicity_task")
        assert sweep.args_kwargs["kwargs"] == {"today": now.date().isoformat()}
    # A new scheduler process (restart, or a second one) in the same slots: nothing again.
    assert Scheduler().run_due(now) == []
    # The next 5-minute slot: the webhook retries again, no daily job twice.
    again = {e.job for e in Scheduler().run_due(now + dt.timedelta(minutes=5))}
    assert "checks.webhooks" in again and not again & daily

    # The worker runs them.
    call_command("db_worker", "--batch", "--no-startup-delay", "--queue-name", "*", verbosity=0)
    failed = DBTaskResult.objects.exclude(status="SUCCESSFUL")
    assert not failed.exists(), list(failed.values("task_path", "traceback"))
    if "publicity.sweep" in daily:
        assert AuditEvent.objects.filter(action="publicity.sweep").exists()


@pytest.mark.django_db
def test_scheduler_once():
    out = io.StringIO()
    call_command("scheduler", "--once", stdout=out)
    assert "已加入队列" in out.getvalue()


# --------------------------------------------------------------------------- serve


def _python(code: str) -> list[str]:
    return [sys.executable, "-c", code]


def test_serve_runs_the_web_server_the_worker_and_the_scheduler():
    specs = dict(serve.commands("127.0.0.1:8123"))
    assert set(specs) == {"web", "worker", "scheduler"}
    assert specs["web"][-3:] == ["runserver", "127.0.0.1:8123", "--insecure"]
    assert "db_worker" in specs["worker"] and "scheduler" in specs["scheduler"]
    # No autoreloader around the worker: a reload would stop a long job half way.
    assert "--no-reload" in specs["worker"]
    assert specs["web"][:3] == [sys.executable, "-m", "pubcredit"]
    only = dict(serve.commands("0.0.0.0:9000", worker=False, scheduler=False, reload=False))
    assert list(only) == ["web"] and only["web"][-1] == "--noreload"


def test_when_one_process_stops_the_others_are_stopped():
    started = time.monotonic()
    code = serve.supervise(
        [
            ("worker", _python("import time; time.sleep(60)")),
            ("web", _python("import sys, time; time.sleep(0.5); sys.exit(3)")),
        ],
        grace=5,
        log=lambda m: None,
    )
    assert code == 3
    assert time.monotonic() - started < 20  # the sleeping worker was terminated


def test_a_clean_stop_exits_zero():
    code = serve.supervise(
        [("a", _python("pass")), ("b", _python("import time; time.sleep(60)"))],
        grace=5,
        log=lambda m: None,
    )
    assert code == 0


def test_a_process_ignoring_sigterm_is_killed():
    code = serve.supervise(
        [
            (
                "stubborn",
                _python(
                    "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
                    "time.sleep(60)"
                ),
            ),
            ("web", _python("import time; time.sleep(0.5)")),
        ],
        grace=1,
        log=lambda m: None,
    )
    assert code == 0


def test_a_worker_that_dies_is_restarted_with_back_off_and_the_site_keeps_running(tmp_path):
    starts = tmp_path / "starts"
    messages = []
    code = serve.supervise(
        [
            # Dies at once, as a worker killed with kill -9 or by "database is locked".
            ("worker", _python(f"open({str(starts)!r}, 'a').write('x'); import os; os._exit(1)")),
            ("web", _python("import sys, time; time.sleep(2.5); sys.exit(4)")),
        ],
        grace=5,
        backoff=(0.2, 0.4),
        log=messages.append,
    )
    assert code == 4  # the web server's own exit ends serve, as before
    assert len(starts.read_text()) >= 3  # started, then restarted while the site ran
    assert "进程 worker 已退出(状态 1),0.2 秒后重新启动。" in messages
    assert "进程 worker 已退出(状态 1),0.4 秒后重新启动。" in messages  # the pause doubled
    assert "进程 worker 已重新启动。" in messages
