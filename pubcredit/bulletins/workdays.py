"""The bulletins' days in a month, counted on the holiday table (`holidays.services`, so National
Day and its adjusted working Saturdays move them):

- `issue_day(month)`: the 3rd working day, when the scheduler issues the bulletin of the month
  before (`tasks.issue_monthly_task`);
- `last_workday(month)`: the month's last working day, the deadline a reminder names: a duty
  with nothing submitted in the month by then is a 零报送 in that month's bulletin;
- `reminder_day(month)`: five working days before it, when departments with a duty and no
  report are reminded (`reminders.send_reminders`).
"""

from __future__ import annotations

import datetime as dt

from pubcredit.bulletins.metrics import month_start, next_month
from pubcredit.holidays.services import add_workdays, is_workday

ISSUE_WORKDAY = 3  # the bulletin of a month is issued on the 3rd working day of the next
REMIND_WORKDAYS = 5  # reminders go out this many working days before the last working day


def nth_workday(month: dt.date, n: int) -> dt.date:
    """The n-th working day (n ≥ 1) of the month of `month`."""
    return add_workdays(month_start(month) - dt.timedelta(days=1), n)


def issue_day(month: dt.date) -> dt.date:
    """The day of `month` on which the previous month's bulletin is due."""
    return nth_workday(month, ISSUE_WORKDAY)


def last_workday(month: dt.date) -> dt.date:
    """The last working day of the month of `month`."""
    day = next_month(month_start(month)) - dt.timedelta(days=1)
    while not is_workday(day):
        day -= dt.timedelta(days=1)
    return day


def reminder_day(month: dt.date) -> dt.date:
    """The working day REMIND_WORKDAYS working days before the last working day of the month
    of `month` (so that many working days remain to report)."""
    day, left = last_workday(month), REMIND_WORKDAYS
    while left:
        day -= dt.timedelta(days=1)
        if is_workday(day):
            left -= 1
    return day
