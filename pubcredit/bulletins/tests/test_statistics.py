# ruff: noqa: F811 (pytest fixtures imported from loadkit)
"""What the dashboards read: a month's figures with their formulas, and 零报送."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.db import transaction

from pubcredit.bulletins.formulas import BY_NAME
from pubcredit.bulletins.statistics import metrics_for_month, zero_reports
from pubcredit.catalog.models import Department, ReportingDuty
from pubcredit.intake import loading
from pubcredit.intake.models import Submission
from pubcredit.testing.loadkit import (  # noqa: F401 (fixtures)
    accepted_frame,
    calendar_2026,
    cf,
    cf_row,
    department,
    make_submission,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("calendar_2026")]
SH = ZoneInfo("Asia/Shanghai")
OCT = dt.date(2026, 10, 1)


def test_month_figures_merge_submissions_and_records(make_submission, department, cf):
    received = dt.datetime(2026, 10, 14, 9, 0, tzinfo=SH)
    submission = make_submission(received_at=received, rows=5, accepted=3, rejected=2, duplicates=1)
    with transaction.atomic():
        loading.load_accepted(
            submission,
            accepted_frame([cf_row(n, decision=dt.date(2026, 9, 27 + n)) for n in (1, 2, 3)]),
        )
    # A failed submission counts for nothing.
    make_submission(received_at=received, rows=9, status=Submission.Status.FAILED)
    # A file of September does not count in October.
    make_submission(received_at=dt.datetime(2026, 9, 30, 23, 0, tzinfo=SH), rows=4)

    (figures,) = metrics_for_month(dt.date(2026, 10, 20))
    assert figures["department_id"] == department.pk
    assert figures["category_id"] == cf.pk
    assert figures["month"] == OCT
    assert (figures["submissions"], figures["submitted"], figures["accepted"]) == (1, 5, 3)
    assert (figures["rejected"], figures["duplicates"], figures["written"]) == (2, 1, 3)
    assert figures["rates"]["compliance"] == pytest.approx(0.6)  # 3 ÷ 5
    assert figures["rates"]["timeliness"] == pytest.approx(2 / 3)  # 28 Sep late
    assert figures["rates"]["completeness"] == 0.0  # 0 ÷ 27
    assert figures["rates"]["duplicates"] == pytest.approx(0.2)
    assert figures["rates"]["corrections"] == 0.0
    assert metrics_for_month(OCT, department_id=department.pk + 10_000) == []


def test_a_rate_with_nothing_to_divide_is_none():
    assert BY_NAME["timeliness"].value({"on_time": 0, "due": 0}) is None
    assert str(BY_NAME["timeliness"].text).startswith("及时率 = 按期报送条数 ÷ 应按期报送条数")


def test_district_figures_are_the_district_centres(make_submission, cf):
    centre = Department.objects.get(code="ZB-XYZX-370303")
    make_submission(
        department=centre, received_at=dt.datetime(2026, 10, 9, tzinfo=SH), rows=7, accepted=7
    )
    (figures,) = metrics_for_month(OCT, district="370303")
    assert (figures["department_id"], figures["district"], figures["submitted"]) == (
        centre.pk,
        "370303",
        7,
    )
    assert metrics_for_month(OCT, district="370302") == []


def test_zero_reports_lists_the_duties_with_nothing_in_the_month(make_submission, department, cf):
    # The shipped duties: 42 (department, category) pairs, all in force since 2021.
    assert len(zero_reports(OCT)) == 42
    make_submission(received_at=dt.datetime(2026, 10, 9, tzinfo=SH), rows=1)
    make_submission(
        category=cf,
        department=Department.objects.get(code="ZB-STHJ"),
        received_at=dt.datetime(2026, 10, 9, tzinfo=SH),
        status=Submission.Status.FAILED,
    )
    zero = zero_reports(OCT)
    pairs = {(z["department"], z["category"]) for z in zero}
    assert len(zero) == 41
    assert ("淄博市市场监督管理局", "CF") not in pairs
    assert ("淄博市生态环境局", "CF") in pairs  # its only file failed
    assert len(zero_reports(dt.date(2026, 11, 1))) == 42
    # A duty that ended before the month is not owed.
    ReportingDuty.objects.filter(department__code="ZB-STHJ", category=cf).update(
        effective_to=dt.date(2026, 9, 30)
    )
    assert ("淄博市生态环境局", "CF") not in {
        (z["department"], z["category"]) for z in zero_reports(OCT)
    }
