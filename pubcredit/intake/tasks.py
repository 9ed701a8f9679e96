"""Background work for intake: large submissions are processed by a task worker
(`pubcredit db_worker`, django-tasks' database backend) instead of in the web request."""

from __future__ import annotations

from django_tasks import task

from pubcredit.subjects.services import backfill_name_keys


@task()
def process_submission_task(submission_id: int) -> dict:
    """Process one submission (see services.process_submission: idempotent, all or nothing,
    safe to run again after a crash) and return its summary."""
    # Imported here: the services enqueue these tasks: a cycle inside the app.
    from pubcredit.intake.services import process_submission

    return process_submission(submission_id).summary()


@task()
def backfill_subject_name_keys() -> int:
    """Fill the fuzzy-search key of subjects a bulk load registered without it."""

    return backfill_name_keys()
