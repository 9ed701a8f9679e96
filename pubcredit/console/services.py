"""Figures for the staff console. Read-only; nothing here writes."""

from __future__ import annotations

from django.core.cache import cache
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from pubcredit.accounts.permissions import DISTRICT_SCOPED, Principal, restrict
from pubcredit.catalog.models import Region, SubjectKind
from pubcredit.financing import services as financing
from pubcredit.scoring.models import Scorecard, ScoreResult
from pubcredit.scoring.services import general_scorecard
from pubcredit.scoring.supervision import bands
from pubcredit.sharing import services as sharing
from pubcredit.subjects.models import Subject

# A register of this many subjects or more is counted at most once per CACHE_SECONDS for each
# role, scope and language: grouping a million subjects takes about 0.3 s on two cores, on every
# opening of the console (benchmarks/bulletins.py). A smaller one is counted on each call, and
# deciding costs no query: the count itself tells.
CACHE_FROM_SUBJECTS = 100_000
CACHE_SECONDS = 60


def dashboard_stats(principal: Principal) -> dict:
    """Subjects by district and kind, and current credit grades by district and by scorecard
    (sector), as far as `principal` may see them (see `_dashboard_stats`, `_grade_stats`); when they number CACHE_FROM_SUBJECTS or more, the figures of the last
    CACHE_SECONDS for the same role, scope and language."""
    key = (
        f"console:dashboard:{principal.role}:{principal.department_id}:"
        f"{principal.district_id}:{get_language()}"
    )
    stats = cache.get(key)
    if stats is None:
        stats = _dashboard_stats(principal)
        if stats["total"] >= CACHE_FROM_SUBJECTS:
            cache.set(key, stats, CACHE_SECONDS)
    return stats


def _dashboard_stats(principal: Principal) -> dict:
    """Subjects by district and kind, as far as `principal` may see them.

    Guarantees:
    - counts only subjects in `restrict(Subject, principal, "subjects.view")`: a 区县管理员 sees
      its own district, a principal without "subjects.view" sees zeros;
    - one grouped query over the register, plus small lookups of region names;
    - every kind is listed (with 0 when absent) in SubjectKind order; districts are sorted by
      region code, a subject without a region code is counted under "未填写区划" (code "");
    - `total` equals the sum over districts and over kinds;
    - labels are plain strings in the active language, ready for JSON;
    - `grades`: the current credit grades by district and by scorecard (`_grade_stats`);
    - `financing` / `sharing`: the 信易贷 totals and this month's 共享 figures, or None for a
      principal without "financing.manage" / "sharing.statistics" (a few aggregate queries,
      cached with the rest).
    """
    subjects = restrict(Subject.objects.all(), principal, "subjects.view")
    rows = subjects.order_by().values("region", "kind").annotate(n=Count("id"))

    per_district: dict[str, dict[str, int]] = {}
    for row in rows:
        counts = per_district.setdefault(row["region"] or "", {})
        counts[row["kind"]] = counts.get(row["kind"], 0) + int(row["n"])

    names = dict(
        Region.objects.filter(code__in=[code for code in per_district if code]).values_list(
            "code", "name"
        )
    )
    districts = []
    for code in sorted(per_district):
        counts = {kind.value: per_district[code].get(kind.value, 0) for kind in SubjectKind}
        districts.append(
            {
                "code": code,
                "name": names.get(code, code) if code else _("未填写区划"),
                "counts": counts,
                "row": list(counts.values()),  # the same counts in kind order, for tables
                "total": sum(counts.values()),
            }
        )
    kinds = [
        {
            "code": kind.value,
            "label": str(kind.label),
            "count": sum(d["counts"][kind.value] for d in districts),
        }
        for kind in SubjectKind
    ]
    scope = None
    if principal.role in DISTRICT_SCOPED:
        # Named even when the district has no subjects yet, so the page says whose figures these are.
        scope = _region_name(principal.district_id)
    return {
        "total": sum(k["count"] for k in kinds),
        "kinds": kinds,
        "districts": districts,
        "scope": scope,
        "grades": _grade_stats(principal, names),
        "financing": _financing_stats(principal),
        "sharing": _sharing_stats(principal),
    }


def _financing_stats(principal: Principal) -> dict | None:
    """信易贷 totals (demands, matched, granted, amount granted, average rate) from
    `financing.services.statistics`, for those who hold "financing.manage"; None for others.
    City-wide: the action belongs to the centre and the administrator only."""
    if not principal.can("financing.manage"):
        return None
    total = financing.statistics(breakdowns=False)["total"]
    rate = total["average_rate"]
    # Decimals as strings: the stats travel as JSON in the page (and the template formats them).
    return {
        "demands": total["demands"],
        "matched": total["matched"],
        "granted": total["granted"],
        "amount": str(total["amount"]),
        "average_rate": None if rate is None else str(rate),
    }


def _sharing_stats(principal: Principal) -> dict | None:
    """共享: this month's queries and the sharing rate from `sharing.services.statistics`, for
    those who hold "sharing.statistics"; None for others."""
    if not principal.can("sharing.statistics"):
        return None
    today = timezone.localdate()
    stats = sharing.statistics(today.replace(day=1), today, breakdowns=False)
    return {"month_queries": stats["queries"], "rate": stats["rate"]}


def _grade_stats(principal: Principal, region_names: dict[str, str]) -> dict:
    """Current credit grades of organisations and 个体工商户 (分级分类监管 statistics), as far as
    `principal` may see the subjects (`restrict(ScoreResult, principal, "subjects.view")`: a
    区县管理员 its district's):

    - `districts`: per district (sorted by region code, "" = 未填写区划), the count per grade
      of the general scorecard of organisations (公共信用综合评价), in its band order;
    - `sectors`: per active scorecard of organisations (general first, then the sector ones),
      the count per grade; `grades` is the union of their grades, in band order;
    - persons' points are not counted here.

    Two grouped queries over the current results (the partial index on current rows; the
    district one joins the subjects' region); the caller caches them with the other counts.
    """
    results = restrict(ScoreResult.objects.filter(current=True), principal, "subjects.view")
    cards = [
        c
        for c in Scorecard.objects.filter(active=True).order_by("sort_order", "code")
        if SubjectKind.PERSON.value not in (c.subject_kinds or [])
    ]
    general = general_scorecard(SubjectKind.ORG.value, cards)  # from the rows already read
    today = timezone.localdate()
    orders = {c.pk: [g for g, _name in bands(c, today)] for c in cards}

    def ordered(known: list[str], found) -> list[str]:
        return known + sorted(set(found) - set(known))

    district_rows = []
    general_grades: list[str] = []
    if general is not None:
        counts: dict[str, dict[str, int]] = {}
        rows = (
            results.filter(scorecard=general)
            .order_by()
            .values_list("subject__region", "grade")
            .annotate(n=Count("id"))
        )
        for region, grade, n in rows:
            per = counts.setdefault(region or "", {})
            per[grade] = per.get(grade, 0) + int(n)
        general_grades = ordered(
            orders.get(general.pk, []), {g for per in counts.values() for g in per}
        )
        names = dict(region_names)
        names.update(
            Region.objects.filter(code__in=[c for c in counts if c and c not in names]).values_list(
                "code", "name"
            )
        )
        for code in sorted(counts):
            row = [counts[code].get(g, 0) for g in general_grades]
            district_rows.append(
                {
                    "code": code,
                    "name": names.get(code, code) if code else _("未填写区划"),
                    "row": row,
                    "total": sum(row),
                }
            )
    by_card: dict[int, dict[str, int]] = {}
    rows = (
        results.filter(scorecard__in=cards)
        .order_by()
        .values_list("scorecard_id", "grade")
        .annotate(n=Count("id"))
    )
    for card_id, grade, n in rows:
        by_card.setdefault(card_id, {})[grade] = int(n)
    union: list[str] = []
    for card in cards:
        for grade in ordered(orders.get(card.pk, []), by_card.get(card.pk, {})):
            if grade not in union:
                union.append(grade)
    sectors = []
    for card in cards:
        counts = by_card.get(card.pk, {})
        row = [counts.get(g, 0) for g in union]
        sectors.append(
            {
                "code": card.code,
                "name": card.sector_name or card.name,
                "row": row,
                "total": sum(row),
            }
        )
    return {
        "scorecard": general.name if general else "",
        "district_grades": general_grades,
        "districts": district_rows,
        "grades": union,
        "sectors": [s for s in sectors if s["total"]],
        "total": sum(d["total"] for d in district_rows),
    }


def _region_name(code: str | None) -> str:
    if not code:
        return ""
    return Region.objects.filter(code=code).values_list("name", flat=True).first() or code
