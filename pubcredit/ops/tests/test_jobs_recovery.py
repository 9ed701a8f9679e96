"""Real task workers on the suite's database (SQLite file or PostgreSQL): one killed (SIGKILL) in
the middle of an intake load, whose job the sweeper takes over so that a new worker loads the
submission, every row exactly once; one that meets a locked database and waits it out."""

from __future__ import annotations

import json
import subprocess
import time

import pytest
from django.utils.module_loading import import_string

from pubcredit.accounts.permissions import Principal
from pubcredit.core.jobs import WORKER_LOST
from pubcredit.intake.models import Submission
from pubcredit.intake.services import submit_file
from pubcredit.testing.loadkit import cf_csv, cf_row

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("worker-processes")]

# Enough rows for the load to last a second or more: the worker is killed inside it.
ROWS = 10_000
TASK = "pubcredit.intake.tasks.process_submission_task"
SWEEP = "pubcredit.ops.schedule.sweep_jobs_task"


def _wait_for(db, sql: str, params, want, *, timeout: float = 90.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        rows = db.query(sql, params)
        if rows and rows[0][0] == want:
            return
        time.sleep(0.02)
    raise AssertionError(f"waited {timeout}s for {want!r}: {db.query(sql, params)}")


def test_a_worker_killed_mid_load_is_taken_over_and_the_rows_load_exactly_once(
    shared_db, tmp_path, department, cf, settings
):
    db = shared_db
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    rows = [
        cf_row(900_000 + i, source_uscc=department.uscc, wsh=f"崩溃〔2024〕{i}号")
        for i in range(ROWS)
    ]
    path = tmp_path / "crash.csv"
    path.write_bytes(cf_csv(rows, headers="codes"))

    sub = submit_file(
        Principal.system("test"),
        department=department,
        category=cf,
        source=path,
        filename="crash.csv",
        channel=Submission.Channel.CLI,
        background=True,
    ).pk
    db.share()
    subjects_before = db.query("SELECT COUNT(*) FROM subjects_subject")[0][0]
    status_sql = "SELECT status FROM intake_submission WHERE id = ?"

    worker = subprocess.Popen(
        db.command("db_worker", "--queue-name", "*", "--no-reload", "--no-startup-delay"),
        env=db.env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_for(db, status_sql, (sub,), "loading")
    finally:
        worker.kill()  # SIGKILL, as `kill -9` or the OOM killer
        worker.wait()
    assert worker.returncode == -9

    # What the dead worker left: the submission at 入库中 60 %, nothing loaded, the task
    # RUNNING, its lease held by a process that is gone.
    assert db.query("SELECT status, progress FROM intake_submission WHERE id = ?", (sub,)) == [
        ("loading", 60)
    ]
    assert db.query("SELECT COUNT(*) FROM records_record WHERE submission_id = ?", (sub,)) == [(0,)]
    ((dead_result, status),) = db.query(
        "SELECT id, status FROM django_tasks_database_dbtaskresult WHERE task_path = ?", (TASK,)
    )
    assert status == "RUNNING"
    ((holder, attempts),) = db.query(
        "SELECT holder, attempts FROM core_joblease WHERE object_id = ?", (sub,)
    )
    assert holder.split(":")[1] == str(worker.pid) and attempts == 1

    swept = db.run("sweep_jobs", "--json")
    assert swept.returncode == 0, swept.stderr
    (action,) = json.loads(swept.stdout)
    assert (action["action"], action["object_id"], action["attempts"]) == ("requeued", sub, 1)
    results = dict(
        db.query(
            "SELECT id, status FROM django_tasks_database_dbtaskresult WHERE task_path = ?", (TASK,)
        )
    )
    assert sorted(results.values()) == ["FAILED", "READY"]
    assert results[dead_result] == "FAILED"
    assert db.query(
        "SELECT exception_class_path FROM django_tasks_database_dbtaskresult WHERE id = ?",
        (dead_result,),
    ) == [(WORKER_LOST,)]

    # One task: the submission (the subjects' name keys it enqueues next are not under test).
    again = db.run(
        "db_worker",
        "--batch",
        "--max-tasks",
        "1",
        "--queue-name",
        "*",
        "--no-reload",
        "--no-startup-delay",
    )
    assert again.returncode == 0, again.stderr

    assert db.query(
        "SELECT status, progress, inserted, updated, rows, attempts FROM intake_submission "
        "WHERE id = ?",
        (sub,),
    ) == [("done", 100, ROWS, 0, ROWS, 2)]
    assert db.query(
        "SELECT COUNT(*), COUNT(DISTINCT business_key) FROM records_record WHERE submission_id = ?",
        (sub,),
    ) == [(ROWS, ROWS)]
    assert db.query(
        "SELECT COUNT(*) FROM records_record WHERE business_key LIKE ?", ("崩溃%",)
    ) == [(ROWS,)]
    assert db.query("SELECT COUNT(*) FROM subjects_subject")[0][0] == subjects_before + ROWS
    assert db.query("SELECT COUNT(*) FROM core_joblease") == [(0,)]
    assert sorted(
        s
        for (s,) in db.query(
            "SELECT status FROM django_tasks_database_dbtaskresult WHERE task_path = ?", (TASK,)
        )
    ) == ["FAILED", "SUCCESSFUL"]


def test_a_worker_waits_out_a_locked_database_instead_of_exiting(shared_db, settings):
    db = shared_db
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    import_string(SWEEP).enqueue()
    db.share()
    # Another process holds the write lock for longer than the worker's busy timeout (0.2 s
    # here, 30 s by default), as a long intake load does on SQLite.
    db.env["PUBCREDIT_SQLITE_TIMEOUT"] = "0.2"
    release = db.hold_write_lock()
    worker = subprocess.Popen(
        db.command("db_worker", "--batch", "--queue-name", "*", "--no-reload"),
        env=db.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        # SQLite: the worker met the lock (and waits); PostgreSQL: it is up, its poll blocked.
        marker = "database locked" if db.vendor == "sqlite" else "Starting worker"
        seen = []
        for line in worker.stdout:
            seen.append(line)
            if marker in line:
                break
        time.sleep(1)
    finally:
        release()
    output = "".join(seen) + worker.communicate(timeout=120)[0]
    assert worker.returncode == 0, output
    assert marker in output
    assert db.query(
        "SELECT status FROM django_tasks_database_dbtaskresult WHERE task_path = ?", (SWEEP,)
    ) == [("SUCCESSFUL",)]
