"""The dashboard's "what to do today", per role: each count with its hand-counted expected value,
within the principal's scope (a 部门报送员 never counts another department's work), each linked
to the console list that shows the same rows, in a handful of queries."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from pubcredit.accounts.permissions import PUBLIC
from pubcredit.catalog.models import Category
from pubcredit.commitments.confirmation import submit_signing
from pubcredit.console.worklist import tasks_for
from pubcredit.intake.models import MatchReview, Submission
from pubcredit.records.models import Record
from pubcredit.repair.models import RepairApplication
from pubcredit.testing.commitkit import OTHER_DEPARTMENT, department, sign
from pubcredit.testing.listkit import make_public_penalty
from pubcredit.testing.portalkit import make_uscc

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("seeded", "media")]

TODAY = timezone.localdate()


def _submission(dept, status, *, rejected=0, days_ago=1) -> Submission:
    return Submission.objects.create(
        department=dept,
        category=Category.objects.get(code="CF"),
        channel=Submission.Channel.UPLOAD,
        filename="处罚.xlsx",
        sha256=f"{dept.code}{status}{rejected}{days_ago}".ljust(64, "0"),
        status=status,
        rejected=rejected,
        received_at=timezone.now() - dt.timedelta(days=days_ago),
    )


def _signing(dept, n: int):
    return submit_signing(
        PUBLIC,
        kind="org",
        name=f"淄博待确认{n}商贸有限公司",
        uscc=make_uscc(8400 + n),
        commitment_type="主动型",
        reason="主动承诺",
        content="承诺依法诚信经营。",
        liability="愿意承担法律责任。",
        department=dept,
        signer_name="吴会计",
        signer_contact="13700001111",
        publicity_type="可向社会公开",
    )


def _repair(system, subject, dept, *, due_on):
    from pubcredit.publicity.models import Publicity
    from pubcredit.repair.tests.uikit import apply, repairable_penalty

    record = repairable_penalty(subject)
    Record.objects.filter(pk=record.pk).update(department=dept)
    Publicity.objects.filter(pk=record.pk).update(department=dept)
    app = apply(system, Record.objects.get(pk=record.pk))
    RepairApplication.objects.filter(pk=app.pk).update(due_on=due_on)
    return app


@pytest.fixture
def work(system, make_subject):
    """Work of two departments: 市市场监管局 (ours) and 市生态环境局 (theirs).

    ours:   submissions failed 1, loaded with rejected rows 1 (+ a clean one and a failure 40 days
            old, not counted); online signings pending 2; commitments past their term unassessed 1
            (+ one open-ended); repair applications 2: one due today, one overdue.
    theirs: a failed submission; one pending signing; one commitment due; one overdue repair.
    plus:   one open subject match review (of our department's record).
    """
    ours, theirs = department(), department(OTHER_DEPARTMENT)
    _submission(ours, Submission.Status.FAILED)
    loaded = _submission(ours, Submission.Status.DONE, rejected=2)
    _submission(ours, Submission.Status.DONE, days_ago=2)
    _submission(ours, Submission.Status.FAILED, days_ago=40)
    _submission(theirs, Submission.Status.FAILED, days_ago=3)
    _signing(ours, 1)
    _signing(ours, 2)
    _signing(theirs, 3)
    made = dt.date(2025, 6, 1)
    sign(make_subject(), day=made, valid_to=dt.date(2025, 12, 31))
    sign(make_subject(), day=made)  # open-ended: nothing to assess
    sign(
        make_subject(),
        day=made,
        valid_to=dt.date(2025, 12, 31),
        department=theirs,
    )
    _repair(system, make_subject(), ours, due_on=TODAY)
    _repair(system, make_subject(), ours, due_on=TODAY - dt.timedelta(days=3))
    _repair(system, make_subject(), theirs, due_on=TODAY - dt.timedelta(days=5))
    record = make_public_penalty(make_subject())
    MatchReview.objects.create(
        record=record, submission=loaded, subject_name="淄博某公司", name_norm="淄博某公司"
    )


def _counts(principal) -> dict[str, int]:
    return {t.key: t.count for t in tasks_for(principal, TODAY)}


def test_department_clerk_counts_only_its_departments_work(staff, work):
    _user, clerk = staff["clerk"]
    assert _counts(clerk) == {
        "submissions_to_fix": 2,
        "signings_to_confirm": 2,
        "commitments_to_assess": 1,
        "repair_to_act": 0,  # both await the centre's acceptance
        "repair_due_today": 1,
        "repair_overdue": 1,
    }
    _user, other = staff["other_clerk"]
    assert _counts(other) == {
        "submissions_to_fix": 1,
        "signings_to_confirm": 1,
        "commitments_to_assess": 1,
        "repair_to_act": 0,
        "repair_due_today": 0,
        "repair_overdue": 1,
    }


def test_centre_staff_counts_everything_it_acts_on(staff, work):
    _user, centre = staff["centre"]
    # No records.submit: no submissions item; it confirms subject matches and accepts repairs.
    assert _counts(centre) == {
        "match_reviews": 1,
        "signings_to_confirm": 3,
        "commitments_to_assess": 2,
        "repair_to_act": 3,
        "repair_due_today": 1,
        "repair_overdue": 2,
        "bindings_to_approve": 0,  # 信易贷: no enterprise account has asked yet
    }
    _user, admin = staff["admin"]
    assert _counts(admin)["submissions_to_fix"] == 3


def test_district_admin_and_window_clerk(staff, work, system):
    from pubcredit.checks.services import run_check

    _user, district = staff["district"]
    # The repair subjects are registered in 张店区 (370303), the district admin's district.
    assert _counts(district) == {"repair_due_today": 1, "repair_overdue": 2}
    _user, window = staff["window"]
    company = make_subject_with_uscc()
    run_check(window, uscc=company.uscc, matter="HONOURS", channel="window")
    run_check(window, uscc=company.uscc, matter="FINANCING", channel="window")
    assert _counts(window) == {"checks_today": 2, "checks_month": 2}


def make_subject_with_uscc():
    from pubcredit.subjects.models import Subject

    return Subject.objects.create(
        kind="org",
        name="淄博核查对象有限公司",
        name_norm="淄博核查对象有限公司",
        uscc=make_uscc(8500),
        region="370303",
    )


def test_each_count_links_to_the_list_showing_the_same_rows(staff, work):
    user, _clerk = staff["clerk"]
    client = Client()
    client.force_login(user)
    page = client.get("/console/").content.decode()
    assert 'id="task-submissions_to_fix" data-count="2"' in page
    assert 'href="/console/intake/?fix=1"' in page
    fix = client.get("/console/intake/?fix=1").context["page"]
    assert fix.paginator.count == 2
    due = client.get("/console/commitments/?due=1").context["page"]
    assert due.paginator.count == 1
    queue = client.get("/console/repair/?status=open&due=today").context["queue"]
    assert queue.total == 1
    queue = client.get("/console/repair/?overdue=1").context["queue"]
    assert queue.total == 1


def test_the_dashboard_costs_a_handful_of_queries(staff, work, django_assert_max_num_queries):
    user, _centre = staff["centre"]
    client = Client()
    client.force_login(user)
    # session + user, the worklist (one aggregate per table), the subjects chart, navigation
    # (14); issue 19 adds 9: the pending enterprise bindings count (worklist, 1), the 信易贷
    # card's totals (financing.services.statistics without breakdowns: matching rules + 4
    # aggregates, 5) and the 共享 card's (one aggregate + the sharing rate's 2 counts, 3).
    with django_assert_max_num_queries(23):
        response = client.get("/console/")
    assert response.status_code == 200
