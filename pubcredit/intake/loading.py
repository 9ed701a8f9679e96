"""Set-based loading of a submission's accepted rows into records: the entry point.

`load_accepted` writes the rows the engine accepted (pubcredit.intake.engine) without one ORM
save per row, inside the caller's transaction (one per submission: all or nothing), in chunks of
CHUNK_ROWS rows so memory stays bounded whatever the file size. Per chunk:

1. preparing (intake.preparing, polars): the business key, the record's JSON, the content hash
   and the subject's identity of every row; a worker thread prepares the next chunk while the
   database works on the current one;
2. classifying (records.writing): the keys, hashes and identifiers are staged in a TEMP table
   and one join classifies every row against the current records — new key, same content
   (unchanged: nothing is written) or changed content — and finds the subject of each
   identifier;
3. linking (intake.linking): identifiers not yet in the register become subjects in bulk;
   rows with only a name are linked by name, or wait in the review queue;
4. writing (records.writing): new keys are inserted (COPY), changed keys superseded (the
   replaced versions archived in RecordVersion); the reviews of unlinked rows are opened.

The records writer locks the key space (category, department) for the transaction and ends, once
every chunk is written, with the records-changed flow (records.changes: publicity, list entries,
commitments, flags) in this same transaction.

Counts: `inserted` and `updated` are the row counts the database reports for those writes,
checked against the classification (a disagreement aborts the transaction rather than report a
wrong figure); `unchanged` is counted by the classifying query.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
import polars as pl
from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext as _

from pubcredit.core import staging
from pubcredit.holidays.services import workdays_between_many
from pubcredit.intake import linking
from pubcredit.intake.models import Submission
from pubcredit.intake.preparing import LoadError, LoadPlan, prepare_rows
from pubcredit.records.models import SubjectLink
from pubcredit.records.writing import RecordsWriter

# Rows prepared and written per round (bounds memory; a round is a few set-based statements).
CHUNK_ROWS = 50_000


def _failpoint(name: str) -> None:
    """Fault injection for the kill tests: with PUBCREDIT_INTAKE_FAILPOINT=<name> in the
    environment the process kills itself (SIGKILL, as `kill -9` or the OOM killer would) at that
    point of the load. Without the variable this does nothing."""
    if os.environ.get("PUBCREDIT_INTAKE_FAILPOINT") == name:
        os.kill(os.getpid(), signal.SIGKILL)


@dataclass
class LoadResult:
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    review: int = 0
    subjects_created: int = 0
    timings: dict[str, float] = field(default_factory=dict)


def _chunks(frame: pl.DataFrame) -> Iterator[pl.DataFrame]:
    for offset in range(0, frame.height, CHUNK_ROWS):
        yield frame.slice(offset, CHUNK_ROWS)


def load_accepted(
    submission: Submission,
    accepted: pl.DataFrame,
    plan: LoadPlan | None = None,
) -> LoadResult:
    """Write `accepted` (see the module docstring) as records of `submission`'s category and
    department. Must run inside `transaction.atomic`: on any exception nothing of it remains.

    Guarantees: a row whose content equals its record's current version changes nothing
    (`unchanged`); changed content bumps `version` and keeps the replaced version in
    RecordVersion; never two records for one business key, whatever runs concurrently; the
    counts are the database's; what derives from the records (records.changes) is up to date
    when it returns (timed as "derived").
    """

    if not connection.in_atomic_block:
        raise RuntimeError("load_accepted must run inside the submission's transaction")
    if connection.vendor == "sqlite" and connection.Database.sqlite_version_info < (3, 35):
        # INSERT … ON CONFLICT DO UPDATE … WHERE and RETURNING (bulk_create ids).
        raise LoadError(
            _("SQLite 版本过旧(%(v)s),入库需要 3.35 或更高版本。")
            % {"v": connection.Database.sqlite_version}
        )
    plan = plan or LoadPlan.for_submission(submission)
    result = LoadResult()
    timings = result.timings
    now = timezone.now()
    ts = connection.ops.adapt_datetimefield_value(now)
    reviews: dict[tuple[str, str], linking.Review] = {}
    # The worker thread must not query: load the holiday table into its cache here.
    workdays_between_many(np.array([], "datetime64[D]"), np.array([], "datetime64[D]"))
    clock = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal clock
        t = time.perf_counter()
        timings[name] = round(timings.get(name, 0.0) + t - clock, 3)
        clock = t

    with connection.cursor() as cursor, ThreadPoolExecutor(max_workers=1) as pool:
        writer = RecordsWriter(
            cursor,
            category_id=plan.category_id,
            department_id=plan.department_id,
            submission_id=submission.pk,
            received_at=submission.received_at,
            now=now,
        )
        tails = writer.constants if staging.is_pg() else None

        def prepare(chunk: pl.DataFrame | None):
            if chunk is None:
                return None
            return pool.submit(prepare_rows, chunk, plan, tails)

        writer.begin()
        linking.create_stage(cursor)
        lap("load_setup")
        chunks = _chunks(accepted)
        upcoming = prepare(next(chunks, None))
        while upcoming is not None:
            rows = upcoming.result()
            lap("load_prepare_wait")
            # The worker prepares the next chunk while the database works on this one.
            upcoming = prepare(next(chunks, None))
            rows = rows.with_row_index("pos").with_columns(pl.col("pos").cast(pl.Int64))

            writer.stage(rows)
            lap("load_stage")
            found = writer.classify()
            lap("load_classify")
            rows = rows.join(found, on="pos", how="left")
            unchanged = int((rows.get_column("same") == 1).sum())
            rows = rows.filter(pl.col("same") != 1)
            rows, created = linking.register_new_subjects(cursor, rows, ts)
            result.subjects_created += created
            lap("load_subjects")
            rows = rows.with_columns(
                pl.when(pl.col("subject_id").is_null())
                .then(None)
                .when(pl.col("uscc").is_not_null())
                .then(pl.lit(SubjectLink.USCC.value))
                .otherwise(pl.lit(SubjectLink.ID_NUMBER.value))
                .alias("subject_link")
            )
            rows, created = linking.link_names(rows, reviews)
            result.subjects_created += created
            lap("load_link_names")

            inserted = writer.insert(rows.filter(pl.col("record_id").is_null()))
            _failpoint("records_written")
            lap("load_insert")
            updated = writer.supersede(rows.filter(pl.col("record_id").is_not_null()))
            lap("load_update")
            result.inserted += inserted
            result.updated += updated
            result.unchanged += unchanged
            result.review += linking.open_reviews(cursor, plan, submission, rows, reviews, now)
            lap("load_reviews")
        linking.drop_stage(cursor)
        steps: dict[str, float] = {}
        flow = writer.finish(steps)
        lap("derived")
        timings.update({f"derived_{name}": seconds for name, seconds in steps.items()})
        publicity = (flow.get("publicity") or {}).get("timings") or {}
        timings.update({f"derived_publicity_{k}": v for k, v in publicity.items()})
    return result
