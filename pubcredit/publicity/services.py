"""Publicity services: what is public today (queries), recomputing the read model from records +
rules + facts (`refresh_publicity`), the daily sweep (`sweep_publicity`) and the facts people add
(`set_tier`, `add_mark`, `lift_mark`). Refresh and sweep keep the counts of what is shown
(`tally.PublicityTally`) with their writes.

Queries (for the portal, the public API and credit checks) read only the narrow `Publicity` table
and the records it points to by primary key; they never derive anything at read time.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import itertools
import time
from collections.abc import Iterable
from dataclasses import dataclass, field

import polars as pl
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, models, transaction
from django.db.models import DateField, F, Q, QuerySet, Value
from django.db.models.functions import Coalesce
from django.db.models.lookups import GreaterThan
from django.utils import timezone
from django.utils.translation import gettext as _

from pubcredit.accounts.audit import record_event, snapshot
from pubcredit.accounts.permissions import Principal, restrict
from pubcredit.catalog.models import Category, Department
from pubcredit.core import citus, staging
from pubcredit.core.bulkload import bulk_copy, deferred_indexes, estimated_rows
from pubcredit.publicity import changes, rules, tally
from pubcredit.publicity.models import (
    PUBLIC_STATES,
    Publicity,
    PublicityEvent,
    PublicityMark,
    PublicityState,
    Tier,
    TierOverride,
)
from pubcredit.records.models import Record

# Stands for "no end" when comparing end dates.
OPEN_END = dt.date(9999, 12, 31)


def _today(today: dt.date | None) -> dt.date:
    return today or timezone.localdate()


# --------------------------------------------------------------------------- queries


def is_public_q(today: dt.date | None = None, *, prefix: str = "publicity__") -> Q:
    """A filter for "public on `today`" (default: today in Asia/Shanghai).

    The default prefix suits Record querysets (`Record.objects.filter(is_public_q())`); pass
    `prefix=""` for Publicity querysets. Public means: state 公示中 or 异议处理中 (shown with its
    flag), start <= today, and no end or today before the end. The state is what the last refresh
    or sweep decided; the date test keeps the answer right between two sweeps."""
    day = _today(today)
    p = prefix
    # "no end or end after today" as one expression, not an OR: an OR on `end` tempts
    # PostgreSQL into bitmap-ANDing indexes instead of walking the (…, start) index in order.
    end = Coalesce(F(f"{p}end"), Value(OPEN_END), output_field=DateField())
    return (
        Q(**{f"{p}state__in": PUBLIC_STATES})
        & Q(**{f"{p}start__lte": day})
        & Q(GreaterThan(end, day))
    )


def public_records(
    subject_id: int, category_code: str | None = None, today: dt.date | None = None
) -> QuerySet[Record]:
    """The subject's records public on `today`, optionally of one category (code, e.g. "CF"),
    newest decision first, with `publicity`, `category` and `department` joined in. Served by
    the index (subject, state) of the read model."""
    qs = (
        Record.objects.filter(is_public_q(today), publicity__subject_id=subject_id)
        .select_related("publicity", "category", "department")
        .order_by("-publicity__start", "-id")
    )
    if category_code:
        qs = qs.filter(**{f"publicity__{k}": v for k, v in _pk(category_code, Category).items()})
    return qs


def public_counts(subject_id: int, today: dt.date | None = None) -> dict[str, int]:
    """{category code: number of the subject's records public on `today`} (for the tabs of a
    subject page); categories with none are absent."""
    rows = (
        Publicity.objects.filter(is_public_q(today, prefix=""), subject_id=subject_id)
        .values_list("category__code")
        .order_by()
    )
    counts: dict[str, int] = {}
    for (code,) in rows:
        counts[code] = counts.get(code, 0) + 1
    return counts


def _pk(value, model) -> dict:
    """A Department/Category given as instance, id or code → {"<name>_id": id}. A code is
    resolved here (a small table) so that the planner sees a constant and walks the
    (…, start) index in order instead of joining first and sorting."""
    name = model._meta.model_name
    if value is None:
        return {}
    if hasattr(value, "pk"):
        return {f"{name}_id": value.pk}
    if isinstance(value, int):
        return {f"{name}_id": value}
    pk = model.objects.filter(code=str(value)).values_list("pk", flat=True).first()
    return {f"{name}_id": pk if pk is not None else -1}


def publicity_lists(
    department=None,
    category=None,
    since: dt.date | None = None,
    today: dt.date | None = None,
) -> QuerySet[Publicity]:
    """The 双公示 publicity lists: rows public on `today`, latest start first, optionally of one
    department and/or category (instance, id or code) and with start on or after `since`. Rows
    come with `record`, `category` and `department` joined in; slice the queryset to paginate
    (served by the partial indexes on start for state 公示中)."""
    qs = Publicity.objects.filter(is_public_q(today, prefix=""))
    qs = qs.filter(**_pk(department, Department), **_pk(category, Category))
    if since is not None:
        qs = qs.filter(start__gte=since)
    return qs.select_related("record", "category", "department").order_by("-start", "-record_id")


def publicity_of(record: Record | int) -> Publicity | None:
    """The publicity row of one record (None until the first refresh has seen it)."""
    pk = record.pk if hasattr(record, "pk") else record
    return Publicity.objects.filter(pk=pk).select_related("regime").first()


# --------------------------------------------------------------------------- refresh

# Records read, derived and written per round: bounds memory whatever the table size.
CHUNK_ROWS = 200_000
# All writers of the read model (refresh, sweep) serialise on this transaction-scoped lock on
# PostgreSQL, so a refresh never overwrites a newer one with a window computed from older data
# (SQLite serialises writers by itself).
_LOCK_KEY = 0x9C81_5E7A
STAGE_IDS = "publicity_stage_ids"
STAGE = "publicity_stage"

_PUBLICITY_COLUMNS = (
    "record_id",
    "subject_id",
    "category_id",
    "department_id",
    "tier",
    "tier_source",
    "rule",
    "sector",
    "regime_id",
    "start",
    "repair_from",
    "end",
    "state",
    "record_version",
)
_STAGE_TYPES = {
    "record_id": "int",
    "subject_id": "int",
    "category_id": "int",
    "department_id": "int",
    "regime_id": "int",
    "record_version": "int",
    "start": "date",
    "repair_from": "date",
    "end": "date",
    "pub_now": "int",
    "end_now": "int",
    "clear_end": "int",
}
_STAGE_COLUMNS = (*_PUBLICITY_COLUMNS, "pub_now", "end_now", "clear_end")
_EVENT_COLUMNS = (
    "record_id",
    "subject_id",
    "from_state",
    "to_state",
    "tier",
    "start",
    "end",
    "day",
    "at",
    "reason",
)


def _pg() -> bool:
    return connection.vendor == "postgresql"


def _q(name: str) -> str:
    return connection.ops.quote_name(name)


def _lock(cursor) -> None:
    if _pg():
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_LOCK_KEY])


def _sql_type(kind: str) -> str:
    pg = {"int": "bigint", "date": "date", "text": "text"}
    lite = {"int": "INTEGER", "date": "TEXT", "text": "TEXT"}
    return (pg if _pg() else lite)[kind]


def _create_temp(cursor, table: str, columns: dict[str, str]) -> None:
    cursor.execute(f"DROP TABLE IF EXISTS {table}")
    body = ", ".join(f"{_q(c)} {_sql_type(t)}" for c, t in columns.items())
    cursor.execute(f"CREATE TEMP TABLE {table} ({body})")


def _write_temp(cursor, table: str, frame: pl.DataFrame) -> None:
    """Bulk-write `frame` into a temp table with the same column names (COPY / executemany)."""
    if frame.height == 0:
        return
    frame = frame.with_columns(
        [pl.col(c).dt.to_string("%Y-%m-%d") for c in frame.columns if frame.schema[c] == pl.Date]
        + [pl.col(c).cast(pl.Int8) for c in frame.columns if frame.schema[c] == pl.Boolean]
    )
    cols = ", ".join(_q(c) for c in frame.columns)
    if _pg():
        raw = cursor.cursor
        with raw.copy(f"COPY {table} ({cols}) FROM STDIN WITH (FORMAT csv)") as copy:
            for offset in range(0, frame.height, 50_000):
                chunk = frame.slice(offset, 50_000)
                copy.write(chunk.write_csv(include_header=False, quote_style="non_numeric"))
        return
    marks = ", ".join(["%s"] * frame.width)
    sql = f"INSERT INTO {table} ({cols}) VALUES ({marks})"
    for offset in range(0, frame.height, 20_000):
        cursor.executemany(sql, frame.slice(offset, 20_000).rows())


def _read(cursor, sql: str, params: list, schema: dict) -> pl.DataFrame:
    """Run a SELECT and return its rows as a polars frame of `schema` (column order as in the
    SELECT). PostgreSQL streams it with COPY … TO STDOUT as CSV (no Python object per value)."""
    text_schema = {c: (pl.String if t == pl.Date else t) for c, t in schema.items()}
    if _pg():
        frame = staging.copy_frame(cursor, sql, params, text_schema)
    else:
        # SQLite: Django's connection converts columns declared date into date objects.
        cursor.execute(sql, params)
        return pl.DataFrame(cursor.fetchall(), schema=schema, orient="row")
    return frame.with_columns(
        pl.col(c).str.slice(0, 10).str.to_date("%Y-%m-%d")
        for c, t in schema.items()
        if t == pl.Date
    )


def _json_text(code: str) -> str:
    """SQL for the text of data[code] (a JSON list comes back as JSON text)."""
    if not rules.FIELD_CODE.match(code):
        raise ValueError(f"not a field code: {code!r}")
    if _pg():
        return f"r.data ->> '{code}'"
    return f"CAST(json_extract(r.data, '$.\"{code}\"') AS TEXT)"


def _record_select(codes: list[str]) -> tuple[str, dict]:
    schema = dict(rules.INPUT_SCHEMA)
    cols = [
        "r.id",
        "r.subject_id",
        "r.category_id",
        "r.department_id",
        "r.status",
        "r.version",
        "r.subject_kind",
        "r.decision_date",
        "r.valid_from",
        "r.valid_to",
    ]
    for code in codes:
        cols.append(_json_text(code))
        schema[rules.field_column(code)] = pl.String
    return ", ".join(cols), schema


_EXISTING_SCHEMA = {
    "record_id": pl.Int64,
    "subject_id": pl.Int64,
    "category_id": pl.Int64,
    "department_id": pl.Int64,
    "tier": pl.String,
    "tier_source": pl.String,
    "rule": pl.String,
    "sector": pl.String,
    "regime_id": pl.Int64,
    "start": pl.Date,
    "repair_from": pl.Date,
    "end": pl.Date,
    "state": pl.String,
    "record_version": pl.Int64,
    "has_published": pl.Int64,
    "has_ended": pl.Int64,
}


def _existing(cursor, where: str, params: list, join: str = "") -> pl.DataFrame:
    cols = ", ".join(f"p.{_q(c)}" for c in _PUBLICITY_COLUMNS)
    sql = (
        f"SELECT {cols}, CASE WHEN p.published_at IS NULL THEN 0 ELSE 1 END, "
        f"CASE WHEN p.ended_at IS NULL THEN 0 ELSE 1 END "
        f"FROM {Publicity._meta.db_table} p {join} WHERE {where}"
    )
    return _read(cursor, sql, params, _EXISTING_SCHEMA)


def _facts(cursor) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Current tier overrides (record_id, override_tier) and open marks (record_id, repaired,
    objection)."""
    overrides = pl.DataFrame(
        list(TierOverride.objects.filter(revoked_at__isnull=True).values_list("record_id", "tier")),
        schema={"record_id": pl.Int64, "override_tier": pl.String},
        orient="row",
    )
    marks = pl.DataFrame(
        list(PublicityMark.objects.filter(lifted_at__isnull=True).values_list("record_id", "kind")),
        schema={"record_id": pl.Int64, "kind": pl.String},
        orient="row",
    )
    marks = marks.group_by("record_id").agg(
        (pl.col("kind") == PublicityMark.Kind.REPAIRED).any().alias("repaired"),
        (pl.col("kind") == PublicityMark.Kind.OBJECTION).any().alias("objection"),
    )
    return overrides, marks


@dataclass
class RefreshResult:
    records: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    events: int = 0
    states: dict[str, int] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    seconds: float = 0.0

    def lap(self, name: str, since: float) -> float:
        now = time.perf_counter()
        self.timings[name] = round(self.timings.get(name, 0.0) + now - since, 3)
        return now

    def as_dict(self) -> dict:
        return {
            "records": self.records,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "events": self.events,
            "states": dict(sorted(self.states.items())),
            "timings": self.timings,
            "seconds": round(self.seconds, 3),
        }


def _apply(
    cursor,
    derived: pl.DataFrame,
    existing: pl.DataFrame,
    *,
    today: dt.date,
    now,
    reason: str,
    result: RefreshResult,
) -> None:
    """Write the rows of `derived` that differ from `existing`, and their events."""
    result.records += derived.height
    for state, n in derived.group_by("state").len().iter_rows():
        result.states[state] = result.states.get(state, 0) + n
    old = existing.rename({c: f"{c}_old" for c in existing.columns if c != "record_id"})
    rows = derived.join(old, on="record_id", how="left")
    is_new = pl.col("state_old").is_null()
    differs = pl.any_horizontal(
        [pl.col(c).ne_missing(pl.col(f"{c}_old")) for c in _PUBLICITY_COLUMNS if c != "record_id"]
    )
    shown = pl.any_horizontal(
        [pl.col(c).ne_missing(pl.col(f"{c}_old")) for c in ("state", "tier", "start", "end")]
    )
    public = pl.col("state").is_in(PUBLIC_STATES)
    ended = pl.col("state") == PublicityState.ENDED
    rows = rows.with_columns(
        is_new.alias("_new"),
        (is_new | differs).alias("_changed"),
        (is_new | shown).alias("_event"),
        (public & (pl.col("has_published_old").fill_null(0) == 0)).alias("pub_now"),
        (ended & (pl.col("has_ended_old").fill_null(0) == 0)).alias("end_now"),
        (~ended & (pl.col("has_ended_old").fill_null(0) == 1)).alias("clear_end"),
    )
    new = rows.filter(pl.col("_new"))
    changed = rows.filter(~pl.col("_new") & pl.col("_changed"))
    result.unchanged += rows.height - new.height - changed.height
    clock = time.perf_counter()
    tally.add_refreshed(rows.filter(pl.col("_changed")))
    result.lap("tally", clock)
    if new.height:
        frame = new.select(
            *_PUBLICITY_COLUMNS,
            pl.when(pl.col("pub_now")).then(pl.lit(now)).otherwise(None).alias("published_at"),
            pl.when(pl.col("end_now")).then(pl.lit(now)).otherwise(None).alias("ended_at"),
            pl.lit(now).alias("computed_at"),
        )
        result.created += bulk_copy(Publicity, list(frame.columns), frame)
    if changed.height:
        cursor.execute(f"DELETE FROM {STAGE}")
        _write_temp(cursor, STAGE, changed.select(_STAGE_COLUMNS))
        target = Publicity._meta.db_table
        # On Citus a row's subject is its distribution column: never SET, matched instead
        # (a record keeps its subject there: docs/scale.md).
        keys = ("record_id", "subject_id") if citus.is_citus() else ("record_id",)
        sets = ", ".join(f"{_q(c)} = s.{_q(c)}" for c in _PUBLICITY_COLUMNS if c not in keys)
        match = " AND ".join(f"{target}.{c} = s.{c}" for c in keys)
        ts = connection.ops.adapt_datetimefield_value(now)
        cursor.execute(
            f"""UPDATE {target} SET {sets},
                    published_at = CASE WHEN s.pub_now = 1 THEN %s ELSE {target}.published_at END,
                    ended_at = CASE WHEN s.end_now = 1 THEN %s
                                    WHEN s.clear_end = 1 THEN NULL
                                    ELSE {target}.ended_at END,
                    computed_at = %s
                FROM {STAGE} s WHERE {match}""",
            [ts, ts, ts],
        )
        result.updated += cursor.rowcount
    events = rows.filter(pl.col("_event")).select(
        "record_id",
        "subject_id",
        pl.col("state_old").fill_null("").alias("from_state"),
        pl.col("state").alias("to_state"),
        "tier",
        "start",
        "end",
        pl.lit(today, dtype=pl.Date).alias("day"),
        pl.lit(now).alias("at"),
        pl.lit(reason[:32]).alias("reason"),
    )
    if events.height:
        result.events += bulk_copy(PublicityEvent, list(_EVENT_COLUMNS), events)


def _chunks_all(cursor, select: str, schema: dict):
    """Every record in id order, CHUNK_ROWS at a time (keyset pagination on the primary key);
    yields (records, existing publicity rows of the same id range)."""
    last = 0
    while True:
        frame = _read(
            cursor,
            f"SELECT {select} FROM records_record r WHERE r.id > %s "
            f"ORDER BY r.id LIMIT {CHUNK_ROWS}",
            [last],
            schema,
        )
        if frame.height == 0:
            return
        ids = frame.get_column("record_id")
        lo, hi = int(ids.min()), int(ids.max())
        last = hi
        yield frame, _existing(cursor, "p.record_id BETWEEN %s AND %s", [lo, hi])
        if frame.height < CHUNK_ROWS:
            return


def _chunks_submission(cursor, select: str, schema: dict, submission_id: int):
    """PostgreSQL: the records whose current version came with the submission, selected in the
    database by the submission (its BRIN index), in id ranges of about CHUNK_ROWS records (the
    boundaries are the ids' percentiles, one query); yields (records, their existing publicity
    rows)."""
    sid = int(submission_id)
    mine = "r.submission_id = %s AND r.id >= %s AND r.id <= %s"
    cursor.execute(
        "SELECT COUNT(*), MIN(id), MAX(id) FROM records_record WHERE submission_id = %s", [sid]
    )
    count, lo, hi = cursor.fetchone()
    if not count:
        return
    parts = -(-count // CHUNK_ROWS)
    bounds = [lo]
    if parts > 1:
        cursor.execute(
            "SELECT percentile_disc(%s::float8[]) WITHIN GROUP (ORDER BY id) "
            "FROM records_record WHERE submission_id = %s",
            [[i / parts for i in range(1, parts)], sid],
        )
        bounds += [b + 1 for b in cursor.fetchone()[0]]
    bounds.append(hi + 1)
    for start, stop in itertools.pairwise(bounds):
        if stop <= start:
            continue
        params = [sid, start, stop - 1]
        frame = _read(cursor, f"SELECT {select} FROM records_record r WHERE {mine}", params, schema)
        join = "JOIN records_record r ON r.id = p.record_id"
        yield frame, _existing(cursor, mine, params, join=join)


def _chunks_ids(cursor, select: str, schema: dict, ids: list[int]):
    for offset in range(0, len(ids), CHUNK_ROWS):
        part = pl.Series("id", ids[offset : offset + CHUNK_ROWS], dtype=pl.Int64)
        cursor.execute(f"DELETE FROM {STAGE_IDS}")
        _write_temp(cursor, STAGE_IDS, part.to_frame())
        frame = _read(
            cursor,
            f"SELECT {select} FROM records_record r JOIN {STAGE_IDS} t ON t.id = r.id",
            [],
            schema,
        )
        existing = _existing(cursor, "1 = 1", [], join=f"JOIN {STAGE_IDS} t ON t.id = p.record_id")
        yield frame, existing


# A full refresh into an (almost) empty read model over at least this many records defers the
# read model's secondary indexes (PostgreSQL).
INITIAL_FILL_RECORDS = 100_000


def _initial_fill() -> bool:
    return (
        connection.vendor == "postgresql"
        and estimated_rows(Publicity) < 1000
        and estimated_rows(Record) >= INITIAL_FILL_RECORDS
    )


@transaction.atomic
def refresh_publicity(
    record_ids: Iterable[int] | None = None,
    *,
    today: dt.date | None = None,
    submission_id: int | None = None,
    reason: str = "refresh",
) -> dict:
    """Recompute the Publicity rows of records from the records, the rules and the facts
    (tier overrides, marks), judged on `today` (default: today in Asia/Shanghai).

    Which records: `record_ids`; else the records whose current version came with
    `submission_id` (what intake just wrote); else all records.

    Guarantees: set-based (records are read, derived in polars and written in rounds of
    CHUNK_ROWS; no ORM save per row); only rows whose derived values differ are written, so a
    second run with the same inputs writes nothing; every new row and every change of state,
    tier or window writes one PublicityEvent (reason `reason`); `published_at` is set when a row
    first becomes public, `ended_at` when it becomes 公示期满; the counts of what is shown
    (`tally.PublicityTally`) follow the changed rows; one transaction, serialised with the
    other writers of the read model. Returns counts (records, created, updated, unchanged,
    events, states)."""
    started = time.perf_counter()
    day = _today(today)
    now = timezone.now()
    result = RefreshResult()
    rs = rules.RuleSet.load()
    select, schema = _record_select(rs.extract_codes())
    with connection.cursor() as cursor:
        _lock(cursor)
        _create_temp(cursor, STAGE_IDS, {"id": "int"})
        _create_temp(cursor, STAGE, {c: _STAGE_TYPES.get(c, "text") for c in _STAGE_COLUMNS})
        overrides, marks = _facts(cursor)
        if record_ids is None and submission_id is not None and _pg():
            # By the submission's index, in the database: no list of ids through Python.
            chunks = _chunks_submission(cursor, select, schema, submission_id)
        elif record_ids is None and submission_id is not None:
            # By the submission's index, not a scan of the records in id order.
            record_ids = Record.objects.filter(submission_id=submission_id).values_list(
                "pk", flat=True
            )
        if record_ids is not None:
            ids = sorted({int(i) for i in record_ids})
            chunks = _chunks_ids(cursor, select, schema, ids)
        elif submission_id is None:
            chunks = _chunks_all(cursor, select, schema)
        stack = contextlib.ExitStack()
        if record_ids is None and submission_id is None and _initial_fill():
            # The first fill of a large read model: build the secondary indexes once at the
            # end instead of row by row (the table is empty, so its lock keeps nobody waiting).
            stack.enter_context(deferred_indexes(Publicity))
            stack.enter_context(deferred_indexes(PublicityEvent))
        clock = time.perf_counter()
        with stack:
            for frame, existing in chunks:
                clock = result.lap("read", clock)
                if frame.height == 0:
                    continue
                derived = rules.derive(frame, rs, day, overrides=overrides, marks=marks)
                clock = result.lap("derive", clock)
                _apply(cursor, derived, existing, today=day, now=now, reason=reason, result=result)
                clock = result.lap("write", clock)
        result.lap("indexes", clock)
        cursor.execute(f"DROP TABLE IF EXISTS {STAGE}")
        cursor.execute(f"DROP TABLE IF EXISTS {STAGE_IDS}")
    result.seconds = time.perf_counter() - started
    return result.as_dict()


# --------------------------------------------------------------------------- sweep


@transaction.atomic
def sweep_publicity(today: dt.date | None = None, *, principal: Principal | None = None) -> dict:
    """The daily sweep, judged on `today` (default: today in Asia/Shanghai): publicity whose end
    date has come (end <= today) becomes 公示期满 with `ended_at` and a PublicityEvent; records
    waiting for their start (待公示) whose start has come are recomputed.

    Guarantees: set-based SQL; idempotent (a second run on the same day finds nothing to do and
    changes no publicity row); the rows it ends leave the counts of what is shown
    (`tally.PublicityTally`); one transaction, serialised with refresh; one audit event
    "publicity.sweep" with the counts (also when they are zero: it shows the sweep ran)."""
    day = _today(today)
    now = timezone.now()
    principal = principal or Principal.system("publicity sweep")
    table = Publicity._meta.db_table
    events = PublicityEvent._meta.db_table
    running = ", ".join(f"'{s}'" for s in PUBLIC_STATES)
    due = f"state IN ({running}) AND {_q('end')} IS NOT NULL AND {_q('end')} <= %s"
    ts = connection.ops.adapt_datetimefield_value(now)
    d = connection.ops.adapt_datefield_value(day)
    with connection.cursor() as cursor:
        _lock(cursor)
        tally.subtract_ending(day)  # the rows `due` selects, before they end
        cols = ", ".join(_q(c) for c in _EVENT_COLUMNS)
        cursor.execute(
            f"""INSERT INTO {events} ({cols})
                SELECT record_id, subject_id, state, %s, tier, start, {_q("end")}, %s, %s, %s
                FROM {table} WHERE {due}""",
            [PublicityState.ENDED.value, d, ts, "sweep", d],
        )
        cursor.execute(
            f"UPDATE {table} SET state = %s, ended_at = %s, computed_at = %s WHERE {due}",
            [PublicityState.ENDED.value, ts, ts, d],
        )
        ended = cursor.rowcount
    pending = list(
        Publicity.objects.filter(state=PublicityState.PENDING, start__lte=day).values_list(
            "record_id", flat=True
        )
    )
    started = refresh_publicity(pending, today=day, reason="sweep") if pending else None
    counts = {
        "today": day.isoformat(),
        "ended": ended,
        "started": (started or {}).get("updated", 0),
    }
    record_event(
        principal,
        "publicity.sweep",
        object_type="publicity.sweep",
        object_id=day.isoformat(),
        object_repr=_("公示期满清理 %(d)s") % {"d": day.isoformat()},
        after=counts,
    )
    return counts


# --------------------------------------------------------------------------- facts


def _locked_record(principal: Principal, record: Record | int) -> Record:
    """The record, row-locked, if the principal's "records.submit" scope covers it."""
    principal.require("records.submit")
    pk = record.pk if hasattr(record, "pk") else record
    scoped = restrict(Record.objects.all(), principal, "records.submit").filter(pk=pk)
    if citus.is_citus():  # Citus locks a row only by its distribution column (docs/scale.md)
        subject_id = getattr(record, "subject_id", None)
        if subject_id is None:
            subject_id = Record.objects.filter(pk=pk).values_list("subject_id", flat=True).first()
        scoped = scoped.filter(subject_id=subject_id)
    locked = scoped.select_for_update().first()
    if locked is None:
        raise PermissionDenied(_("无权处理其他部门报送的记录。"))
    return locked


def _publicity_snapshot(record_id: int) -> dict | None:
    row = Publicity.objects.filter(pk=record_id).first()
    return snapshot(row) if row else None


@transaction.atomic
def set_tier(
    principal: Principal, record: Record | int, tier: str | None, reason: str
) -> Publicity:
    """The department sets the tier (轻微/一般/严重) of a penalty record explicitly, overriding the
    tier rules; `tier=None` withdraws the department's setting (the rules apply again).

    Guarantees: only a principal with "records.submit" whose scope covers the record (a
    部门报送员 for its own department's records); only penalty records (categories with 处罚类别);
    a reason is required; the previous setting is kept as history (revoked, not deleted); one
    audit event "publicity.set_tier" with the publicity before and after; the record's
    publicity is recomputed in the same transaction. Returns the new Publicity row."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": [_("认定严重程度必须填写理由。")]})
    if tier is not None and tier not in Tier.values:
        raise ValidationError({"tier": [_("严重程度只能是轻微、一般或严重。")]})
    locked = _locked_record(principal, record)
    rs = rules.RuleSet.load()
    category = rs.categories.get(locked.category_id)
    if category is None or category.mode != rules.MODE_PENALTY:
        raise ValidationError({"tier": [_("只有行政处罚信息可以认定严重程度。")]})
    before = _publicity_snapshot(locked.pk)
    current = (
        TierOverride.objects.select_for_update()
        .filter(record=locked, revoked_at__isnull=True)
        .first()
    )
    if current is None and tier is None:
        raise ValidationError({"tier": [_("该记录没有部门认定的严重程度,无需撤销。")]})
    if current is not None and current.tier == tier:
        raise ValidationError(
            {"tier": [_("该记录的严重程度已认定为“%(t)s”。") % {"t": Tier(tier).label}]}
        )
    now = timezone.now()
    if current is not None:
        current.revoked_at = now
        current.save(update_fields=["revoked_at"])
    if tier is not None:
        TierOverride.objects.create(
            record=locked,
            tier=tier,
            reason=reason[:512],
            set_by=principal.user,
            set_by_label=principal.label[:150],
            department_id=principal.department_id,
            created_at=now,
        )
    refresh_publicity([locked.pk], reason="set_tier")
    after = _publicity_snapshot(locked.pk)
    record_event(
        principal,
        "publicity.set_tier",
        locked,
        before={"override": current.tier if current else None, "publicity": before},
        after={"override": tier, "publicity": after},
        reason=reason,
    )
    return Publicity.objects.get(pk=locked.pk)


@transaction.atomic
def add_mark(
    principal: Principal,
    record: Record | int,
    kind: str,
    reason: str,
    *,
    source: models.Model | None = None,
) -> PublicityMark:
    """Hook for the repair and objection workflows: a granted repair (kind "repaired": publicity
    stops, state 已信用修复) or an objection under verification (kind "objection": shown with the
    flag 异议处理中). `source` is the workflow's object (provenance).

    Guarantees: "records.submit" on the record's scope (the workflows may call it with the
    system principal); at most one open mark per kind; one audit event "publicity.add_mark";
    the record's publicity is recomputed in the same transaction, then the marks-changed hook
    runs (publicity.changes: the subject's credit grades)."""
    if kind not in PublicityMark.Kind.values:
        raise ValidationError({"kind": [_("标记类型无效。")]})
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": [_("必须填写原因。")]})
    locked = _locked_record(principal, record)
    if PublicityMark.objects.filter(record=locked, kind=kind, lifted_at__isnull=True).exists():
        raise ValidationError({"kind": [_("该记录已有未解除的同类标记。")]})
    mark = PublicityMark.objects.create(
        record=locked,
        kind=kind,
        reason=reason[:512],
        source_type=source._meta.label_lower if source is not None else "",
        source_id=str(source.pk) if source is not None else "",
        created_by_label=principal.label[:150],
        created_at=timezone.now(),
    )
    refresh_publicity([locked.pk], reason=f"mark_{kind}")
    record_event(principal, "publicity.add_mark", mark, after=snapshot(mark), reason=reason)
    changes.marks_changed([locked.pk])
    return mark


@transaction.atomic
def lift_mark(principal: Principal, mark: PublicityMark, reason: str) -> PublicityMark:
    """Lift an open mark (an objection settled, a repair revoked): the record's publicity is
    recomputed. Same guarantees as `add_mark`; audit event "publicity.lift_mark"."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": [_("必须填写原因。")]})
    _locked_record(principal, mark.record_id)
    locked = PublicityMark.objects.select_for_update().get(pk=mark.pk)
    if locked.lifted_at is not None:
        raise ValidationError({"mark": [_("该标记已解除。")]})
    before = snapshot(locked)
    locked.lifted_at = timezone.now()
    locked.lifted_reason = reason[:512]
    locked.save(update_fields=["lifted_at", "lifted_reason"])
    refresh_publicity([locked.record_id], reason=f"lift_{locked.kind}")
    record_event(
        principal,
        "publicity.lift_mark",
        locked,
        before=before,
        after=snapshot(locked),
        reason=reason,
    )
    changes.marks_changed([locked.record_id])
    return locked
