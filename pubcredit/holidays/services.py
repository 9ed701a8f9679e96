"""Working-day arithmetic against the holiday table (Asia/Shanghai civil dates).

China moves working days onto weekends around holidays (调休), so weekday arithmetic alone is
wrong: a deadline of "7 working days" must consult the table. The table is small (a few hundred
rows), so it is cached in memory and refreshed whenever it changes (`clear_cache`).
"""

from __future__ import annotations

import datetime as dt
import json
from functools import lru_cache
from pathlib import Path

import numpy as np
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.utils import timezone
from django.utils.translation import gettext as _

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
    """The last year whose holiday schedule is in the table (provisional or not), or None."""
    return CalendarYear.objects.order_by("-year").values_list("year", flat=True).first()


PROVISIONAL_FILE = Path(__file__).resolve().parent / "data" / "provisional.json"
# Administrators are warned this many days before the last officially published day of the table.
WARN_DAYS = 60


def read_provisional(path: Path | None = None) -> dict[int, dict]:
    """The provisional years of data/provisional.json: {year: {"note", "days": {date: (is_workday,
    name)}}}."""
    document = json.loads(Path(path or PROVISIONAL_FILE).read_text(encoding="utf-8"))
    out = {}
    for year, entry in document["years"].items():
        days = {
            dt.date.fromisoformat(d["date"]): (bool(d["is_workday"]), d.get("name", ""))
            for d in entry["days"]
        }
        out[int(year)] = {"note": entry.get("note", ""), "days": days}
    return out


@transaction.atomic
def seed_from_chinese_calendar(principal, years: range | None = None) -> dict:
    """Load the holiday schedule chinese-calendar knows into the table, and after its last year
    the provisional years of data/provisional.json (statutory holidays only, marked provisional:
    source "provisional", CalendarYear.provisional). A year chinese-calendar knows replaces its
    provisional rows. Rows edited by hand (source=manual) are never overwritten. Idempotent;
    returns counts."""
    # Imported here: heavy, and needed only when the calendar is seeded.
    import chinese_calendar

    principal.require("catalog.change")
    known = sorted(chinese_calendar.holidays) + sorted(chinese_calendar.workdays)
    first, last = min(known).year, max(known).year
    provisional = {y: v for y, v in read_provisional().items() if y > last}
    years = years or range(first, max([last, *provisional]) + 1)
    official_years = {y for y in years if first <= y <= last}
    provisional_years = {y for y in years if y in provisional}
    Source = CalendarException.Source
    manual = set(
        CalendarException.objects.filter(source=Source.MANUAL).values_list("date", flat=True)
    )
    # A year now officially known drops the provisional rows it replaces.
    replaced = CalendarException.objects.filter(
        source=Source.PROVISIONAL, date__year__in=official_years
    ).delete()[0]
    existing = {
        e.date: e
        for e in CalendarException.objects.filter(
            source__in=[Source.CHINESE_CALENDAR, Source.PROVISIONAL]
        )
    }
    wanted = {}
    for date, name in chinese_calendar.holidays.items():
        if date.year in official_years and date.weekday() < 5:
            wanted[date] = (False, HOLIDAY_NAMES.get(name, name or ""), Source.CHINESE_CALENDAR)
    for date, name in chinese_calendar.workdays.items():
        if date.year in official_years and date.weekday() >= 5:
            wanted[date] = (True, HOLIDAY_NAMES.get(name, name or ""), Source.CHINESE_CALENDAR)
    for year in provisional_years:
        for date, (is_work, name) in provisional[year]["days"].items():
            wanted[date] = (is_work, name, Source.PROVISIONAL)
    updated = 0
    new_rows = []
    for date, (is_work, name, source) in sorted(wanted.items()):
        if date in manual:
            continue
        row = existing.get(date)
        if row is None:
            new_rows.append(
                CalendarException(date=date, is_workday=is_work, name=name, source=source)
            )
        elif (row.is_workday, row.name, row.source) != (is_work, name, source):
            row.is_workday, row.name, row.source = is_work, name, source
            row.save(update_fields=["is_workday", "name", "source"])
            updated += 1
    CalendarException.objects.bulk_create(new_rows)
    created = len(new_rows)
    for year in years:
        if year in official_years:
            values = {"note": "chinese-calendar", "provisional": False}
        elif year in provisional_years:
            values = {"note": provisional[year]["note"], "provisional": True}
        else:
            continue
        CalendarYear.objects.update_or_create(year=year, defaults=values)
    if created or updated or replaced:
        record_event(
            principal,
            "holidays.seed",
            object_type="holidays.calendarexception",
            object_repr=f"{years.start}–{years.stop - 1}",
            after={"created": created, "updated": updated, "replaced": replaced},
        )
    clear_cache()
    return {"created": created, "updated": updated, "years": [years.start, years.stop - 1]}


def calendar_warning(today: dt.date | None = None) -> str | None:
    """A warning for administrators (Chinese) when the officially published part of the holiday
    table ends within WARN_DAYS days of `today` (default: today in Asia/Shanghai) or has already
    ended, naming the provisional years after it; None while the table is current. Past its last
    year, working-day arithmetic falls back to the weekday rule and deadlines come out wrong."""
    today = today or timezone.localdate()
    years = list(CalendarYear.objects.order_by("year").values_list("year", "provisional"))
    if not years:
        return _("节假日表为空:工作日按周一至周五计算。请执行 pubcredit holidays seed。")
    official = [y for y, provisional in years if not provisional]
    last_official = dt.date(official[-1], 12, 31) if official else today - dt.timedelta(days=1)
    days_left = (last_official - today).days
    if days_left > WARN_DAYS:
        return None
    provisional = [y for y, p in years if p and y > last_official.year]
    if days_left >= 0:
        message = _("节假日表的正式放假安排只维护到 %(date)s(还有 %(n)s 天)。") % {
            "date": last_official.isoformat(),
            "n": days_left,
        }
    else:
        message = _("节假日表的正式放假安排只维护到 %(date)s,已过期 %(n)s 天。") % {
            "date": last_official.isoformat(),
            "n": -days_left,
        }
    if provisional:
        message += _("%(years)s 年为暂定安排(仅法定节日,不含调休),按工作日计算的期限可能不准。") % {
            "years": "、".join(str(y) for y in provisional)
        }
    return message + _(
        "国务院公布放假安排后,请在管理后台“节假日调整”中维护,或升级 chinesecalendar 后执行 "
        "pubcredit holidays seed。"
    )
