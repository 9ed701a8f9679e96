"""Feedback on credit checks (联合奖惩反馈): which of the measures a check returned were actually
applied, and the joint reward and punishment cases counted from it by department and measure."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from pubcredit.accounts.audit import record_event
from pubcredit.accounts.permissions import Principal
from pubcredit.checks.models import CheckFeedback, CreditCheck
from pubcredit.checks.services import ACTION, ALL_CHECKS_ROLES, plain_text, visible_checks
from pubcredit.measures.models import Measure


def unit_of(principal: Principal) -> str:
    """The unit a principal acts for, as statistics name it: its department; else the user's
    organisation (窗口核查员 and banks have no department in the accounts model); else the
    system's name; else the label."""
    department = principal.department
    if department is not None:
        return department.name[:150]
    if principal.api_key is not None:
        return principal.api_key.name[:150]
    organisation = getattr(principal.user, "organisation", "") or ""
    return (organisation or principal.label)[:150]


@dataclass(frozen=True)
class FeedbackItem:
    measure: str  # measure code
    applied: bool
    note: str = ""


@transaction.atomic
def record_feedback(
    principal: Principal, check: CreditCheck | int, items: list[FeedbackItem]
) -> list[CheckFeedback]:
    """Record which of the measures a check returned were actually applied (one row per
    measure; a later answer for the same measure replaces the earlier one).

    Guarantees: requires "checks.run" and a check the principal may read; every measure code
    must be one the check returned (punishments or rewards); at least one item, no measure
    twice; one audit event "checks.feedback" with the answers before and after, in the same
    transaction. Raises ValidationError (Chinese) or CreditCheck.DoesNotExist."""
    principal.require(ACTION)
    check_id = check.pk if isinstance(check, CreditCheck) else int(check)
    check = visible_checks(principal).select_for_update().get(pk=check_id)
    if not items:
        raise ValidationError({"items": [_("请至少反馈一项措施的实施情况。")]})
    returned = {
        m["code"]: m["kind"]
        for m in (*check.result.get("punishments", []), *check.result.get("rewards", []))
    }
    if not returned:
        raise ValidationError({"items": [_("该次核查没有返回适用的奖惩措施,无需反馈。")]})
    codes = [i.measure for i in items]
    dupes = sorted({c for c in codes if codes.count(c) > 1})
    if dupes:
        raise ValidationError({"items": [_("措施重复反馈:%(c)s") % {"c": "、".join(dupes)}]})
    unknown = [c for c in codes if c not in returned]
    if unknown:
        raise ValidationError(
            {"items": [_("以下措施不在该次核查返回的措施中:%(c)s") % {"c": "、".join(unknown)}]}
        )
    measures = dict(Measure.objects.filter(code__in=codes).values_list("code", "id"))
    existing = {
        f.measure_id: f
        for f in CheckFeedback.objects.filter(credit_check=check, measure_id__in=measures.values())
    }
    before = {
        code: {"applied": existing[mid].applied, "note": existing[mid].note}
        for code, mid in measures.items()
        if mid in existing
    }
    now = timezone.now()
    out = []
    for item in items:
        mid = measures[item.measure]
        row = existing.get(mid) or CheckFeedback(credit_check=check, measure_id=mid)
        row.measure_kind = returned[item.measure]
        row.applied = bool(item.applied)
        row.note = plain_text(item.note, 512)
        row.department_id = principal.department_id or check.department_id
        row.unit = unit_of(principal)
        row.user = principal.user
        row.api_key = principal.api_key
        row.actor_label = principal.label[:150]
        row.at = now
        row.save()
        out.append(row)
    record_event(
        principal,
        "checks.feedback",
        check,
        before=before or None,
        after={
            i.measure: {"applied": bool(i.applied), "note": plain_text(i.note, 512)} for i in items
        },
    )
    return out


def feedback_json(rows: list[CheckFeedback]) -> list[dict]:
    codes = dict(
        Measure.objects.filter(pk__in=[r.measure_id for r in rows]).values_list("id", "code")
    )
    return [
        {
            "measure": codes[r.measure_id],
            "kind": r.measure_kind,
            "applied": r.applied,
            "note": r.note,
            "by": r.actor_label,
            "at": timezone.localtime(r.at).isoformat(),
        }
        for r in rows
    ]


def feedback_statistics(
    principal: Principal, *, since: dt.date | None = None, until: dt.date | None = None
) -> dict:
    """Joint reward and punishment cases (联合奖惩案例: feedback saying a measure was applied)
    by department and measure, within the principal's view (the centre sees all departments,
    others their own). `since`/`until` bound the feedback date (inclusive, Asia/Shanghai).

    Returns {"rows": [{"department", "measure", "measure_name", "kind", "cases",
    "not_applied"}], "by_department": [{"department", "punishment", "reward"}],
    "totals": {"punishment", "reward", "not_applied", "checks"}}."""
    principal.require(ACTION)
    qs = CheckFeedback.objects.all()
    checks = CreditCheck.objects.all()
    if principal.role not in ALL_CHECKS_ROLES:
        if principal.department_id:
            qs = qs.filter(department_id=principal.department_id)
            checks = checks.filter(department_id=principal.department_id)
        elif principal.api_key is not None:
            qs = qs.filter(api_key=principal.api_key)
            checks = checks.filter(api_key=principal.api_key)
        else:
            qs = qs.filter(user=principal.user)
            checks = checks.filter(user=principal.user)
    tz = timezone.get_current_timezone()
    if since:
        start = dt.datetime.combine(since, dt.time.min, tzinfo=tz)
        qs = qs.filter(at__gte=start)
        checks = checks.filter(checked_at__gte=start)
    if until:
        end = dt.datetime.combine(until + dt.timedelta(days=1), dt.time.min, tzinfo=tz)
        qs = qs.filter(at__lt=end)
        checks = checks.filter(checked_at__lt=end)
    grouped = (
        qs.values("unit", "measure__code", "measure__name", "measure_kind")
        .annotate(
            cases=Count("id", filter=Q(applied=True)),
            not_applied=Count("id", filter=Q(applied=False)),
        )
        .order_by("unit", "measure_kind", "measure__code")
    )
    rows = []
    by_department: dict[str, dict] = {}
    totals = {"punishment": 0, "reward": 0, "not_applied": 0}
    for g in grouped:
        department = g["unit"] or _("未注明单位")
        rows.append(
            {
                "department": department,
                "measure": g["measure__code"],
                "measure_name": g["measure__name"],
                "kind": g["measure_kind"],
                "cases": g["cases"],
                "not_applied": g["not_applied"],
            }
        )
        dep = by_department.setdefault(
            department, {"department": department, "punishment": 0, "reward": 0}
        )
        dep[g["measure_kind"]] = dep.get(g["measure_kind"], 0) + g["cases"]
        totals[g["measure_kind"]] = totals.get(g["measure_kind"], 0) + g["cases"]
        totals["not_applied"] += g["not_applied"]
    totals["checks"] = checks.count()
    return {"rows": rows, "by_department": list(by_department.values()), "totals": totals}
