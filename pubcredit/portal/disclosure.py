"""What is public today, as the publicity rules decide it (`pubcredit.publicity.services`).

The portal never decides publicity itself: every record it shows comes through these calls,
which read the publicity read model. They are gathered here so the pages and the public API ask
the same questions the same way, and render what they get with `portal.public`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils import timezone

from pubcredit.portal.public import PublicRecord, public_record


def _services():
    from pubcredit.publicity import services

    return services


def today_or(day: dt.date | None) -> dt.date:
    return day or timezone.localdate()


@dataclass(frozen=True)
class RecordPage:
    items: list[PublicRecord]
    total: int
    offset: int
    limit: int


def _render(record, *, include_subject: bool) -> PublicRecord:
    publicity = getattr(record, "publicity", None)
    department = getattr(record, "department", None)
    return public_record(
        record,
        include_subject=include_subject,
        department_name=getattr(department, "name", "") if department else "",
        publicity_start=getattr(publicity, "start", None),
        publicity_end=getattr(publicity, "end", None),
    )


def subject_counts(subject_id: int, today: dt.date | None = None) -> dict[str, int]:
    """{category code: records of the subject public today}."""
    return _services().public_counts(subject_id, today=today_or(today))


def subject_records(
    subject_id: int,
    category_code: str,
    *,
    today: dt.date | None = None,
    offset: int = 0,
    limit: int = 20,
) -> RecordPage:
    """One page of the subject's records of a category that are public today, newest first."""
    qs = _services().public_records(subject_id, category_code, today=today_or(today))
    total = qs.count()
    rows = list(qs[offset : offset + limit]) if offset < total else []
    return RecordPage([_render(r, include_subject=False) for r in rows], total, offset, limit)


def publicity_list(
    *,
    category: str | None = None,
    department: str | None = None,
    since: dt.date | None = None,
    today: dt.date | None = None,
    offset: int = 0,
    limit: int = 20,
    count_cap: int = 10_000,
) -> RecordPage:
    """One page of the 双公示 publicity list (latest first). The total is counted up to
    `count_cap` (a city's full list has hundreds of thousands of rows)."""
    qs = _services().publicity_lists(
        department=department, category=category, since=since, today=today_or(today)
    )
    total = qs[:count_cap].count()
    rows = list(qs[offset : offset + limit]) if offset < total else []
    items = []
    for publicity in rows:
        record = publicity.record
        # The list row carries category, department and publicity: reuse them on the record.
        record.publicity = publicity
        record.department = publicity.department
        items.append(_render(record, include_subject=True))
    return RecordPage(items, total, offset, limit)


def public_record_detail(record_id: int, today: dt.date | None = None) -> PublicRecord | None:
    """One record if it is public today, else None."""
    from pubcredit.records.models import Record

    record = (
        Record.objects.filter(_services().is_public_q(today_or(today)), pk=record_id)
        .select_related("publicity", "department")
        .first()
    )
    return _render(record, include_subject=True) if record else None
