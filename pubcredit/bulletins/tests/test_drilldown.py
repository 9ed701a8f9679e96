# ruff: noqa: F811 (pytest fixtures imported from the kits)
"""Every figure's drill-down lists the rows the figure counts: on a hand-made October 2026 (the
National Day holidays and the working Saturday 10 October), the number the drill-down gives
equals the number worked out by hand and the one the kept statistics give."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.db import transaction
from django.utils import timezone

from pubcredit.bulletins import drilldown as dd
from pubcredit.bulletins.compose import DEPARTMENT_COUNTS, compose
from pubcredit.bulletins.metrics import COUNTS
from pubcredit.bulletins.periods import Period
from pubcredit.bulletins.statistics import department_activity, metrics_for_month
from pubcredit.catalog.models import Category, Department, ReportingDuty
from pubcredit.checks.models import CheckFeedback
from pubcredit.intake import loading
from pubcredit.intake.models import Submission
from pubcredit.measures.models import Measure
from pubcredit.records.models import Record, document_number
from pubcredit.records.services import withdraw_record
from pubcredit.repair import objections
from pubcredit.repair.models import ProcedureStatus
from pubcredit.repair.tests.kit import D, penalty, staff, world  # noqa: F401 (fixtures)
from pubcredit.testing.checkkit import credit_check
from pubcredit.testing.listkit import make_subject  # noqa: F401 (fixture)
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
SEP, OCT, NOV = dt.date(2026, 9, 1), dt.date(2026, 10, 1), dt.date(2026, 11, 1)
OCTOBER = Period.month(2026, 10)


def at(day: str, time: str = "10:00") -> dt.datetime:
    return dt.datetime.fromisoformat(f"{day}T{time}").replace(tzinfo=SH)


def row(n: int, decision: dt.date, **extra) -> dict:
    return {**cf_row(n, decision=decision), "BZ": None, "CF_XDR_GSZC": None, **extra}


def load(make_submission, received: dt.datetime, data: list[dict], **counts) -> Submission:
    submission = make_submission(received_at=received, status=Submission.Status.DONE, **counts)
    with transaction.atomic():
        loading.load_accepted(submission, accepted_frame(data))
    return submission


@pytest.fixture
def autumn(make_submission, department, cf):
    """市市场监管局's 行政处罚 (7 working days after the decision) in September and October 2026:

    - 10 Sep: no. 1 (decided 1 Sep: 7 working days to 10 Sep, on time) and no. 2 (20 Aug: due
      31 Aug, late);
    - 1 Oct 04:00 Beijing (30 Sep 20:00 UTC): no. 10 decided 29 Sep: 1 working day, on time;
    - Fri 9 Oct: no. 1 corrected (v2, BZ), no. 2 unchanged (not counted), no. 3 decided 28 Sep
      (29, 30 Sep, 8, 9 Oct: 4 working days, on time); 3 rows, 3 accepted;
    - Wed 14 Oct: no. 4 decided 28 Sep (29, 30 Sep, 8, 9, 10 (Saturday), 12, 13, 14 Oct: 8,
      late), no. 5 on 29 Sep (7, on time), no. 6 on 30 Sep (6, on time); 5 rows, 3 accepted, 2
      rejected, 1 duplicate;
    - Fri 16 Oct: no. 1 corrected again (v3, BZ), no. 8 decided 9 Oct (10, 12–16 Oct: 6, on
      time), no. 9 decided 30 Sep (8, 9, 10, 12–16 Oct: 8, late); 3 rows, 3 accepted;
    - a failed file of 9 rows in October, which counts for nothing.

    October: written 9 (v2 and v3 of no. 1, nos. 3, 4, 5, 6, 8, 9, 10), first reports 7,
    corrections 2, due 7, late 2 (nos. 4 and 9), on time 5; filled 4 (BZ of v2 and v3, BZ and
    CF_XDR_GSZC of no. 3) of 81 (9 versions × 9 optional fields). Submissions 4, submitted 12,
    accepted 10, rejected 2, duplicates 1.
    September: written 2 (no. 1's v1, now history, and no. 2), due 2, on time 1 (no. 1, judged
    from the superseded version's data), late 1 (no. 2)."""
    load(
        make_submission,
        at("2026-09-10"),
        [row(1, dt.date(2026, 9, 1)), row(2, dt.date(2026, 8, 20))],
        rows=2,
        accepted=2,
    )
    load(
        make_submission,
        dt.datetime(2026, 9, 30, 20, 0, tzinfo=dt.UTC),
        [row(10, dt.date(2026, 9, 29))],
        rows=1,
        accepted=1,
    )
    load(
        make_submission,
        at("2026-10-09"),
        [
            row(1, dt.date(2026, 9, 1), BZ="更正"),
            row(2, dt.date(2026, 8, 20)),
            row(3, dt.date(2026, 9, 28), BZ="已整改", CF_XDR_GSZC="370303000012345"),
        ],
        rows=3,
        accepted=3,
    )
    load(
        make_submission,
        at("2026-10-14", "16:00"),
        [row(4, dt.date(2026, 9, 28)), row(5, dt.date(2026, 9, 29)), row(6, dt.date(2026, 9, 30))],
        rows=5,
        accepted=3,
        rejected=2,
        duplicates=1,
    )
    load(
        make_submission,
        at("2026-10-16"),
        [
            row(1, dt.date(2026, 9, 1), BZ="再次更正"),
            row(8, dt.date(2026, 10, 9)),
            row(9, dt.date(2026, 9, 30)),
        ],
        rows=3,
        accepted=3,
    )
    make_submission(received_at=at("2026-10-20"), rows=9, status=Submission.Status.FAILED)


def figures(month: dt.date, department) -> dict:
    """The kept statistics of `department` in `month`, summed over its categories."""
    out = dict.fromkeys(DEPARTMENT_COUNTS, 0)
    for r in metrics_for_month(month, department_id=department.pk):
        for key in (*COUNTS, "submissions", "submitted", "accepted", "rejected", "duplicates"):
            out[key] += r[key]
    return out


def counts(period, department, names, category=None) -> dict:
    return {n: dd.drilldown(period, department, n, category).count() for n in names}


def test_every_figure_of_a_bulletin_row_has_a_drilldown():
    assert set(dd.KIND_OF) == set(DEPARTMENT_COUNTS)
    assert set(dd.LABELS) == set(DEPARTMENT_COUNTS)


def test_threshold_days_across_national_day():
    # Received Wed 14 Oct under 7 working days: decided 29 Sep is the earliest on time.
    assert dd.earliest_on_time_within(dt.date(2026, 10, 14), 7) == dt.date(2026, 9, 29)
    # Received Fri 16 Oct: 8, 9, 10 (Saturday), 12–16 Oct are 8 working days after any day of
    # the holidays (30 Sep to 7 Oct), 7 after 8 Oct: the earliest on time is 8 Oct.
    assert dd.earliest_on_time_within(dt.date(2026, 10, 16), 7) == dt.date(2026, 10, 8)
    # Monthly by the 5th working day: September's deadline is 13 Oct (8, 9, 10, 12, 13).
    assert dd.earliest_on_time_monthly(dt.date(2026, 10, 13), 5) == SEP
    assert dd.earliest_on_time_monthly(dt.date(2026, 10, 14), 5) == OCT


def test_submission_figures(autumn, department):
    hand = {"submissions": 4, "submitted": 12, "accepted": 10, "rejected": 2, "duplicates": 1}
    got = counts(OCTOBER, department, hand)
    assert got == hand
    assert got == {k: figures(OCT, department)[k] for k in hand}
    # The rejected rows are in the one file that had any.
    rejected = dd.drilldown(OCTOBER, department, "rejected")
    assert [s.rows for s in rejected.rows] == [5]
    # The failed file is not listed.
    assert len(dd.drilldown(OCTOBER, department, "submissions").rows) == 4


def test_version_figures(autumn, department, cf):
    hand = {
        "written": 9,
        "first_reports": 7,
        "corrections": 2,
        "due": 7,
        "on_time": 5,
        "late": 2,
        "filled": 4,
        "fillable": 81,
    }
    got = counts(OCTOBER, department, hand)
    assert got == hand
    assert got == {k: figures(OCT, department)[k] for k in hand}
    assert counts(OCTOBER, department, hand, category=cf) == hand

    late = dd.drilldown(OCTOBER, department, "late")
    assert [(document_number(r["row_key"]), r["row_decision"]) for r in late.rows] == [
        ("淄市监罚〔2024〕4号", "2026-09-28"),
        ("淄市监罚〔2024〕9号", "2026-09-30"),
    ]
    written = list(dd.drilldown(OCTOBER, department, "written").rows)
    assert len(written) == 9
    # No. 1's second version, superseded on the 16th, is listed from the history.
    assert [
        (r["row_version"], r["row_kind"])
        for r in written
        if document_number(r["row_key"]) == "淄市监罚〔2024〕1号"
    ] == [
        (2, dd.SUPERSEDED),
        (3, dd.CURRENT),
    ]

    september = Period.month(2026, 9)
    hand_sep = {
        "written": 2,
        "first_reports": 2,
        "corrections": 0,
        "due": 2,
        "on_time": 1,
        "late": 1,
    }
    got = counts(september, department, hand_sep)
    assert got == hand_sep
    assert got == {k: figures(SEP, department)[k] for k in hand_sep}
    (on_time,) = dd.drilldown(september, department, "on_time").rows
    assert (on_time["row_kind"], on_time["row_version"], on_time["row_decision"]) == (
        dd.SUPERSEDED,
        1,
        "2026-09-01",
    )

    # A quarter is the sum of its months.
    q4 = counts(Period.parse("2026Q4"), department, hand)
    assert q4 == hand
    q3 = counts(Period.parse("2026Q3"), department, hand_sep)
    assert q3 == hand_sep


def test_a_monthly_duty_judges_by_the_month_after_the_decision(autumn, department):
    # Under "by the 5th working day of the next month" (13 Oct for September): the files of 9
    # Oct (no. 3) and of 1 Oct (no. 10) are on time, those of the 14th and 16th late for the
    # September decisions (4, 5, 6, 9), no. 8 (decided in October) on time.
    ReportingDuty.objects.filter(department=department, category__code="CF").update(
        rhythm=ReportingDuty.Rhythm.MONTHLY, workdays=None, monthday=5
    )
    got = counts(OCTOBER, department, ("due", "on_time", "late"))
    assert got == {"due": 7, "on_time": 3, "late": 4}


def test_a_duty_version_in_force_on_the_receipt_day(autumn, department, cf):
    # The 7-day duty ends on 13 Oct; from the 14th a 2-working-day duty: nos. 4, 5, 6 (14 Oct)
    # and 9 (16 Oct) are late, no. 8 (decided 9 Oct; 10, 12–16 Oct: 6 working days) too.
    ReportingDuty.objects.filter(department=department, category=cf).update(
        effective_to=dt.date(2026, 10, 13)
    )
    ReportingDuty.objects.create(
        department=department,
        category=cf,
        rhythm=ReportingDuty.Rhythm.WITHIN,
        workdays=2,
        effective_from=dt.date(2026, 10, 14),
    )
    got = counts(OCTOBER, department, ("due", "on_time", "late"))
    assert got == {"due": 7, "on_time": 2, "late": 5}


def test_withdrawn(autumn, department, system):
    record = Record.objects.get(business_key__startswith="淄市监罚〔2024〕5号")
    withdraw_record(system, record, "决定被撤销")
    today = timezone.localdate()
    this_month = Period.containing("month", today)
    (listed,) = dd.drilldown(this_month, department, "withdrawn").rows
    assert (listed["row_kind"], listed["row_key"]) == (dd.WITHDRAWN, record.business_key)
    assert dd.drilldown(this_month, department, "withdrawn").count() == 1
    assert figures(this_month.start, department)["withdrawn"] == 1


def test_duty_figures(autumn, department, cf):
    # 市市场监管局 has three duties (CF, JYYC monthly, XK); October reported CF only.
    got = counts(OCTOBER, department, ("duties", "duties_reported", "zero_duty_months"))
    assert got == {"duties": 3, "duties_reported": 1, "zero_duty_months": 2}
    (composed,) = [r for r in compose(OCTOBER)["departments"] if r["code"] == department.code]
    assert got == {k: composed[k] for k in got}
    zero = dd.drilldown(OCTOBER, department, "zero_duty_months").rows
    assert sorted(r["category"].code for r in zero) == ["JYYC", "XK"]
    # A quarter: October's CF reported, November and December nothing (9 duty-months, 8 zero).
    q4 = counts(
        Period.parse("2026Q4"), department, ("duties", "duties_reported", "zero_duty_months")
    )
    assert q4 == {"duties": 9, "duties_reported": 1, "zero_duty_months": 8}
    assert counts(OCTOBER, department, ("zero_duty_months",), category=cf) == {
        "zero_duty_months": 0
    }


def test_check_figures(department):
    when = at("2026-10-12")
    answered = credit_check(department, measures=2, at=when)
    credit_check(department, measures=1, at=when)  # a measure returned, no feedback
    credit_check(department, measures=0, at=when)  # nothing to feed back on
    credit_check(department, measures=1, at=at("2026-09-30", "23:59"))  # September
    other = Department.objects.get(code="ZB-STHJ")
    credit_check(other, measures=1, at=when)
    CheckFeedback.objects.create(
        credit_check=answered,
        measure=Measure.objects.first(),
        measure_kind="punishment",
        applied=True,
        actor_label="test",
        at=when,
    )
    hand = {"checks": 3, "feedback_due": 2, "feedback_given": 1}
    got = counts(OCTOBER, department, hand)
    assert got == hand
    (activity,) = [r for r in department_activity(OCT) if r["department_id"] == department.pk]
    assert got == {k: activity[k] for k in hand}
    with pytest.raises(ValueError, match="不按信息类别统计"):
        dd.drilldown(OCTOBER, department, "checks", Category.objects.get(code="CF"))


def test_unknown_figure(department):
    with pytest.raises(ValueError, match="未知的统计项"):
        dd.drilldown(OCTOBER, department, "score")


def test_repair_step_figures(world, staff, make_subject):
    # The objection of test_activity: accepted on 8 June, due 3 June (late); verified on the
    # 9th, correcting the record (within its deadline, 异议成立).
    record = penalty(make_subject())
    obj = objections.file_objection(
        staff["public"],
        record,
        target="period",
        today=D,
        reason="处罚日期有误",
        requested_correction="更正处罚日期",
        applicant_name="王经办",
        applicant_phone="13800001111",
    )
    obj = objections.accept_objection(staff["centre"], obj, today=dt.date(2026, 6, 8))
    Record.objects.filter(pk=record.pk).update(version=2)
    objections.verify_objection(
        staff["dept"],
        obj,
        outcome=ProcedureStatus.CORRECTED,
        reason="已更正处罚日期",
        today=dt.date(2026, 6, 9),
    )
    scjg = Department.objects.get(code="ZB-SCJG")
    june = Period.month(2026, 6)
    hand = {"repair_steps": 2, "repair_steps_on_time": 1, "objections_corrected": 1}
    got = counts(june, scjg, hand)
    assert got == hand
    (activity,) = department_activity(june.start)
    assert got == {k: activity[k] for k in hand}
    late = [s for s in dd.drilldown(june, scjg, "repair_steps").rows if s.late]
    assert [s.day for s in late] == [dt.date(2026, 6, 8)]
    assert counts(Period.month(2026, 7), scjg, hand) == dict.fromkeys(hand, 0)
    assert counts(june, Department.objects.get(code="ZB-CZJ"), hand) == dict.fromkeys(hand, 0)
