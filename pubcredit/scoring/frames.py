"""The little SQL plumbing of the engine: a query's rows as a polars frame, the subjects a
computation is limited to, and month arithmetic for windows.

`read_frame` streams a SELECT with COPY … TO STDOUT (CSV) on PostgreSQL, so a million rows become
a frame without a Python object per value; elsewhere it fetches the rows.

`SubjectFilter` is how every fact query is narrowed to the subjects of an incremental
computation: nothing (a full computation), an IN list (a few subjects), or a TEMP table of ids
(many), always as a SQL fragment on the query's subject column.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Sequence

import polars as pl
from django.db import connection

from pubcredit.core.staging import create_temp_table, drop_table, write_frame

IDS_TABLE = "scoring_subject_ids"
# Up to this many subjects the queries carry an IN list; beyond, a TEMP table of ids.
IN_LIST_MAX = 500
# The CSV text of a large query is parsed into frames of about this many bytes at a time.
CSV_CHUNK = 32 * 2**20


def is_pg() -> bool:
    return connection.vendor == "postgresql"


def polars_engine(small: bool) -> str:
    """The polars engine to collect a plan with: in memory for the few rows of a few subjects
    (the streaming engine's set-up costs more than their work: a third of a single-subject
    recomputation), polars' own choice for the frames of many."""
    return "in-memory" if small else "auto"


def read_frame(
    cursor, sql: str, params: Sequence, schema: dict, *, small: bool = False
) -> pl.DataFrame:
    """The rows of a SELECT as a frame of `schema` (the SELECT's columns, in order). `small`:
    a few rows expected (an incremental computation), fetched without COPY's set-up."""
    if is_pg() and not small:
        text_schema = {c: (pl.String if t == pl.Date else t) for c, t in schema.items()}
        parts: list[pl.DataFrame] = []
        buf = bytearray()

        def parse() -> None:
            parts.append(
                pl.read_csv(
                    io.BytesIO(buf), has_header=False, new_columns=list(schema), schema=text_schema
                )
            )
            buf.clear()

        with cursor.cursor.copy(f"COPY ({sql}) TO STDOUT WITH (FORMAT csv)", params) as copy:
            for block in copy:  # a block is a row: the CSV text is parsed a chunk at a time
                buf += block
                if len(buf) >= CSV_CHUNK:
                    parse()
        if buf:
            parse()
        if not parts:
            return pl.DataFrame(schema=schema)
        frame = pl.concat(parts, how="vertical", rechunk=False)
        return frame.with_columns(
            pl.col(c).str.slice(0, 10).str.to_date("%Y-%m-%d")
            for c, t in schema.items()
            if t == pl.Date
        )
    cursor.execute(sql, list(params))
    rows = cursor.fetchall()
    dates = [c for c, t in schema.items() if t == pl.Date]
    if not dates or is_pg():  # psycopg returns date objects
        return pl.DataFrame(rows, schema=schema, orient="row")
    # SQLite returns dates of expressions (COALESCE) as ISO text.
    loose = {c: (pl.String if t == pl.Date else t) for c, t in schema.items()}
    frame = pl.DataFrame(
        [tuple(v.isoformat() if isinstance(v, dt.date) else v for v in r) for r in rows],
        schema=loose,
        orient="row",
    )
    return frame.with_columns(pl.col(c).str.slice(0, 10).str.to_date("%Y-%m-%d") for c in dates)


class SubjectFilter:
    """Narrows fact queries to some subjects (None: all). Use as a context manager: a TEMP
    table, when one is needed, is dropped at the end."""

    def __init__(self, cursor, subject_ids: Sequence[int] | None):
        self.cursor = cursor
        self.ids = None if subject_ids is None else sorted({int(i) for i in subject_ids})
        self.staged = self.ids is not None and len(self.ids) > IN_LIST_MAX

    def __enter__(self) -> SubjectFilter:
        if self.staged:
            create_temp_table(self.cursor, IDS_TABLE, {"id": "int"})
            write_frame(
                self.cursor,
                IDS_TABLE,
                ["id"],
                pl.DataFrame({"id": self.ids}, schema={"id": pl.Int64}),
            )
            if is_pg():
                self.cursor.execute(f"ANALYZE {IDS_TABLE}")  # the planner: how many ids
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        # After an error the transaction rolls back, taking the TEMP table with it (and a
        # PostgreSQL transaction in error accepts no DROP).
        if self.staged and exc_type is None:
            drop_table(self.cursor, IDS_TABLE)

    @property
    def everyone(self) -> bool:
        return self.ids is None

    @property
    def small(self) -> bool:
        """A few subjects: their facts are few rows, fetched directly (read_frame)."""
        return self.ids is not None and not self.staged

    def sql(self, column: str) -> tuple[str, list]:
        """(" AND <column> IN (…)", params), or ("", []) for everyone."""
        if self.ids is None:
            return "", []
        if not self.ids:
            return " AND 1 = 0", []
        if self.staged:
            return f" AND {column} IN (SELECT id FROM {IDS_TABLE})", []
        return f" AND {column} IN ({', '.join(['%s'] * len(self.ids))})", list(self.ids)


def months_before(day: dt.date, months: int) -> dt.date:
    """`day` minus a number of calendar months, clamped to the month's last day (31 March − 1
    month = 28/29 February)."""
    total = day.year * 12 + day.month - 1 - months
    year, month = divmod(total, 12)
    month += 1
    last = (dt.date(year + (month == 12), month % 12 + 1, 1) - dt.timedelta(days=1)).day
    return dt.date(year, month, min(day.day, last))


def json_text(alias: str, code: str) -> str:
    """SQL for the text of <alias>.data[code] (a JSON list comes back as JSON text)."""
    if not code.replace("_", "").replace("-", "").isalnum() or not code.isascii():
        raise ValueError(f"not a field code: {code!r}")
    if is_pg():
        return f"{alias}.data ->> '{code}'"
    return f"CAST(json_extract({alias}.data, '$.\"{code}\"') AS TEXT)"
