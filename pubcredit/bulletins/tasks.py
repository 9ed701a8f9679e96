"""Background work of the bulletins (django-tasks; `pubcredit db_worker` runs them, the scheduler
enqueues the daily ones, see `pubcredit.ops.schedule`):

- `issue_monthly_task(today)`: on and after the 3rd working day of a month (`workdays.issue_day`,
  counted on the holiday table), the previous month's bulletin is issued by the scheduler;
  issuing is idempotent (`services.issue` returns the bulletin already issued), so the daily job
  may run every day, and a scheduler that was down on the 3rd working day issues it the next day
  it runs;
- `send_reminders_task(today)`: the reporting reminders (`reminders.send_reminders`);
- `deliver_reminder_task(id)` / `deliver_due_reminders_task()`: the reminders' webhook
  deliveries (`core.outbox`).
"""

from __future__ import annotations

import datetime as dt

from django_tasks import task

from pubcredit.accounts.permissions import Principal
from pubcredit.bulletins.metrics import month_start
from pubcredit.bulletins.periods import Period
from pubcredit.bulletins.workdays import issue_day

SCHEDULER = "scheduler"


def monthly_bulletin_due(today: dt.date) -> Period | None:
    """The month whose bulletin is due on `today` (the month before `today`'s), or None
    before the 3rd working day of `today`'s month."""
    if today < issue_day(today):
        return None
    return Period.containing("month", month_start(today)).previous


@task()
def issue_monthly_task(today: str) -> dict:
    """Issue last month's bulletin when it is due on `today` (ISO date); returns what happened:
    {"period", "status": "not_due" | "issued" | "exists", "number"?, "due"?}."""
    # Imported here: issuing renders the PDF and the xlsx (heavy), needed only when it is due.
    from pubcredit.bulletins.services import issue

    day = dt.date.fromisoformat(today)
    period = monthly_bulletin_due(day)
    if period is None:
        return {
            "period": Period.containing("month", day).previous.key,
            "status": "not_due",
            "due": issue_day(day).isoformat(),
        }
    bulletin, created = issue(period, Principal.system(SCHEDULER))
    return {
        "period": period.key,
        "status": "issued" if created else "exists",
        "number": bulletin.number,
    }


@task()
def send_reminders_task(today: str) -> dict:
    """Remind the departments with a duty and no report this month (on and after the reminder
    day of `today`'s month; see `reminders`)."""
    # Imported here: reminders enqueue deliver_reminder_task: a cycle inside the app.
    from pubcredit.bulletins.reminders import send_reminders

    created = send_reminders(dt.date.fromisoformat(today), principal=Principal.system(SCHEDULER))
    return {"month": today[:7], "reminders": len(created)}


@task()
def deliver_reminder_task(delivery_id: int) -> str:
    """One attempt to deliver a reminder to a department system's webhook (retries re-enqueue
    it)."""
    # Imported here: reminders enqueue this task: a cycle inside the app.
    from pubcredit.bulletins.reminders import deliver

    delivery = deliver(delivery_id)
    return delivery.status if delivery is not None else "not_due"


@task()
def deliver_due_reminders_task() -> int:
    """Attempt every reminder delivery that is due (for a periodic schedule)."""
    # Imported here: reminders enqueue deliver_reminder_task: a cycle inside the app.
    from pubcredit.bulletins.reminders import deliver_due

    return deliver_due()
