"""Background work for credit checks (django-tasks; `pubcredit db_worker` runs them, tests use
the ImmediateBackend): batch checks, notifications of new black-list entries, webhook delivery."""

from __future__ import annotations

from django_tasks import task


@task()
def run_batch_task(batch_id: int) -> dict:
    """Run one batch check (check_batch.run_batch: all or nothing, safe to run again)."""
    # Imported here: the services enqueue these tasks: a cycle inside the app.
    from pubcredit.checks.batch import run_batch

    batch = run_batch(batch_id)
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
