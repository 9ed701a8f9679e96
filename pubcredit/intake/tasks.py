"""Background work for intake: large submissions are processed by a task worker
(`pubcredit db_worker`, django-tasks' database backend) instead of in the web request.

A submission's processing is a leased job (pubcredit.core.jobs, `SUBMISSION_JOB`): if its worker
dies mid-way the sweeper re-enqueues it (the load is all or nothing and locks its submission, so
a re-run loads every row exactly once), and fails it with a Chinese message after
PUBCREDIT_JOB_MAX_ATTEMPTS dead runs."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy
from django_tasks import task

from pubcredit.accounts.audit import record_event
from pubcredit.accounts.permissions import Principal
from pubcredit.core.jobs import JobKind, run_leased
from pubcredit.intake.models import Submission
from pubcredit.subjects.services import backfill_name_keys


def _submission_finished(submission_id: int) -> bool:
    return (
        not Submission.objects.filter(pk=submission_id)
        .exclude(status__in=(Submission.Status.DONE, Submission.Status.FAILED))
        .exists()
    )


@transaction.atomic
def _fail_submission(submission_id: int, message: str) -> None:
    """Fail a submission whose workers kept dying (the sweeper's verdict), with its audit row."""
    submission = Submission.objects.select_for_update().filter(pk=submission_id).first()
    if submission is None or submission.is_finished:
        return
    before = {"status": submission.status, "progress": submission.progress}
    submission.failure = "load" if submission.status == Submission.Status.LOADING else "engine"
    submission.status = Submission.Status.FAILED
    submission.error_message = message[:2000]
    submission.finished_at = timezone.now()
    submission.save(update_fields=["status", "error_message", "failure", "finished_at"])
    record_event(
        Principal.system("jobs.sweep"),
        "intake.fail",
        submission,
        before=before,
        after={"status": submission.status, "error_message": submission.error_message},
    )


SUBMISSION_JOB = JobKind(
    path="pubcredit.intake.tasks.SUBMISSION_JOB",
    task="pubcredit.intake.tasks.process_submission_task",
    label=gettext_lazy("报送批次"),
    finished=_submission_finished,
    fail=_fail_submission,
)


@task(takes_context=True)
def process_submission_task(context, submission_id: int) -> dict:
    """Process one submission (see services.process_submission: idempotent, all or nothing,
    safe to run again after a crash) holding its lease, and return its summary."""
    # Imported here: the services enqueue these tasks: a cycle inside the app.
    from pubcredit.intake.services import process_submission

    summary = run_leased(
        SUBMISSION_JOB,
        submission_id,
        lambda: process_submission(submission_id).summary(),
        task_result_id=context.task_result.id,
    )
    return summary if summary is not None else {"submission": submission_id, "status": "busy"}


@task()
def backfill_subject_name_keys() -> int:
    """Fill the fuzzy-search key of subjects a bulk load registered without it."""

    return backfill_name_keys()


@task()
def scan_watch_folders_task() -> list[dict]:
    """The scheduled scan of the drop folders in PUBCREDIT_INTAKE_WATCH_FOLDERS (下发, issue 19):
    each new file submitted once, moved to done/ or failed/ (intake.watching)."""
    from pubcredit.intake.watching import scan_configured_folders  # imports the services

    return scan_configured_folders()
