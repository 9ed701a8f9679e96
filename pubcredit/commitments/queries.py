"""Read-only questions about commitments: the public register (信用承诺公示), the commitments in
force that credit checks report, and what a principal may see in the console and the API."""

from __future__ import annotations

import datetime as dt

from django.db import connection
from django.db.models import Q, QuerySet
from django.utils import timezone

from pubcredit.accounts.permissions import Principal, restrict
from pubcredit.catalog.models import Department
from pubcredit.commitments.models import BREACHES, Commitment, Performance, PublicityType
from pubcredit.measures.rules import current_rules

VIEW_ACTION = "repair.view"


def in_force_q(day: dt.date, *, prefix: str = "") -> Q:
    """Commitments in force on `day`: made on or before it, valid through it (or open-ended),
    not breached, not withdrawn."""
    p = prefix
    return (
        Q(**{f"{p}made_on__lte": day, f"{p}withdrawn_at__isnull": True})
        & (Q(**{f"{p}valid_to__isnull": True}) | Q(**{f"{p}valid_to__gte": day}))
        & ~Q(**{f"{p}performance__in": list(BREACHES)})
    )


def assessment_due_q(day: dt.date) -> Q:
    """Commitments whose term ended before `day` and whose performance is still to be assessed
    (待认定), not withdrawn: the accepting department's work (the dashboard, the list's "due")."""
    return Q(performance=Performance.PENDING, valid_to__lt=day, withdrawn_at__isnull=True)


def public_q(day: dt.date) -> Q:
    """What the public register shows on `day`: 可向社会公开 commitments made on or before it,
    not withdrawn (breached and expired ones included: a fulfilment record stays public)."""
    return Q(publicity_type=PublicityType.PUBLIC, made_on__lte=day, withdrawn_at__isnull=True)


def public_commitments(subject_id: int, today: dt.date | None = None) -> QuerySet[Commitment]:
    """The subject's commitments in the public register today, newest first (served by the
    (subject, made_on) index)."""
    day = today or timezone.localdate()
    return (
        Commitment.objects.filter(public_q(day), subject_id=subject_id)
        .select_related("department", "assessor", "matter")
        .order_by("-made_on", "-id")
    )


COMMITMENT_COLUMNS = (
    "subject_id",
    "code",
    "commitment_type",
    "reason",
    "made_on",
    "valid_to",
    "department_id",
    "performance",
    "id",
)


def commitments_sql(subject_condition: str, day: dt.date) -> tuple[str, list]:
    """The SELECT (COMMITMENT_COLUMNS) of the commitments in force on `day` (made on or before
    it, valid through it or long-term, not breached, not withdrawn) of the subjects matching
    `subject_condition` (SQL on the commitments table, e.g. "subject_id = s.id"), with its
    parameters. Served by the (subject, made_on) index."""
    table = connection.ops.quote_name(Commitment._meta.db_table)
    sql = (
        f"SELECT {', '.join(COMMITMENT_COLUMNS)} FROM {table} WHERE {subject_condition} "
        f"AND made_on <= %s AND (valid_to IS NULL OR valid_to >= %s) "
        f"AND performance NOT IN (%s, %s) AND withdrawn_at IS NULL"
    )
    d = connection.ops.adapt_datefield_value(day)
    return sql, [d, d, *BREACHES]


def _iso_text(value) -> str | None:
    if not value:
        return None
    return value if isinstance(value, str) else value.isoformat()


def commitment_dicts(rows) -> dict[int, list[dict]]:
    """{subject id: [commitment]} from rows of `commitments_sql`, newest first, department
    names from the rules cache."""
    if not rows:
        return {}
    names = _department_names({r[6] for r in rows})
    rows = sorted(rows, key=lambda r: (r[0], _iso_text(r[4]) or "", r[8]), reverse=True)
    out: dict[int, list[dict]] = {}
    for sid, code, ctype, reason, made, until, dept, perf, _pk in rows:
        out.setdefault(sid, []).append(
            {
                "code": code,
                "commitment_type": ctype,
                "reason": reason,
                "made_on": _iso_text(made),
                "valid_to": _iso_text(until),
                "department": names.get(dept, ""),
                "performance": perf,
            }
        )
    return out


# Subjects per query of `commitments_in_force` (a batch check asks for up to 100,000).
IN_FORCE_CHUNK = 2000


def commitments_in_force(subject_ids, today: dt.date | None = None) -> dict[int, list[dict]]:
    """{subject id: [commitment in force on `today`]} for credit checks: each with code, type,
    reason, made_on, valid_to (ISO dates; None = long-term), accepting department and
    performance, newest first. One query per IN_FORCE_CHUNK subjects, served by the (subject,
    made_on) index; department names come from the rules cache. Subjects without any are
    absent."""
    ids = sorted({int(s) for s in subject_ids if s is not None})
    day = today or timezone.localdate()
    rows = []
    with connection.cursor() as cursor:
        for i in range(0, len(ids), IN_FORCE_CHUNK):
            chunk = ids[i : i + IN_FORCE_CHUNK]
            sql, params = commitments_sql(f"subject_id IN ({', '.join(['%s'] * len(chunk))})", day)
            cursor.execute(sql, [*chunk, *params])
            rows += cursor.fetchall()
    return commitment_dicts(rows)


def _department_names(ids: set[int]) -> dict[int, str]:
    known = current_rules().departments or {}
    names = {i: known[i] for i in ids if i in known}
    missing = [i for i in ids if i not in names]
    if missing:  # a department created since the rules were cached
        names.update(Department.objects.filter(pk__in=missing).values_list("pk", "name"))
    return names


def visible_commitments(principal: Principal) -> QuerySet[Commitment]:
    """The commitments `principal` may see in the console and the API ("repair.view", scoped:
    a 部门报送员 its department's, a 区县管理员 its district's subjects')."""
    return restrict(Commitment.objects.all(), principal, VIEW_ACTION)
