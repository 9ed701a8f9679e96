"""Reporting reminders (报送提醒): warn a department before its month ends as a 零报送.

The bulletin names a 零报送 for a duty in force in month M whose department received no
submission of that category in M (`statistics.zero_reports`). Five working days before M's last
working day (`workdays.reminder_day`), every such duty with nothing received in M so far gets one
`DutyReminder` (one per department × category × month, whichever version of the duty is in
force; a second run writes nothing):

- a console notice to the department's clerks: the dashboard counts the unread ones
  (`unread_count`), the reminders page lists them (`reminders_for`) and marks them read
  (`mark_read`);
- a POST to every active webhook the department's systems registered through their API keys
  (`checks.CheckWebhook` of a usable key of the department; a 部门报送员 key registers it with
  `PUT /api/v1/reminders/webhook`, `register_webhook`), queued in the shared webhook outbox
  (`core.outbox`: signed, attempts recorded, retried with backoff) as `DutyReminderDelivery`.

The daily job (`tasks.send_reminders_task`) runs for today: from the reminder day to the month's
end, so a scheduler that was down on the reminder day sends them the next day it runs.
"""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from pubcredit.accounts.audit import record_event
from pubcredit.accounts.permissions import Principal, restrict
from pubcredit.bulletins.metrics import SHANGHAI, month_start, next_month
from pubcredit.bulletins.models import DutyReminder, DutyReminderDelivery
from pubcredit.bulletins.periods import Period
from pubcredit.bulletins.statistics import duties_in_force
from pubcredit.bulletins.tasks import deliver_reminder_task
from pubcredit.bulletins.workdays import last_workday, reminder_day
from pubcredit.checks import notices as check_notices
from pubcredit.checks.models import CheckWebhook
from pubcredit.core import outbox
from pubcredit.intake.models import Submission

EVENT = "duty.reminder"
ACTION_REMIND = "bulletins.remind"
ACTION_READ = "bulletins.reminder_read"
VIEW_ACTION = "records.view"  # who may list reminders (a department its own: restrict)
READ_ACTION = "records.submit"  # who may mark them read: those who report


def _midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), tzinfo=SHANGHAI)


def pending_duties(month: dt.date, until: dt.datetime) -> list:
    """The duties in force in `month` (at some day of it) whose department received no
    submission of the category from the month's start until `until` (failed submissions not
    counting), one per department × category (the latest version), with department and
    category loaded. The zero-report rule of `statistics.zero_reports`, cut at `until`."""
    month = month_start(month)
    reported = set(
        Submission.objects.filter(received_at__gte=_midnight(month), received_at__lt=until)
        .exclude(status=Submission.Status.FAILED)
        .values_list("department_id", "category_id")
        .distinct()
    )
    duties = (
        duties_in_force(month)
        .select_related("department", "category")
        .order_by("department__code", "category__code", "-effective_from")
    )
    out, seen = [], set()
    for duty in duties:  # the duties in force: a few hundred at most
        key = (duty.department_id, duty.category_id)
        if key not in reported and key not in seen:
            seen.add(key)
            out.append(duty)
    return out


def _message(duty, month: dt.date, deadline: dt.date, today: dt.date) -> str:
    period = Period.month(month.year, month.month)
    return _(
        "%(department)s:截至%(today)s,本单位%(month)s尚无“%(category)s”信息报送(报送责任:"
        "%(rhythm)s)。本月最后一个工作日为%(deadline)s,当月无报送的,将在%(month)s归集情况通报中"
        "列为零报送单位。请及时报送。"
    ) % {
        "department": duty.department.name,
        "today": today.isoformat(),
        "month": period.label,
        "category": duty.category.name,
        "rhythm": duty.get_rhythm_display(),
        "deadline": deadline.isoformat(),
    }


def send_reminders(
    today: dt.date, *, now: dt.datetime | None = None, principal: Principal | None = None
) -> list[DutyReminder]:
    """Remind the departments with a duty and no report in `today`'s month, when `today` is
    on or after the month's reminder day (else nothing). Guarantees: one reminder per
    department × category × month, ever (a second run, or a concurrent one, writes nothing
    new); a department that received a submission of the category in the month before the end
    of `today` (or `now`, when earlier) gets none; the reminders, their webhook deliveries and
    one audit event are written in one transaction, and the deliveries are queued on commit.
    Returns the reminders this call created."""
    month = month_start(today)
    if today < reminder_day(month):
        return []
    now = now or timezone.now()
    principal = principal or Principal.system("scheduler")
    until = min(now, _midnight(today + dt.timedelta(days=1)), _midnight(next_month(month)))
    deadline = last_workday(month)
    with transaction.atomic():
        done = set(
            DutyReminder.objects.filter(month=month).values_list("department_id", "category_id")
        )
        todo = [
            d for d in pending_duties(month, until) if (d.department_id, d.category_id) not in done
        ]
        if not todo:
            return []
        DutyReminder.objects.bulk_create(
            [
                DutyReminder(
                    duty=duty,
                    department_id=duty.department_id,
                    category_id=duty.category_id,
                    month=month,
                    deadline=deadline,
                    message=_message(duty, month, deadline, today),
                    created_at=now,
                )
                for duty in todo
            ],
            ignore_conflicts=True,  # a concurrent run wrote some first: theirs stand
        )
        created = list(
            DutyReminder.objects.filter(
                month=month,
                created_at=now,
                department_id__in={d.department_id for d in todo},
            )
            .select_related("department", "category")
            .order_by("department__code", "category__code")
        )
        if not created:
            return []
        deliveries = _queue_deliveries(created, now)
        record_event(
            principal,
            ACTION_REMIND,
            object_type=DutyReminder._meta.label_lower,
            object_id=Period.month(month.year, month.month).key,
            object_repr=str(Period.month(month.year, month.month).label),
            after={
                "month": f"{month:%Y-%m}",
                "deadline": deadline.isoformat(),
                "reminders": [f"{r.department.code}/{r.category.code}" for r in created],
                "deliveries": len(deliveries),
            },
        )
        if deliveries:
            transaction.on_commit(lambda: OUTBOX.enqueue(deliveries))
    return created


def _queue_deliveries(reminders: list[DutyReminder], now: dt.datetime) -> list[int]:
    """One pending delivery per reminder × active webhook of a usable API key of its
    department; returns their ids."""
    hooks = CheckWebhook.objects.filter(
        active=True,
        api_key__active=True,
        api_key__department_id__in={r.department_id for r in reminders},
    ).filter(Q(api_key__expires_at__isnull=True) | Q(api_key__expires_at__gt=now))
    by_department: dict[int, list] = {}
    for hook in hooks.values("pk", "url", "api_key__department_id"):
        by_department.setdefault(hook["api_key__department_id"], []).append(hook)
    rows = [
        DutyReminderDelivery(
            reminder=reminder, webhook_id=hook["pk"], url=hook["url"], next_attempt_at=now
        )
        for reminder in reminders
        for hook in by_department.get(reminder.department_id, ())
    ]
    if not rows:
        return []
    DutyReminderDelivery.objects.bulk_create(rows, ignore_conflicts=True)
    return list(
        DutyReminderDelivery.objects.filter(
            reminder__in=reminders, attempt_count=0, status=outbox.DeliveryStatus.PENDING
        )
        .order_by("pk")
        .values_list("pk", flat=True)
    )


# --------------------------------------------------------------------------- console


def reminders_for(principal: Principal, *, unread_only: bool = False) -> QuerySet:
    """The reminders `principal` may see: a department clerk its department's, a district
    administrator its district centres', the credit centre all; newest first."""
    qs = restrict(
        DutyReminder.objects.select_related("department", "category"), principal, VIEW_ACTION
    ).order_by("-month", "-created_at", "department__code", "category__code")
    if unread_only:
        qs = qs.filter(read_at__isnull=True)
    return qs


def unread_count(principal: Principal) -> int | None:
    """The unread reminders of the principal's department, for the dashboard; None for anyone
    who is not a department's reporting clerk."""
    if not principal.is_department_scoped or not principal.can(READ_ACTION):
        return None
    return reminders_for(principal, unread_only=True).count()


def may_mark_read(principal: Principal) -> bool:
    return principal.can(READ_ACTION) and principal.can(VIEW_ACTION)


def mark_read(principal: Principal, ids) -> int:
    """Mark these reminders (among those of the principal's department) read, with one audit
    event; returns how many changed. Only those who report (records.submit) may."""
    if not may_mark_read(principal):
        raise PermissionDenied(_("只有报送部门的报送员可以将报送提醒标为已读。"))
    with transaction.atomic():
        pks = list(
            restrict(DutyReminder.objects.all(), principal, READ_ACTION)
            .filter(pk__in=[int(i) for i in ids], read_at__isnull=True)
            .select_for_update()
            .values_list("pk", flat=True)
        )
        if not pks:
            return 0
        changed = DutyReminder.objects.filter(pk__in=pks).update(
            read_at=timezone.now(), read_by=principal.label[:150]
        )
        record_event(
            principal,
            ACTION_READ,
            object_type=DutyReminder._meta.label_lower,
            object_repr=_("%(n)d 条报送提醒") % {"n": changed},
            after={"read": sorted(pks)},
        )
    return changed


# --------------------------------------------------------------------------- webhooks


def register_webhook(principal: Principal, url: str) -> CheckWebhook:
    """Register (or change) the URL at which a department's system (its API key, a
    部门报送员 key) receives its reminders: the same `checks.CheckWebhook` a checking system
    registers, with the same URL checks, signing secret and audit event
    (`checks.notices.save_webhook`)."""
    principal.require(READ_ACTION)
    if principal.api_key is None or principal.department_id is None:
        raise PermissionDenied(_("只有部门报送系统的接口密钥可以登记报送提醒的通知地址。"))
    return check_notices.save_webhook(principal, url)


def webhook_of(principal: Principal) -> CheckWebhook:
    """The calling department system's webhook; DoesNotExist when it has none."""
    principal.require(READ_ACTION)
    if principal.api_key is None:
        raise CheckWebhook.DoesNotExist(_("只有接口密钥(系统)可以登记通知地址。"))
    return CheckWebhook.objects.get(api_key=principal.api_key)


def payload(delivery: DutyReminderDelivery) -> dict:
    reminder = delivery.reminder
    duty = reminder.duty
    return {
        "event": EVENT,
        "delivery": delivery.pk,
        "reminder": reminder.pk,
        "month": f"{reminder.month:%Y-%m}",
        "deadline": reminder.deadline.isoformat(),
        "department": {"code": reminder.department.code, "name": reminder.department.name},
        "category": {"code": reminder.category.code, "name": reminder.category.name},
        "duty": {
            "channel": duty.channel,
            "rhythm": duty.rhythm,
            "workdays": duty.workdays,
            "monthday": duty.monthday,
        },
        "created_at": timezone.localtime(reminder.created_at).isoformat(),
        "message": reminder.message,
    }


def _outgoing(delivery_id: int) -> outbox.Message:
    delivery = DutyReminderDelivery.objects.select_related(
        "webhook", "reminder__duty", "reminder__department", "reminder__category"
    ).get(pk=delivery_id)
    return outbox.Message(delivery.url, delivery.webhook.secret, payload(delivery))


OUTBOX = outbox.Outbox(
    model=DutyReminderDelivery, event=EVENT, task=deliver_reminder_task, message=_outgoing
)


def deliver(delivery_id: int, *, now: dt.datetime | None = None) -> DutyReminderDelivery | None:
    """One attempt to POST a reminder delivery that is due (see `core.outbox.Outbox.deliver`)."""
    return OUTBOX.deliver(delivery_id, now=now)


def deliver_due(*, now: dt.datetime | None = None) -> int:
    """Attempt every reminder delivery whose time has come; returns how many were attempted."""
    return OUTBOX.deliver_due(now=now)
