"""Kept counts (tallies): narrow tables holding a count `n` per key, which the code paths that
change the counted state keep current by adding deltas, and a rebuild recomputes in full.

- `add(model, keys, deltas)`: add each row's `n` of the polars frame `deltas` (the key columns,
  named by their database column, and `n`) to the row of its key, inserting the missing ones,
  with one `INSERT … ON CONFLICT (keys) DO UPDATE SET n = n + excluded.n` per batch: set based,
  and exact when several writers add to the same key (the row lock orders them). Rows go in key
  order, so two writers lock shared rows in the same order and never deadlock. Zero deltas are
  skipped; a key whose count comes back to zero keeps its row at 0 (readers add counts up, so a
  zero row changes nothing; a rebuild leaves it out).
- `replace(model, rows)`: delete every row and write `rows` (a rebuild), after locking the table
  against concurrent `add`s on PostgreSQL (`lock`).

The model must have a unique constraint on exactly `keys` (what ON CONFLICT names) and an
integer field `n`. Works on PostgreSQL and SQLite (3.24 or later).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import polars as pl
from django.db import connection, models

BATCH_ROWS = 500


def _adapt(value):
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return connection.ops.adapt_datefield_value(value)
    return value


def add(model: type[models.Model], keys: Sequence[str], deltas: pl.DataFrame) -> int:
    """Add `deltas` (columns `keys` + "n") to `model`'s counts; rows of equal key are summed
    first. Returns the number of keys changed."""
    if deltas.height == 0:
        return 0
    keys = list(keys)
    summed = deltas.group_by(keys).agg(pl.col("n").sum()).filter(pl.col("n") != 0).sort(keys)
    if summed.height == 0:
        return 0
    qn = connection.ops.quote_name
    table = qn(model._meta.db_table)
    columns = ", ".join(qn(c) for c in [*keys, "n"])
    conflict = ", ".join(qn(c) for c in keys)
    row = "(" + ", ".join(["%s"] * (len(keys) + 1)) + ")"
    values = [tuple(_adapt(v) for v in r) for r in summed.select(*keys, "n").iter_rows()]
    with connection.cursor() as cursor:
        for offset in range(0, len(values), BATCH_ROWS):
            batch = values[offset : offset + BATCH_ROWS]
            cursor.execute(
                f"INSERT INTO {table} ({columns}) VALUES {', '.join([row] * len(batch))} "
                f"ON CONFLICT ({conflict}) DO UPDATE SET n = {table}.n + excluded.n",
                [v for r in batch for v in r],
            )
    return len(values)


def lock(*tables: type[models.Model]) -> None:
    """PostgreSQL: hold the tallies' tables against every `add` until the transaction ends (a
    rebuild: a writer that has added waits for nothing, the rebuild waits for its commit and
    then counts what it wrote; a writer that comes later adds its delta onto the rebuilt
    counts). SQLite serialises writers by itself."""
    if connection.vendor != "postgresql":
        return
    names = ", ".join(connection.ops.quote_name(m._meta.db_table) for m in tables)
    with connection.cursor() as cursor:
        cursor.execute(f"LOCK TABLE {names} IN EXCLUSIVE MODE")


def replace(model: type[models.Model], keys: Sequence[str], rows: pl.DataFrame) -> int:
    """Replace every row of `model` with `rows` (columns `keys` + "n", summed per key, zeros
    left out). Call `lock` first, inside the caller's transaction. Returns the rows written."""
    model.objects.all().delete()
    keys = list(keys)
    if rows.height == 0:
        return 0
    summed = rows.group_by(keys).agg(pl.col("n").sum()).filter(pl.col("n") != 0).sort(keys)
    fields = {f.column: f.attname for f in model._meta.concrete_fields}
    model.objects.bulk_create(
        [model(**{fields[k]: v for k, v in r.items()}) for r in summed.iter_rows(named=True)],
        batch_size=5000,
    )
    return summed.height
