# ruff: noqa: F811 (pytest fixtures imported from the repair and list kits)
"""Department activity outside intake (checks and their feedback, repair and objection steps),
computed on demand for a month, against numbers worked out by hand."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from pubcredit.bulletins.statistics import department_activity
from pubcredit.catalog.models import Department
from pubcredit.checks.models import CheckFeedback
from pubcredit.measures.models import Measure
from pubcredit.records.models import Record
from pubcredit.repair import objections
from pubcredit.repair.models import ProcedureStatus
from pubcredit.repair.tests.kit import D, penalty, staff, world  # noqa: F401 (fixtures)
from pubcredit.testing.checkkit import credit_check
from pubcredit.testing.listkit import make_subject  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")
JUNE = dt.date(2026, 6, 1)


def test_feedback_rate_counts_checks_that_returned_a_measure(world):
    scjg = Department.objects.get(code="ZB-SCJG")
    at = dt.datetime(2026, 6, 10, 9, 0, tzinfo=SH)
    answered = credit_check(scjg, measures=2, at=at)
    credit_check(scjg, measures=1, at=at)  # a measure returned, no feedback
    credit_check(scjg, measures=0, at=at)  # nothing to feed back on
    credit_check(scjg, measures=1, at=dt.datetime(2026, 5, 31, 23, 0, tzinfo=SH))  # May
    CheckFeedback.objects.create(
        credit_check=answered,
        measure=Measure.objects.first(),
        measure_kind="punishment",
        applied=True,
        actor_label="test",
        at=at,
    )
    (row,) = department_activity(JUNE)
    assert row["department_id"] == scjg.pk
    assert (row["checks"], row["feedback_due"], row["feedback_given"]) == (3, 2, 1)
    assert row["rates"]["feedback"] == 0.5


def test_repair_steps_within_their_deadline_and_objections_upheld(world, staff, make_subject):
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
    # Due 3 June (2 working days after Monday 1 June): accepted on the 8th, late.
    obj = objections.accept_objection(staff["centre"], obj, today=dt.date(2026, 6, 8))
    Record.objects.filter(pk=record.pk).update(version=2)  # the corrected row came in
    objections.verify_objection(
        staff["dept"],
        obj,
        outcome=ProcedureStatus.CORRECTED,
        reason="已更正处罚日期",
        today=dt.date(2026, 6, 9),
    )
    (row,) = department_activity(JUNE)
    assert row["department_id"] == Department.objects.get(code="ZB-SCJG").pk
    assert (row["repair_steps"], row["repair_steps_on_time"]) == (2, 1)
    assert row["objections_corrected"] == 1
    assert row["rates"]["repair_timeliness"] == 0.5
    assert department_activity(dt.date(2026, 7, 1)) == []
