"""Who sees which departments of a bulletin ("bulletins.view"), in the scopes of
`accounts.permissions`: the credit centre and the platform administrator every department; a
部门报送员 its own department only (its row in full, its rank among all, the city's totals; the
other departments' names and figures are not shown, and their drill-downs are not found); a
区县管理员 the departments of its district (区县信用中心 and the district's departments).

The Department model declares no `scope_lookups` (the catalogue is everyone's to read), so the
bulletin's own rule is written here once, with the principal's scope as `restrict` reads it."""

from __future__ import annotations

from django.db.models import QuerySet

from pubcredit.accounts.permissions import Principal
from pubcredit.catalog.models import Department

ACTION_VIEW = "bulletins.view"
ACTION_ISSUE = "bulletins.issue"


def departments(principal: Principal) -> QuerySet:
    """The departments whose rows and drill-downs `principal` may see (none without the
    action, or with a scope it lacks the value of: least privilege)."""
    everything = Department.objects.all()
    if not principal.can(ACTION_VIEW):
        return everything.none()
    if principal.is_department_scoped:
        if principal.department_id is None:
            return everything.none()
        return everything.filter(pk=principal.department_id)
    if principal.is_district_scoped:
        if principal.district_id is None:
            return everything.none()
        return everything.filter(district_id=principal.district_id)
    return everything


def sees_all(principal: Principal) -> bool:
    """Whether `principal` sees the whole bulletin (and may download its files, which name
    every department)."""
    return principal.can(ACTION_VIEW) and not (
        principal.is_department_scoped or principal.is_district_scoped
    )


def visible_content(content: dict, principal: Principal) -> dict:
    """`content` (compose's dict) as `principal` may see it. A scoped principal gets only the
    rows of its departments (ranks unchanged) in `departments`, `categories` and the named
    lists, its district's row of `districts` (a 区县管理员; none for a 部门报送员), and
    `department_count`: how many departments were ranked. The summary (the city's totals) is
    kept. The whole content otherwise."""
    rows = content.get("departments", [])
    out = {**content, "department_count": len(rows), "scoped": not sees_all(principal)}
    if not out["scoped"]:
        return out
    ids = set(departments(principal).values_list("pk", flat=True))
    mine = [row for row in rows if row["department_id"] in ids]
    codes = {row["code"] for row in mine}
    out["departments"] = mine
    out["categories"] = [r for r in content.get("categories", []) if r["department_id"] in ids]
    for key in ("zero_reports", "below_threshold", "praised"):
        out[key] = [r for r in content.get(key, []) if r["code"] in codes]
    district = principal.district_id if principal.is_district_scoped else None
    out["districts"] = [
        r
        for r in content.get("districts", [])
        if district is not None and r["district"] == district
    ]
    return out
