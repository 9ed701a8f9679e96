"""The dashboard's "what to do today": per role, the counts of work waiting for the person signed
in, each with the console list behind it. Read-only; nothing here writes.

Each count starts from the app's own visibility rule (`restrict` through the app's query module),
so a 部门报送员 counts only its department's work, a 区县管理员 its district's, the credit centre
everything; a role without the action gets no item at all rather than a zero. One aggregate query
per table (conditional COUNTs), so the dashboard costs a handful of queries whatever the data.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from urllib.parse import urlencode

from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from pubcredit.accounts.permissions import Principal, restrict
from pubcredit.bulletins import reminders
from pubcredit.checks.models import CheckChannel
from pubcredit.checks.services import visible_checks
from pubcredit.commitments.confirmation import visible_requests
from pubcredit.commitments.models import SigningRequest
from pubcredit.commitments.queries import assessment_due_q, visible_commitments
from pubcredit.financing.models import BindingStatus, EnterpriseBinding
from pubcredit.intake.models import MatchReview, Submission
from pubcredit.repair import queries as repair_queries


@dataclass(frozen=True)
class Task:
    """One count on the dashboard: what it is, how many, where the list behind it is."""

    key: str
    label: str
    count: int
    url: str
    urgent: bool = False  # past a deadline: shown in the error colour


def _url(name: str, **query) -> str:
    url = reverse(name)
    return f"{url}?{urlencode(query)}" if query else url


def _submissions(principal: Principal, today: dt.date) -> list[Task]:
    if not principal.can("records.submit"):
        return []
    qs = restrict(Submission.objects.all(), principal, "records.view")
    n = qs.filter(Submission.to_fix_q(today)).count()
    return [
        Task(
            "submissions_to_fix",
            _("待修正的报送批次(近30日失败或有拒收行)"),
            n,
            _url("console:intake:submission_list", fix="1"),
            urgent=n > 0,
        )
    ]


def _reminders(principal: Principal) -> list[Task]:
    # A department's clerks: the reporting reminders (报送提醒) they have not read yet. A notice,
    # not a queue of work: listed only while there is one to read.
    n = reminders.unread_count(principal)
    if not n:
        return []
    return [
        Task(
            "duty_reminders",
            _("未读的报送提醒(有报送责任但当月尚无报送)"),
            n,
            _url("console:reminders:list"),
            urgent=True,
        )
    ]


def _match_reviews(principal: Principal) -> list[Task]:
    if not principal.can("subjects.change"):
        return []
    qs = restrict(MatchReview.objects.all(), principal, "subjects.change")
    n = qs.filter(status=MatchReview.Status.OPEN).count()
    return [Task("match_reviews", _("待确认的主体匹配"), n, _url("console:intake:review_list"))]


def _commitments(principal: Principal, today: dt.date) -> list[Task]:
    if not principal.can("commitments.assess"):
        return []
    signings = (
        visible_requests(principal)
        .filter(status=SigningRequest.Status.PENDING)
        .select_related(None)
        .count()
    )
    due = visible_commitments(principal).filter(assessment_due_q(today)).count()
    return [
        Task(
            "signings_to_confirm",
            _("待确认的在线承诺"),
            signings,
            _url("console:commitments:list") + "#pending-signings",
        ),
        Task(
            "commitments_to_assess",
            _("期满待认定履行情况的信用承诺"),
            due,
            _url("console:commitments:list", due="1"),
        ),
    ]


def _repair(principal: Principal, today: dt.date) -> list[Task]:
    if not principal.can("repair.view"):
        return []
    totals = {"actionable": 0, "due_today": 0, "overdue": 0}
    for kind in repair_queries.KINDS:
        act = repair_queries.actionable_statuses(principal, kind)
        counts = (
            repair_queries.visible(principal, kind)
            .filter(status__in=repair_queries.OPEN[kind])
            .aggregate(
                actionable=Count("id", filter=Q(status__in=list(act) or ["-"])),
                due_today=Count("id", filter=Q(due_on=today)),
                overdue=Count("id", filter=Q(due_on__lt=today)),
            )
        )
        for key in totals:
            totals[key] += counts[key] or 0
    tasks = []
    if principal.can("repair.handle") or principal.can("repair.review"):
        tasks.append(
            Task(
                "repair_to_act",
                _("待本账号办理的信用修复和异议"),
                totals["actionable"],
                _url("console:repair:queue", status="open"),
            )
        )
    tasks += [
        Task(
            "repair_due_today",
            _("今日到期的信用修复和异议环节"),
            totals["due_today"],
            _url("console:repair:queue", status="open", due="today"),
        ),
        Task(
            "repair_overdue",
            _("已超过办理期限的信用修复和异议"),
            totals["overdue"],
            _url("console:repair:queue", overdue="1"),
            urgent=totals["overdue"] > 0,
        ),
    ]
    return tasks


def _checks(principal: Principal, today: dt.date) -> list[Task]:
    # The window clerk's own checks; those who see every check read the totals on the big screen.
    if not principal.can("checks.run") or principal.user is None or principal.can("records.view"):
        return []
    month = timezone.make_aware(dt.datetime.combine(today.replace(day=1), dt.time.min))
    start = timezone.make_aware(dt.datetime.combine(today, dt.time.min))
    counts = (
        visible_checks(principal)
        .filter(user=principal.user, channel=CheckChannel.WINDOW, checked_at__gte=month)
        .aggregate(today=Count("id", filter=Q(checked_at__gte=start)), month=Count("id"))
    )
    url = _url("console:checks:window")
    return [
        Task("checks_today", _("本人今日核查"), counts["today"] or 0, url),
        Task("checks_month", _("本人本月核查"), counts["month"] or 0, url),
    ]


def _bindings(principal: Principal) -> list[Task]:
    # 信易贷: enterprise accounts waiting for the centre to approve their binding to a subject.
    if not principal.can("financing.manage"):
        return []
    n = EnterpriseBinding.objects.filter(status=BindingStatus.PENDING).count()
    return [Task("bindings_to_approve", _("待审核的企业账号绑定"), n, _url("financing:bindings"))]


def tasks_for(principal: Principal, today: dt.date | None = None) -> list[Task]:
    """What `principal` has to act on today, in the order of the work: intake, commitments,
    repair, checks, 信易贷 bindings. Guarantees: only items the principal's actions allow; every count within
    the principal's scope; at most one query per table (about eight in all)."""
    day = today or timezone.localdate()
    return [
        *_submissions(principal, day),
        *_reminders(principal),
        *_match_reviews(principal),
        *_commitments(principal, day),
        *_repair(principal, day),
        *_checks(principal, day),
        *_bindings(principal),
    ]
