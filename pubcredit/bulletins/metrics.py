"""The aggregation statistics: kept incrementally from the records-changed flow, rebuilt in full
with the same numbers, and read per month with the counts kept by other apps.

How a count is made (one place; the rates over these counts are in `formulas`):

- every record version written counts once in the month (Asia/Shanghai) it was received
  (`written`); a version 1 is a first report (`first_reports`), a later one a correction that
  superseded the previous version (`corrections`);
- a first report with a decision date and a reporting duty in force on its receipt day is due
  (`due`) and either on time or late: a `within` duty allows `workdays` working days after the
  decision date (counted on the holiday table, as intake's `late` flag), a `monthly` duty the
  `monthday`-th working day of the month after the decision's month;
- completeness: the optional (选填) catalogue fields of the category that the version fills
  (`filled`) out of all of them (`fillable` = versions × optional fields);
- a withdrawal counts in the month it happened (`withdrawn`).

Incremental path (`add_written`, `add_withdrawn`, called by the `bulletins` subscriber): one
aggregate query over the changed records grouped by (department, category, receipt day,
decision date, first report), the deadlines judged on those few groups with numpy, and the
deltas added to the metric rows with one INSERT of the missing rows and one UPDATE … SET n = n +
delta per (department, category, month). No Python loop per record.
"""

from __future__ import annotations

import datetime as dt
import functools
import operator
from collections.abc import Iterable
from zoneinfo import ZoneInfo

import polars as pl
from django.db import connection, transaction
from django.db.models import (
    Case,
    CharField,
    Count,
    F,
    IntegerField,
    QuerySet,
    Value,
    When,
)
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import TruncDate

from pubcredit.bulletins.models import DepartmentMonthMetric
from pubcredit.catalog.models import Category, Department, Field, ReportingDuty
from pubcredit.holidays.services import add_workdays, workdays_between_many
from pubcredit.records.models import Record, RecordStatus, RecordVersion

SHANGHAI = ZoneInfo("Asia/Shanghai")
COUNTS = (
    "written",
    "first_reports",
    "corrections",
    "due",
    "on_time",
    "late",
    "filled",
    "fillable",
    "withdrawn",
)
_GROUP = ("department_id", "category_id", "month")


# --------------------------------------------------------------------------- deadlines


def month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def next_month(month: dt.date) -> dt.date:
    return (month.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


def monthly_deadline(month: dt.date, monthday: int) -> dt.date:
    """The `monthday`-th working day of the month after `month`: the last day a monthly duty's
    records decided in `month` are on time."""
    return add_workdays(add_workdays(next_month(month), 0), monthday - 1)


def within_deadline(decision: dt.date, workdays: int) -> dt.date:
    """The last day a record decided on `decision` is on time under a `within` duty of
    `workdays` working days (the decision day itself not counted)."""
    return add_workdays(decision, workdays)


def _duties_frame(pairs: Iterable[tuple[int, int]]) -> pl.DataFrame:
    pairs = list(pairs)
    departments = {d for d, _ in pairs}
    rows = ReportingDuty.objects.filter(
        department_id__in=departments, category_id__in={c for _, c in pairs}
    ).values_list(
        "department_id",
        "category_id",
        "rhythm",
        "workdays",
        "monthday",
        "effective_from",
        "effective_to",
    )
    return pl.DataFrame(
        list(rows),
        schema={
            "department_id": pl.Int64,
            "category_id": pl.Int64,
            "rhythm": pl.String,
            "workdays": pl.Int64,
            "monthday": pl.Int64,
            "effective_from": pl.Date,
            "effective_to": pl.Date,
        },
        orient="row",
    )


def _judge(groups: pl.DataFrame) -> pl.DataFrame:
    """`groups` (department_id, category_id, day, decision, first, n, filled) with `on_time`
    (True/False; null when the group is not judged: no duty, no decision date, not a first
    report). Deadlines are computed per distinct (decision, day) or decision month, never per
    record."""
    duties = _duties_frame(groups.select("department_id", "category_id").unique().iter_rows())
    keyed = groups.with_row_index("_g")
    matched = (
        keyed.join(duties, on=["department_id", "category_id"], how="inner")
        .filter(
            (pl.col("effective_from") <= pl.col("day"))
            & (pl.col("effective_to").is_null() | (pl.col("effective_to") >= pl.col("day")))
            & (pl.col("first") == 1)
            & pl.col("decision").is_not_null()
        )
        .sort("effective_from", descending=True)
        .unique("_g", keep="first")
    )
    within = matched.filter(pl.col("rhythm") == ReportingDuty.Rhythm.WITHIN)
    if within.height:
        starts = within.get_column("decision").to_numpy().astype("datetime64[D]")
        ends = within.get_column("day").to_numpy().astype("datetime64[D]")
        used = workdays_between_many(starts, ends)
        within = within.with_columns(
            on_time=pl.Series(used <= within.get_column("workdays").to_numpy(), dtype=pl.Boolean)
        )
    else:
        within = within.with_columns(on_time=pl.lit(None, dtype=pl.Boolean))
    monthly = matched.filter(pl.col("rhythm") == ReportingDuty.Rhythm.MONTHLY).with_columns(
        dmonth=pl.col("decision").dt.truncate("1mo")
    )
    deadlines = {
        key: monthly_deadline(key[0], key[1])
        for key in monthly.select("dmonth", "monthday").unique().iter_rows()
    }
    deadline_frame = pl.DataFrame(
        [(m, k, d) for (m, k), d in deadlines.items()],
        schema={"dmonth": pl.Date, "monthday": pl.Int64, "deadline": pl.Date},
        orient="row",
    )
    monthly = monthly.join(deadline_frame, on=["dmonth", "monthday"], how="left").with_columns(
        on_time=pl.col("day") <= pl.col("deadline")
    )
    judged = pl.concat(
        [within.select("_g", "on_time"), monthly.select("_g", "on_time")], how="vertical"
    )
    return keyed.join(judged, on="_g", how="left").drop("_g")


# --------------------------------------------------------------------------- aggregation


def optional_codes(category_ids: Iterable[int]) -> dict[int, list[str]]:
    codes: dict[int, list[str]] = {c: [] for c in category_ids}
    for cat, code in Field.objects.filter(
        category_id__in=list(codes), requirement=Field.Requirement.OPTIONAL
    ).values_list("category_id", "code"):
        codes[cat].append(code)
    return codes


def decision_codes(category_ids: Iterable[int]) -> dict[int, str | None]:
    codes: dict[int, str | None] = dict.fromkeys(category_ids)
    for cat, code in Field.objects.filter(
        category_id__in=list(codes), role="decision_date"
    ).values_list("category_id", "code"):
        codes[cat] = code
    return codes


def filled_expression(codes: list[str]):
    """Per row: how many of `codes` its `data` holds (empty values are never stored). Measured
    on SQLite: one JSON look-up per code costs less than searching the text for each key."""
    if not codes:
        return Value(0, output_field=IntegerField())
    parts = [Case(When(data__has_key=code, then=Value(1)), default=Value(0)) for code in codes]
    return functools.reduce(operator.add, parts)


_GROUP_SCHEMA = {
    "department_id": pl.Int64,
    "category_id": pl.Int64,
    "day": pl.Date,
    "decision": pl.Date,
    "first": pl.Int64,
    "n": pl.Int64,
    "filled": pl.Int64,
    "optional": pl.Int64,
}


def _groups(queryset: QuerySet, category_id: int, *, history: bool) -> pl.DataFrame:
    """One aggregate query over versions of one category (current records, or with `history`
    their superseded versions) → one row per (department, receipt time, decision date, first):
    the receipt time is grouped as stored (one per submission) and turned into a Beijing day
    per group here, not per row in the database."""
    prefix = "record__" if history else ""
    optional = optional_codes([category_id])[category_id]
    k = len(optional)
    if history:
        code = decision_codes([category_id])[category_id]
        decision = KeyTextTransform(code, "data") if code else Value(None, CharField())
    else:
        decision = F("decision_date")
    per_row = queryset.order_by().annotate(
        _dept=F(f"{prefix}department_id"),
        _received=F("received_at"),
        _decision=decision,
        _first=Case(When(version=1, then=Value(1)), default=Value(0)),
        _filled=filled_expression(optional),
    )
    rows = _narrow_aggregate(per_row.values("_dept", "_received", "_decision", "_first", "_filled"))
    return pl.DataFrame(
        [
            (
                d,
                category_id,
                local_day(_as_moment(received)),
                _as_date(decision),
                first,
                n,
                filled or 0,
                k,
            )
            for d, received, decision, first, n, filled in rows
        ],
        schema=_GROUP_SCHEMA,
        orient="row",
    )


def _narrow_aggregate(per_row: QuerySet) -> list[tuple]:
    """(department, received, decision, first, n, filled) per group of `per_row` (a values()
    queryset of _dept, _received, _decision, _first, _filled). Each row's values are computed in
    a subquery the planner may not merge into the aggregate (a LIMIT/OFFSET fence): the sort or
    hash of the grouping then carries five narrow columns, not the record's whole `data` that
    the `filled` count reads (PostgreSQL would otherwise sort the jsonb through, spilling to
    disk on a large load)."""
    inner, params = per_row.query.sql_with_params()
    fence = "LIMIT -1 OFFSET 0" if connection.vendor == "sqlite" else "OFFSET 0"
    cols = ", ".join(
        connection.ops.quote_name(c) for c in ("_dept", "_received", "_decision", "_first")
    )
    sql = (
        f"SELECT {cols}, COUNT(*), SUM(t.{connection.ops.quote_name('_filled')}) "
        f"FROM ({inner} {fence}) t GROUP BY {cols}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _as_moment(value) -> dt.datetime:
    """A receipt time as a raw cursor gives it: an aware datetime (PostgreSQL) or the ISO text
    SQLite stores (UTC)."""
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    moment = dt.datetime.fromisoformat(str(value))
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def local_day(moment: dt.datetime) -> dt.date:
    """The day (Asia/Shanghai) of an aware datetime."""
    return moment.astimezone(SHANGHAI).date()


def _as_date(value) -> dt.date | None:
    """A decision date as the database gave it: a date (the records' column) or the ISO text
    kept in a superseded version's data."""
    if value is None or isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def _to_deltas(groups: pl.DataFrame) -> pl.DataFrame:
    if groups.height == 0:
        return pl.DataFrame(schema={**dict.fromkeys(_GROUP, pl.Int64), "month": pl.Date})
    judged = _judge(groups)
    n = pl.col("n")
    return (
        judged.with_columns(month=pl.col("day").dt.truncate("1mo"))
        .group_by(_GROUP)
        .agg(
            written=n.sum(),
            first_reports=n.filter(pl.col("first") == 1).sum(),
            corrections=n.filter(pl.col("first") == 0).sum(),
            due=n.filter(pl.col("on_time").is_not_null()).sum(),
            on_time=n.filter(pl.col("on_time")).sum(),
            late=n.filter(pl.col("on_time").not_()).sum(),
            filled=pl.col("filled").sum(),
            fillable=(n * pl.col("optional")).sum(),
        )
    )


def _apply(deltas: pl.DataFrame) -> int:
    """Add `deltas` (department_id, category_id, month and any of COUNTS) to the metric rows:
    the missing rows are inserted at zero, then each is incremented in the database (n = n + d),
    so concurrent writers of other key spaces never lose a count."""
    if deltas.height == 0:
        return 0
    districts = dict(
        Department.objects.filter(
            pk__in=deltas.get_column("department_id").unique().to_list()
        ).values_list("pk", "district_id")
    )
    counts = [c for c in COUNTS if c in deltas.columns]
    rows = deltas.select(*_GROUP, *counts).to_dicts()
    DepartmentMonthMetric.objects.bulk_create(
        [
            DepartmentMonthMetric(
                department_id=row["department_id"],
                category_id=row["category_id"],
                month=row["month"],
                district_id=districts.get(row["department_id"]),
            )
            for row in rows
        ],
        ignore_conflicts=True,
    )
    for row in rows:  # one per (department, category, month): a load makes one or two
        changes = {c: F(c) + int(row[c]) for c in counts if row[c]}
        if changes:
            DepartmentMonthMetric.objects.filter(
                department_id=row["department_id"],
                category_id=row["category_id"],
                month=row["month"],
            ).update(**changes)
    return len(rows)


def _category_ids(queryset: QuerySet, known: int | None) -> list[int]:
    if known is not None:
        return [known]
    return list(queryset.order_by().values_list("category_id", flat=True).distinct())


def add_written(queryset: QuerySet, category_id: int | None = None) -> int:
    """Count the record versions of `queryset` (records just written) into the metrics."""
    frames = [
        _groups(queryset.filter(category_id=c), c, history=False)
        for c in _category_ids(queryset, category_id)
    ]
    return _apply(_to_deltas(pl.concat(frames))) if frames else 0


def _withdrawn_deltas(queryset: QuerySet) -> pl.DataFrame:
    rows = (
        queryset.filter(status=RecordStatus.WITHDRAWN, status_changed_at__isnull=False)
        .annotate(_day=TruncDate("status_changed_at", tzinfo=SHANGHAI))
        .values("department_id", "category_id", "_day")
        .annotate(n=Count("pk"))
        .values_list("department_id", "category_id", "_day", "n")
    )
    frame = pl.DataFrame(
        list(rows),
        schema={"department_id": pl.Int64, "category_id": pl.Int64, "day": pl.Date, "n": pl.Int64},
        orient="row",
    )
    return (
        frame.with_columns(month=pl.col("day").dt.truncate("1mo"))
        .group_by(_GROUP)
        .agg(withdrawn=pl.col("n").sum())
    )


def add_withdrawn(queryset: QuerySet) -> int:
    """Count the withdrawals among `queryset` (records just withdrawn) into the metrics."""
    return _apply(_withdrawn_deltas(queryset))


# --------------------------------------------------------------------------- full rebuild


def _month_bounds(month: dt.date) -> tuple[dt.datetime, dt.datetime]:
    start = dt.datetime.combine(month_start(month), dt.time(), tzinfo=SHANGHAI)
    end = dt.datetime.combine(next_month(month_start(month)), dt.time(), tzinfo=SHANGHAI)
    return start, end


@transaction.atomic
def rebuild_metrics(month: dt.date | None = None) -> int:
    """Recompute the metrics from the records and their history (all months, or `month`), set
    based, replacing the kept rows: the same numbers the incremental path keeps. Returns the
    number of metric rows (of that month, or in all)."""
    records = Record.objects.all()
    versions = RecordVersion.objects.all()
    withdrawn = Record.objects.all()
    kept = DepartmentMonthMetric.objects.all()
    if month is not None:
        start, end = _month_bounds(month)
        records = records.filter(received_at__gte=start, received_at__lt=end)
        versions = versions.filter(received_at__gte=start, received_at__lt=end)
        withdrawn = withdrawn.filter(status_changed_at__gte=start, status_changed_at__lt=end)
        kept = kept.filter(month=month_start(month))
    kept.delete()
    frames = []
    for cat in Category.objects.values_list("pk", flat=True):
        frames.append(_groups(records.filter(category_id=cat), cat, history=False))
        frames.append(_groups(versions.filter(record__category_id=cat), cat, history=True))
    if frames:
        _apply(_to_deltas(pl.concat(frames)))
    _apply(_withdrawn_deltas(withdrawn))
    return kept.count()
