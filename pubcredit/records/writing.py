"""The one writer of records in bulk: classify rows against the current records, insert new
records, supersede changed ones (their replaced versions archived in RecordVersion), and after
the write run the records-changed flow (records.changes) in the same transaction.

Two callers, one write:
- intake's loader (intake.loading) writes a submission's accepted rows through a
  `RecordsWriter`, round after round (chunks of rows), into one key space (category,
  department), and ends with `finish()`;
- the demo city (demo.records) writes its generated records with `insert_records`.
Both write new records with `write_new_records`: COPY on PostgreSQL, batched INSERTs on SQLite,
the rows' text exactly as given (the JSON, keys and hashes intake's row preparation made).

What a `RecordsWriter` guarantees:
1. `begin()`: the key space is locked (a transaction-scoped advisory lock per (category,
   department) on PostgreSQL; SQLite serialises writers by itself), so two loads into the same
   key space run one after the other, the classification is exact and the history copy always
   sees the version it supersedes; the unique constraint on (department, category,
   business_key) makes a duplicate record impossible in any case;
2. `stage(rows)` + `classify()`: per staged row (its business key, content hash and subject
   identifiers), the current record of its key if any — same content (unchanged: nothing is
   written) or changed — and, for rows that will be written, the subject of its USCC or of the
   blind index of its document number (the register sits below records), in one join;
3. `insert(rows)`: new keys are written straight into the records table (COPY);
   `supersede(rows)`: for changed keys the current versions are copied into RecordVersion and the
   new content is written by `INSERT … SELECT … ON CONFLICT (category, department,
   business_key) DO UPDATE … WHERE content_hash differs`, which bumps `version`. Both check the
   database's row counts against the classification: a disagreement (a concurrent change, a bug
   upstream) raises `WriteError` and the transaction rolls back rather than report a wrong figure;
4. `finish()`: the staging tables are dropped and the records flow runs on what the submission
   brought (`RecordsChanged.loaded`).
"""

from __future__ import annotations

from typing import Any

import polars as pl
from django.db import connection, transaction
from django.utils.translation import gettext as _

from pubcredit.core import citus, staging
from pubcredit.records.changes import Change, RecordsChanged, records_changed
from pubcredit.records.models import RecordStatus

_ADVISORY_NAMESPACE = 0x1C7A  # the records' key spaces for pg_advisory_xact_lock
# work_mem of a load's transaction (PostgreSQL; see RecordsWriter.begin, docs/postgresql.md).
LOAD_WORK_MEM = "256MB"

STAGE = "records_stage"
STAGE_UPDATE = "records_stage_update"
STAGE_COLUMNS = {
    "pos": "int",
    "business_key": "text",
    "content_hash": "text",
    "uscc": "text",
    "id_index": "text",
}
# The records' own columns, in the order rows are written (COPY and the update staging table).
RECORD_COLUMNS = (
    "subject_id",
    "subject_link",
    "category_id",
    "department_id",
    "business_key",
    "subject_name",
    "subject_kind",
    "version",
    "content_hash",
    "data",
    "original",
    "sealed",
    "decision_date",
    "valid_from",
    "valid_to",
    "late",
    "status",
    "status_reason",
    "submission_id",
    "source_row",
    "received_at",
    "created_at",
    "updated_at",
)
_RECORD_TYPES = {
    "category_id": "int",
    "department_id": "int",
    "subject_id": "int",
    "version": "int",
    "submission_id": "int",
    "source_row": "int",
    "decision_date": "date",
    "valid_from": "date",
    "valid_to": "date",
    "late": "bool",
    "received_at": "ts",
    "created_at": "ts",
    "updated_at": "ts",
}
# What `classify` answers per staged row.
CLASSIFY_SCHEMA = {
    "pos": pl.Int64,
    "subject_id": pl.Int64,
    "record_id": pl.Int64,
    "same": pl.Int64,
    "old_subject_id": pl.Int64,
    "old_subject_name": pl.String,
    "old_link": pl.String,
}


class WriteError(Exception):
    """The rows cannot be written as they are (a bug upstream or a concurrent change, not a
    clerk's mistake); the transaction rolls back and nothing of the write remains."""


# --------------------------------------------------------------------------- record rows


def timestamp_text(value) -> str:
    """An aware datetime as the backend stores it, for the records' timestamp columns."""
    if staging.is_pg():
        return value.isoformat(sep=" ")
    return str(connection.ops.adapt_datetimefield_value(value))


def record_constants(
    *, category_id: int, department_id: int, submission_id: int, received_at, now
) -> dict[str, object]:
    """The values every record of one load shares, in the form the backend stores."""
    return {
        "category_id": category_id,
        "department_id": department_id,
        "submission_id": submission_id,
        "received_at": timestamp_text(received_at),
        "stamp": timestamp_text(now),
    }


def record_columns(rows: pl.DataFrame, constants: dict) -> pl.DataFrame:
    """RECORD_COLUMNS of a version-1 record for each row (the columns intake's row preparation
    makes, with the subject once linked). `department_id` and `submission_id` in `constants` are
    ids, or polars expressions where rows of several departments are written at once (the demo)."""

    def per_row(value) -> pl.Expr:
        return value if isinstance(value, pl.Expr) else pl.lit(value, dtype=pl.Int64)

    subject = pl.col("subject_id") if "subject_id" in rows.columns else pl.lit(None, dtype=pl.Int64)
    link = pl.col("subject_link") if "subject_link" in rows.columns else pl.lit(None, pl.String)
    return rows.select(
        subject.alias("subject_id"),
        link.alias("subject_link"),
        pl.lit(constants["category_id"], dtype=pl.Int64).alias("category_id"),
        per_row(constants["department_id"]).alias("department_id"),
        pl.col("business_key"),
        pl.col("subject_name"),
        pl.col("subject_kind"),
        pl.lit(1, dtype=pl.Int64).alias("version"),
        pl.col("content_hash"),
        pl.col("data"),
        pl.col("original"),
        pl.col("sealed"),
        pl.col("decision_date"),
        pl.col("valid_from"),
        pl.col("valid_to"),
        pl.col("late"),
        pl.lit(RecordStatus.ACTIVE.value).alias("status"),
        pl.lit("").alias("status_reason"),
        per_row(constants["submission_id"]).alias("submission_id"),
        pl.col("source_row"),
        pl.lit(constants["received_at"]).alias("received_at"),
        pl.lit(constants["stamp"]).alias("created_at"),
        pl.lit(constants["stamp"]).alias("updated_at"),
    )


def record_tails(rows: pl.DataFrame, constants: dict) -> pl.Series:
    """PostgreSQL: each row's COPY text after its subject columns, made ahead (in intake's
    preparation thread) so that the write only prepends the subject once it is known."""
    tail = record_columns(rows, constants).drop("subject_id", "subject_link")
    return tail.select(staging.copy_lines(tail, tail.columns)).to_series().alias("_tail")


def write_new_records(cursor, table: str, rows: pl.DataFrame, constants: dict | None) -> int:
    """Write version-1 record rows into `table` (the records table, or the update staging
    table): with `constants`, the rows are what intake's preparation made plus their subject;
    without, they carry every RECORD_COLUMNS value already (and an `id` column when the caller
    reserved the ids). Returns the row count the database reported."""
    if rows.height == 0:
        return 0
    if constants is not None and staging.is_pg() and "_tail" in rows.columns:
        head = pl.concat_str(
            [
                staging.copy_text(pl.col("subject_id"), pl.Int64),
                staging.copy_text(pl.col("subject_link"), pl.String),
                pl.col("_tail"),
            ],
            separator="\t",
        )
        return staging.copy_into(cursor, table, RECORD_COLUMNS, rows.select(head).to_series())
    if constants is not None:
        return staging.write_frame(cursor, table, RECORD_COLUMNS, record_columns(rows, constants))
    columns = ("id", *RECORD_COLUMNS) if "id" in rows.columns else RECORD_COLUMNS
    return staging.write_frame(cursor, table, columns, rows)


# --------------------------------------------------------------------------- bulk insert


def insert_records(
    rows: pl.DataFrame, *, today=None, reason: str = "loaded"
) -> tuple[int, dict[str, Any]]:
    """Write new records in bulk (`rows`: every RECORD_COLUMNS value as the backend stores it,
    timestamps from `timestamp_text`, and the `id`s the caller reserved with
    core.bulkload.reserve_ids), then run the records flow on them, judged on `today`, in the
    same transaction. Returns (records written, the flow's results by step)."""
    if "id" not in rows.columns:
        raise ValueError("insert_records needs the reserved ids in an `id` column")
    with transaction.atomic():
        with connection.cursor() as cursor:
            written = write_new_records(cursor, "records_record", rows, None)
        if written != rows.height:
            raise WriteError("the records table took fewer rows than were given")
        if rows.height == 0:
            return 0, {}
        ids = rows.get_column("id")
        lo, hi = int(ids.min()), int(ids.max())
        span = range(lo, hi + 1) if hi - lo + 1 == rows.height else tuple(ids.to_list())
        event = RecordsChanged(Change.LOADED, record_ids=span, today=today, reason=reason)
        return written, records_changed(event)


# --------------------------------------------------------------------------- one key space


class RecordsWriter:
    """Writes one submission's rows into its key space (see the module docstring), inside the
    caller's transaction and with the caller's cursor."""

    def __init__(
        self,
        cursor,
        *,
        category_id: int,
        department_id: int,
        submission_id: int,
        received_at,
        now,
    ):
        self.cursor = cursor
        self.category_id = category_id
        self.department_id = department_id
        self.submission_id = submission_id
        self.now = now
        self.constants = record_constants(
            category_id=category_id,
            department_id=department_id,
            submission_id=submission_id,
            received_at=received_at,
            now=now,
        )
        self.probe_records = True

    def begin(self) -> None:
        """Lock the key space, create the staging tables and note whether the key space holds
        any record yet (a department's first submission of a category, often its backlog,
        needs no look-ups: every key is new, and the lock keeps it so until the transaction
        ends)."""
        if not connection.in_atomic_block:
            raise RuntimeError("records are written inside the caller's transaction")
        cursor = self.cursor
        lock_key_space(cursor, self.category_id, self.department_id)
        if staging.is_pg():
            cursor.execute("SET LOCAL jit = off")  # compiling the joins costs more than it saves
            # The planner's statistics know nothing of the rows this transaction writes (it
            # takes a load's records for one row): the aggregates of the records flow over
            # them then sort instead of hashing, and with the default 4 MB spill to disk.
            cursor.execute("SELECT set_config('work_mem', %s, true)", [LOAD_WORK_MEM])
        staging.create_temp_table(cursor, STAGE, STAGE_COLUMNS)
        staging.create_temp_table(
            cursor, STAGE_UPDATE, {c: _RECORD_TYPES.get(c, "text") for c in RECORD_COLUMNS}
        )
        cursor.execute(
            "SELECT 1 FROM records_record WHERE department_id = %s AND category_id = %s LIMIT 1",
            [self.department_id, self.category_id],
        )
        self.probe_records = cursor.fetchone() is not None

    def stage(self, rows: pl.DataFrame) -> None:
        """Stage a round's rows (pos, business_key, content_hash, uscc, id_index)."""
        staging.clear_table(self.cursor, STAGE)
        staging.write_frame(self.cursor, STAGE, STAGE_COLUMNS, rows)

    def classify(self) -> pl.DataFrame:
        """Per staged row (CLASSIFY_SCHEMA): its current record (`record_id`, `same` = 1 when
        the content is unchanged; for name-only rows that record's subject, name and link) and
        the subject of its identifier when it will be written."""
        return classify(self.cursor, self.category_id, self.department_id, self.probe_records)

    def insert(self, rows: pl.DataFrame) -> int:
        """Write the rows of new keys (with their subject) as version-1 records."""
        inserted = write_new_records(self.cursor, "records_record", rows, self.constants)
        if inserted != rows.height:
            raise WriteError("the records table took fewer rows than were new")
        return inserted

    def supersede(self, rows: pl.DataFrame) -> int:
        """Write the rows of changed keys as new versions of their records, the replaced
        versions archived. Returns the number of records written."""
        if rows.height == 0:
            return 0
        cursor = self.cursor
        staging.clear_table(cursor, STAGE_UPDATE)
        write_new_records(cursor, STAGE_UPDATE, rows, self.constants)
        stamp = connection.ops.adapt_datetimefield_value(self.now)
        archived = _archive_superseded(cursor, stamp)
        updated = _upsert_changed(cursor)
        if archived != rows.height or updated != rows.height:
            raise WriteError(
                _("入库时记录发生了并发变化(预期更新 %(e)d 条,实际 %(w)d 条),请重新处理。")
                % {"e": rows.height, "w": updated}
            )
        return updated

    def finish(self, timings: dict[str, float] | None = None) -> dict[str, Any]:
        """Drop the staging tables and run the records flow on what the submission brought.
        Returns the flow's results by step (`timings`, when given, receives each step's
        seconds by name)."""
        staging.drop_table(self.cursor, STAGE)
        staging.drop_table(self.cursor, STAGE_UPDATE)
        return records_changed(
            RecordsChanged.loaded(
                submission_id=self.submission_id,
                department_id=self.department_id,
                category_id=self.category_id,
            ),
            timings,
        )


def lock_key_space(cursor, category_id: int, department_id: int) -> None:
    """PostgreSQL: writers into the same (category, department) wait for each other's commit."""
    if staging.is_pg():
        key = (_ADVISORY_NAMESPACE << 48) | (category_id << 24) | department_id
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [key])


def classify(cursor, category_id: int, department_id: int, probe_records: bool) -> pl.DataFrame:
    """See `RecordsWriter.classify`. `probe_records` False skips the record look-ups (the key
    space was empty when the write began). PostgreSQL streams the answer back through COPY
    straight into polars."""
    pg = staging.is_pg()
    name_only = "s.uscc IS NULL AND s.id_index IS NULL"
    written = "(r.id IS NULL OR r.content_hash <> s.content_hash)"
    record = f"""r.department_id = {int(department_id)}
         AND r.category_id = {int(category_id)}
         AND r.business_key = s.business_key"""
    if not probe_records:
        records = """LEFT JOIN (SELECT NULL AS id, NULL AS content_hash, NULL AS subject_id,
                   NULL AS subject_name, NULL AS subject_link) r ON false"""
    elif pg:
        records = f"""LEFT JOIN LATERAL (
            SELECT r.id, r.content_hash, r.subject_id, r.subject_name, r.subject_link
            FROM records_record r WHERE {record} LIMIT 1
        ) r ON true"""
    else:
        records = f"LEFT JOIN records_record r ON {record}"
    if pg:
        # LATERAL … LIMIT 1 keeps every look-up an index probe: the planner's statistics know
        # nothing of the rows this transaction has written, and would otherwise hash-join whole
        # tables once per chunk. A row whose content is unchanged probes nothing more.
        subjects = f"""
        LEFT JOIN LATERAL (
            SELECT id FROM subjects_subject WHERE uscc = s.uscc AND {written} LIMIT 1
        ) ju ON true
        LEFT JOIN LATERAL (
            SELECT id FROM subjects_subject
            WHERE id_index = s.id_index AND s.uscc IS NULL AND {written} LIMIT 1
        ) ji ON true"""
    else:
        subjects = f"""
        LEFT JOIN subjects_subject ju ON ju.uscc = s.uscc AND {written}
        LEFT JOIN subjects_subject ji ON ji.id_index = s.id_index AND s.uscc IS NULL
             AND {written}"""
    ctes = ""
    if pg and citus.is_citus():
        ctes, records, subjects = _citus_lookups(category_id, department_id, written)
    sql = f"""{ctes}SELECT s.pos, COALESCE(ju.id, ji.id), r.id,
               CASE WHEN r.content_hash = s.content_hash THEN 1 ELSE 0 END,
               CASE WHEN {name_only} THEN r.subject_id END,
               CASE WHEN {name_only} THEN r.subject_name END,
               CASE WHEN {name_only} THEN r.subject_link END
        FROM {STAGE} s {records} {subjects}"""
    if pg and not ctes:  # Citus refuses COPY (…) TO of the CTE form: read as rows
        return staging.copy_frame(cursor, sql, [], CLASSIFY_SCHEMA)
    return staging.fetch_frame(cursor, sql, [], CLASSIFY_SCHEMA)


def _citus_lookups(category_id: int, department_id: int, written: str) -> tuple[str, str, str]:
    """classify's look-ups on Citus (docs/scale.md): records and subjects are distributed by
    subject, so a LATERAL probe by business key or identifier from the staged rows (a local
    table) is a join Citus refuses. Each look-up is a materialised CTE joining the staged rows to
    one distributed table, which Citus runs on its own (the staged rows shipped to the workers,
    an index probe per shard); the results meet the staged rows on the coordinator.
    Returns (WITH clause, records join, subjects joins)."""
    ctes = f"""WITH r AS MATERIALIZED (
            SELECT DISTINCT ON (t.pos) t.pos, x.id, x.content_hash, x.subject_id,
                   x.subject_name, x.subject_link
            FROM {STAGE} t
            JOIN records_record x ON x.business_key = t.business_key
             AND x.department_id = {int(department_id)} AND x.category_id = {int(category_id)}
            ORDER BY t.pos, x.id
        ), ju AS MATERIALIZED (
            SELECT t.pos, min(x.id) AS id FROM {STAGE} t
            JOIN subjects_subject x ON x.uscc = t.uscc GROUP BY t.pos
        ), ji AS MATERIALIZED (
            SELECT t.pos, min(x.id) AS id FROM {STAGE} t
            JOIN subjects_subject x ON x.id_index = t.id_index
            WHERE t.uscc IS NULL GROUP BY t.pos
        ) """
    records = "LEFT JOIN r ON r.pos = s.pos"
    subjects = f"""
        LEFT JOIN ju ON ju.pos = s.pos AND {written}
        LEFT JOIN ji ON ji.pos = s.pos AND {written}"""
    return ctes, records, subjects


def _current_join() -> str:
    """Join each staged update row `u` to its current record `r` (index probes on PostgreSQL,
    see classify)."""
    if staging.is_pg():
        return """JOIN LATERAL (
                SELECT * FROM records_record x
                WHERE x.department_id = u.department_id AND x.category_id = u.category_id
                  AND x.business_key = u.business_key
                LIMIT 1
            ) r ON true"""
    return """JOIN records_record r
              ON r.department_id = u.department_id AND r.category_id = u.category_id
             AND r.business_key = u.business_key"""


def _archive_superseded(cursor, stamp) -> int:
    cursor.execute(
        f"""INSERT INTO records_recordversion
              (record_id, version, content_hash, data, original, sealed, subject_id,
               subject_name, subject_kind, submission_id, source_row, received_at, created_at,
               superseded_at)
            SELECT r.id, r.version, r.content_hash, r.data, r.original, r.sealed, r.subject_id,
                   r.subject_name, r.subject_kind, r.submission_id, r.source_row, r.received_at,
                   r.updated_at, %s
            FROM {STAGE_UPDATE} u {_current_join()}
            WHERE r.content_hash <> u.content_hash""",
        [stamp],
    )
    return max(cursor.rowcount, 0)


def _upsert_changed(cursor) -> int:
    """The upsert of changed content: a new version where the hash differs, nothing where it
    does not. Returns the number of records written, as the database counts them."""
    pg = staging.is_pg()
    json = "::jsonb" if pg else ""
    cols = ", ".join(RECORD_COLUMNS)
    select = ", ".join(
        f"u.{c}{json}" if c in ("data", "original", "sealed") else f"u.{c}" for c in RECORD_COLUMNS
    )
    sql = f"""
        INSERT INTO records_record ({cols})
        SELECT {select} FROM {STAGE_UPDATE} u WHERE 1 = 1
        ON CONFLICT (category_id, department_id, business_key) DO UPDATE SET
            subject_id = excluded.subject_id,
            subject_link = excluded.subject_link,
            subject_name = excluded.subject_name,
            subject_kind = excluded.subject_kind,
            version = records_record.version + 1,
            content_hash = excluded.content_hash,
            data = excluded.data,
            original = excluded.original,
            sealed = excluded.sealed,
            decision_date = excluded.decision_date,
            valid_from = excluded.valid_from,
            valid_to = excluded.valid_to,
            submission_id = excluded.submission_id,
            source_row = excluded.source_row,
            received_at = excluded.received_at,
            updated_at = excluded.updated_at
        WHERE records_record.content_hash <> excluded.content_hash"""
    if pg:
        cursor.execute(
            f"WITH written AS ({sql} RETURNING version) "
            "SELECT COUNT(*) FILTER (WHERE version > 1), COUNT(*) FROM written"
        )
        updated, total = cursor.fetchone()
        if updated != total:
            raise WriteError("a changed record was missing when its new version was written")
        return int(updated)
    cursor.execute(sql)
    return max(cursor.rowcount, 0)
