"""The scheduled monthly bulletin: issued by the scheduler on the 3rd working day of a month for
the month before (counted on the holiday table), once, and by the next run when the scheduler
was down that day. The days below are counted by hand on the 2026 calendar: National Day is
1–7 October (Thursday to Wednesday), with Sunday 20 September and Saturday 10 October worked."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from pubcredit.accounts.models import AuditEvent
from pubcredit.bulletins.models import Bulletin
from pubcredit.bulletins.tasks import issue_monthly_task, monthly_bulletin_due
from pubcredit.bulletins.workdays import issue_day, last_workday, nth_workday
from pubcredit.ops.schedule import JOBS, Scheduler
from pubcredit.testing.loadkit import calendar_2026  # noqa: F401 (fixture)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("calendar_2026")]
SH = ZoneInfo("Asia/Shanghai")


def test_the_third_working_day_of_october_2026_is_the_adjusted_saturday():
    # 1–7 Oct off; Thu 8 is the 1st working day, Fri 9 the 2nd, Sat 10 (worked) the 3rd.
    assert nth_workday(dt.date(2026, 10, 1), 1) == dt.date(2026, 10, 8)
    assert issue_day(dt.date(2026, 10, 1)) == dt.date(2026, 10, 10)
    assert issue_day(dt.date(2026, 10, 27)) == dt.date(2026, 10, 10)
    # 1 Nov 2026 is a Sunday: Mon 2, Tue 3, Wed 4.
    assert issue_day(dt.date(2026, 11, 1)) == dt.date(2026, 11, 4)
    # 1 Dec 2026 is a Tuesday: Tue 1, Wed 2, Thu 3.
    assert issue_day(dt.date(2026, 12, 1)) == dt.date(2026, 12, 3)
    # 31 Oct 2026 is a Saturday that is not worked: the last working day is Friday 30.
    assert last_workday(dt.date(2026, 10, 1)) == dt.date(2026, 10, 30)


def test_the_bulletin_is_due_from_the_third_working_day():
    assert monthly_bulletin_due(dt.date(2026, 10, 9)) is None
    assert monthly_bulletin_due(dt.date(2026, 10, 10)).key == "2026-09"
    assert monthly_bulletin_due(dt.date(2026, 10, 31)).key == "2026-09"
    assert monthly_bulletin_due(dt.date(2026, 11, 3)) is None
    assert monthly_bulletin_due(dt.date(2026, 11, 4)).key == "2026-10"
    assert monthly_bulletin_due(dt.date(2027, 1, 15)).key == "2026-12"


def test_the_task_issues_last_months_bulletin_once():
    before = issue_monthly_task.call("2026-10-09")
    assert before == {"period": "2026-09", "status": "not_due", "due": "2026-10-10"}
    assert not Bulletin.objects.exists()

    issued = issue_monthly_task.call("2026-10-10")
    assert issued["status"] == "issued" and issued["period"] == "2026-09"
    bulletin = Bulletin.objects.get()
    assert (bulletin.kind, bulletin.period_key, bulletin.version) == ("month", "2026-09", 1)
    assert bulletin.period_start == dt.date(2026, 9, 1)
    assert bulletin.issued_by == "scheduler"
    assert issued["number"] == bulletin.number
    event = AuditEvent.objects.get(action="bulletins.issue")
    assert event.actor_label == "scheduler" and event.after["period"] == "2026-09"

    # Every later run of the month finds it issued and changes nothing.
    again = issue_monthly_task.call("2026-10-12")
    assert again == {"period": "2026-09", "status": "exists", "number": bulletin.number}
    assert Bulletin.objects.count() == 1
    assert AuditEvent.objects.filter(action="bulletins.issue").count() == 1


def test_a_scheduler_down_on_the_day_issues_it_the_next_day_it_runs():
    # Down on Saturday 10 October and the weekend; back on Monday 12.
    result = issue_monthly_task.call("2026-10-12")
    assert result["status"] == "issued"
    assert Bulletin.objects.get().period_key == "2026-09"


def test_the_scheduler_enqueues_the_job_daily_from_0730():
    job = next(j for j in JOBS if j.name == "bulletins.issue")
    assert (job.at, job.pass_day) == (dt.time(7, 30), True)
    scheduler = Scheduler((job,))
    assert scheduler.run_due(dt.datetime(2026, 10, 10, 7, 29, tzinfo=SH)) == []
    (enqueued,) = scheduler.run_due(dt.datetime(2026, 10, 10, 7, 30, tzinfo=SH))
    assert (enqueued.job, enqueued.slot) == ("bulletins.issue", "2026-10-10")
    assert Bulletin.objects.get().period_key == "2026-09"
    assert scheduler.run_due(dt.datetime(2026, 10, 10, 9, 0, tzinfo=SH)) == []  # same slot
