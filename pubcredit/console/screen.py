"""信用大数据可视化: the figures of the control room's big screen (/console/screen/).

Each figure is one function of `today` returning plain JSON-ready data, read from kept
statistics where the counts are large (records in force: bulletins.tallies; subjects:
subjects.tally; the monthly metrics of the bulletins) and otherwise computed with set-based
aggregate queries over the live tables; `screen_data` assembles them and keeps the result in the
"default" cache for CACHE_SECONDS. A figure is re-pointed by changing its one function; the page
and its script do not change. Every chart item carries the URL of the console list behind it.
Read-only.

The screen shows the whole city: only principals who see every row may open it (`may_view`).
"""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlencode

from django.core.cache import cache
from django.db.models import Count, Q
from django.db.models.functions import TruncMonth
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from pubcredit.accounts.permissions import Principal
from pubcredit.bulletins.formulas import BY_NAME
from pubcredit.bulletins.statistics import metrics_for_month
from pubcredit.bulletins.tallies import (
    in_force_by_category,
    in_force_by_month,
    in_force_by_region,
    top_violations,
)
from pubcredit.catalog.models import Category, Department, Region, SubjectKind
from pubcredit.catalog.regions import SEED_CITY
from pubcredit.checks.models import CreditCheck
from pubcredit.commitments.models import Commitment
from pubcredit.lists.models import EntryStatus, ListEntry, ListKind
from pubcredit.lists.services import active_entries_q
from pubcredit.repair.models import OPEN_OBJECTION, OPEN_REPAIR, Objection, RepairApplication
from pubcredit.subjects.tally import by_kind as subjects_by_kind
from pubcredit.subjects.tally import by_region as subjects_by_region

CACHE_SECONDS = 60
MONTHS = 12
TOP_VIOLATIONS = 10
TOP_DEPARTMENTS = 15
PENALTY_CATEGORY = "CF"  # 行政处罚 (its 违法行为类型: the field with the role "violation_type")


def may_view(principal: Principal) -> bool:
    """The big screen shows the whole city: staff who read every row (not a scoped role)."""
    return (
        principal.can("console.view")
        and principal.can("records.view")
        and not (principal.is_department_scoped or principal.is_district_scoped)
    )


def _url(name: str, **query) -> str:
    url = reverse(name)
    return f"{url}?{urlencode(query)}" if query else url


def _months(today: dt.date) -> list[dt.date]:
    """The first days of the last MONTHS months, oldest first, this month last."""
    index = today.year * 12 + today.month - 1
    return [
        dt.date((index - back) // 12, (index - back) % 12 + 1, 1)
        for back in range(MONTHS - 1, -1, -1)
    ]


def _month_key(value) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        value = timezone.localtime(value) if timezone.is_aware(value) else value
    return f"{value:%Y-%m}"


def _by_month(rows, months: list[dt.date]) -> list[int]:
    counts = {_month_key(row["m"]): int(row["n"]) for row in rows}
    return [counts.get(f"{m:%Y-%m}", 0) for m in months]


def _day_start(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


# --------------------------------------------------------------------------- the figures


def totals(today: dt.date) -> dict:
    """The headline figures: subjects by kind and records in force by category (largest
    first), from the kept counts (subjects.tally, bulletins.tallies); list entries in force,
    checks today and this month, commitments, repairs and objections."""
    kinds = subjects_by_kind()
    checks = CreditCheck.objects.filter(checked_at__gte=_day_start(today.replace(day=1))).aggregate(
        month=Count("id"), today=Count("id", filter=Q(checked_at__gte=_day_start(today)))
    )
    repairs = RepairApplication.objects.aggregate(
        total=Count("id"), open=Count("id", filter=Q(status__in=OPEN_REPAIR))
    )
    objections = Objection.objects.aggregate(
        total=Count("id"), open=Count("id", filter=Q(status__in=OPEN_OBJECTION))
    )
    return {
        "subjects": [
            {"code": k.value, "label": str(k.label), "count": int(kinds.get(k.value, 0))}
            for k in SubjectKind
        ],
        "records": [
            {
                "code": row["code"],
                "label": row["name"],
                "count": row["n"],
                "url": _url("console:intake:submission_list", category=row["code"]),
            }
            for row in in_force_by_category()
        ],
        "entries_in_force": ListEntry.objects.filter(active_entries_q(today)).count(),
        "checks_today": int(checks["today"] or 0),
        "checks_month": int(checks["month"] or 0),
        "commitments": Commitment.objects.count(),
        "repairs": int(repairs["total"] or 0),
        "repairs_open": int(repairs["open"] or 0),
        "objections": int(objections["total"] or 0),
        "objections_open": int(objections["open"] or 0),
    }


def records_by_month(today: dt.date) -> dict:
    """Records in force decided in each of the last MONTHS months (by the month of 决定日期, the
    current month whole), from the kept counts (bulletins.tallies); withdrawn ones left out."""
    months = _months(today)
    counts = in_force_by_month(months[0], today)
    return {
        "months": [f"{m:%Y-%m}" for m in months],
        "counts": [counts.get(m, 0) for m in months],
        "url": _url("console:intake:submission_list"),
    }


def districts(today: dt.date) -> dict:
    """Per 区县/功能区 of the city (sorted by code): subjects registered and records in force
    (kept counts: subjects.tally; bulletins.tallies, by the district their subject had when
    they were written), and list entries in force of its subjects. A bar opens the console's
    list entries of that district."""
    regions = list(
        Region.objects.filter(
            parent_id=SEED_CITY,
            level__in=[Region.Level.COUNTY, Region.Level.ZONE],
            valid_to__isnull=True,
        )
        .order_by("code")
        .values_list("code", "name")
    )
    codes = [code for code, _name in regions]
    subjects = subjects_by_region(codes)
    records = in_force_by_region(codes)
    entries = dict(
        ListEntry.objects.filter(active_entries_q(today), subject__region__in=codes)
        .order_by()
        .values_list("subject__region")
        .annotate(n=Count("id"))
    )
    return {
        "districts": [
            {
                "code": code,
                "name": name,
                "subjects": int(subjects.get(code, 0)),
                "records": int(records.get(code, 0)),
                "entries": int(entries.get(code, 0)),
                "url": _url("console:lists:entry_list", region=code, status=EntryStatus.PUBLISHED),
            }
            for code, name in regions
        ]
    }


def violation_types(today: dt.date) -> dict:
    """The most frequent 违法行为类型 of 行政处罚 records in force (the top TOP_VIOLATIONS), from the
    kept counts (bulletins.tallies)."""
    rows = top_violations(PENALTY_CATEGORY, TOP_VIOLATIONS)
    name = Category.objects.filter(code=PENALTY_CATEGORY).values_list("name", flat=True).first()
    return {
        "category": name or PENALTY_CATEGORY,
        "items": [{"label": kind, "count": n} for kind, n in rows],
        "url": _url("console:intake:submission_list", category=PENALTY_CATEGORY),
    }


def list_movements(today: dt.date) -> dict:
    """Red and black list entries added (by 认定日期) and removed (移出, by the change's date) in
    each of the last MONTHS months."""
    months = _months(today)
    kinds = (ListKind.RED, ListKind.BLACK)
    series = []
    for kind in kinds:
        entries = ListEntry.objects.filter(list_type__kind=kind).order_by()
        added = (
            entries.filter(decided_on__gte=months[0])
            .annotate(m=TruncMonth("decided_on"))
            .values("m")
            .annotate(n=Count("id"))
        )
        removed = (
            entries.filter(status=EntryStatus.REMOVED, status_changed_at__gte=_day_start(months[0]))
            .annotate(m=TruncMonth("status_changed_at"))
            .values("m")
            .annotate(n=Count("id"))
        )
        url = _url("console:lists:entry_list", kind=kind)
        series.append(
            {
                "kind": kind,
                "label": str(ListKind(kind).label),
                "added": _by_month(added, months),
                "removed": _by_month(removed, months),
                "url": url,
            }
        )
    return {"months": [f"{m:%Y-%m}" for m in months], "series": series}


def department_ranking(today: dt.date) -> dict:
    """The departments ranked by rows submitted this month, from the bulletins' kept monthly
    metrics (never a scan of the records), each with its 及时率 and 合规率 over the month (None
    when it had nothing to judge); the top TOP_DEPARTMENTS. A bar links to the rows behind it
    (the bulletins' drill-down of 报送条数: the department's submissions of the month)."""
    month = today.replace(day=1)
    totals: dict[int, dict] = {}
    for row in metrics_for_month(month):
        acc = totals.setdefault(row["department_id"], dict.fromkeys(_RANKING_COUNTS, 0))
        for name in _RANKING_COUNTS:
            acc[name] += row[name] or 0
    departments = {
        pk: (code, name)
        for pk, code, name in Department.objects.filter(pk__in=totals)
        .values_list("pk", "code", "name")
        .order_by()
    }
    ranked = sorted(totals.items(), key=lambda item: (-item[1]["submitted"], departments[item[0]]))
    timeliness, compliance = BY_NAME["timeliness"], BY_NAME["compliance"]
    return {
        "month": f"{month:%Y-%m}",
        "formulas": {"timeliness": str(timeliness.text), "compliance": str(compliance.text)},
        "items": [
            {
                "code": departments[pk][0],
                "label": departments[pk][1],
                "submitted": acc["submitted"],
                "timeliness": timeliness.value(acc),
                "compliance": compliance.value(acc),
                # The bar opens the rows behind it: the department's submissions this month.
                "url": reverse(
                    "console:bulletins:rows",
                    args=[f"{month:%Y-%m}", departments[pk][0], "submitted"],
                ),
            }
            for pk, acc in ranked[:TOP_DEPARTMENTS]
        ],
    }


# The counts a department's row of the ranking adds up over its categories (the numerators and
# denominators of the formulas it shows).
_RANKING_COUNTS = ("submitted", "accepted", "rejected", "due", "on_time", "late")


# The figures, in the order the screen lays them out; re-point one by replacing its function.
FIGURES = {
    "totals": totals,
    "records_by_month": records_by_month,
    "districts": districts,
    "violation_types": violation_types,
    "list_movements": list_movements,
    "department_ranking": department_ranking,
}


def screen_data(today: dt.date | None = None) -> dict:
    """Every figure of the big screen, cached for CACHE_SECONDS per language (labels are
    translated). Guarantees: no personal data (counts and catalogue labels only)."""
    day = today or timezone.localdate()
    key = f"console:screen:{day:%Y-%m-%d}:{translation.get_language()}"
    data = cache.get(key)
    if data is None:
        data = {name: figure(day) for name, figure in FIGURES.items()}
        data["as_of"] = timezone.localtime().strftime("%Y-%m-%d %H:%M")
        data["labels"] = labels()
        cache.set(key, data, CACHE_SECONDS)
    return data


def labels() -> dict:
    """The chart titles and series names the script shows, in the active language."""
    return {
        "records": _("信用记录"),
        "subjects": _("主体"),
        "entries": _("名单在列"),
        "added": _("列入"),
        "removed": _("移出"),
        "submitted": _("报送条数"),
        "timeliness": _("及时率"),
        "compliance": _("合规率"),
        "no_reports": _("本月暂无报送。"),
    }
