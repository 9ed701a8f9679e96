# ruff: noqa: F811 (pytest fixtures imported from loadkit)
"""Reporting reminders (报送提醒): five working days before a month's last working day, every
duty in force with no submission of its category in the month so far is reminded once, in the
console and through the webhook of the department's system (a real local HTTP server receives
the signed POST).

The days are counted by hand on the 2026 calendar: 30 November is a Monday, so the reminder
day is Monday 23 November (27, 26, 25, 24, 23); 30 September is a Wednesday before National
Day and Friday 25 September is the Mid-autumn holiday, so the reminder day is Tuesday 22
September (29, 28, 24, 23, 22). The shipped catalogue has 42 duties (department × category), all
in force since 2021."""

import datetime as dt
import hashlib
import hmac
import json
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import PermissionDenied
from django.test import Client
from django.utils import timezone

from pubcredit.accounts.models import AuditEvent, Role
from pubcredit.accounts.permissions import Principal
from pubcredit.accounts.services import create_user, issue_api_key, revoke_api_key
from pubcredit.bulletins import reminders
from pubcredit.bulletins.models import DutyReminder, DutyReminderDelivery
from pubcredit.bulletins.workdays import last_workday, reminder_day
from pubcredit.catalog.models import Category, Department, ReportingDuty
from pubcredit.core.outbox import DeliveryStatus
from pubcredit.intake.models import Submission
from pubcredit.ops.schedule import JOBS, Scheduler
from pubcredit.testing.loadkit import (  # noqa: F401 (fixtures)
    calendar_2026,
    cf,
    department,
    make_submission,
)
from pubcredit.testing.webhooks import Receiver

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("calendar_2026")]
SH = ZoneInfo("Asia/Shanghai")
NOV, SEP = dt.date(2026, 11, 1), dt.date(2026, 9, 1)
NOV_DAY = dt.date(2026, 11, 23)


@pytest.fixture
def allow_local(settings):
    """The local receiver listens on 127.0.0.1: allowed only with the intranet setting on."""
    settings.PUBCREDIT_WEBHOOK_ALLOW_PRIVATE = True


def dept(code: str) -> Department:
    return Department.objects.get(code=code)


def cat(code: str) -> Category:
    return Category.objects.get(code=code)


def at(day: dt.date, hour: int) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=SH)


def reminded() -> set[tuple[str, str]]:
    return set(DutyReminder.objects.values_list("department__code", "category__code"))


def department_key(system, code: str, name: str):
    key, _clear = issue_api_key(
        system, name=name, role=Role.DEPARTMENT_CLERK, department=dept(code)
    )
    return key


@pytest.fixture
def november(make_submission):
    """November 2026 as the departments reported it before the reminder day and after."""
    # 市场监管局 reported its penalties: no CF reminder (its XK and JYYC still get one).
    make_submission(department=dept("ZB-SCJG"), category=cat("CF"), received_at=at(NOV, 10))
    # 发改委 reported its red list on the reminder day itself, before the job ran.
    make_submission(department=dept("ZB-FGW"), category=cat("SXJL"), received_at=at(NOV_DAY, 7))
    # A failed file is no report.
    make_submission(
        department=dept("ZB-STHJ"),
        category=cat("CF"),
        received_at=at(dt.date(2026, 11, 5), 9),
        status=Submission.Status.FAILED,
    )
    # Reported in October and after the reminder day: no report by the reminder day.
    make_submission(
        department=dept("ZB-WJW"), category=cat("CF"), received_at=at(dt.date(2026, 10, 30), 9)
    )
    make_submission(
        department=dept("ZB-GAJ"), category=cat("CF"), received_at=at(dt.date(2026, 11, 24), 9)
    )
    # 人社局's duty ended with October: not in force in November.
    ReportingDuty.objects.filter(department__code="ZB-RSJ", category__code="CF").update(
        effective_to=dt.date(2026, 10, 31)
    )
    # 公安局's duty changed on 15 November: two versions in force in the month, one reminder.
    old = ReportingDuty.objects.get(department__code="ZB-GAJ", category__code="CF")
    old.effective_to = dt.date(2026, 11, 14)
    old.save()
    return ReportingDuty.objects.create(
        department=old.department,
        category=old.category,
        channel="api",
        rhythm="within",
        workdays=5,
        effective_from=dt.date(2026, 11, 15),
    )


def test_the_reminder_day_is_five_working_days_before_the_months_last():
    assert last_workday(NOV) == dt.date(2026, 11, 30)
    assert reminder_day(NOV) == dt.date(2026, 11, 23)
    assert last_workday(SEP) == dt.date(2026, 9, 30)
    assert reminder_day(SEP) == dt.date(2026, 9, 22)
    # October ends on an unworked Saturday: Friday 30, then 29, 28, 27, 26, 23.
    assert reminder_day(dt.date(2026, 10, 1)) == dt.date(2026, 10, 23)


def test_september_before_national_day(system):
    assert reminders.send_reminders(dt.date(2026, 9, 21)) == []
    created = reminders.send_reminders(dt.date(2026, 9, 22))
    assert len(created) == 42
    assert {r.month for r in created} == {SEP}
    assert {r.deadline for r in created} == {dt.date(2026, 9, 30)}


def test_departments_with_a_duty_and_no_report_are_reminded_once(november, system):
    assert reminders.send_reminders(dt.date(2026, 11, 20)) == []  # Friday before
    assert not DutyReminder.objects.exists()

    created = reminders.send_reminders(NOV_DAY)
    # 42 duties, less 市场监管局 CF and 发改委 SXJL (reported) and 人社局 CF (not in force).
    assert len(created) == 39
    got = reminded()
    assert ("ZB-SCJG", "CF") not in got and ("ZB-FGW", "SXJL") not in got
    assert ("ZB-RSJ", "CF") not in got
    assert {("ZB-SCJG", "XK"), ("ZB-SCJG", "JYYC"), ("ZB-FGW", "YZSX")} <= got
    assert {("ZB-STHJ", "CF"), ("ZB-WJW", "CF"), ("ZB-GAJ", "CF")} <= got
    police = DutyReminder.objects.get(department__code="ZB-GAJ")
    assert police.duty == november  # the latest version in force
    assert (police.month, police.deadline) == (NOV, dt.date(2026, 11, 30))
    assert police.message.startswith("淄博市公安局:截至2026-11-23,本单位2026年11月份尚无“行政处罚”")
    assert "2026-11-30" in police.message and "零报送" in police.message
    event = AuditEvent.objects.get(action="bulletins.remind")
    assert event.actor_label == "scheduler" and event.object_id == "2026-11"
    assert len(event.after["reminders"]) == 39 and "ZB-GAJ/CF" in event.after["reminders"]

    # Running again, the same day or later in the month, sends nothing more.
    assert reminders.send_reminders(NOV_DAY) == []
    assert reminders.send_reminders(dt.date(2026, 11, 27)) == []
    assert DutyReminder.objects.count() == 39
    assert AuditEvent.objects.filter(action="bulletins.remind").count() == 1


def test_a_scheduler_down_on_the_reminder_day_reminds_the_next_day(november):
    job = next(j for j in JOBS if j.name == "bulletins.remind")
    assert (job.at, job.pass_day) == (dt.time(8, 0), True)
    scheduler = Scheduler((job,))
    assert scheduler.run_due(at(NOV_DAY, 7)) == []
    # Down on the 23rd, back on the 24th: what came in by the end of the run's day counts
    # (the run here is after the fact, so 公安局's file of 09:00 on the 24th is a report).
    (enqueued,) = scheduler.run_due(at(dt.date(2026, 11, 24), 8))
    assert enqueued.slot == "2026-11-24"
    assert len(reminded()) == 38 and ("ZB-GAJ", "CF") not in reminded()
    assert (
        "截至2026-11-24"
        in DutyReminder.objects.get(department__code="ZB-STHJ", category__code="CF").message
    )


def test_the_departments_system_receives_one_signed_post(
    november, system, allow_local, django_capture_on_commit_callbacks
):
    police_key = department_key(system, "ZB-GAJ", "公安局报送系统")
    revoked = department_key(system, "ZB-JTYS", "交通局报送系统")
    with Receiver(statuses=(503, 200)) as server:
        hook = reminders.register_webhook(Principal.of(police_key), server.url)
        reminders.register_webhook(Principal.of(revoked), server.url)
        revoke_api_key(system, revoked)
        with django_capture_on_commit_callbacks(execute=True):
            reminders.send_reminders(NOV_DAY)
        # Only the usable key of a reminded department: one delivery, first attempt 503.
        delivery = DutyReminderDelivery.objects.get()
        assert delivery.reminder.department.code == "ZB-GAJ"
        assert (delivery.status, delivery.attempt_count) == (DeliveryStatus.PENDING, 1)
        assert delivery.attempts[0]["status_code"] == 503
        assert len(server.requests) == 1

        # Running the reminders again queues nothing; the retry, when due, delivers.
        with django_capture_on_commit_callbacks(execute=True):
            reminders.send_reminders(NOV_DAY)
        assert reminders.deliver_due() == 0
        later = timezone.now() + dt.timedelta(seconds=31)
        assert reminders.deliver_due(now=later) == 1
        delivery.refresh_from_db()
        assert delivery.status == DeliveryStatus.DELIVERED
        assert [a["status_code"] for a in delivery.attempts] == [503, 200]

    assert len(server.requests) == 2
    request = server.requests[-1]
    body, headers = request["body"], request["headers"]
    assert headers["x-pubcredit-event"] == "duty.reminder"
    assert headers["x-pubcredit-delivery"] == str(delivery.pk)
    expected = "sha256=" + hmac.new(hook.secret.encode(), body, hashlib.sha256).hexdigest()
    assert headers["x-pubcredit-signature"] == expected
    sent = json.loads(body)
    assert sent["event"] == "duty.reminder"
    assert sent["department"] == {"code": "ZB-GAJ", "name": "淄博市公安局"}
    assert sent["category"] == {"code": "CF", "name": "行政处罚"}
    assert (sent["month"], sent["deadline"]) == ("2026-11", "2026-11-30")
    assert sent["duty"] == {"channel": "api", "rhythm": "within", "workdays": 5, "monthday": None}


def test_only_a_departments_system_registers_a_reminder_webhook(system, allow_local):
    bank, _clear = issue_api_key(system, name="某银行", role=Role.BANK_USER)
    with pytest.raises(PermissionDenied):
        reminders.register_webhook(Principal.of(bank), "https://1.2.3.4/hook")
    with pytest.raises(PermissionDenied):
        reminders.register_webhook(system, "https://1.2.3.4/hook")  # not a key


# --------------------------------------------------------------------------- console


@pytest.fixture
def people(system):
    password = "Reminder-pass-2026"
    return {
        "police": create_user(
            system,
            username="police_clerk",
            role=Role.DEPARTMENT_CLERK,
            department=dept("ZB-GAJ"),
            password=password,
        ),
        "market": create_user(
            system,
            username="market_clerk",
            role=Role.DEPARTMENT_CLERK,
            department=dept("ZB-SCJG"),
            password=password,
        ),
        "centre": create_user(
            system, username="centre_staff", role=Role.CENTRE_STAFF, password=password
        ),
    }


def client_of(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_clerks_see_and_mark_their_departments_reminders(november, people):
    reminders.send_reminders(NOV_DAY)
    police = client_of(people["police"])
    assert 'id="task-duty_reminders" data-count="1"' in police.get("/console/").content.decode()
    page = police.get("/console/reminders/").content.decode()
    mine = DutyReminder.objects.get(department__code="ZB-GAJ")
    theirs = DutyReminder.objects.get(department__code="ZB-SCJG", category__code="XK")
    assert f'id="reminder-{mine.pk}"' in page and "未读" in page
    assert f'id="reminder-{theirs.pk}"' not in page

    # Another department's reminder is not theirs to mark.
    police.post("/console/reminders/", {"ids": [str(theirs.pk)]})
    theirs.refresh_from_db()
    assert theirs.read_at is None
    response = police.post("/console/reminders/", {"ids": [str(mine.pk)]})
    assert response.status_code == 302
    mine.refresh_from_db()
    assert mine.read_at is not None and mine.read_by == "police_clerk"
    assert "task-duty_reminders" not in police.get("/console/").content.decode()

    market = client_of(people["market"])
    assert 'id="task-duty_reminders" data-count="2"' in market.get("/console/").content.decode()


def test_the_centre_sees_every_department_and_marks_none(november, people):
    reminders.send_reminders(NOV_DAY)
    centre = client_of(people["centre"])
    page = centre.get("/console/reminders/").content.decode()
    assert page.count('id="reminder-') == 39
    assert 'name="ids"' not in page
    assert "task-duty_reminders" not in centre.get("/console/").content.decode()
    some = DutyReminder.objects.first()
    assert centre.post("/console/reminders/", {"ids": [str(some.pk)]}).status_code == 403
    some.refresh_from_db()
    assert some.read_at is None
