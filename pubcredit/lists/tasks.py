"""Background work for lists, run by the task worker (`pubcredit db_worker`). Schedule
`expire_entries_task` once a day shortly after midnight Asia/Shanghai (or cron `pubcredit lists
expire`); `entries_from_records_task` after intake loaded records of a list category."""

from __future__ import annotations

import datetime as dt

from django_tasks import task

from pubcredit.lists.services import entries_from_records, expire_entries


@task()
def expire_entries_task(today: str | None = None) -> dict:
    """The daily expiry sweep (services.expire_entries: idempotent, one transaction) for
    `today` (ISO date; default today in Asia/Shanghai)."""

    return {"expired": expire_entries(dt.date.fromisoformat(today) if today else None)}


@task()
def entries_from_records_task(record_ids: list[int]) -> dict:
    """Turn records of list categories into list entries (services.entries_from_records)."""

    return entries_from_records(record_ids)
