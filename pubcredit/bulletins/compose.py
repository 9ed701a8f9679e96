"""What a bulletin says, computed from the kept statistics: one JSON-ready dict that the console
page, the xlsx and the PDF all render, and that an issued bulletin keeps frozen.

`compose(period)` reads, per month of the period, the kept metrics (`statistics.metrics_for_month`),
the activity outside intake (`statistics.department_activity`) and the duties in force with their
零报送 (`statistics.duties_in_force`, `statistics.zero_reports`): a few grouped queries per month,
never a scan of the records. Counts are summed over the months, then the rates (`formulas`) and
the composite score (`score`, weights from the `RankingScheme` in force) are computed per
department; the ranking is by score (ties share a rank: 1, 2, 2, 4).

Layout of the result (the keys the renderers and the command's --json read):

- period {kind, key, start, end, label}; title; scheme {name, effective_from, weights,
  threshold, praise_count}; formulas [{name, label, text}];
- summary {totals, previous (the same counts for the period before), rates, previous_rates,
  departments, reporting_departments, text};
- departments [one row per department with a duty in force or anything reported or done:
  department_id, code, name, district, district_name, the COUNTS, duties, duties_reported,
  zero_report (bool), zero_duties [{category, category_name, months}], rates, score, rank];
- categories [department × category rows: department_id, code, category, category_name and
  the counts]; zero_reports, below_threshold [{code, name, rate, label, value}], praised
  [{code, name, score, rank}], districts [{district, name, departments, the counts, rates}].
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from django.db.models import Q
from django.utils.translation import gettext as _

from pubcredit.bulletins.formulas import BY_NAME, FORMULAS, rates
from pubcredit.bulletins.metrics import COUNTS
from pubcredit.bulletins.models import RankingScheme
from pubcredit.bulletins.periods import Period
from pubcredit.bulletins.statistics import (
    ACTIVITY_COUNTS,
    SUBMISSION_COUNTS,
    department_activity,
    duties_in_force,
    metrics_for_month,
    zero_reports,
)
from pubcredit.catalog.models import Category, Department

# Every count a department row carries, summed over the period's months.
DEPARTMENT_COUNTS = (
    *SUBMISSION_COUNTS,
    *COUNTS,
    *ACTIVITY_COUNTS,
    "duties",
    "duties_reported",
    "zero_duty_months",
)
# The counts per department × category (the xlsx's second sheet, the drill-downs' entry).
CATEGORY_COUNTS = (*SUBMISSION_COUNTS, *COUNTS)
# The rates whose low value names a department (及时率 or 合规率 below the threshold).
NAMED_RATES = ("timeliness", "compliance")


def scheme_for(day: dt.date) -> RankingScheme:
    """The ranking scheme in force on `day` (the latest effective on or before it; the earliest
    one if all start later, so an old period can still be ranked)."""
    scheme = RankingScheme.objects.filter(effective_from__lte=day).order_by("-effective_from")
    found = scheme.first() or RankingScheme.objects.order_by("effective_from").first()
    if found is None:
        raise RankingScheme.DoesNotExist(_("尚未配置通报评分规则(管理后台“通报评分规则”)。"))
    return found


def score(row_rates: dict[str, float | None], weights: dict[str, float]) -> float | None:
    """The composite score (0…100) of a department: Σ weight × rate over the weighted rates
    that can be computed, scaled by the weights that counted (a rate with nothing to divide by
    neither helps nor hurts). None when no weighted rate can be computed."""
    got = [(w, row_rates.get(name)) for name, w in weights.items() if w]
    got = [(w, r) for w, r in got if r is not None]
    total = sum(w for w, _ in got)
    if not total:
        return None
    return round(100 * sum(w * r for w, r in got) / total, 2)


def _rank(rows: list[dict]) -> None:
    """Sort by score (None last), then code; competition ranking (1, 2, 2, 4)."""
    rows.sort(key=lambda r: (r["score"] is None, -(r["score"] or 0), r["code"]))
    previous, rank = object(), 0
    for i, row in enumerate(rows, start=1):
        if row["score"] != previous:
            rank, previous = i, row["score"]
        row["rank"] = rank if row["score"] is not None else None


def _department_counts(period: Period) -> tuple[dict, dict, dict]:
    """(per department counts, per (department, category) counts, zero duties per department
    {department_id: {category_id: months}}) summed over the period's months."""
    per: dict[int, dict] = defaultdict(lambda: dict.fromkeys(DEPARTMENT_COUNTS, 0))
    per_cat: dict[tuple[int, int], dict] = defaultdict(lambda: dict.fromkeys(CATEGORY_COUNTS, 0))
    zero: dict[int, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    for month in period.months:
        for row in metrics_for_month(month):
            dept, cat = row["department_id"], row["category_id"]
            for key in CATEGORY_COUNTS:
                per[dept][key] += row[key]
                per_cat[dept, cat][key] += row[key]
        for row in department_activity(month):
            for key in ACTIVITY_COUNTS:
                per[row["department_id"]][key] += row[key]
        pairs = set(duties_in_force(month).values_list("department_id", "category_id"))
        for dept, _cat in pairs:
            per[dept]["duties"] += 1
        missing = zero_reports(month)
        for item in missing:
            zero[item["department_id"]][item["category_id"]] += 1
            per[item["department_id"]]["zero_duty_months"] += 1
        for dept, _cat in pairs:
            per[dept]["duties_reported"] += 1
        for item in missing:
            per[item["department_id"]]["duties_reported"] -= 1
    return per, per_cat, zero


def _totals(rows) -> dict:
    totals = dict.fromkeys(DEPARTMENT_COUNTS, 0)
    for row in rows:
        for key in DEPARTMENT_COUNTS:
            totals[key] += row[key]
    return totals


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def _change(now: int, before: int, previous_label: str) -> str:
    """ "较上月增加12条(+8.5%)", "较上月减少3条(-2.0%)", "与上月持平" or "上月无报送"."""
    if not before:
        return _("%(prev)s无报送") % {"prev": previous_label}
    diff = now - before
    if not diff:
        return _("与%(prev)s持平") % {"prev": previous_label}
    word = _("增加") if diff > 0 else _("减少")
    return _("较%(prev)s%(word)s%(diff)s条(%(pct)+.1f%%)") % {
        "prev": previous_label,
        "word": word,
        "diff": f"{abs(diff):,}",
        "pct": 100 * diff / before,
    }


def _summary_text(period: Period, summary: dict, named: dict) -> str:
    totals, previous, r = summary["totals"], summary["previous"], summary["rates"]
    return _(
        "%(period)s,全市%(departments)d个有报送责任或报送数据的部门中,%(reporting)d个部门报送信用"
        "信息%(submitted)s条,%(change)s;校验通过%(accepted)s条,合规率%(compliance)s;"
        "按期报送率(及时率)%(timeliness)s,完整率%(completeness)s,报送覆盖率%(coverage)s。"
        "零报送单位%(zero)d个,及时率或合规率低于%(threshold)s的单位%(low)d个。"
    ) % {
        "period": period.label,
        "departments": summary["departments"],
        "reporting": summary["reporting_departments"],
        "submitted": f"{totals['submitted']:,}",
        "change": _change(totals["submitted"], previous["submitted"], period.previous_label),
        "accepted": f"{totals['accepted']:,}",
        "compliance": _pct(r["compliance"]),
        "timeliness": _pct(r["timeliness"]),
        "completeness": _pct(r["completeness"]),
        "coverage": _pct(r["coverage"]),
        "zero": named["zero"],
        "threshold": _pct(named["threshold"]),
        "low": named["low"],
    }


def title_for(period: Period) -> str:
    return _("关于%(period)s全市公共信用信息归集情况的通报") % {"period": period.label}


def compose(period: Period, scheme: RankingScheme | None = None) -> dict:
    """The bulletin's content for `period` from today's statistics (see the module's doc)."""
    scheme = scheme or scheme_for(period.end)
    weights = {k: float(v) for k, v in scheme.weights.items()}
    threshold = float(scheme.threshold)
    per, per_cat, zero = _department_counts(period)
    previous_per, _unused, _unused2 = _department_counts(period.previous)

    departments = {
        d.pk: d
        for d in Department.objects.filter(pk__in=list(per) + [d for d, _ in per_cat])
        .select_related("district")
        .only("pk", "code", "name", "short_name", "district__code", "district__name")
    }
    named = Category.objects.filter(
        Q(pk__in={c for _, c in per_cat}) | Q(pk__in={c for z in zero.values() for c in z})
    ).values_list("pk", "code", "name")
    categories, category_names = {}, {}
    for pk, code, name in named:  # one row per category concerned: a few dozen
        categories[pk], category_names[pk] = code, name

    rows = []
    for dept_id, counts in per.items():
        dept = departments[dept_id]
        row_rates = rates(counts)
        rows.append(
            {
                "department_id": dept_id,
                "code": dept.code,
                "name": dept.name,
                "district": dept.district.code if dept.district else None,
                "district_name": dept.district.name if dept.district else _("市直部门"),
                **counts,
                "zero_report": bool(zero.get(dept_id)),
                "zero_duties": [
                    {
                        "category": categories[cat],
                        "category_name": category_names[cat],
                        "months": months,
                    }
                    for cat, months in sorted(
                        zero.get(dept_id, {}).items(), key=lambda kv: categories[kv[0]]
                    )
                ],
                "rates": row_rates,
                "score": score(row_rates, weights),
            }
        )
    _rank(rows)

    category_rows = sorted(
        (
            {
                "department_id": dept_id,
                "code": departments[dept_id].code,
                "category": categories[cat],
                "category_name": category_names[cat],
                **counts,
                "rates": rates(counts),
            }
            for (dept_id, cat), counts in per_cat.items()
        ),
        key=lambda r: (r["code"], r["category"]),
    )

    below = [
        {
            "code": row["code"],
            "name": row["name"],
            "rate": name,
            "label": str(BY_NAME[name].label),
            "value": row["rates"][name],
        }
        for row in rows
        for name in NAMED_RATES
        if row["rates"][name] is not None and row["rates"][name] < threshold
    ]
    praised = [
        {"code": r["code"], "name": r["name"], "score": r["score"], "rank": r["rank"]}
        for r in rows
        if r["rank"] is not None and r["rank"] <= scheme.praise_count and not r["zero_report"]
    ]
    zero_list = [
        {"code": row["code"], "name": row["name"], **duty}
        for row in sorted(rows, key=lambda r: r["code"])
        for duty in row["zero_duties"]
    ]

    by_district: dict[str | None, list[dict]] = defaultdict(list)
    for row in rows:
        by_district[row["district"]].append(row)
    districts = []
    for code, members in sorted(
        by_district.items(), key=lambda kv: (kv[0] is not None, kv[0] or "")
    ):
        totals = _totals(members)
        districts.append(
            {
                "district": code,
                "name": members[0]["district_name"],
                "departments": len(members),
                **totals,
                "rates": rates(totals),
            }
        )

    totals, previous = _totals(rows), _totals(previous_per.values())
    summary = {
        "totals": totals,
        "previous": previous,
        "rates": rates(totals),
        "previous_rates": rates(previous),
        "departments": len(rows),
        "reporting_departments": sum(1 for r in rows if r["submissions"]),
    }
    summary["text"] = _summary_text(
        period,
        summary,
        {
            "zero": len({z["code"] for z in zero_list}),
            "threshold": threshold,
            "low": len({b["code"] for b in below}),
        },
    )
    return {
        "period": {
            "kind": period.kind,
            "key": period.key,
            "start": period.start.isoformat(),
            "end": period.end.isoformat(),
            "label": period.label,
        },
        "title": title_for(period),
        "scheme": {
            "name": scheme.name,
            "effective_from": scheme.effective_from.isoformat(),
            "weights": weights,
            "threshold": threshold,
            "praise_count": scheme.praise_count,
            "note": scheme.note,
        },
        "formulas": [
            {"name": f.name, "label": str(f.label), "text": str(f.text)} for f in FORMULAS
        ],
        "summary": summary,
        "departments": rows,
        "categories": category_rows,
        "zero_reports": zero_list,
        "below_threshold": below,
        "praised": praised,
        "districts": districts,
    }
