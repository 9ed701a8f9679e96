"""Publicity services: what is public today (queries), recomputing the read model from records +
rules + facts (`refresh_publicity`), the daily sweep (`sweep_publicity`) and the facts people add
(`set_tier`, `add_mark`, `lift_mark`).

Queries (for the portal, the public API and credit checks) read only the narrow `Publicity` table
and the records it points to by primary key; they never derive anything at read time.
"""

from __future__ import annotations

import datetime as dt

from django.db.models import Q, QuerySet
from django.utils import timezone

from pubcredit.publicity.models import PUBLIC_STATES, Publicity
from pubcredit.records.models import Record


def _today(today: dt.date | None) -> dt.date:
    return today or timezone.localdate()


# --------------------------------------------------------------------------- queries


def is_public_q(today: dt.date | None = None, *, prefix: str = "publicity__") -> Q:
    """A filter for "public on `today`" (default: today in Asia/Shanghai).

    The default prefix suits Record querysets (`Record.objects.filter(is_public_q())`); pass
    `prefix=""` for Publicity querysets. Public means: state 公示中 or 异议处理中 (shown with its
    flag), start <= today, and no end or today before the end. The state is what the last refresh
    or sweep decided; the date test keeps the answer right between two sweeps."""
    day = _today(today)
    p = prefix
    return (
        Q(**{f"{p}state__in": PUBLIC_STATES})
        & Q(**{f"{p}start__lte": day})
        & (Q(**{f"{p}end__isnull": True}) | Q(**{f"{p}end__gt": day}))
    )


def public_records(
    subject_id: int, category_code: str | None = None, today: dt.date | None = None
) -> QuerySet[Record]:
    """The subject's records public on `today`, optionally of one category (code, e.g. "CF"),
    newest decision first, with `publicity`, `category` and `department` joined in. Served by
    the index (subject, state) of the read model."""
    qs = (
        Record.objects.filter(is_public_q(today), publicity__subject_id=subject_id)
        .select_related("publicity", "category", "department")
        .order_by("-publicity__start", "-id")
    )
    if category_code:
        qs = qs.filter(publicity__category__code=category_code)
    return qs


def public_counts(subject_id: int, today: dt.date | None = None) -> dict[str, int]:
    """{category code: number of the subject's records public on `today`} (for the tabs of a
    subject page); categories with none are absent."""
    rows = (
        Publicity.objects.filter(is_public_q(today, prefix=""), subject_id=subject_id)
        .values_list("category__code")
        .order_by()
    )
    counts: dict[str, int] = {}
    for (code,) in rows:
        counts[code] = counts.get(code, 0) + 1
    return counts


def _pk(value, model_name: str):
    """A Department/Category given as instance, id or code → filter kwargs."""
    if value is None:
        return {}
    if hasattr(value, "pk"):
        return {f"{model_name}_id": value.pk}
    if isinstance(value, int):
        return {f"{model_name}_id": value}
    return {f"{model_name}__code": str(value)}


def publicity_lists(
    department=None,
    category=None,
    since: dt.date | None = None,
    today: dt.date | None = None,
) -> QuerySet[Publicity]:
    """The 双公示 publicity lists: rows public on `today`, latest start first, optionally of one
    department and/or category (instance, id or code) and with start on or after `since`. Rows
    come with `record`, `category` and `department` joined in; slice the queryset to paginate
    (served by the partial indexes on start for state 公示中)."""
    qs = Publicity.objects.filter(is_public_q(today, prefix=""))
    qs = qs.filter(**_pk(department, "department"), **_pk(category, "category"))
    if since is not None:
        qs = qs.filter(start__gte=since)
    return qs.select_related("record", "category", "department").order_by("-start", "-record_id")


def publicity_of(record: Record | int) -> Publicity | None:
    """The publicity row of one record (None until the first refresh has seen it)."""
    pk = record.pk if hasattr(record, "pk") else record
    return Publicity.objects.filter(pk=pk).select_related("regime").first()


# --------------------------------------------------------------------------- writes (interface)


def refresh_publicity(
    record_ids=None,
    *,
    today: dt.date | None = None,
    submission_id: int | None = None,
    reason: str = "refresh",
) -> dict:
    """Recompute the Publicity rows of the given records (all records when both `record_ids`
    and `submission_id` are None), set-based. Implementation follows."""
    raise NotImplementedError


def sweep_publicity(today: dt.date | None = None) -> dict:
    """The daily sweep: end publicity whose end date has passed. Implementation follows."""
    raise NotImplementedError
