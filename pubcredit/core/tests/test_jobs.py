"""Leases, the sweeper and the locked-database retry (pubcredit.core.jobs), on the job kinds the
platform has: intake submissions and batch checks. The worker really killed mid-load is
pubcredit/ops/tests/test_jobs_recovery.py."""

from __future__ import annotations

import datetime as dt
import io
import json
import sqlite3
import subprocess
import sys
import threading

import pytest
from django.core.management import call_command
from django.db import OperationalError, connection, transaction
from django.db.backends.sqlite3.base import DatabaseWrapper
from django.utils import timezone
from django.utils.module_loading import import_string
from django_tasks_db.models import DBTaskResult

from pubcredit.accounts.models import AuditEvent
from pubcredit.checks.tasks import BATCH_JOB
from pubcredit.core import jobs
from pubcredit.core.models import JobLease
from pubcredit.intake.models import Submission
from pubcredit.intake.tasks import SUBMISSION_JOB, process_submission_task

SUBMISSION_TASK = "pubcredit.intake.tasks.process_submission_task"


@pytest.fixture
def queue(settings):
    """The database task backend: enqueued tasks wait in the queue, as under a real worker."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


def dead_token() -> str:
    """The process token of a process of this host that has exited (and was reaped)."""
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    token = jobs.process_token(proc.pid)
    proc.wait()
    return token


def running_result(submission_id: int, holder: str) -> str:
    """A RUNNING task result of the submission's task, as a worker leaves it when it dies."""
    result = process_submission_task.enqueue(submission_id)
    DBTaskResult.objects.filter(id=result.id).update(
        status="RUNNING", started_at=timezone.now(), worker_ids=[holder]
    )
    return str(result.id)


def lease(object_id: int, holder: str, *, attempts: int = 1, expires_in: float = 60, result=""):
    return JobLease.objects.create(
        kind=SUBMISSION_JOB.path,
        object_id=object_id,
        holder=holder,
        attempts=attempts,
        task_result_id=result,
        started_at=timezone.now(),
        expires_at=timezone.now() + dt.timedelta(seconds=expires_in),
    )


# --------------------------------------------------------------------------- process tokens


def test_a_process_token_names_a_live_process_until_it_exits():
    assert jobs.process_alive(jobs.process_token()) is True
    assert jobs.process_alive(dead_token()) is False
    # pid reused by another process: same pid, another start time
    host, pid, _start = jobs.process_token().rsplit(":", 2)
    assert jobs.process_alive(f"{host}:{pid}:1") is False
    assert jobs.process_alive("another-host:1:1") is None  # only its lease can tell
    assert len(jobs.process_token()) <= 64  # fits django-tasks-db's worker ids


# --------------------------------------------------------------------------- the sweeper


@pytest.mark.django_db
def test_a_dead_workers_job_is_requeued_and_its_task_result_failed(make_submission, queue):
    sub = make_submission(status=Submission.Status.LOADING, progress=60)
    holder = dead_token()
    result = running_result(sub.pk, holder)
    lease(sub.pk, holder, result=result)  # not expired: the dead process is enough

    (swept,) = jobs.sweep()

    assert (swept.action, swept.object_id, swept.attempts) == ("requeued", sub.pk, 1)
    dead = DBTaskResult.objects.get(id=result)
    assert dead.status == "FAILED" and dead.exception_class_path == "pubcredit.core.jobs.WorkerLost"
    assert "已意外终止" in dead.traceback
    (new,) = DBTaskResult.objects.filter(task_path=SUBMISSION_TASK, status="READY")
    assert new.args_kwargs == {"args": [sub.pk], "kwargs": {}}
    waiting = JobLease.objects.get(object_id=sub.pk)
    assert (waiting.holder, waiting.attempts, waiting.task_result_id) == ("", 1, str(new.id))
    assert jobs.sweep() == []  # waiting for a worker: nothing more to do


@pytest.mark.django_db
def test_an_expired_lease_of_another_host_is_requeued_a_live_one_is_not(make_submission, queue):
    expired = make_submission(status=Submission.Status.PROCESSING)
    current = make_submission(status=Submission.Status.PROCESSING)
    ours = make_submission(status=Submission.Status.LOADING)
    lease(expired.pk, "worker-2:4242:99", expires_in=-1)
    lease(current.pk, "worker-2:4243:99", expires_in=60)
    # This process is alive: its lease stands even expired (a long SQLite load beats late).
    lease(ours.pk, jobs.process_token(), expires_in=-600)

    assert [(s.action, s.object_id) for s in jobs.sweep()] == [("requeued", expired.pk)]

    assert JobLease.objects.get(object_id=current.pk).holder == "worker-2:4243:99"
    assert JobLease.objects.get(object_id=ours.pk).holder == jobs.process_token()
    assert DBTaskResult.objects.filter(task_path=SUBMISSION_TASK).count() == 1
    assert Submission.objects.get(pk=current.pk).status == "processing"


@pytest.mark.django_db
def test_after_three_dead_runs_the_submission_fails_with_a_chinese_message(make_submission, queue):
    sub = make_submission(status=Submission.Status.LOADING, progress=60)
    holder = dead_token()
    result = running_result(sub.pk, holder)
    lease(sub.pk, holder, attempts=3, result=result)

    (swept,) = jobs.sweep()

    assert swept.action == "failed"
    sub.refresh_from_db()
    assert sub.status == "failed" and sub.failure == "load" and sub.finished_at is not None
    assert sub.error_message == (
        "后台处理进程在处理该报送批次时已连续 3 次意外终止(例如被强制结束或内存不足),"
        "已停止自动重试;请联系平台管理员排查后重新处理。"
    )
    assert not JobLease.objects.exists()
    assert DBTaskResult.objects.get(id=result).status == "FAILED"
    assert not DBTaskResult.objects.filter(status="READY").exists()  # not enqueued again
    event = AuditEvent.objects.get(action="intake.fail")
    assert event.object_id == str(sub.pk)


@pytest.mark.django_db
def test_a_job_that_finished_before_its_worker_died_is_only_released(make_submission, queue):
    sub = make_submission(status=Submission.Status.DONE, progress=100)
    lease(sub.pk, dead_token())
    assert [s.action for s in jobs.sweep()] == ["released"]
    assert not JobLease.objects.exists()
    assert not DBTaskResult.objects.exists()
    assert Submission.objects.get(pk=sub.pk).status == "done"


@pytest.mark.django_db
def test_a_running_task_result_of_a_dead_worker_without_a_lease_is_failed(queue):
    holder = dead_token()
    result = import_string("pubcredit.checks.tasks.deliver_due_webhooks_task").enqueue()
    DBTaskResult.objects.filter(id=result.id).update(status="RUNNING", worker_ids=[holder])
    alive = import_string("pubcredit.checks.tasks.deliver_due_webhooks_task").enqueue()
    DBTaskResult.objects.filter(id=alive.id).update(
        status="RUNNING", worker_ids=[jobs.process_token()]
    )

    assert [s.action for s in jobs.sweep()] == ["task_failed"]
    assert DBTaskResult.objects.get(id=result.id).status == "FAILED"
    assert DBTaskResult.objects.get(id=alive.id).status == "RUNNING"


@pytest.mark.django_db
def test_sweep_jobs_command_prints_what_it_did(make_submission, queue):
    sub = make_submission(status=Submission.Status.LOADING)
    lease(sub.pk, dead_token(), attempts=2)
    out = io.StringIO()
    call_command("sweep_jobs", "--json", stdout=out)
    (row,) = json.loads(out.getvalue())
    assert (row["action"], row["kind"], row["object_id"], row["attempts"]) == (
        "requeued",
        "pubcredit.intake.tasks.SUBMISSION_JOB",
        sub.pk,
        2,
    )
    out = io.StringIO()
    call_command("sweep_jobs", stdout=out)
    assert out.getvalue().strip() == "没有需要接管的任务。"


def test_every_job_kind_is_found_where_its_leases_say():
    for kind in (SUBMISSION_JOB, BATCH_JOB):
        assert import_string(kind.path) is kind
        assert import_string(kind.task).module_path == kind.task


# --------------------------------------------------------------------------- leases


@pytest.mark.django_db
def test_a_job_held_by_a_live_worker_is_not_run_twice(make_submission):
    sub = make_submission()
    lease(sub.pk, "worker-2:4242:99")  # another host, lease current
    ran = []
    assert jobs.run_leased(SUBMISSION_JOB, sub.pk, lambda: ran.append(1)) is None
    assert ran == []


@pytest.mark.django_db
def test_a_run_counts_an_attempt_and_ends_by_deleting_its_lease(make_submission):
    sub = make_submission()
    lease(sub.pk, "", attempts=1)  # re-enqueued by the sweeper after one dead run
    seen = []

    def work():
        held = JobLease.objects.get(object_id=sub.pk)
        seen.append((held.holder, held.attempts))
        return "done"

    assert jobs.run_leased(SUBMISSION_JOB, sub.pk, work) == "done"
    assert seen == [(jobs.process_token(), 2)]
    assert not JobLease.objects.exists()

    with pytest.raises(ZeroDivisionError):  # a failure the job did not handle: still released
        jobs.run_leased(SUBMISSION_JOB, sub.pk, lambda: 1 / 0)
    assert not JobLease.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_the_heartbeat_pushes_the_lease_forward(make_submission, settings):
    settings.PUBCREDIT_JOB_LEASE_SECONDS = 4  # a beat every second
    sub = make_submission()
    beats = []

    def work():
        first = JobLease.objects.get(object_id=sub.pk).expires_at
        threading.Event().wait(2.5)
        beats.append(JobLease.objects.get(object_id=sub.pk).expires_at - first)

    jobs.run_leased(SUBMISSION_JOB, sub.pk, work)
    assert beats[0] >= dt.timedelta(seconds=1)


# --------------------------------------------------------------------------- locked database


@pytest.fixture
def locked_sqlite(tmp_path, django_db_blocker):
    """A Django connection to a SQLite file whose write lock another connection holds (with a
    busy timeout of 50 ms), and a function releasing the lock."""
    path = tmp_path / "locked.sqlite3"
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    holder.execute("CREATE TABLE t (n integer)")
    holder.execute("BEGIN IMMEDIATE")
    holder.execute("INSERT INTO t VALUES (1)")
    settings_dict = {
        **connection.settings_dict,
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": str(path),
        "OPTIONS": {"timeout": 0.05},
        "TEST": {},
    }
    with django_db_blocker.unblock():
        wrapper = DatabaseWrapper(settings_dict, alias="locked")
        yield wrapper, holder.commit
        wrapper.close()
    holder.close()


def _insert(wrapper) -> None:
    with wrapper.cursor() as cursor:
        cursor.execute("INSERT INTO t VALUES (2)")


def test_a_locked_write_fails_without_the_retry(locked_sqlite):
    wrapper, _release = locked_sqlite
    with pytest.raises(OperationalError) as failed:
        _insert(wrapper)
    assert jobs.is_locked(failed.value)


def test_a_locked_write_is_retried_until_the_lock_is_released(locked_sqlite):
    wrapper, release = locked_sqlite
    calls = []

    @jobs.retry_locked(attempts=8, delay=0.05)
    def write():
        calls.append(1)
        _insert(wrapper)

    threading.Timer(0.4, release).start()
    write()
    assert len(calls) >= 2  # it met the lock, waited and wrote
    with wrapper.cursor() as cursor:
        cursor.execute("SELECT n FROM t ORDER BY n")
        assert cursor.fetchall() == [(1,), (2,)]


def test_the_retry_gives_up_after_its_attempts(locked_sqlite):
    wrapper, _release = locked_sqlite
    calls = []

    @jobs.retry_locked(attempts=3, delay=0.01)
    def write():
        calls.append(1)
        _insert(wrapper)

    with pytest.raises(OperationalError):
        write()
    assert len(calls) == 3


@pytest.mark.django_db
def test_inside_a_transaction_the_retry_calls_once(locked_sqlite):
    wrapper, _release = locked_sqlite
    calls = []

    @jobs.retry_locked(attempts=3, delay=0.01)
    def write():
        calls.append(1)
        _insert(wrapper)

    with transaction.atomic(), pytest.raises(OperationalError):
        write()
    assert calls == [1]
