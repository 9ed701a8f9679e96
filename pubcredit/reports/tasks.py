"""Background work for credit reports (django-tasks; `pubcredit db_worker` runs it, tests use the
ImmediateBackend): a batch of reports is a leased job (pubcredit.core.jobs, `REPORT_BATCH_JOB`):
if its worker dies mid-way the sweeper re-enqueues it (the run goes on where it stopped: the
reports already issued for the batch are not issued again), and fails it with a Chinese message
after PUBCREDIT_JOB_MAX_ATTEMPTS dead runs."""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext_lazy
from django_tasks import task

from pubcredit.core.jobs import JobKind, run_leased
from pubcredit.reports.models import ReportBatch

_ENDED = (ReportBatch.Status.DONE, ReportBatch.Status.FAILED)


def _batch_finished(batch_id: int) -> bool:
    return not ReportBatch.objects.filter(pk=batch_id).exclude(status__in=_ENDED).exists()


def _fail_batch(batch_id: int, message: str) -> None:
    ReportBatch.objects.filter(pk=batch_id).exclude(status__in=_ENDED).update(
        status=ReportBatch.Status.FAILED, error_message=message, finished_at=timezone.now()
    )


REPORT_BATCH_JOB = JobKind(
    path="pubcredit.reports.tasks.REPORT_BATCH_JOB",
    task="pubcredit.reports.tasks.run_report_batch_task",
    label=gettext_lazy("批量出具信用报告"),
    finished=_batch_finished,
    fail=_fail_batch,
)


@task(takes_context=True)
def run_report_batch_task(context, batch_id: int) -> dict:
    """Run one batch of reports (reports.batch.run_batch) holding its lease."""
    # Imported here: the batch module enqueues this task: a cycle inside the app.
    from pubcredit.reports.batch import run_batch

    batch = run_leased(
        REPORT_BATCH_JOB,
        batch_id,
        lambda: run_batch(batch_id),
        task_result_id=context.task_result.id,
    )
    if batch is None:
        return {"batch": batch_id, "status": "busy"}
    return {"status": batch.status, "rows": batch.rows, "issued": batch.issued}
