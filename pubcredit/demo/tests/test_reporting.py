"""The demo city's reporting over time (pubcredit.demo.reporting): its records are received over
the last months, so the bulletin of the month before the load day ranks most departments, names
the 零报送 one, and finds a few late."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from pubcredit.bulletins.compose import compose
from pubcredit.bulletins.models import DepartmentMonthMetric
from pubcredit.bulletins.periods import Period
from pubcredit.demo import reporting
from pubcredit.demo.services import load_demo
from pubcredit.intake.models import Submission
from pubcredit.records.models import Record

AS_OF = dt.date(2026, 11, 20)


@pytest.fixture(autouse=True)
def _fast_password_hasher(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def test_the_window_is_the_six_months_ending_with_the_load_month():
    assert reporting.month_starts(AS_OF) == [
        dt.date(2026, 6, 1),
        dt.date(2026, 7, 1),
        dt.date(2026, 8, 1),
        dt.date(2026, 9, 1),
        dt.date(2026, 10, 1),
        dt.date(2026, 11, 1),
    ]
    assert reporting.zero_month(AS_OF) == dt.date(2026, 10, 1)
    assert reporting.zero_month(dt.date(2027, 1, 5)) == dt.date(2026, 12, 1)


def test_receipts_follow_the_decision_never_the_future_nor_the_zero_month():
    frame = pl.DataFrame(
        {
            "department": ["ZB-SCJG", "ZB-ZRZY", "ZB-ZRZY", "ZB-SCJG"],
            "CF_JDRQ": [
                dt.date(2026, 3, 2),
                dt.date(2026, 10, 8),  # would be received in October: moved to 1 November
                dt.date(2026, 9, 1),
                dt.date(2026, 11, 19),  # the day before the load day: received by it
            ],
        }
    )
    days = reporting.receipt_days(frame, "CF", seed=7, as_of=AS_OF).to_list()
    assert dt.date(2026, 3, 2) <= days[0] <= dt.date(2026, 4, 11)
    assert dt.date(2026, 11, 1) <= days[1] <= AS_OF
    assert not (dt.date(2026, 10, 1) <= days[2] <= dt.date(2026, 10, 31))
    assert dt.date(2026, 11, 19) <= days[3] <= AS_OF
    assert days == reporting.receipt_days(frame, "CF", seed=7, as_of=AS_OF).to_list()


def test_a_submission_moment_is_in_the_morning_and_never_after_now():
    now = dt.datetime(2026, 11, 20, 9, 30, tzinfo=dt.UTC)  # 17:30 in Shanghai
    moment = reporting.receipt_moment(dt.date(2026, 11, 2), 3, now)
    assert moment.isoformat() == "2026-11-02T10:51:00+08:00"  # 09:00 + 3 × 37 minutes
    assert reporting.receipt_moment(dt.date(2026, 11, 20), 0, now) == dt.datetime(
        2026, 11, 20, 9, 0, tzinfo=reporting.receipt_moment(AS_OF, 0, now).tzinfo
    )
    assert reporting.receipt_moment(dt.date(2026, 11, 21), 0, now) == now


@pytest.mark.django_db
def test_last_month_has_a_bulletin_ranking_most_departments(system):
    load_demo(system, subjects=2000, as_of=AS_OF)
    # One submission per department and receipt day; every record received under one.
    assert not Record.objects.filter(received_at__date__gt=AS_OF).exists()
    months = {
        (s.received_at.astimezone(reporting.SHANGHAI).date().replace(day=1))
        for s in Submission.objects.all()
    }
    assert set(reporting.month_starts(AS_OF)) <= months
    assert DepartmentMonthMetric.objects.filter(month=dt.date(2026, 10, 1)).exists()

    content = compose(Period.parse("2026-10"))
    reporting_departments = [d["code"] for d in content["departments"] if d["submitted"] > 0]
    assert len(reporting_departments) >= 10
    zero = {d["code"] for d in content["departments"] if d["zero_report"]}
    assert reporting.ZERO_REPORT in zero
    assert reporting.ZERO_REPORT not in reporting_departments
    totals = content["summary"]["totals"]
    print(
        totals, [(d["code"], d["submitted"], d["due"], d["late"]) for d in content["departments"]]
    )
    assert 0 < totals["late"] < totals["on_time"]
