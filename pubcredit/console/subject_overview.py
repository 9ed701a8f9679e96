"""What the platform holds about one subject, for its console page: the credit records, the list
entries, the recent credit checks and the commitments, each as a short table (the newest
`ROWS` rows and the total) restricted to what the principal may see with the permission of the
page each row links to. A section the principal may not see is left out.

The rows carry no names, identifiers or free text of the subject itself (a natural person's
page shows them only after a logged look, `subjects.access.log_person_access`, done by the view).

`credit_grades` gathers the subject's credit grades for the same page (信用评价): the current
grade under each scorecard that evaluated it (general, then sector ones), each explained line by
line, the latest results (history), and the grades other authorities gave it (纳税信用等级,
社会组织评估等级, shown as given). A natural person's 个人信用积分 only for a principal with
"subjects.view_person" and a purpose: scoring.services logs each look (who, why, what).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied
from django.db.models import Count, F
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from pubcredit.accounts.permissions import Principal, restrict
from pubcredit.checks.services import ACTION as CHECK_ACTION
from pubcredit.checks.services import visible_checks
from pubcredit.commitments.models import Commitment
from pubcredit.commitments.queries import VIEW_ACTION as COMMITMENT_ACTION
from pubcredit.intake.models import Submission
from pubcredit.lists.models import ListEntry
from pubcredit.lists.services import ENTRY_ACTION
from pubcredit.publicity.models import Publicity
from pubcredit.records.models import Record, document_number
from pubcredit.scoring import services as scoring
from pubcredit.scoring.grades import GivenGrade, given_grades
from pubcredit.scoring.models import Scorecard

ROWS = 10
HISTORY_ROWS = 10


@dataclass
class Section:
    """One table of the overview: `columns` headers, `rows` of (link or "", cells)."""

    key: str
    title: str
    total: int
    columns: list[str]
    rows: list[tuple[str, list[str]]] = field(default_factory=list)
    # Totals by a label (records by category, entries by list), shown above the table.
    breakdown: list[tuple[str, int]] = field(default_factory=list)
    more_url: str = ""


def _date(value) -> str:
    return value.strftime("%Y-%m-%d") if value else "—"


def records_section(principal: Principal, subject) -> Section | None:
    if not principal.can("records.view"):
        return None
    qs = restrict(Record.objects.filter(subject=subject), principal, "records.view")
    by_category = list(
        qs.order_by()
        .values_list("category__name")
        .annotate(n=Count("pk"))
        .order_by("-n", "category__name")
    )
    rows = list(
        qs.select_related("category", "department")
        .annotate(data_source=F("submission__source"))
        .order_by("-decision_date", "-pk")[:ROWS]
    )
    sources = dict(Submission.Source.choices)
    windows = Publicity.objects.filter(pk__in=[r.pk for r in rows]).only("record", "state")
    states = {p.pk: p.get_state_display() for p in windows}
    return Section(
        key="records",
        title=str(_("信用记录")),
        total=sum(n for _name, n in by_category),
        columns=[
            str(c)
            for c in (
                _("信息类别"),
                _("文书号"),
                _("报送部门"),
                _("决定日期"),
                _("状态"),
                _("公示状态"),
                _("数据来源"),
            )
        ],
        rows=[
            (
                reverse("console:intake:submission_detail", args=[r.submission_id]),
                [
                    r.category.name,
                    document_number(r.business_key),
                    r.department.name,
                    _date(r.decision_date),
                    str(r.get_status_display()),
                    str(states.get(r.pk, "—")),
                    str(sources.get(r.data_source, sources[Submission.Source.LOCAL])),
                ],
            )
            for r in rows
        ],
        breakdown=by_category,
    )


def entries_section(principal: Principal, subject) -> Section | None:
    if not principal.can(ENTRY_ACTION):
        return None
    qs = restrict(ListEntry.objects.filter(subject=subject), principal, ENTRY_ACTION)
    by_list = list(
        qs.order_by()
        .values_list("list_type__name")
        .annotate(n=Count("pk"))
        .order_by("-n", "list_type__name")
    )
    rows = qs.select_related("list_type", "identified_by").order_by("-decided_on", "-pk")[:ROWS]
    return Section(
        key="entries",
        title=str(_("名单条目")),
        total=sum(n for _name, n in by_list),
        columns=[
            str(c)
            for c in (
                _("名单"),
                _("类型"),
                _("认定文书号"),
                _("认定日期"),
                _("有效期至"),
                _("状态"),
            )
        ],
        rows=[
            (
                reverse("console:lists:entry_detail", args=[e.pk]),
                [
                    e.list_type.name,
                    str(e.list_type.get_kind_display()),
                    e.document_number or "—",
                    _date(e.decided_on),
                    _date(e.valid_to) if e.valid_to else str(_("长期")),
                    str(e.get_status_display()),
                ],
            )
            for e in rows
        ],
        breakdown=by_list,
        more_url=reverse("console:lists:entry_list")
        + (f"?q={subject.uscc}" if subject.uscc else ""),
    )


def checks_section(principal: Principal, subject) -> Section | None:
    if not (principal.can("console.view") and principal.can(CHECK_ACTION)):
        return None
    qs = visible_checks(principal).filter(subject=subject)
    rows = qs.select_related("matter").order_by("-checked_at", "-pk")[:ROWS]
    return Section(
        key="checks",
        title=str(_("最近的信用核查")),
        total=qs.count(),
        columns=[
            str(c)
            for c in (
                _("核查编号"),
                _("核查时间"),
                _("核查事项"),
                _("核查渠道"),
                _("核查者"),
                _("核查结论"),
            )
        ],
        rows=[
            (
                reverse("console:checks:result", args=[c.pk]),
                [
                    c.number,
                    c.checked_at.astimezone().strftime("%Y-%m-%d %H:%M"),
                    c.matter.name if c.matter else "—",
                    str(c.get_channel_display()),
                    c.actor_label,
                    str(c.get_outcome_display()),
                ],
            )
            for c in rows
        ],
    )


def commitments_section(principal: Principal, subject) -> Section | None:
    if not (principal.can("console.view") and principal.can(COMMITMENT_ACTION)):
        return None
    qs = restrict(Commitment.objects.filter(subject=subject), principal, COMMITMENT_ACTION)
    rows = qs.select_related("department").order_by("-made_on", "-pk")[:ROWS]
    return Section(
        key="commitments",
        title=str(_("信用承诺")),
        total=qs.count(),
        columns=[
            str(c)
            for c in (_("承诺编号"), _("承诺类型"), _("承诺作出日期"), _("受理部门"), _("履行状态"))
        ],
        rows=[
            (
                reverse("console:commitments:detail", args=[c.pk]),
                [
                    c.code,
                    str(c.get_commitment_type_display()),
                    _date(c.made_on),
                    c.department.name if c.department else "—",
                    str(c.get_performance_display()),
                ],
            )
            for c in rows
        ],
    )


def subject_overview(principal: Principal, subject) -> list[Section]:
    """The sections of `subject`'s console page the principal may see, in page order."""
    sections = (
        records_section(principal, subject),
        entries_section(principal, subject),
        checks_section(principal, subject),
        commitments_section(principal, subject),
    )
    return [s for s in sections if s is not None]


@dataclass
class CreditGrades:
    """The credit grades part of a subject's page."""

    grades: list[scoring.Grade]  # current, general scorecard first
    explanations: list[dict]  # scoring.services.explain of each grade, same order
    history: list[dict]  # the latest HISTORY_ROWS results (scoring.services.history)
    history_total: int
    given: list[tuple[GivenGrade, str]]  # (grade as given, the department that recorded it)


def credit_grades(
    principal: Principal, subject, *, purpose: str = "", client_address: str | None = None
) -> CreditGrades:
    """The subject's grades, explanations, history and grades given by other authorities. For
    a natural person, `purpose` is required and the look at the points is logged (by
    scoring.services.explain and history: one row each, naming what was seen)."""
    if subject.is_person and not principal.can("subjects.view_person"):
        raise PermissionDenied
    grades = scoring.current_grades(subject)
    cards = {c.code: c for c in Scorecard.objects.filter(code__in=[g.scorecard for g in grades])}
    look = {"principal": principal, "purpose": purpose, "client_address": client_address}
    explanations = [
        e
        for e in (scoring.explain(subject, cards[g.scorecard], **look) for g in grades)
        if e is not None
    ]
    history = scoring.history(subject, **look)
    given: list[tuple[GivenGrade, str]] = []
    if not subject.is_person:  # grades given by other authorities are organisations'
        held = given_grades([subject.pk]).get(subject.pk, [])
        departments = dict(
            Record.objects.filter(pk__in=[g.record_id for g in held]).values_list(
                "pk", "department__name"
            )
        )
        given = [(g, departments.get(g.record_id, "")) for g in held]
    return CreditGrades(
        grades=grades,
        explanations=explanations,
        history=history[:HISTORY_ROWS],
        history_total=len(history),
        given=given,
    )
