"""Set-based SQL over polars frames: temp staging tables, COPY text, frames read back.

The loaders that classify and link many rows in SQL (records.writing, intake.linking) stage a
narrow frame in a TEMP table, join it to the real tables and read the answer back as a frame:

- `write_frame(cursor, table, columns, frame)`: PostgreSQL COPY of text lines built column-wise by
  polars (`copy_lines`); batched executemany on SQLite (dates as ISO text, booleans as 0/1);
- `copy_into(cursor, table, columns, lines)`: COPY of ready-made lines (a loader that prepared
  part of each line in a worker thread);
- `fetch_frame(cursor, sql, params, schema)`: a query's rows as a frame;
- `create_temp_table`, `clear_table`, `column_type`: the little DDL that differs per backend;
- `analyze(cursor, *tables)`: fresh planner statistics before a large join (PostgreSQL only).

Unlike `core.bulkload`, which writes model tables with Django's conversions, these write exactly
the text given: callers format timestamps and JSON themselves.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

import polars as pl
from django.db import connection

COPY_BATCH = 25_000
SQLITE_BATCH = 20_000

_PG_TYPES = {
    "text": "text",
    "int": "bigint",
    "bool": "boolean",
    "date": "date",
    "ts": "timestamptz",
    "bin": "bytea",
}
_SQLITE_TYPES = {
    "text": "TEXT",
    "int": "INTEGER",
    "bool": "INTEGER",
    "date": "TEXT",
    "ts": "TEXT",
    "bin": "BLOB",
}


def is_pg() -> bool:
    return connection.vendor == "postgresql"


def column_type(kind: str) -> str:
    """The backend's column type for `kind` (text, int, bool, date, ts, bin)."""
    return (_PG_TYPES if is_pg() else _SQLITE_TYPES)[kind]


def create_temp_table(cursor, table: str, columns: dict[str, str]) -> None:
    """(Re)create TEMP `table` with `columns` (name → kind, see column_type)."""
    ddl = ", ".join(f"{name} {column_type(kind)}" for name, kind in columns.items())
    cursor.execute(f"DROP TABLE IF EXISTS {table}")
    cursor.execute(f"CREATE TEMP TABLE {table} ({ddl})")


def drop_table(cursor, table: str) -> None:
    cursor.execute(f"DROP TABLE IF EXISTS {table}")


def clear_table(cursor, table: str) -> None:
    cursor.execute(f"{'TRUNCATE' if is_pg() else 'DELETE FROM'} {table}")


def analyze(cursor, *tables: str) -> None:
    """Refresh the planner's statistics of `tables` before a statement that joins many staged
    rows to them. PostgreSQL plans by the statistics of its last ANALYZE: a table analysed
    while nearly empty (a results table before its first full computation, a TEMP stage,
    which autovacuum never analyses) is taken for a few rows, and a join of a million staged
    rows to it becomes a nested loop that scans it once per row. A no-op on SQLite, which has
    no such statistics to go stale (its planner uses the indexes)."""
    if is_pg():
        for table in tables:
            cursor.execute(f"ANALYZE {table}")


def copy_text(expr: pl.Expr, dtype: pl.DataType) -> pl.Expr:
    """A column in COPY's text format: \\N for NULL, backslash escapes for the backslash and
    the three characters that would break a line or a field."""
    if dtype == pl.Date:
        value = expr.dt.to_string("%Y-%m-%d")
    elif dtype == pl.Binary:
        value = pl.concat_str([pl.lit("\\\\x"), expr.bin.encode("hex")])
    elif dtype == pl.Boolean or dtype.is_numeric():
        value = expr.cast(pl.String)
    else:
        value = (
            expr.cast(pl.String)
            .str.replace_all("\\", "\\\\", literal=True)
            .str.replace_all("\n", "\\n", literal=True)
            .str.replace_all("\r", "\\r", literal=True)
            .str.replace_all("\t", "\\t", literal=True)
        )
    return value.fill_null("\\N")


def copy_lines(frame: pl.DataFrame, columns: Sequence[str]) -> pl.Expr:
    """One COPY text line per row of `frame` (its `columns`, in order)."""
    return pl.concat_str([copy_text(pl.col(c), frame.schema[c]) for c in columns], separator="\t")


def copy_into(cursor, table: str, columns: Sequence[str], lines: pl.Series) -> int:
    """COPY ready-made text lines into `table`; returns the row count PostgreSQL reports."""
    raw = cursor.cursor
    with raw.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for offset in range(0, lines.len(), COPY_BATCH):
            block = lines.slice(offset, COPY_BATCH).str.join("\n").item()
            copy.write((block + "\n").encode())
    return raw.rowcount


def write_frame(cursor, table: str, columns: Sequence[str], frame: pl.DataFrame) -> int:
    """Bulk-write `frame` (its `columns`, in order) into `table`: COPY on PostgreSQL, batched
    executemany elsewhere. Returns the row count the database reported."""
    columns = list(columns)
    if frame.height == 0:
        return 0
    if is_pg():
        return copy_into(
            cursor, table, columns, frame.select(copy_lines(frame, columns)).to_series()
        )
    frame = frame.select(columns)
    frame = frame.with_columns(
        [pl.col(c).dt.to_string("%Y-%m-%d") for c in columns if frame.schema[c] == pl.Date]
        + [pl.col(c).cast(pl.Int8) for c in columns if frame.schema[c] == pl.Boolean]
    )
    placeholders = ", ".join(["%s"] * len(columns))
    sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({placeholders})"
    for offset in range(0, frame.height, SQLITE_BATCH):
        cursor.executemany(sql, frame.slice(offset, SQLITE_BATCH).rows())
    return frame.height


def fetch_frame(cursor, sql: str, params, schema: dict) -> pl.DataFrame:
    cursor.execute(sql, params)
    return pl.DataFrame(cursor.fetchall(), schema=schema, orient="row")


def copy_frame(cursor, sql: str, params, schema: dict) -> pl.DataFrame:
    """PostgreSQL: the rows of `sql` (a SELECT, or a write with RETURNING) as a polars frame of
    `schema` (column order as in the statement), streamed with COPY … TO STDOUT as CSV straight
    into polars: no Python object per value."""
    buffer = io.BytesIO()
    with cursor.cursor.copy(f"COPY ({sql}) TO STDOUT WITH (FORMAT csv)", params) as copy:
        for block in copy:
            buffer.write(block)
    if buffer.tell() == 0:
        return pl.DataFrame(schema=schema)
    buffer.seek(0)
    return pl.read_csv(buffer, has_header=False, new_columns=list(schema), schema=schema)
