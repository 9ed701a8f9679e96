"""The bulk-write seam: many rows into one model's table, fast, on PostgreSQL and SQLite.

Every path that writes thousands of rows (the demo loader, intake of records) goes through
`bulk_copy` instead of saving model instances one by one:

- PostgreSQL: `COPY <table> (<columns>) FROM STDIN` through psycopg 3. A polars frame is
  serialised column-wise to CSV by polars (Rust, no Python per row) and streamed in chunks of
  `batch_size` rows; an iterable of tuples is streamed with `Copy.write_row`.
- SQLite (and any other backend): batched `executemany` INSERTs.

What the caller gets:
- Values are written exactly as given, after the conversion Django would apply (dates as ISO
  dates, aware datetimes, `bytes` for BinaryField such as `id_cipher`, JSON for JSONField,
  `None`/null as SQL NULL). Empty strings stay empty strings (never NULL).
- Fields the caller does not list are filled like `Model()` would fill them: `auto_now` and
  `auto_now_add` fields get the current time, fields with a `default` get it (evaluated once
  for the whole call, so a callable default on a unique field is refused), fields with only a
  `db_default` are left to the database. The auto primary key is left to the database unless
  listed (then see `reserve_ids`).
- No model `save()`, no signals, no per-row validation: the caller validates vectorised first.
  Database constraints (NOT NULL, UNIQUE, CHECK, foreign keys) still apply and raise
  `IntegrityError` as usual.
- All rows of one call are written or none: the call runs in `transaction.atomic` (a savepoint
  when the caller already holds a transaction, which bulk writers should).

`prepare_rows(model, columns, frame)` does the serialisation half of `bulk_copy` without a
database, so a loader can overlap it (in a worker thread) with the write of the previous batch.

`reserve_ids(model, n)` hands out a contiguous block of primary keys so that a loader can write
parent and child rows (subjects and their former names) without reading ids back.

`deferred_indexes(model)` (PostgreSQL) drops the table's plain secondary indexes for the length of
a large load and rebuilds them at the end, which is several times faster than maintaining them row
by row. Constraints (primary key, UNIQUE, CHECK, foreign keys) and unique indexes are never
dropped, so every row is still checked as it arrives.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import islice
from typing import Any

import polars as pl
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections, models, transaction
from django.utils import timezone

DEFAULT_BATCH_SIZE = 50_000
# SQLite limits the number of host parameters per statement (32766 on modern builds), but
# executemany binds one row at a time, so a batch is only a unit of memory, not of parameters.
SQLITE_BATCH_SIZE = 10_000

__all__ = [
    "DEFAULT_BATCH_SIZE",
    "PreparedRows",
    "bulk_copy",
    "deferred_indexes",
    "estimated_rows",
    "prepare_rows",
    "reserve_ids",
]


# --------------------------------------------------------------------------- columns


def _resolve_fields(model: type[models.Model], columns: Sequence[str]) -> list[models.Field]:
    """Model fields for `columns`, which may be field names or attnames ("subject"/"subject_id")."""
    by_name: dict[str, models.Field] = {}
    for field in model._meta.concrete_fields:
        by_name[field.name] = field
        by_name[field.attname] = field
    fields = []
    seen = set()
    for col in columns:
        field = by_name.get(col)
        if field is None:
            raise ValueError(f"{model._meta.label} has no concrete field {col!r}")
        if field.attname in seen:
            raise ValueError(f"column {col!r} listed twice")
        seen.add(field.attname)
        fields.append(field)
    return fields


def _implicit_fields(
    model: type[models.Model], listed: list[models.Field]
) -> list[tuple[models.Field, Any]]:
    """(field, constant value) for the concrete fields the caller left out, as `Model()` and
    `save()` would fill them. Fields with only a db_default and the auto pk are left out."""
    listed_names = {f.attname for f in listed}
    now = timezone.now() if settings.USE_TZ else dt.datetime.now()
    out = []
    for field in model._meta.concrete_fields:
        if field.attname in listed_names:
            continue
        if field.primary_key and isinstance(field, models.AutoField):
            continue
        if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            value = now.date() if type(field) is models.DateField else now
            out.append((field, value))
            continue
        if field.has_default():
            if callable(field.default) and field.unique:
                raise ValueError(
                    f"{model._meta.label}.{field.name} is unique with a callable default: "
                    "pass the column explicitly"
                )
            out.append((field, field.get_default()))
            continue
        if getattr(field, "has_db_default", lambda: False)():
            continue
        # Like Model(): "" for a non-null string field, None otherwise (NOT NULL will tell).
        out.append((field, field.get_default()))
    return out


# --------------------------------------------------------------------------- frames


def _frame_expr(field: models.Field, dtype: pl.DataType, name: str, vendor: str) -> pl.Expr:
    """A polars expression turning column `name` into what the backend's loader expects."""
    col = pl.col(name)
    kind = field.get_internal_type()
    if dtype == pl.Null:
        return col
    if kind == "BinaryField":
        if dtype != pl.Binary:
            raise TypeError(f"column {name!r} must be polars Binary for BinaryField, got {dtype}")
        # PostgreSQL's bytea input format in CSV; SQLite binds bytes directly.
        return pl.concat_str([pl.lit("\\x"), col.bin.encode("hex")]) if vendor == "pg" else col
    if kind == "JSONField":
        if dtype == pl.String:
            return col  # already JSON text
        if isinstance(dtype, pl.Struct):
            return col.struct.json_encode()
        return col.map_elements(
            lambda v: json.dumps(v, ensure_ascii=False, cls=field.encoder), return_dtype=pl.String
        )
    if isinstance(dtype, pl.Datetime):
        if dtype.time_zone is None and settings.USE_TZ:
            # Django reads naive datetimes in the current time zone; do the same.
            col = col.dt.replace_time_zone(settings.TIME_ZONE)
        if vendor == "pg":
            return col.dt.to_string("%Y-%m-%d %H:%M:%S%.6f%:z")
        if settings.USE_TZ:
            col = col.dt.convert_time_zone("UTC")
        return col.dt.to_string("%Y-%m-%d %H:%M:%S%.6f")
    if dtype == pl.Date:
        return col.dt.to_string("%Y-%m-%d")
    if dtype == pl.Boolean and vendor != "pg":
        return col.cast(pl.Int8)
    if kind == "DecimalField" and vendor != "pg":
        return col.cast(pl.String)
    return col


def _constant_expr(field: models.Field, value: Any, connection, name: str) -> pl.Expr:
    if value is None:
        return pl.lit(None, dtype=pl.String).alias(name)
    prepared = field.get_db_prep_save(value, connection)
    if isinstance(value, dt.datetime):
        if connection.vendor == "postgresql":
            return pl.lit(value.isoformat(sep=" ")).alias(name)
        return pl.lit(str(prepared)).alias(name)
    if isinstance(value, dt.date):
        return pl.lit(value.isoformat()).alias(name)
    if field.get_internal_type() == "JSONField":
        return pl.lit(json.dumps(value, ensure_ascii=False, cls=field.encoder)).alias(name)
    if isinstance(value, bool):
        return pl.lit(value if connection.vendor == "postgresql" else int(value)).alias(name)
    if isinstance(prepared, bytes | bytearray | memoryview):
        raise TypeError(f"a constant binary default for {field.name} is not supported")
    return pl.lit(prepared if isinstance(prepared, int | float | str) else str(prepared)).alias(
        name
    )


def _prepare_frame(
    frame: pl.DataFrame, fields: list[models.Field], columns: Sequence[str], implicit, connection
) -> pl.DataFrame:
    vendor = "pg" if connection.vendor == "postgresql" else connection.vendor
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"frame lacks columns {missing}")
    exprs = [
        _frame_expr(field, frame.schema[col], col, vendor).alias(field.column)
        for field, col in zip(fields, columns, strict=True)
    ]
    exprs += [_constant_expr(f, v, connection, f.column) for f, v in implicit]
    return frame.select(exprs)


# --------------------------------------------------------------------------- tuples


_CONVERTED_TYPES = frozenset(
    {
        "DateField",
        "DateTimeField",
        "TimeField",
        "JSONField",
        "BinaryField",
        "DecimalField",
        "UUIDField",
        "BooleanField",
        "DurationField",
    }
)


def _tuple_rows(
    rows: Iterable[Sequence], fields: list[models.Field], implicit, connection
) -> Iterator[tuple]:
    """Rows with Django's per-field database preparation applied where the type needs it."""
    converters = []
    for field in fields:
        target = field.target_field if field.is_relation else field
        if target.get_internal_type() in _CONVERTED_TYPES:
            prep = field.get_db_prep_save
            converters.append(lambda v, p=prep: None if v is None else p(v, connection))
        else:
            converters.append(None)
    extra = tuple(None if v is None else f.get_db_prep_save(v, connection) for f, v in implicit)
    width = len(fields)
    if all(c is None for c in converters):
        for row in rows:
            if len(row) != width:
                raise ValueError(f"row has {len(row)} values, expected {width}")
            yield tuple(row) + extra
        return
    for row in rows:
        if len(row) != width:
            raise ValueError(f"row has {len(row)} values, expected {width}")
        yield (
            tuple(v if c is None else c(v) for c, v in zip(converters, row, strict=True)) + extra
        )


# --------------------------------------------------------------------------- writers


def _copy_rows_pg(cursor, sql: str, rows: Iterator[tuple]) -> int:
    n = 0
    with cursor.copy(sql) as copy:
        for row in rows:
            copy.write_row(row)
            n += 1
    return n


def _insert_batches(cursor, sql: str, rows: Iterator[tuple], batch_size: int) -> int:
    n = 0
    while True:
        batch = list(islice(rows, batch_size))
        if not batch:
            return n
        cursor.executemany(sql, batch)
        n += len(batch)


@dataclass(frozen=True)
class PreparedRows:
    """A frame already serialised for one backend by `prepare_rows`: CSV chunks for PostgreSQL's
    COPY, batches of row tuples for executemany elsewhere. Building it touches no database, so
    a loader may build the next one in a worker thread while `bulk_copy` writes this one in
    the thread that holds the transaction."""

    model: type[models.Model]
    vendor: str
    column_sql: str
    chunks: tuple
    count: int


def _statement_parts(model, columns, connection):
    fields = _resolve_fields(model, columns)
    implicit = _implicit_fields(model, fields)
    all_fields = fields + [f for f, _ in implicit]
    qn = connection.ops.quote_name
    return fields, implicit, all_fields, ", ".join(qn(f.column) for f in all_fields)


def prepare_rows(
    model: type[models.Model],
    columns: list[str],
    frame: pl.DataFrame,
    *,
    batch_size: int | None = None,
    using: str = DEFAULT_DB_ALIAS,
) -> PreparedRows:
    """Serialise `frame` for `bulk_copy` (same conversions and defaults) without writing it.
    Implicit auto_now values are taken now, at preparation time."""
    connection = connections[using]
    fields, implicit, _all, column_sql = _statement_parts(model, columns, connection)
    prepared = _prepare_frame(frame, fields, columns, implicit, connection)
    chunks = []
    if connection.vendor == "postgresql":
        size = batch_size or DEFAULT_BATCH_SIZE
        for offset in range(0, prepared.height, size):
            # non_numeric: every string is quoted, so an unquoted empty field is NULL and a
            # quoted "" is the empty string; no value can be mistaken for the end marker.
            csv = prepared.slice(offset, size).write_csv(
                include_header=False, quote_style="non_numeric"
            )
            chunks.append(csv.encode("utf-8"))
    else:
        size = batch_size or SQLITE_BATCH_SIZE
        for offset in range(0, prepared.height, size):
            chunks.append(prepared.slice(offset, size).rows())
    return PreparedRows(model, connection.vendor, column_sql, tuple(chunks), prepared.height)


def bulk_copy(
    model: type[models.Model],
    columns: list[str],
    frame: pl.DataFrame | PreparedRows | Iterable[Sequence],
    *,
    batch_size: int | None = None,
    using: str = DEFAULT_DB_ALIAS,
) -> int:
    """Write rows into `model`'s table and return how many were written.

    `columns` are field names or attnames of `model`; `frame` is a polars DataFrame holding at
    least those columns (other columns are ignored), a `PreparedRows` made by `prepare_rows`
    with the same model and columns, or an iterable of tuples in `columns` order.
    See the module docstring for the guarantees. `batch_size` bounds the rows serialised at once
    (memory), not the transaction: the whole call is one atomic unit.
    """
    connection = connections[using]
    if isinstance(frame, pl.DataFrame):
        frame = prepare_rows(model, columns, frame, batch_size=batch_size, using=using)
    qn = connection.ops.quote_name
    table = qn(model._meta.db_table)
    if isinstance(frame, PreparedRows):
        if frame.model is not model or frame.vendor != connection.vendor:
            raise ValueError("PreparedRows were made for another model or database")
        column_sql = frame.column_sql
        n_columns = column_sql.count(",") + 1
    else:
        fields, implicit, all_fields, column_sql = _statement_parts(model, columns, connection)
        n_columns = len(all_fields)

    # wrap_database_errors: the raw cursor's errors surface as Django's (IntegrityError…).
    with (
        transaction.atomic(using=using),
        connection.cursor() as wrapper,
        connection.wrap_database_errors,
    ):
        raw = wrapper.cursor  # the DB-API cursor under Django's wrapper
        if connection.vendor == "postgresql":
            sql = f"COPY {table} ({column_sql}) FROM STDIN"
            if isinstance(frame, PreparedRows):
                if frame.count:
                    with raw.copy(sql + " WITH (FORMAT csv)") as copy:
                        for chunk in frame.chunks:
                            copy.write(chunk)
                return frame.count
            return _copy_rows_pg(raw, sql, _tuple_rows(frame, fields, implicit, connection))

        placeholders = ", ".join(["%s"] * n_columns)
        sql = f"INSERT INTO {table} ({column_sql}) VALUES ({placeholders})"
        if isinstance(frame, PreparedRows):
            for chunk in frame.chunks:
                wrapper.executemany(sql, chunk)
            return frame.count
        size = batch_size or SQLITE_BATCH_SIZE
        return _insert_batches(wrapper, sql, _tuple_rows(frame, fields, implicit, connection), size)


# --------------------------------------------------------------------------- ids


def reserve_ids(model: type[models.Model], count: int, *, using: str = DEFAULT_DB_ALIAS) -> range:
    """A contiguous block of `count` unused primary keys for `model`, valid until the caller's
    transaction ends. Must run inside `transaction.atomic`.

    PostgreSQL: the table is locked against concurrent writers (SHARE ROW EXCLUSIVE; readers are
    not blocked) until the transaction ends, and the identity sequence is moved past the block so
    later ORM inserts never collide with it. SQLite: the write transaction already excludes
    other writers, and the AUTOINCREMENT high-water mark (sqlite_sequence) is moved past the
    block in that transaction.
    """
    connection = connections[using]
    if not connection.in_atomic_block:
        raise RuntimeError("reserve_ids must run inside transaction.atomic")
    pk = model._meta.pk
    qn = connection.ops.quote_name
    table = model._meta.db_table
    if count <= 0:
        return range(0)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"LOCK TABLE {qn(table)} IN SHARE ROW EXCLUSIVE MODE")
            cursor.execute("SELECT pg_get_serial_sequence(%s, %s)", [qn(table), pk.column])
            sequence = cursor.fetchone()[0]
            cursor.execute(f"SELECT COALESCE(MAX({qn(pk.column)}), 0) FROM {qn(table)}")
            top = cursor.fetchone()[0]
            if sequence:
                cursor.execute(f"SELECT last_value, is_called FROM {sequence}")
                last_value, is_called = cursor.fetchone()
                top = max(top, last_value if is_called else last_value - 1)
                cursor.execute("SELECT setval(%s, %s, true)", [sequence, top + count])
            return range(top + 1, top + 1 + count)
        cursor.execute(f"SELECT COALESCE(MAX({qn(pk.column)}), 0) FROM {qn(table)}")
        top = cursor.fetchone()[0]
        if connection.vendor == "sqlite":
            # AUTOINCREMENT keeps its high-water mark in sqlite_sequence: move it past the
            # block, so the next reservation or ORM insert comes after it, as on PostgreSQL.
            cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table])
            row = cursor.fetchone()
            if row is not None:
                top = max(top, row[0] or 0)
                cursor.execute(
                    "UPDATE sqlite_sequence SET seq = %s WHERE name = %s", [top + count, table]
                )
            else:
                cursor.execute(
                    "INSERT INTO sqlite_sequence (name, seq) VALUES (%s, %s)", [table, top + count]
                )
        return range(top + 1, top + 1 + count)


# --------------------------------------------------------------------------- indexes


def estimated_rows(model: type[models.Model], *, using: str = DEFAULT_DB_ALIAS) -> int:
    """A cheap row count: PostgreSQL's planner estimate (never a full scan), COUNT(*) elsewhere."""
    connection = connections[using]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT GREATEST(reltuples, 0)::bigint FROM pg_class WHERE oid = %s::regclass",
                [connection.ops.quote_name(model._meta.db_table)],
            )
            row = cursor.fetchone()
            if row and row[0]:
                return int(row[0])
            # Never analysed (reltuples -1 or 0): a bounded probe tells empty from not empty.
        cursor.execute(
            f"SELECT COUNT(*) FROM (SELECT 1 FROM "
            f"{connection.ops.quote_name(model._meta.db_table)} LIMIT 1000000) AS t"
        )
        return int(cursor.fetchone()[0])


@contextmanager
def deferred_indexes(
    model: type[models.Model], *, using: str = DEFAULT_DB_ALIAS, maintenance_work_mem: str = "256MB"
):
    """Within the caller's transaction, drop `model`'s plain secondary indexes, run the block,
    then rebuild them from their saved definitions (identical names and definitions).

    PostgreSQL only (a no-op elsewhere). Never dropped: the primary key, indexes that back a
    constraint, and unique indexes, so uniqueness is still enforced during the load. DROP INDEX
    takes an ACCESS EXCLUSIVE lock held until commit: readers of the table wait for the load, so
    use this for setup-time loads whose size is comparable to the table, not for small appends.
    If the block raises, nothing is rebuilt: the transaction is rolled back, which restores the
    indexes. Yields the names of the dropped indexes.
    """
    connection = connections[using]
    if connection.vendor != "postgresql":
        yield []
        return
    if not connection.in_atomic_block:
        raise RuntimeError("deferred_indexes must run inside transaction.atomic")
    qn = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT i.relname, pg_get_indexdef(i.oid)
              FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
             WHERE x.indrelid = %s::regclass
               AND NOT x.indisprimary AND NOT x.indisunique AND NOT x.indisexclusion
               AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)
             ORDER BY i.relname
            """,
            [qn(model._meta.db_table)],
        )
        definitions = cursor.fetchall()
        for name, _ddl in definitions:
            cursor.execute(f"DROP INDEX {qn(name)}")
    yield [name for name, _ddl in definitions]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT set_config('maintenance_work_mem', %s, true)", [maintenance_work_mem]
        )
        for _name, ddl in definitions:
            cursor.execute(ddl)
