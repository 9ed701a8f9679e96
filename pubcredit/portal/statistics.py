"""数据统计: the portal's public statistics (信用中国-style) — 双公示 records by month and by
department, list entries by list type. Public data only: a record counts when it is public today
(`publicity.services.is_public_q`, the portal's one rule), a list type when the portal shows it
(`joint.public_list_types`). Counts and catalogue names only, no subject; cached. Read-only."""

from __future__ import annotations

import datetime as dt

from django.core.cache import cache
from django.db.models import Count
from django.db.models.functions import TruncMonth
from django.utils import timezone
from django.utils.translation import get_language

from pubcredit.catalog.models import Category
from pubcredit.portal import joint
from pubcredit.publicity.models import Publicity
from pubcredit.publicity.services import is_public_q

CACHE_SECONDS = 600
MONTHS = 12
DOUBLE_PUBLICITY = ("XK", "CF")  # 双公示: 行政许可, 行政处罚


def _months(today: dt.date) -> list[dt.date]:
    index = today.year * 12 + today.month - 1
    return [
        dt.date((index - back) // 12, (index - back) % 12 + 1, 1)
        for back in range(MONTHS - 1, -1, -1)
    ]


def _public_double(today: dt.date, since: dt.date):
    """双公示 rows public today whose publicity started on or after `since`."""
    return Publicity.objects.filter(
        is_public_q(today, prefix=""),
        category__code__in=DOUBLE_PUBLICITY,
        start__gte=since,
        start__lte=today,
    ).order_by()


def double_publicity(today: dt.date) -> dict:
    """双公示 records public today by the month their publicity started (the last MONTHS months)
    and by department (the same months; departments with most first), per category."""
    months = _months(today)
    names = dict(Category.objects.filter(code__in=DOUBLE_PUBLICITY).values_list("code", "name"))
    rows = (
        _public_double(today, months[0])
        .annotate(m=TruncMonth("start"))
        .values("m", "category__code")
        .annotate(n=Count("record_id"))
    )
    per_month = {code: [0] * len(months) for code in DOUBLE_PUBLICITY}
    index = {f"{m:%Y-%m}": i for i, m in enumerate(months)}
    for row in rows:
        i = index.get(f"{row['m']:%Y-%m}")
        if i is not None:
            per_month[row["category__code"]][i] += int(row["n"])
    departments: dict[str, dict[str, int]] = {}
    for row in (
        _public_double(today, months[0])
        .values("department__name", "category__code")
        .annotate(n=Count("record_id"))
    ):
        cell = departments.setdefault(row["department__name"], dict.fromkeys(DOUBLE_PUBLICITY, 0))
        cell[row["category__code"]] += int(row["n"])
    by_department = [
        {"name": name, "counts": [cell[c] for c in DOUBLE_PUBLICITY], "total": sum(cell.values())}
        for name, cell in departments.items()
    ]
    by_department.sort(key=lambda d: (-d["total"], d["name"]))
    labels = [f"{m:%Y-%m}" for m in months]
    return {
        "categories": [
            {"code": c, "label": names.get(c, c), "total": sum(per_month[c])}
            for c in DOUBLE_PUBLICITY
        ],
        "months": labels,
        "per_month": [per_month[c] for c in DOUBLE_PUBLICITY],
        "rows": [
            {"month": label, "counts": [per_month[c][i] for c in DOUBLE_PUBLICITY]}
            for i, label in enumerate(labels)
        ],
        "departments": by_department,
    }


def list_counts(today: dt.date) -> list[dict]:
    """Entries in force per public list type (红名单 and 黑名单), as the 联合奖惩 page shows them."""
    return [
        {"code": t.code, "name": t.name, "kind": t.kind, "kind_label": t.kind_label, "n": t.entries}
        for t in joint.public_list_types(today)
    ]


def public_statistics(today: dt.date | None = None) -> dict:
    """The page's figures, cached for CACHE_SECONDS per day and language."""
    day = today or timezone.localdate()
    key = f"portal:statistics:{day:%Y-%m-%d}:{get_language()}"
    found = cache.get(key)
    if found is None:
        found = {"double": double_publicity(day), "lists": list_counts(day)}
        cache.set(key, found, CACHE_SECONDS)
    return found
