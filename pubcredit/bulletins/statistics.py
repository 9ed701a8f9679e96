"""What the dashboards and bulletins read: a month's statistics per department × category (the
counts kept by the records flow, merged with the submissions' counts) and the duties with
nothing reported (零报送). Read-only, set based: a handful of grouped queries per call."""

from __future__ import annotations

import datetime as dt

from django.db.models import Count, Exists, OuterRef, Q, Sum

from pubcredit.bulletins.formulas import rates
from pubcredit.bulletins.metrics import COUNTS, SHANGHAI, month_start, next_month
from pubcredit.bulletins.models import DepartmentMonthMetric
from pubcredit.catalog.models import ReportingDuty
from pubcredit.checks.models import CheckFeedback, CreditCheck
from pubcredit.intake.models import Submission
from pubcredit.repair.models import ProcedureStatus, ProcedureStep

SUBMISSION_COUNTS = ("submissions", "submitted", "accepted", "rejected", "duplicates")


ACTIVITY_COUNTS = (
    "checks",
    "feedback_due",
    "feedback_given",
    "repair_steps",
    "repair_steps_on_time",
    "objections_corrected",
)


def _bounds(month: dt.date) -> tuple[dt.datetime, dt.datetime]:
    start = dt.datetime.combine(month, dt.time(), tzinfo=SHANGHAI)
    return start, dt.datetime.combine(next_month(month), dt.time(), tzinfo=SHANGHAI)


def _submissions(month: dt.date):
    start, end = _bounds(month)
    return Submission.objects.filter(received_at__gte=start, received_at__lt=end).exclude(
        status=Submission.Status.FAILED
    )


def metrics_for_month(
    month: dt.date, *, department_id: int | None = None, district: str | None = None
) -> list[dict]:
    """One dict per (department, category) with anything in `month`: department_id,
    category_id, district (region code or None), month, the kept COUNTS, the SUBMISSION_COUNTS
    of the submissions received that month (not failed), and `rates` ({formula name: 0…1 or
    None}, see `formulas`). Filtered by department or by district (区县) when given."""
    month = month_start(month)
    kept = DepartmentMonthMetric.objects.filter(month=month)
    subs = _submissions(month)
    if department_id is not None:
        kept = kept.filter(department_id=department_id)
        subs = subs.filter(department_id=department_id)
    if district is not None:
        kept = kept.filter(district_id=district)
        subs = subs.filter(department__district_id=district)
    rows: dict[tuple[int, int], dict] = {}

    def row(dept: int, cat: int, district_id) -> dict:
        key = (dept, cat)
        if key not in rows:
            rows[key] = {
                "department_id": dept,
                "category_id": cat,
                "district": district_id,
                "month": month,
                **dict.fromkeys(COUNTS, 0),
                **dict.fromkeys(SUBMISSION_COUNTS, 0),
            }
        return rows[key]

    for metric in kept.values("department_id", "category_id", "district_id", *COUNTS):
        row(metric["department_id"], metric["category_id"], metric["district_id"]).update(
            {c: metric[c] for c in COUNTS}
        )
    for total in subs.values("department_id", "category_id", "department__district_id").annotate(
        submissions=Count("pk"),
        submitted=Sum("rows"),
        accepted=Sum("accepted"),
        rejected=Sum("rejected"),
        duplicates=Sum("duplicates"),
    ):
        row(total["department_id"], total["category_id"], total["department__district_id"]).update(
            {c: int(total[c] or 0) for c in SUBMISSION_COUNTS}
        )
    out = sorted(rows.values(), key=lambda r: (r["department_id"], r["category_id"]))
    for r in out:
        r["rates"] = rates(r)
    return out


def duties_in_force(month: dt.date):
    """The reporting duties in force at some day of `month` (a queryset)."""
    month = month_start(month)
    last = next_month(month) - dt.timedelta(days=1)
    return ReportingDuty.objects.filter(effective_from__lte=last).filter(
        Q(effective_to__isnull=True) | Q(effective_to__gte=month)
    )


def zero_reports(month: dt.date) -> list[dict]:
    """零报送: the duties in force in `month` whose department submitted nothing of the category
    that month (no submission received, failed ones not counting). One dict per duty:
    duty_id, department_id, department (name), category_id, category (code), rhythm."""
    month = month_start(month)
    reported = set(_submissions(month).values_list("department_id", "category_id").distinct())
    duties = (
        duties_in_force(month)
        .select_related("department", "category")
        .order_by("department__code", "category__code", "-effective_from")
    )
    out: list[dict] = []
    seen: set[tuple[int, int]] = set()
    for duty in duties:  # one row per duty in force: a few hundred at most
        key = (duty.department_id, duty.category_id)
        if key in reported or key in seen:
            continue
        seen.add(key)
        out.append(
            {
                "duty_id": duty.pk,
                "department_id": duty.department_id,
                "department": duty.department.name,
                "category_id": duty.category_id,
                "category": duty.category.code,
                "rhythm": duty.rhythm,
            }
        )
    return out


def department_activity(month: dt.date, *, department_id: int | None = None) -> list[dict]:
    """What departments did in `month` outside intake, computed on demand (set based: one
    grouped query per source, over one month's rows), one dict per department with anything:
    department_id, month, ACTIVITY_COUNTS and `rates` (反馈率, 修复办理及时率):

    - checks: credit checks the department ran; feedback_due: those that returned a measure
      (reward or punishment); feedback_given: those with at least one feedback on whether a
      measure was applied (given at any time since);
    - repair_steps: steps of repair applications and objections the department (the one that
      made the record: 谁认定、谁修复) closed in the month on a stage with a deadline;
      repair_steps_on_time: of them, within the deadline;
    - objections_corrected: objections decided in the month by correcting or withdrawing the
      record (异议成立)."""
    month = month_start(month)
    start, end = _bounds(month)
    rows: dict[int, dict] = {}

    def row(dept: int) -> dict:
        if dept not in rows:
            rows[dept] = {
                "department_id": dept,
                "month": month,
                **dict.fromkeys(ACTIVITY_COUNTS, 0),
            }
        return rows[dept]

    checks = CreditCheck.objects.filter(
        checked_at__gte=start, checked_at__lt=end, department__isnull=False
    )
    steps = ProcedureStep.objects.filter(day__gte=month, day__lt=next_month(month))
    if department_id is not None:
        checks = checks.filter(department_id=department_id)
    answered = CheckFeedback.objects.filter(credit_check=OuterRef("pk"))
    for total in (
        checks.annotate(_answered=Exists(answered))
        .values("department_id")
        .annotate(
            checks=Count("pk"),
            feedback_due=Count("pk", filter=Q(punishment_count__gt=0) | Q(reward_count__gt=0)),
            feedback_given=Count(
                "pk",
                filter=(Q(punishment_count__gt=0) | Q(reward_count__gt=0)) & Q(_answered=True),
            ),
        )
    ):
        row(total["department_id"]).update({k: total[k] for k in ACTIVITY_COUNTS[:3]})
    for owner in ("application__department_id", "objection__department_id"):
        scoped = steps.filter(**{f"{owner}__isnull": False})
        if department_id is not None:
            scoped = scoped.filter(**{owner: department_id})
        for total in scoped.values(owner).annotate(
            repair_steps=Count("pk", filter=Q(stage_due_on__isnull=False)),
            repair_steps_on_time=Count("pk", filter=Q(stage_due_on__isnull=False, late=False)),
            objections_corrected=Count(
                "pk",
                filter=Q(
                    objection__isnull=False,
                    to_status__in=[ProcedureStatus.CORRECTED, ProcedureStatus.RECORD_WITHDRAWN],
                ),
            ),
        ):
            target = row(total[owner])
            for key in ACTIVITY_COUNTS[3:]:
                target[key] += total[key]
    out = sorted(rows.values(), key=lambda r: r["department_id"])
    for r in out:
        r["rates"] = rates(r)
    return out
