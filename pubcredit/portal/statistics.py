"""数据统计: the portal's public statistics (信用中国-style) — 双公示 records by month and by
department, list entries by list type. Public data only: a record counts when it is public today
(the portal's one rule, `publicity.services.is_public_q`: read from the publicity app's kept
counts, `publicity.tally.public_by_month`, never by scanning the read model), a list type when
the portal shows it (`joint.public_list_types`). Counts and catalogue names only, no subject;
cached. Read-only."""

from __future__ import annotations

import datetime as dt

from django.core.cache import cache
from django.utils import timezone
from django.utils.translation import get_language

from pubcredit.catalog.models import Category, Department
from pubcredit.portal import joint
from pubcredit.publicity.tally import public_by_month

CACHE_SECONDS = 600
MONTHS = 12
DOUBLE_PUBLICITY = ("XK", "CF")  # 双公示: 行政许可, 行政处罚


def _months(today: dt.date) -> list[dt.date]:
    index = today.year * 12 + today.month - 1
    return [
        dt.date((index - back) // 12, (index - back) % 12 + 1, 1)
        for back in range(MONTHS - 1, -1, -1)
    ]


def double_publicity(today: dt.date) -> dict:
    """双公示 records public today by the month their publicity started (the last MONTHS months)
    and by department (the same months; departments with most first), per category."""
    months = _months(today)
    categories = {
        pk: (code, name)
        for pk, code, name in Category.objects.filter(code__in=DOUBLE_PUBLICITY).values_list(
            "pk", "code", "name"
        )
    }
    names = dict(categories.values())
    counts = public_by_month(today, months[0], categories)
    department_names = dict(
        Department.objects.filter(
            pk__in=counts.get_column("department_id").unique().to_list()
        ).values_list("pk", "name")
    )
    per_month = {code: [0] * len(months) for code in DOUBLE_PUBLICITY}
    index = {m: i for i, m in enumerate(months)}
    departments: dict[str, dict[str, int]] = {}
    for category_id, department_id, month, n in counts.iter_rows():  # a few hundred keys
        code = categories[category_id][0]
        per_month[code][index[month]] += n
        name = department_names.get(department_id, "")
        cell = departments.setdefault(name, dict.fromkeys(DOUBLE_PUBLICITY, 0))
        cell[code] += n
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
