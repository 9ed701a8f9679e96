"""The rows behind a bulletin's figure (数据下钻): for a period, a department, one of its counts
(the keys of `compose.DEPARTMENT_COUNTS`) and optionally a category, the rows that figure counts,
selected by the counting rules of `metrics` and `statistics` (their module docs), restated here
as filters:

- submissions, submitted, accepted, rejected, duplicates: the department's submissions received
  in the period, failed ones left out; the figure is the number of submissions or the sum of
  their `rows`, `accepted`, `rejected`, `duplicates` (the rows listed are those that add to it);
- written, first_reports, corrections, filled, fillable: the record versions received in the
  period, the current rows (`Record`) and the superseded ones (`RecordVersion`); version 1 is a
  first report, a later one a correction; filled sums each version's optional fields filled,
  fillable counts each version once per optional field of its category;
- due, on_time, late: the first reports with a decision date received while a reporting duty of
  the department and category was in force. A record received on day r under a `within` duty of
  n working days is late when decided before the earliest day d with at most n working days in
  (d, r]; under a `monthly` duty when decided before the earliest month whose deadline is on or
  after r. These thresholds are computed once per distinct receipt day (a handful: one per
  submission), with the holiday functions the metrics use, and turned into one range filter per
  receipt day: no Python loop per record;
- withdrawn: the department's records withdrawn in the period (by the withdrawal's time);
- duties, duties_reported, zero_duty_months: the (month, duty) pairs in force, reported, and with
  nothing reported (`statistics.zero_reports`);
- checks, feedback_due, feedback_given: the department's credit checks in the period, those that
  returned a measure, and of them those with a feedback;
- repair_steps, repair_steps_on_time, objections_corrected: the steps of repair applications and
  objections about the department's records, closed in the period (`statistics
  .department_activity`).

`Drilldown.count()` gives the figure from the rows, so a page can tell when an issued bulletin's
frozen figure differs from today's. Read-only; who may see which department is `scope`'s job.
"""

from __future__ import annotations

import datetime as dt
import functools
import operator
from dataclasses import dataclass, field

import numpy as np
from django.db.models import (
    CharField,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Sum,
    Value,
)
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from pubcredit.bulletins.compose import CATEGORY_COUNTS, DEPARTMENT_COUNTS
from pubcredit.bulletins.metrics import (
    SHANGHAI,
    decision_codes,
    filled_expression,
    local_day,
    month_start,
    monthly_deadline,
    optional_codes,
)
from pubcredit.bulletins.periods import Period, add_months
from pubcredit.bulletins.statistics import duties_in_force, zero_reports
from pubcredit.catalog.models import Category, Department, ReportingDuty
from pubcredit.checks.models import CheckFeedback, CreditCheck
from pubcredit.holidays.services import workdays_between_many
from pubcredit.intake.models import Submission
from pubcredit.records.models import Record, RecordStatus, RecordVersion
from pubcredit.repair.models import ProcedureStatus, ProcedureStep

SUBMISSIONS, VERSIONS, DUTIES, CHECKS, STEPS = (
    "submissions",
    "versions",
    "duties",
    "checks",
    "steps",
)

# Figure → the submission column it sums (None: one per submission).
SUBMISSION_MEASURES = {
    "submissions": None,
    "submitted": "rows",
    "accepted": "accepted",
    "rejected": "rejected",
    "duplicates": "duplicates",
}
VERSION_FIGURES = (
    "written",
    "first_reports",
    "corrections",
    "due",
    "on_time",
    "late",
    "filled",
    "fillable",
    "withdrawn",
)
DUTY_FIGURES = ("duties", "duties_reported", "zero_duty_months")
CHECK_FIGURES = ("checks", "feedback_due", "feedback_given")
STEP_FIGURES = ("repair_steps", "repair_steps_on_time", "objections_corrected")

KIND_OF: dict[str, str] = {
    **dict.fromkeys(SUBMISSION_MEASURES, SUBMISSIONS),
    **dict.fromkeys(VERSION_FIGURES, VERSIONS),
    **dict.fromkeys(DUTY_FIGURES, DUTIES),
    **dict.fromkeys(CHECK_FIGURES, CHECKS),
    **dict.fromkeys(STEP_FIGURES, STEPS),
}
FIGURES = tuple(DEPARTMENT_COUNTS)
# The figures kept per category (a bulletin's department × category rows), and the duties.
CATEGORY_FIGURES = frozenset(CATEGORY_COUNTS) | frozenset(DUTY_FIGURES)

LABELS: dict[str, str] = {
    "submissions": gettext_lazy("报送批次数"),
    "submitted": gettext_lazy("报送条数"),
    "accepted": gettext_lazy("校验通过条数"),
    "rejected": gettext_lazy("拒收条数"),
    "duplicates": gettext_lazy("文件内重复行数"),
    "written": gettext_lazy("入库条数"),
    "first_reports": gettext_lazy("首次报送条数"),
    "corrections": gettext_lazy("更正条数"),
    "due": gettext_lazy("应按期报送条数"),
    "on_time": gettext_lazy("按期报送条数"),
    "late": gettext_lazy("超期报送条数"),
    "filled": gettext_lazy("已填选填项数"),
    "fillable": gettext_lazy("选填项总数"),
    "withdrawn": gettext_lazy("撤回条数"),
    "checks": gettext_lazy("信用核查次数"),
    "feedback_due": gettext_lazy("返回奖惩措施的核查次数"),
    "feedback_given": gettext_lazy("已反馈的核查次数"),
    "repair_steps": gettext_lazy("有期限的修复、异议办结环节数"),
    "repair_steps_on_time": gettext_lazy("期限内办结的环节数"),
    "objections_corrected": gettext_lazy("异议成立(更正或撤回)数"),
    "duties": gettext_lazy("应报送的报送责任数(按月)"),
    "duties_reported": gettext_lazy("有报送的报送责任数(按月)"),
    "zero_duty_months": gettext_lazy("零报送的报送责任数(按月)"),
}

# The columns every version part selects, in this order (a UNION lines them up by position).
VERSION_COLUMNS = (
    "row_kind",
    "row_record",
    "row_version",
    "row_category",
    "row_key",
    "row_subject",
    "row_subject_kind",
    "row_decision",
    "row_received",
    "row_submission",
    "row_source_row",
    "row_changed",
    "row_filled",
    "row_optional",
)
CURRENT, SUPERSEDED, WITHDRAWN = "current", "superseded", "withdrawn"


@dataclass
class Drilldown:
    """The rows of one figure. `rows` is what a page lists (a queryset, a UNION of querysets or a
    list), in display order; `count()` the figure they make."""

    period: Period
    department: Department
    figure: str
    category: Category | None
    kind: str
    rows: QuerySet | list
    parts: list[QuerySet] = field(default_factory=list)
    measure: str | None = None

    @property
    def label(self) -> str:
        return str(LABELS[self.figure])

    def count(self) -> int:
        """The figure, from the rows (sums per part: a UNION cannot be aggregated)."""
        if isinstance(self.rows, list):
            return len(self.rows)
        if self.measure is None:
            return sum(part.count() for part in self.parts)
        return sum(int(part.aggregate(n=Sum(self.measure))["n"] or 0) for part in self.parts)


def drilldown(
    period: Period, department: Department, figure: str, category: Category | None = None
) -> Drilldown:
    """The rows behind `figure` of `department` in `period` (see the module doc). ValueError for
    an unknown figure, or a category given for a figure not counted per category."""
    if figure not in KIND_OF:
        raise ValueError(_("未知的统计项:%(figure)s") % {"figure": figure})
    if category is not None and figure not in CATEGORY_FIGURES:
        raise ValueError(_("“%(label)s”不按信息类别统计。") % {"label": LABELS[figure]})
    kind = KIND_OF[figure]
    made = Drilldown(period, department, figure, category, kind, rows=[])
    builder = {
        SUBMISSIONS: _submissions,
        VERSIONS: _versions,
        DUTIES: _duties,
        CHECKS: _checks,
        STEPS: _steps,
    }[kind]
    builder(made)
    return made


# --------------------------------------------------------------------------- time


def day_start(day: dt.date) -> dt.datetime:
    """00:00 of `day` in Beijing time."""
    return dt.datetime.combine(day, dt.time(), tzinfo=SHANGHAI)


def bounds(period: Period) -> tuple[dt.datetime, dt.datetime]:
    """The period as [start, end) instants."""
    return day_start(period.start), day_start(period.end + dt.timedelta(days=1))


def earliest_on_time_within(day: dt.date, workdays: int) -> dt.date:
    """The earliest decision date still on time when received on `day` under a `within` duty of
    `workdays` working days: the smallest d with at most `workdays` working days in (d, day],
    counted by `workdays_between_many` as the metrics count them."""
    span = workdays * 2 + 31
    end = np.datetime64(day, "D")
    while True:
        starts = np.arange(end - span, end + 1, dtype="datetime64[D]")
        on_time = workdays_between_many(starts, np.full(starts.shape, end)) <= workdays
        if not on_time[0]:  # the count only falls as d nears `day`: the first True is it
            return day - dt.timedelta(days=span) + dt.timedelta(days=int(np.argmax(on_time)))
        span *= 2


def earliest_on_time_monthly(day: dt.date, monthday: int) -> dt.date:
    """The first day of the earliest decision month still on time when received on `day` under
    a `monthly` duty: the month before when its deadline is on or after `day`, else `day`'s."""
    previous = add_months(month_start(day), -1)
    return previous if monthly_deadline(previous, monthday) >= day else month_start(day)


def duty_in_force(duties: list[ReportingDuty], day: dt.date) -> ReportingDuty | None:
    """Of one department and category's duty versions, the one in force on `day` (the latest
    effective on or before it, as the metrics choose)."""
    found = [
        d
        for d in duties
        if d.effective_from <= day and (d.effective_to is None or d.effective_to >= day)
    ]
    return max(found, key=lambda d: d.effective_from) if found else None


def threshold(duty: ReportingDuty, day: dt.date) -> dt.date:
    """Received on `day` under `duty`: decided before this date is late, on or after on time."""
    if duty.rhythm == ReportingDuty.Rhythm.WITHIN:
        return earliest_on_time_within(day, duty.workdays)
    return earliest_on_time_monthly(day, duty.monthday)


# --------------------------------------------------------------------------- submissions


def _submissions(made: Drilldown) -> None:
    start, end = bounds(made.period)
    rows = Submission.objects.filter(
        department=made.department, received_at__gte=start, received_at__lt=end
    ).exclude(status=Submission.Status.FAILED)
    if made.category is not None:
        rows = rows.filter(category=made.category)
    measure = SUBMISSION_MEASURES[made.figure]
    if measure in ("accepted", "rejected", "duplicates"):
        rows = rows.filter(**{f"{measure}__gt": 0})
    made.parts = [rows]
    made.measure = measure
    made.rows = rows.select_related("category").order_by("received_at", "pk")


# --------------------------------------------------------------------------- record versions


def _version_categories(made: Drilldown, start, end) -> list[int]:
    if made.category is not None:
        return [made.category.pk]
    if made.figure == "withdrawn":
        return list(
            Record.objects.filter(
                department=made.department,
                status=RecordStatus.WITHDRAWN,
                status_changed_at__gte=start,
                status_changed_at__lt=end,
            )
            .order_by()
            .values_list("category_id", flat=True)
            .distinct()
        )
    current = (
        Record.objects.filter(
            department=made.department, received_at__gte=start, received_at__lt=end
        )
        .order_by()
        .values_list("category_id", flat=True)
        .distinct()
    )
    history = (
        RecordVersion.objects.filter(
            record__department=made.department, received_at__gte=start, received_at__lt=end
        )
        .order_by()
        .values_list("record__category_id", flat=True)
        .distinct()
    )
    return sorted(set(current) | set(history))


def _current_columns(kind: str, optional: list[str]) -> dict:
    return {
        "row_kind": Value(kind, output_field=CharField()),
        "row_record": F("pk"),
        "row_version": F("version"),
        "row_category": F("category__code"),
        "row_key": F("business_key"),
        "row_subject": F("subject_name"),
        "row_subject_kind": F("subject_kind"),
        "row_decision": Cast("decision_date", output_field=CharField()),
        "row_received": F("received_at"),
        "row_submission": F("submission_id"),
        "row_source_row": F("source_row"),
        "row_changed": F("status_changed_at"),
        "row_filled": filled_expression(optional),
        "row_optional": Value(len(optional), output_field=IntegerField()),
    }


def _decision_text(code: str):
    """A superseded version's decision date as the text its data holds, compared as text (a
    bare KeyTextTransform would read the compared value as JSON)."""
    return Cast(KeyTextTransform(code, "data"), output_field=CharField())


def _history_columns(decision_code: str | None, optional: list[str]) -> dict:
    decision = (
        _decision_text(decision_code) if decision_code else Value(None, output_field=CharField())
    )
    return {
        "row_kind": Value(SUPERSEDED, output_field=CharField()),
        "row_record": F("record_id"),
        "row_version": F("version"),
        "row_category": F("record__category__code"),
        "row_key": F("record__business_key"),
        "row_subject": F("subject_name"),
        "row_subject_kind": F("subject_kind"),
        "row_decision": decision,
        "row_received": F("received_at"),
        "row_submission": F("submission_id"),
        "row_source_row": F("source_row"),
        "row_changed": F("superseded_at"),
        "row_filled": filled_expression(optional),
        "row_optional": Value(len(optional), output_field=IntegerField()),
    }


# An ISO date at the start of a superseded version's decision text: what metrics._as_date reads.
_ISO_DATE = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}"


def _receipt_days(parts: list[QuerySet]) -> set[dt.date]:
    """The Beijing days on which the rows of `parts` were received: one query per part over the
    distinct receipt times (one per submission)."""
    days: set[dt.date] = set()
    for part in parts:
        times = part.order_by().values_list("received_at", flat=True).distinct()
        days.update(local_day(t) for t in times)
    return days


def _timeliness(
    figure: str, duties: list[ReportingDuty], days: set[dt.date], *, text: bool
) -> Q | None:
    """The filter (on `row_decision` and `received_at`) of the first reports that `figure`
    (due, on_time or late) counts, one clause per receipt day with a duty in force; None when no
    receipt day has one."""
    clauses = []
    for day in sorted(days):  # one per receipt day, never per record
        duty = duty_in_force(duties, day)
        if duty is None:
            continue
        clause = Q(
            received_at__gte=day_start(day), received_at__lt=day_start(day + dt.timedelta(1))
        )
        bound = threshold(duty, day)
        value = bound.isoformat() if text else bound
        lookup = "_decision_text" if text else "decision_date"
        if figure == "late":
            clause &= Q(**{f"{lookup}__lt": value})
        elif figure == "on_time":
            clause &= Q(**{f"{lookup}__gte": value})
        clauses.append(clause)
    return functools.reduce(operator.or_, clauses) if clauses else None


def _versions(made: Drilldown) -> None:
    start, end = bounds(made.period)
    figure = made.figure
    categories = _version_categories(made, start, end)
    optional = optional_codes(categories)
    decisions = decision_codes(categories)
    duties: dict[int, list[ReportingDuty]] = {c: [] for c in categories}
    if figure in ("due", "on_time", "late"):
        for duty in ReportingDuty.objects.filter(
            department=made.department, category_id__in=categories
        ):
            duties[duty.category_id].append(duty)
    parts: list[QuerySet] = []
    for cat in categories:
        if figure == "withdrawn":
            parts.append(
                Record.objects.filter(
                    department=made.department,
                    category_id=cat,
                    status=RecordStatus.WITHDRAWN,
                    status_changed_at__gte=start,
                    status_changed_at__lt=end,
                ).annotate(**_current_columns(WITHDRAWN, optional[cat]))
            )
            continue
        current = Record.objects.filter(
            department=made.department, category_id=cat, received_at__gte=start, received_at__lt=end
        )
        history = RecordVersion.objects.filter(
            record__department=made.department,
            record__category_id=cat,
            received_at__gte=start,
            received_at__lt=end,
        )
        if figure in ("first_reports", "due", "on_time", "late"):
            current, history = current.filter(version=1), history.filter(version=1)
        elif figure == "corrections":
            current, history = current.filter(version__gt=1), history.filter(version__gt=1)
        if figure in ("due", "on_time", "late"):
            current = current.filter(decision_date__isnull=False)
            if decisions[cat]:
                history = history.annotate(_decision_text=_decision_text(decisions[cat])).filter(
                    _decision_text__regex=_ISO_DATE
                )
            else:
                history = history.none()
            days = _receipt_days([current, history])
            judged = _timeliness(figure, duties[cat], days, text=False)
            judged_text = _timeliness(figure, duties[cat], days, text=True)
            current = current.filter(judged) if judged is not None else current.none()
            history = history.filter(judged_text) if judged_text is not None else history.none()
        current = current.annotate(**_current_columns(CURRENT, optional[cat]))
        history = history.annotate(**_history_columns(decisions[cat], optional[cat]))
        if figure == "filled":
            current, history = current.filter(row_filled__gt=0), history.filter(row_filled__gt=0)
        elif figure == "fillable" and not optional[cat]:
            continue
        parts.extend([current, history])
    made.parts = parts
    made.measure = {"filled": "row_filled", "fillable": "row_optional"}.get(figure)
    listed = [part.order_by().values(*VERSION_COLUMNS) for part in parts]
    if not listed:
        made.rows = Record.objects.none().values(*VERSION_COLUMNS)
    elif len(listed) == 1:
        made.rows = listed[0].order_by("row_received", "row_record", "row_version")
    else:
        made.rows = (
            listed[0]
            .union(*listed[1:], all=True)
            .order_by("row_received", "row_record", "row_version")
        )


# --------------------------------------------------------------------------- duties


def _duties(made: Drilldown) -> None:
    """One dict per (month, duty in force): month, duty, category, reported."""
    rows = []
    for month in made.period.months:
        missing = {
            z["category_id"]
            for z in zero_reports(month)
            if z["department_id"] == made.department.pk
        }
        duties = (
            duties_in_force(month)
            .filter(department=made.department)
            .select_related("category")
            .order_by("category__code", "-effective_from")
        )
        if made.category is not None:
            duties = duties.filter(category=made.category)
        seen: set[int] = set()
        for duty in duties:  # the department's duties in force: a handful
            if duty.category_id in seen:
                continue
            seen.add(duty.category_id)
            reported = duty.category_id not in missing
            if made.figure == "duties_reported" and not reported:
                continue
            if made.figure == "zero_duty_months" and reported:
                continue
            rows.append(
                {"month": month, "duty": duty, "category": duty.category, "reported": reported}
            )
    made.rows = rows


# --------------------------------------------------------------------------- activity


def _checks(made: Drilldown) -> None:
    start, end = bounds(made.period)
    rows = CreditCheck.objects.filter(
        department=made.department, checked_at__gte=start, checked_at__lt=end
    )
    returned = Q(punishment_count__gt=0) | Q(reward_count__gt=0)
    if made.figure in ("feedback_due", "feedback_given"):
        rows = rows.filter(returned)
    answered = Exists(CheckFeedback.objects.filter(credit_check=OuterRef("pk")))
    if made.figure == "feedback_given":
        rows = rows.filter(answered)
    made.parts = [rows]
    made.rows = (
        rows.annotate(has_feedback=answered)
        .select_related("matter", "subject")
        .order_by("checked_at", "pk")
    )


def _steps(made: Drilldown) -> None:
    rows = ProcedureStep.objects.filter(
        day__gte=made.period.start, day__lte=made.period.end
    ).filter(Q(application__department=made.department) | Q(objection__department=made.department))
    if made.figure in ("repair_steps", "repair_steps_on_time"):
        rows = rows.filter(stage_due_on__isnull=False)
    if made.figure == "repair_steps_on_time":
        rows = rows.filter(late=False)
    if made.figure == "objections_corrected":
        rows = rows.filter(
            objection__isnull=False,
            to_status__in=[ProcedureStatus.CORRECTED, ProcedureStatus.RECORD_WITHDRAWN],
        )
    made.parts = [rows]
    made.rows = rows.order_by("day", "at", "pk")
