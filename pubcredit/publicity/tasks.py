"""Background work for publicity: the daily sweep and full recomputations, run by the task
worker (`pubcredit db_worker`). Schedule `sweep_publicity_task` once a day (e.g. cron
`pubcredit publicity sweep` shortly after midnight Asia/Shanghai, or enqueue the task)."""

from __future__ import annotations

import datetime as dt

from django_tasks import task

from pubcredit.publicity.services import refresh_publicity, sweep_publicity


@task()
def sweep_publicity_task(today: str | None = None) -> dict:
    """The daily sweep (services.sweep_publicity: idempotent, one transaction) for `today`
    (ISO date; default today in Asia/Shanghai). Returns the counts."""

    return sweep_publicity(dt.date.fromisoformat(today) if today else None)


@task()
def refresh_publicity_task(reason: str = "rules") -> dict:
    """Recompute every record's publicity (after the rules changed). Idempotent."""

    return refresh_publicity(reason=reason)
