# ruff: noqa: F811 (pytest fixtures imported from loadkit)
"""The aggregation statistics through the records flow (a load, a withdrawal), against numbers
worked out by hand on the 2026 holiday table, and the full rebuild giving the same numbers."""

import datetime as dt
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone

from pubcredit.bulletins.metrics import COUNTS, monthly_deadline, rebuild_metrics, within_deadline
from pubcredit.bulletins.models import DepartmentMonthMetric
from pubcredit.catalog.models import ReportingDuty
from pubcredit.intake import loading
from pubcredit.records.models import Record
from pubcredit.records.services import withdraw_record
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
SEP = dt.date(2026, 9, 1)


def at(day: str, time: str = "10:00") -> dt.datetime:
    return dt.datetime.fromisoformat(f"{day}T{time}").replace(tzinfo=SH)


def load(make_submission, received: dt.datetime, rows: list[dict]):
    submission = make_submission(received_at=received)
    with transaction.atomic():
        loading.load_accepted(submission, accepted_frame(rows))
    return submission


def row(n: int, decision: dt.date, **extra) -> dict:
    return {**cf_row(n, decision=decision), "BZ": None, "CF_XDR_GSZC": None, **extra}


def metric(department, category, month) -> dict:
    m = DepartmentMonthMetric.objects.get(department=department, category=category, month=month)
    return {c: getattr(m, c) for c in COUNTS}


def kept() -> list[tuple]:
    return sorted(
        DepartmentMonthMetric.objects.values_list(
            "department_id", "category_id", "district_id", "month", *COUNTS
        )
    )


def test_deadlines_across_national_day_2026():
    # 1–7 October are holidays, Saturday 10 October is a working day, Sunday 11 is not.
    assert within_deadline(dt.date(2026, 9, 28), 7) == dt.date(2026, 10, 13)
    assert within_deadline(dt.date(2026, 9, 29), 7) == dt.date(2026, 10, 14)
    assert within_deadline(dt.date(2026, 9, 30), 7) == dt.date(2026, 10, 15)
    # The 5th working day of October: 8, 9, 10 (Saturday), 12, 13.
    assert monthly_deadline(SEP, 5) == dt.date(2026, 10, 13)
    assert monthly_deadline(SEP, 1) == dt.date(2026, 10, 8)


def test_a_load_counts_timeliness_and_completeness(make_submission, department, cf):
    # Received Wednesday 14 October: decided 28 Sep is due 13 Oct (late: the adjusted Saturday
    # counts), 29 Sep is due 14 Oct (on time: the holidays do not count), 30 Sep due 15 Oct.
    load(
        make_submission,
        at("2026-10-14", "16:00"),
        [
            row(1, dt.date(2026, 9, 28), BZ="已整改", CF_XDR_GSZC="370303000012345"),
            row(2, dt.date(2026, 9, 29)),
            row(3, dt.date(2026, 9, 30)),
        ],
    )
    assert metric(department, cf, OCT) == {
        "written": 3,
        "first_reports": 3,
        "corrections": 0,
        "due": 3,
        "on_time": 2,
        "late": 1,
        "filled": 2,  # BZ and CF_XDR_GSZC of the first row
        "fillable": 27,  # 3 records × 9 optional CF fields
        "withdrawn": 0,
    }


def test_month_is_the_receipt_month_in_beijing_time(make_submission, department, cf):
    # 30 September 20:00 UTC is 1 October 04:00 in Beijing: an October report.
    received = dt.datetime(2026, 9, 30, 20, 0, tzinfo=dt.UTC)
    load(make_submission, received, [row(1, dt.date(2026, 9, 29))])
    assert DepartmentMonthMetric.objects.get().month == OCT
    assert metric(department, cf, OCT)["on_time"] == 1


def test_monthly_duty_is_due_by_the_working_day_of_the_next_month(make_submission, department, cf):
    ReportingDuty.objects.filter(department=department, category=cf).update(
        rhythm=ReportingDuty.Rhythm.MONTHLY, workdays=None, monthday=5
    )
    load(make_submission, at("2026-10-13", "17:00"), [row(1, dt.date(2026, 9, 15))])
    load(
        make_submission,
        at("2026-10-14"),
        [row(2, dt.date(2026, 9, 16)), row(3, dt.date(2026, 10, 2))],
    )
    counts = metric(department, cf, OCT)
    assert (counts["due"], counts["on_time"], counts["late"]) == (3, 2, 1)


def test_no_duty_no_timeliness(make_submission, department, cf):
    ReportingDuty.objects.filter(department=department, category=cf).delete()
    load(make_submission, at("2026-10-14"), [row(1, dt.date(2026, 9, 1))])
    counts = metric(department, cf, OCT)
    assert (counts["written"], counts["due"], counts["on_time"], counts["late"]) == (1, 0, 0, 0)


def test_corrections_withdrawals_and_rebuild_agree(make_submission, department, cf, system):
    load(
        make_submission,
        at("2026-09-10"),
        [row(1, dt.date(2026, 9, 1)), row(2, dt.date(2026, 8, 20))],
    )
    # Same keys in October: the first changed (a correction), the second unchanged (no count).
    load(
        make_submission,
        at("2026-10-09"),
        [row(1, dt.date(2026, 9, 1), BZ="更正"), row(2, dt.date(2026, 8, 20))],
    )
    # 1 Sep → due 10 Sep (2,3,4,7,8,9,10): on time; 20 Aug → due 31 Aug: late.
    assert metric(department, cf, SEP) == {
        "written": 2,
        "first_reports": 2,
        "corrections": 0,
        "due": 2,
        "on_time": 1,
        "late": 1,
        "filled": 0,
        "fillable": 18,
        "withdrawn": 0,
    }
    assert metric(department, cf, OCT) == {
        "written": 1,
        "first_reports": 0,
        "corrections": 1,
        "due": 0,
        "on_time": 0,
        "late": 0,
        "filled": 1,
        "fillable": 9,
        "withdrawn": 0,
    }
    record = Record.objects.get(business_key__startswith="淄市监罚〔2024〕2号")
    withdraw_record(system, record, "决定被撤销")
    this_month = timezone.localtime(timezone.now(), SH).date().replace(day=1)
    assert metric(department, cf, this_month)["withdrawn"] == 1

    incremental = kept()
    assert rebuild_metrics() == 2 + (this_month not in (SEP, OCT))
    assert kept() == incremental
    rebuild_metrics(month=SEP)
    assert kept() == incremental


def test_the_rebuild_command_and_the_zero_reports_listing(make_submission, department, cf):
    load(make_submission, at("2026-10-14"), [row(1, dt.date(2026, 9, 29))])
    DepartmentMonthMetric.objects.all().delete()
    out = StringIO()
    call_command("bulletins", "rebuild", "--month", "2026-10", stdout=out)
    assert out.getvalue().strip() == '{"metric_rows": 1}'
    assert metric(department, cf, OCT)["on_time"] == 1
    out = StringIO()
    call_command("bulletins", "zero", "--month", "2026-10", stdout=out)
    assert len(out.getvalue().splitlines()) == 41  # 42 duties, ZB-SCJG CF reported
