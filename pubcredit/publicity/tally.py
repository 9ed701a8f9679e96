"""Publicity shown, kept: `PublicityTally` counts the read model's rows in a public state
(PUBLIC_STATES: 公示中, 异议处理中) per category × department × month of their start, so that the
portal's 数据统计 (双公示 by month and department) never scans the read model.

Kept with +/- deltas by the two writers of the read model (services), in their transaction and
under their lock:
- `add_refreshed`: every refresh (`services.refresh_publicity`: the records flow, a tier
  override, a mark added or lifted, the rules, the sweep's pending starts) takes each changed
  row's count off its old key when the old state was public and adds it to its new key when the
  new state is — a new window, a window moved, a withdrawal, a repair, an objection;
- `subtract_ending`: the daily sweep takes off the rows it ends (公示期满), before it ends them.

Why a count by state and not by day: a row is public on D when its state is public and start <=
D < end. The state is exact by deltas, but D moves every day and windows end on days nobody
writes anything. Counts by end day would grow with every distinct end (licences end on any
day: thousands of keys per month). Instead "public today" is the kept count less the rows that
are still in a public state although their window no longer covers today: those whose end has
come and the sweep has not ended yet (none after the sweep at 00:05; a day's worth when it
has not run) and those starting after today (a window judged on a later day). Both are read
through partial indexes of the read model (`publicity_running_end` on end,
`publicity_public_start` on start, for the running states), so they cost what the few rows
they find cost: `public_by_month`.

`rebuild_publicity_tally` recomputes the counts from the read model with the same numbers.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import polars as pl
from django.db import transaction
from django.db.models import Count
from django.db.models.functions import TruncMonth

from pubcredit.core import tallies
from pubcredit.publicity.models import PUBLIC_STATES, Publicity, PublicityTally

KEYS = ("category_id", "department_id", "month")
_SCHEMA = {"category_id": pl.Int64, "department_id": pl.Int64, "month": pl.Date, "n": pl.Int64}


def _public(state: str, start: str) -> pl.Expr:
    return pl.col(state).is_in(PUBLIC_STATES).fill_null(False) & pl.col(start).is_not_null()


def add_refreshed(rows: pl.DataFrame) -> int:
    """From a refresh: `rows` are the derived rows (category_id, department_id, start, state)
    joined with the rows they replace (the same columns suffixed `_old`, null for a new row).
    Returns the number of keys changed."""
    if rows.height == 0:
        return 0
    month = pl.col("start").dt.truncate("1mo")
    entered = rows.filter(_public("state", "start")).select(
        "category_id", "department_id", month.alias("month"), pl.lit(1, pl.Int64).alias("n")
    )
    left = rows.filter(_public("state_old", "start_old")).select(
        pl.col("category_id_old").alias("category_id"),
        pl.col("department_id_old").alias("department_id"),
        pl.col("start_old").dt.truncate("1mo").alias("month"),
        pl.lit(-1, pl.Int64).alias("n"),
    )
    return tallies.add(PublicityTally, KEYS, pl.concat([entered, left]))


def _grouped_by_start(queryset) -> pl.DataFrame:
    """`queryset` (Publicity rows) counted per category, department and month of start (grouped
    by start day in the database: any backend, few groups)."""
    rows = (
        queryset.order_by()
        .values("category_id", "department_id", "start")
        .annotate(n=Count("pk"))
        .values_list("category_id", "department_id", "start", "n")
    )
    frame = pl.DataFrame(list(rows), schema=_SCHEMA, orient="row")
    return frame.with_columns(pl.col("month").dt.truncate("1mo"))


def ending(day: dt.date):
    """The rows the sweep of `day` ends: public state, end come (the sweep's own condition)."""
    return Publicity.objects.filter(
        state__in=PUBLIC_STATES, end__isnull=False, end__lte=day, start__isnull=False
    )


def subtract_ending(day: dt.date) -> int:
    """From the sweep, before it ends them: the rows it ends leave their keys."""
    frame = _grouped_by_start(ending(day))
    return tallies.add(PublicityTally, KEYS, frame.with_columns(-pl.col("n")))


def public_by_month(today: dt.date, since: dt.date, category_ids: Iterable[int]) -> pl.DataFrame:
    """(category_id, department_id, month, n): the rows of `category_ids` public on `today`
    (public state, start <= today < end) whose publicity started from `since`'s month on, per
    category, department and month of start; keys with none are left out."""
    ids = list(category_ids)
    first, last = since.replace(day=1), today.replace(day=1)
    kept = pl.DataFrame(
        list(
            PublicityTally.objects.filter(
                category_id__in=ids, month__gte=first, month__lte=last
            ).values_list("category_id", "department_id", "month", "n")
        ),
        schema=_SCHEMA,
        orient="row",
    )
    public = Publicity.objects.filter(state__in=PUBLIC_STATES, category_id__in=ids)
    # Counted above but not public today: the end has come and the sweep has not run yet…
    due = public.filter(end__isnull=False, end__lte=today, start__gte=first, start__lte=today)
    # …or the window starts later this month (judged on a later day).
    early = public.filter(start__gt=today, start__lt=_next_month(last))
    off = pl.concat([_grouped_by_start(due), _grouped_by_start(early)])
    return (
        pl.concat([kept, off.with_columns(-pl.col("n"))])
        .group_by(KEYS)
        .agg(pl.col("n").sum())
        .filter(pl.col("n") != 0)
        .sort(KEYS)
    )


def _next_month(month: dt.date) -> dt.date:
    return (month.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


@transaction.atomic
def rebuild_publicity_tally() -> int:
    """Recompute PublicityTally from the read model (one aggregate query), replacing the kept
    rows: the numbers the writers keep. The table is held against them meanwhile
    (core.tallies.lock). Returns the rows written."""
    tallies.lock(PublicityTally)
    rows = (
        Publicity.objects.filter(state__in=PUBLIC_STATES, start__isnull=False)
        .order_by()
        .annotate(_month=TruncMonth("start"))
        .values("category_id", "department_id", "_month")
        .annotate(n=Count("pk"))
        .values_list("category_id", "department_id", "_month", "n")
    )
    frame = pl.DataFrame(list(rows), schema=_SCHEMA, orient="row")
    return tallies.replace(PublicityTally, KEYS, frame)
