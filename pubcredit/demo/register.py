"""The demo register as the records generation sees it: each subject's id, kind, 机构类别 and
establishment date (`Register`), read from a generated frame or back from the database, and the
skewed draws of which subjects get records and on which days."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import polars as pl
from django.db import connection

from pubcredit.core import staging
from pubcredit.subjects import crypto
from pubcredit.subjects.models import Subject

_EPOCH = dt.date(1970, 1, 1)


def _days(day: dt.date) -> int:
    return (day - _EPOCH).days


# ----------------------------------------------------------------------------- the register


@dataclass(frozen=True)
class Register:
    """The demo subjects by position: `ids`, `kinds` (org/ind/person), `categories` (机构类别,
    "" for persons), and `details(positions)` → a frame with subject_id, kind, name, uscc,
    id_number (clear, persons only), legal_representative, region, established_on."""

    ids: np.ndarray
    kinds: np.ndarray
    categories: np.ndarray
    details: Callable[[np.ndarray], pl.DataFrame]


DETAIL_SCHEMA = {
    "subject_id": pl.Int64,
    "kind": pl.String,
    "name": pl.String,
    "uscc": pl.String,
    "id_number": pl.String,
    "legal_representative": pl.String,
    "region": pl.String,
    "established_on": pl.Date,
}


def register_from_frame(subjects: pl.DataFrame, first_id: int = 1) -> Register:
    """A Register over generated subjects (pubcredit.demo.generate frames), for tests and tools
    that do without a database."""
    frame = subjects.with_columns(
        pl.Series("subject_id", np.arange(first_id, first_id + len(subjects)))
    )

    def details(positions: np.ndarray) -> pl.DataFrame:
        return frame.select(pl.col(list(DETAIL_SCHEMA)).gather(np.asarray(positions)))

    return Register(
        ids=frame["subject_id"].to_numpy(),
        kinds=frame["kind"].to_numpy(),
        categories=frame["org_category"].fill_null("").to_numpy(),
        details=details,
    )


_DETAIL_COLUMNS = (
    "id",
    "kind",
    "name",
    "uscc",
    "id_cipher",
    "legal_representative",
    "region",
    "established_on",
)


def register_from_database(first_id: int, last_id: int) -> Register:
    """The Register of the subjects [first_id, last_id], read back from the subject register:
    (id, kind, 机构类别) of all of them, details only for the positions asked for; persons' ID
    numbers decrypted in memory only. PostgreSQL reads with COPY."""

    table = connection.ops.quote_name(Subject._meta.db_table)
    pg = connection.vendor == "postgresql"
    sql = f"SELECT id, kind, org_category FROM {table} WHERE id BETWEEN %s AND %s ORDER BY id"
    schema = {"id": pl.Int64, "kind": pl.String, "org_category": pl.String}
    with connection.cursor() as cursor:
        if pg:
            frame = staging.copy_frame(cursor, sql, [first_id, last_id], schema)
        else:
            cursor.execute(sql, [first_id, last_id])
            frame = pl.DataFrame(cursor.fetchall(), schema=schema, orient="row")
    frame = frame.with_columns(pl.col("org_category").fill_null(""))
    ids = frame["id"].to_numpy()

    def details(positions: np.ndarray) -> pl.DataFrame:
        wanted = ids[np.asarray(positions, dtype=np.int64)]
        unique = np.unique(wanted).tolist()
        if pg:
            cols = ", ".join(
                "encode(id_cipher, 'hex')" if c == "id_cipher" else connection.ops.quote_name(c)
                for c in _DETAIL_COLUMNS
            )
            raw_schema = dict(DETAIL_SCHEMA) | {"id_number": pl.String}
            with connection.cursor() as cursor:
                found = staging.copy_frame(
                    cursor,
                    f"SELECT {cols} FROM {table} WHERE id = ANY(%s)",
                    [unique],
                    raw_schema,
                )
            ciphers = found["id_number"].to_list()
            rows = None
        else:
            rows = []
            for start in range(0, len(unique), 5000):
                batch = unique[start : start + 5000]
                rows.extend(Subject.objects.filter(pk__in=batch).values_list(*_DETAIL_COLUMNS))
            found = pl.DataFrame(
                [(*r[:4], None, *r[5:]) for r in rows], schema=DETAIL_SCHEMA, orient="row"
            )
            ciphers = [r[4] for r in rows]
        # Only persons have a cipher: a few per hundred records.
        clear = [
            None
            if c is None
            else crypto.decrypt_id(bytes.fromhex(c) if isinstance(c, str) else bytes(c))
            for c in ciphers
        ]
        found = found.with_columns(pl.Series("id_number", clear, dtype=pl.String))
        return (
            pl.DataFrame({"subject_id": wanted})
            .join(found, on="subject_id", how="left", maintain_order="left")
            .select(list(DETAIL_SCHEMA))
        )

    return Register(ids, frame["kind"].to_numpy(), frame["org_category"].to_numpy(), details)


def _draw_subjects(
    rng: np.random.Generator,
    register: Register,
    count: int,
    weights: dict[str, float],
    alpha: float | None,
) -> np.ndarray:
    """`count` positions drawn with replacement, skewed: a Pareto(alpha) propensity per subject
    (None: all alike) times the weight of its 机构类别. Sorted, so that a subject's records are
    adjacent."""
    n = len(register.ids)
    if n == 0 or count == 0:
        return np.zeros(0, dtype=np.int64)
    propensity = rng.pareto(alpha, n) + 0.02 if alpha else np.ones(n)
    factor = (
        pl.Series(register.categories, dtype=pl.String)
        .replace_strict(weights, default=0.1, return_dtype=pl.Float64)
        .to_numpy()
    )
    w = propensity * factor
    return np.sort(rng.choice(n, size=count, p=w / w.sum()))


def _decision_days(
    rng: np.random.Generator, established: pl.Series, as_of: dt.date, years: float
) -> np.ndarray:
    """Decision dates within `years` before `as_of`, never within 30 days of establishment."""
    m = len(established)
    top = _days(as_of)
    days = top - (rng.random(m) * years * 365.25).astype(np.int64)
    late = rng.random(m)
    est = established.cast(pl.Int32).fill_null(-(10**6)).to_numpy().astype(np.int64) + 30
    est = np.minimum(est, top)
    moved = est + (late * (top - est)).astype(np.int64)
    return np.where(days < est, moved, days)
