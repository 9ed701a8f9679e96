"""Figures for the staff console. Read-only; nothing here writes."""

from __future__ import annotations

from django.core.cache import cache
from django.db.models import Count
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from pubcredit.accounts.permissions import DISTRICT_SCOPED, Principal, restrict
from pubcredit.catalog.models import Region, SubjectKind
from pubcredit.subjects.models import Subject

# A register of this many subjects or more is counted at most once per CACHE_SECONDS for each
# role, scope and language: grouping a million subjects takes about 0.3 s on two cores, on every
# opening of the console (benchmarks/bulletins.py). A smaller one is counted on each call, and
# deciding costs no query: the count itself tells.
CACHE_FROM_SUBJECTS = 100_000
CACHE_SECONDS = 60


def dashboard_stats(principal: Principal) -> dict:
    """Subjects by district and kind, as far as `principal` may see them (see
    `_dashboard_stats`); when they number CACHE_FROM_SUBJECTS or more, the figures of the last
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
    - labels are plain strings in the active language, ready for JSON.
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
    }


def _region_name(code: str | None) -> str:
    if not code:
        return ""
    return Region.objects.filter(code=code).values_list("name", flat=True).first() or code
