"""Read-only questions the repair pages ask: the console queue (what a principal may see, what it
can act on first, what is overdue), the overdue count for the dashboard and the statistics by
department and month, a query code's procedure and the overdue items. Nothing here writes; every
queryset starts from `repair.procedures.visible_applications` / `visible_objections`, so the scope
rules are the procedures'."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Case, F, IntegerField, Q, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _

from pubcredit.accounts.permissions import Principal, restrict
from pubcredit.catalog.models import SubjectKind
from pubcredit.holidays.services import workdays_between_many
from pubcredit.publicity.models import Publicity
from pubcredit.publicity.services import is_public_q
from pubcredit.repair import procedures
from pubcredit.repair.letters import document_number
from pubcredit.repair.models import (
    OPEN_OBJECTION,
    OPEN_REPAIR,
    Objection,
    ProcedureStatus,
    ProcedureStep,
    RepairApplication,
)
from pubcredit.repair.procedures import QUERY_LENGTH, normalise_query_code
from pubcredit.subjects.names import mask_person_name

S = ProcedureStatus
APPLICATION, OBJECTION = "application", "objection"
KINDS = (APPLICATION, OBJECTION)
QUEUE_LIMIT = 200

# Outcomes that close a procedure with a decision (a withdrawal is not a decision).
DECIDED = {
    APPLICATION: (S.GRANTED, S.DENIED, S.REFUSED, S.REVOKED),
    OBJECTION: (S.CORRECTED, S.RECORD_WITHDRAWN, S.UPHELD, S.REFUSED),
}
# Decisions in the applicant's favour: a repair granted (even if later revoked), an objection
# that led to a correction or a withdrawal of the record.
FAVOURABLE = {
    APPLICATION: (S.GRANTED, S.REVOKED),
    OBJECTION: (S.CORRECTED, S.RECORD_WITHDRAWN),
}
OPEN = {APPLICATION: OPEN_REPAIR, OBJECTION: OPEN_OBJECTION}
MODELS = {APPLICATION: RepairApplication, OBJECTION: Objection}
# The statuses the queue's status filter offers (both procedures), in procedure order.
STATUS_FILTERS = (
    S.SUBMITTED,
    S.ACCEPTED,
    S.REVIEWED,
    S.VERIFYING,
    S.GRANTED,
    S.DENIED,
    S.REFUSED,
    S.WITHDRAWN,
    S.REVOKED,
    S.CORRECTED,
    S.RECORD_WITHDRAWN,
    S.UPHELD,
)


def _today(today: dt.date | None) -> dt.date:
    return today or timezone.localdate()


def visible(principal: Principal, kind: str):
    if kind == APPLICATION:
        return procedures.visible_applications(principal)
    return procedures.visible_objections(principal)


def actionable_statuses(principal: Principal, kind: str) -> frozenset[str]:
    """The statuses in which `principal`'s role moves a procedure of `kind` on: the credit
    centre (repair.handle) accepts and decides, the deciding department (repair.review)
    verifies. Scope (which department's items) is the services' `restrict`."""
    out: set[str] = set()
    if principal.can("repair.handle"):
        out |= {S.SUBMITTED, S.REVIEWED} if kind == APPLICATION else {S.SUBMITTED}
    if principal.can("repair.review"):
        out |= {S.ACCEPTED} if kind == APPLICATION else {S.VERIFYING}
    return frozenset(out)


def public_name(subject) -> str:
    """Lists show a natural person masked, as everywhere in the console's lists."""
    if subject is None:
        return ""
    return mask_person_name(subject.name) if subject.kind == SubjectKind.PERSON else subject.name


def steps(proc) -> list[dict]:
    """A procedure's history: each step with the label of its action."""
    return [
        {"step": s, "label": s.get_action_display()}
        for s in proc.steps.select_related("department")
    ]


def overdue_workdays_many(procs, today: dt.date) -> list[int]:
    """Working days each procedure's current stage is past its deadline (0 when it is not
    overdue; at least 1 when it is, even on a weekend), counted in one vectorised call."""
    dues = [p.due_on if p.is_overdue(today) else None for p in procs]
    return [
        max(1, n) if due is not None else 0
        for due, n in zip(dues, workdays_past(dues, today), strict=True)
    ]


def overdue_workdays(proc, today: dt.date) -> int:
    """Working days the current stage is past its deadline (0 when it is not overdue)."""
    return overdue_workdays_many([proc], today)[0]


@dataclass(frozen=True)
class QueueRow:
    kind: str
    kind_label: str
    proc: object
    subject_name: str
    document_number: str
    actionable: bool
    overdue_days: int

    @property
    def overdue(self) -> bool:
        return self.overdue_days > 0


@dataclass(frozen=True)
class Queue:
    rows: list[QueueRow]
    total: int
    truncated: bool


def queue(
    principal: Principal,
    *,
    kind: str = "",
    status: str = "open",
    department_id: int | None = None,
    overdue_only: bool = False,
    due_today: bool = False,
    today: dt.date | None = None,
    limit: int = QUEUE_LIMIT,
) -> Queue:
    """The applications and objections `principal` may see, filtered, those it can act on
    first, then by deadline (earliest first, none last) and age. `status`: "open" (every
    status still in progress), "" or "all" (everything) or one ProcedureStatus value."""
    day = _today(today)
    rows: list[QueueRow] = []
    total = 0
    labels = {APPLICATION: _("信用修复"), OBJECTION: _("异议")}
    for k in KINDS:
        if kind and kind != k:
            continue
        qs = visible(principal, k)
        if status == "open":
            qs = qs.filter(status__in=OPEN[k])
        elif status and status != "all":
            qs = qs.filter(status=status)
        if department_id:
            qs = qs.filter(department_id=department_id)
        if overdue_only:
            qs = qs.filter(due_on__lt=day, decided_on__isnull=True)
        if due_today:
            qs = qs.filter(due_on=day, decided_on__isnull=True)
        total += qs.count()
        act = actionable_statuses(principal, k)
        qs = (
            qs.annotate(
                actionable=Case(
                    When(status__in=list(act) or ["-"], then=Value(1)),
                    default=Value(0),
                    output_field=IntegerField(),
                )
            )
            .select_related("subject", "record", "department")
            .defer("record__data", "record__original", "record__sealed")
            .order_by("-actionable", F("due_on").asc(nulls_last=True), "created_at", "id")
        )
        procs = list(qs[:limit])
        for proc, late in zip(procs, overdue_workdays_many(procs, day), strict=True):
            rows.append(
                QueueRow(
                    kind=k,
                    kind_label=labels[k],
                    proc=proc,
                    subject_name=public_name(proc.subject),
                    document_number=document_number(proc.record),
                    actionable=bool(proc.actionable),
                    overdue_days=late,
                )
            )
    far = dt.date.max
    rows.sort(key=lambda r: (not r.actionable, r.proc.due_on or far, r.proc.created_at))
    return Queue(rows[:limit], total, total > limit)


def overdue_count(principal: Principal, today: dt.date | None = None) -> int:
    """Open applications and objections past their current deadline that `principal` may see
    (two counts served by the (status, due_on) indexes)."""
    day = _today(today)
    return sum(
        visible(principal, k).filter(status__in=OPEN[k], due_on__lt=day).count() for k in KINDS
    )


# --------------------------------------------------------------------------- statistics


def month_start(day: dt.date, back: int = 0) -> dt.date:
    """The first day of the month `back` months before `day`'s month."""
    index = day.year * 12 + day.month - 1 - back
    return dt.date(index // 12, index % 12 + 1, 1)


def _months(since: dt.date, until: dt.date) -> list[str]:
    out, day = [], month_start(since)
    while day <= until:
        out.append(f"{day:%Y-%m}")
        day = month_start(day, -1)
    return out


def _blank() -> dict:
    return {
        "app_received": 0,
        "app_decided": 0,
        "app_granted": 0,
        "obj_received": 0,
        "obj_decided": 0,
        "obj_favourable": 0,
        "days": [],
        "steps": 0,
        "late_steps": 0,
        "open_overdue": 0,
    }


def _finish(label: str, cell: dict) -> dict:
    days = cell.pop("days")
    steps = cell["steps"]
    return {
        "label": label,
        **cell,
        "avg_days": round(sum(days) / len(days), 1) if days else None,
        "late_rate": round(100 * cell["late_steps"] / steps, 1) if steps else None,
    }


def statistics(
    principal: Principal,
    *,
    since: dt.date | None = None,
    until: dt.date | None = None,
    today: dt.date | None = None,
) -> dict:
    """Repair applications and objections that `principal` may see, by deciding department and
    by month: received (by submission date), decided and decided in the applicant's favour and
    the average working days from submission to decision (by decision date), the overdue rate
    (share of the stages closed in the period, by the day they closed, that were closed after
    their deadline) and the open items past their deadline today (by department).
    Default period: the last twelve months, this one included."""
    day = _today(today)
    until = until or day
    since = since or month_start(until, 11)
    months = _months(since, until)
    by_dept: dict[str, dict] = {}
    by_month: dict[str, dict] = {m: _blank() for m in months}
    total = _blank()

    def cells(dept: str, month: str | None):
        out = [by_dept.setdefault(dept, _blank()), total]
        if month in by_month:
            out.append(by_month[month])
        return out

    prefix = {APPLICATION: "app", OBJECTION: "obj"}
    favourable = {APPLICATION: "app_granted", OBJECTION: "obj_favourable"}
    for k in KINDS:
        base = visible(principal, k)
        in_period = Q(created_at__date__gte=since, created_at__date__lte=until) | Q(
            decided_on__gte=since, decided_on__lte=until
        )
        rows = list(
            base.filter(in_period)
            .order_by()
            .values_list("department__name", "created_at", "decided_on", "status")
        )
        decided = []
        for dept, created_at, decided_on, status in rows:
            submitted = timezone.localtime(created_at).date()
            if since <= submitted <= until:
                for cell in cells(dept, f"{submitted:%Y-%m}"):
                    cell[f"{prefix[k]}_received"] += 1
            if decided_on and since <= decided_on <= until and status in DECIDED[k]:
                decided.append((dept, submitted, decided_on, status))
        if decided:
            spans = workdays_between_many(
                [d[1] for d in decided], [max(d[1], d[2]) for d in decided]
            )
            for (dept, _submitted, decided_on, status), span in zip(decided, spans, strict=True):
                for cell in cells(dept, f"{decided_on:%Y-%m}"):
                    cell[f"{prefix[k]}_decided"] += 1
                    if status in FAVOURABLE[k]:
                        cell[favourable[k]] += 1
                    cell["days"].append(int(span))
        for dept, _n in (
            base.filter(status__in=OPEN[k], due_on__lt=day)
            .order_by()
            .values_list("department__name", "id")
        ):
            for cell in cells(dept, None):
                cell["open_overdue"] += 1
        owner = "application" if k == APPLICATION else "objection"
        steps = ProcedureStep.objects.filter(
            **{f"{owner}__in": base.values("pk")},
            stage_due_on__isnull=False,
            day__gte=since,
            day__lte=until,
        ).values_list(f"{owner}__department__name", "day", "late")
        for dept, step_day, late in steps:
            for cell in cells(dept, f"{step_day:%Y-%m}"):
                cell["steps"] += 1
                cell["late_steps"] += int(late)
    return {
        "since": since,
        "until": until,
        "by_department": [_finish(d, by_dept[d]) for d in sorted(by_dept)],
        "by_month": [_finish(m, by_month[m]) for m in months],
        "totals": _finish(_("合计"), total),
    }


# --------------------------------------------------------------------------- lookup, overdue items


def lookup(query_code: str):
    """The application or objection a query code belongs to, or None."""
    code = normalise_query_code(query_code)
    if len(code) != QUERY_LENGTH:
        return None
    return (
        RepairApplication.objects.filter(query_code=code).first()
        or Objection.objects.filter(query_code=code).first()
    )


def public_records_shown(record_ids, today=None) -> set[int]:
    """Of `record_ids`, those shown on the portal today (for tests and pages)."""
    rows = Publicity.objects.filter(pk__in=list(record_ids)).filter(
        is_public_q(_today(today), prefix="")
    )
    return set(rows.values_list("pk", flat=True))


def workdays_past(due_dates, day: dt.date) -> list[int]:
    """For each deadline, the working days `day` is past it (0 when not past, or none): one
    vectorised count for a whole queue (pubcredit.holidays.workdays_between_many)."""
    past = [d is not None and d < day for d in due_dates]
    if not any(past):
        return [0] * len(past)
    starts = [d if p else day for d, p in zip(due_dates, past, strict=True)]
    counts = workdays_between_many(starts, [day] * len(starts))
    return [int(c) if p else 0 for c, p in zip(counts, past, strict=True)]


def overdue_items(today: dt.date | None = None, principal: Principal | None = None) -> list[dict]:
    """Open applications and objections past their stage deadline (for the console's alerts and
    `pubcredit repair overdue`), oldest deadline first; restricted to what `principal` may see
    when given."""
    day = _today(today)
    out = []
    for model, open_states, kind in (
        (RepairApplication, OPEN_REPAIR, "repair"),
        (Objection, OPEN_OBJECTION, "objection"),
    ):
        qs = model.objects.filter(status__in=open_states, due_on__lt=day)
        if principal is not None:
            qs = restrict(qs, principal, "repair.view")
        procs = list(qs.select_related("department").order_by("due_on", "id"))
        for proc, late in zip(procs, workdays_past([p.due_on for p in procs], day), strict=True):
            out.append(
                {
                    "kind": kind,
                    "id": proc.pk,
                    "query_code": proc.query_code,
                    "status": proc.status,
                    "status_name": str(proc.get_status_display()),
                    "department": proc.department.name,
                    "due_on": proc.due_on.isoformat(),
                    "overdue_workdays": late,
                }
            )
    return out
