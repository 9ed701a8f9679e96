"""Background work for credit checks (django-tasks; `pubcredit db_worker` runs them, tests use
the ImmediateBackend): batch checks, notifications of new black-list entries, webhook delivery.

A batch check is a leased job (pubcredit.core.jobs, `BATCH_JOB`): if its worker dies mid-way the
sweeper re-enqueues it, and fails it with a Chinese message after PUBCREDIT_JOB_MAX_ATTEMPTS dead
runs."""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext_lazy
from django_tasks import task

from pubcredit.checks.models import CheckBatch
from pubcredit.core.jobs import JobKind, run_leased


def _batch_finished(batch_id: int) -> bool:
    return (
        not CheckBatch.objects.filter(pk=batch_id)
        .exclude(status__in=(CheckBatch.Status.DONE, CheckBatch.Status.FAILED))
        .exists()
    )


def _fail_batch(batch_id: int, message: str) -> None:
    CheckBatch.objects.filter(pk=batch_id).exclude(
        status__in=(CheckBatch.Status.DONE, CheckBatch.Status.FAILED)
    ).update(status=CheckBatch.Status.FAILED, error_message=message, finished_at=timezone.now())


BATCH_JOB = JobKind(
    path="pubcredit.checks.tasks.BATCH_JOB",
    task="pubcredit.checks.tasks.run_batch_task",
    label=gettext_lazy("批量核查"),
    finished=_batch_finished,
    fail=_fail_batch,
)


@task(takes_context=True)
def run_batch_task(context, batch_id: int) -> dict:
    """Run one batch check (checks.batch.run_batch: all or nothing, safe to run again) holding
    its lease."""
    # Imported here: the services enqueue these tasks: a cycle inside the app.
    from pubcredit.checks.batch import run_batch

    batch = run_leased(
        BATCH_JOB, batch_id, lambda: run_batch(batch_id), task_result_id=context.task_result.id
    )
    if batch is None:
        return {"batch": batch_id, "status": "busy"}
    return {"status": batch.status, "rows": batch.rows, "counts": batch.counts}


@task()
def notify_checkers_task(entry_ids: list[int]) -> int:
    """Notify whoever checked the subjects of these new black-list entries in the last 30 days."""
    # Imported here: the services enqueue these tasks: a cycle inside the app.
    from pubcredit.checks.notices import notify_checkers

    return len(notify_checkers(entry_ids))


@task()
def deliver_webhook_task(delivery_id: int) -> str:
    """One attempt to deliver a notification to a system's webhook (retries re-enqueue it)."""
    # Imported here: the services enqueue these tasks: a cycle inside the app.
    from pubcredit.checks.notices import deliver

    delivery = deliver(delivery_id)
    return delivery.status if delivery is not None else "not_due"


@task()
def deliver_due_webhooks_task() -> int:
    """Attempt every webhook delivery that is due (for a periodic schedule)."""
    # Imported here: the services enqueue these tasks: a cycle inside the app.
    from pubcredit.checks.notices import deliver_due

    return deliver_due()
