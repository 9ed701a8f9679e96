"""Background work of credit evaluation, run by the task worker (`pubcredit db_worker`):
`compute_subjects_task` after a change too large to recompute in its own transaction
(services.recompute_later), `compute_all_task` for a full recomputation (a large load, a new
scorecard version, or once a day so that windows move with the calendar)."""

from __future__ import annotations

import datetime as dt

from django_tasks import task

from pubcredit.scoring.services import compute_all, compute_subjects


def _day(today: str | None) -> dt.date | None:
    return dt.date.fromisoformat(today) if today else None


@task()
def compute_subjects_task(subject_ids: list[int], today: str | None = None) -> list:
    """Recompute these subjects under every scorecard in force (services.compute_subjects)."""
    return compute_subjects(subject_ids, as_of=_day(today))


@task()
def compute_all_task(today: str | None = None) -> list:
    """Recompute every subject of every scorecard in force (services.compute_all)."""
    return compute_all(as_of=_day(today))
