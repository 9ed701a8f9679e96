"""Working-day arithmetic against the holiday table (Asia/Shanghai civil dates).

China moves working days onto weekends around holidays (调休), so weekday arithmetic alone is
wrong: a deadline of "7 working days" must consult the table. The table is small (a few hundred
rows), so it is cached in memory and refreshed whenever it changes (`clear_cache`).
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

import numpy as np
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from pubcredit.accounts.audit import record_event
from pubcredit.holidays.models import CalendarException, CalendarYear

HOLIDAY_NAMES = {
    "New Year's Day": "元旦",
    "Spring Festival": "春节",
    "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节",
    "National Day": "国庆节",
    "Mid-autumn Festival": "中秋节",
    "Anti-Fascist 70th Day": "抗战胜利70周年纪念日",
}


@lru_cache(maxsize=1)
def _table() -> tuple[frozenset[dt.date], frozenset[dt.date]]:
    holidays, workdays = set(), set()
    for date, is_workday in CalendarException.objects.values_list("date", "is_workday"):
        (workdays if is_workday else holidays).add(date)
    return frozenset(holidays), frozenset(workdays)


def clear_cache() -> None:
    _table.cache_clear()


@receiver([post_save, post_delete], sender=CalendarException)
def _table_changed(**kwargs):
    transaction.on_commit(clear_cache)
    clear_cache()


def is_workday(day: dt.date) -> bool:
    holidays, workdays = _table()
    if day in workdays:
        return True
    if day in holidays:
        return False
    return day.weekday() < 5


def add_workdays(start: dt.date, n: int) -> dt.date:
    """The date n working days after `start` (start itself not counted); n ≥ 0.
    add_workdays(d, 0) is d when d is a working day, else the next working day."""
    day = start
    if n == 0:
        while not is_workday(day):
            day += dt.timedelta(days=1)
        return day
    while n > 0:
        day += dt.timedelta(days=1)
        if is_workday(day):
            n -= 1
    return day


def workdays_between(start: dt.date, end: dt.date) -> int:
    """Working days in (start, end]: how many working days after `start` `end` is.
    Negative when end is before start."""
    if end < start:
        return -workdays_between(end, start)
    return int(workdays_between_many(np.array([start]), np.array([end]))[0])


def workdays_between_many(starts, ends) -> np.ndarray:
    """Vectorised workdays_between for arrays of dates (numpy datetime64[D] or date objects),
    for intake's timeliness (及时率) over millions of rows. Requires ends >= starts elementwise;
    rows where that fails get a negative count computed the same way."""
    starts = np.asarray(starts, dtype="datetime64[D]")
    ends = np.asarray(ends, dtype="datetime64[D]")
    holidays, workdays = _table()
    hol = np.array(sorted(holidays), dtype="datetime64[D]")
    # Count Mon–Fri days in (start, end] minus weekday holidays, plus adjusted working weekends.
    counts = np.busday_count(starts + 1, ends + 1, holidays=hol)
    if workdays:
        wd = np.array(sorted(workdays), dtype="datetime64[D]")
        lo = np.searchsorted(wd, starts + 1, side="left")
        hi = np.searchsorted(wd, ends + 1, side="left")
        counts = counts + (hi - lo)
    return counts


def calendar_known_through() -> int | None:
    """The last year whose holiday schedule is in the table, or None."""
    return CalendarYear.objects.order_by("-year").values_list("year", flat=True).first()


@transaction.atomic
def seed_from_chinese_calendar(principal, years: range | None = None) -> dict:
    """Load the holiday schedule chinese-calendar knows into the table. Rows edited by hand
    (source=manual) are never overwritten. Idempotent; returns counts."""
    # Imported here: heavy, and needed only when the calendar is seeded.
    import chinese_calendar

    principal.require("catalog.change")
    known = sorted(chinese_calendar.holidays) + sorted(chinese_calendar.workdays)
    first, last = min(known).year, max(known).year
    years = years or range(first, last + 1)
    manual = set(
        CalendarException.objects.filter(source=CalendarException.Source.MANUAL).values_list(
            "date", flat=True
        )
    )
    existing = {
        e.date: e
        for e in CalendarException.objects.filter(source=CalendarException.Source.CHINESE_CALENDAR)
    }
    wanted = {}
    for date, name in chinese_calendar.holidays.items():
        if date.year in years and date.weekday() < 5:
            wanted[date] = (False, HOLIDAY_NAMES.get(name, name or ""))
    for date, name in chinese_calendar.workdays.items():
        if date.year in years and date.weekday() >= 5:
            wanted[date] = (True, HOLIDAY_NAMES.get(name, name or ""))
    created = updated = 0
    new_rows = []
    for date, (is_work, name) in sorted(wanted.items()):
        if date in manual:
            continue
        row = existing.get(date)
        if row is None:
            new_rows.append(
                CalendarException(
                    date=date,
                    is_workday=is_work,
                    name=name,
                    source=CalendarException.Source.CHINESE_CALENDAR,
                )
            )
        elif (row.is_workday, row.name) != (is_work, name):
            row.is_workday, row.name = is_work, name
            row.save(update_fields=["is_workday", "name"])
            updated += 1
    CalendarException.objects.bulk_create(new_rows)
    created = len(new_rows)
    for year in years:
        CalendarYear.objects.get_or_create(year=year, defaults={"note": "chinese-calendar"})
    if created or updated:
        record_event(
            principal,
            "holidays.seed",
            object_type="holidays.calendarexception",
            object_repr=f"{years.start}–{years.stop - 1}",
            after={"created": created, "updated": updated},
        )
    clear_cache()
    return {"created": created, "updated": updated, "years": [years.start, years.stop - 1]}
