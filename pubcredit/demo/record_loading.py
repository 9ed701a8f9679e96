"""Loading the demo city's credit facts into the database: `load_demo_records` writes the generated
records through the records app (`records.writing.insert_records`, which runs the records-changed
flow: publicity, list entries, commitments, flags, the bulletins' metrics) under one demo
Submission per department, category and receipt day (`demo.reporting`: the monthly flow and the
receipt days), bulk-writes the list entries with their events, and `remove_demo_records` takes
them out again for `demo --replace`. The generation itself (templates, draws, the register) is
in `demo.records`; see its docstring for the whole story."""

from __future__ import annotations

import datetime as dt
import hashlib
import time

import numpy as np
import polars as pl
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from pubcredit.accounts.permissions import Principal
from pubcredit.catalog.models import Category, Department
from pubcredit.core.bulkload import bulk_copy, reserve_ids
from pubcredit.demo.record_templates import (
    PERSON,
)
from pubcredit.demo.records import (
    DEMO_FILE_PREFIX,
    DEMO_LABEL,
    DemoRecords,
    ListTypeInfo,
    generate_records,
)
from pubcredit.demo.register import register_from_database
from pubcredit.demo.reporting import DECISION_COLUMN, receipt_days, receipt_moment, with_flow
from pubcredit.holidays.services import workdays_between_many
from pubcredit.intake.models import Submission
from pubcredit.intake.preparing import (
    LATE_AFTER_WORKDAYS,
    LATE_COLUMN,
    ROW_COLUMN,
    LoadPlan,
    prepare_rows,
)
from pubcredit.lists.changes import entries_changed
from pubcredit.lists.models import ListEntry, ListEntryEvent, ListType
from pubcredit.lists.services import ENTRY_DECISION_FIELDS, import_list_types
from pubcredit.measures.models import SubjectFlags
from pubcredit.portal.search import rebuild_search_index
from pubcredit.publicity.models import Publicity, PublicityEvent, PublicityRegime
from pubcredit.publicity.rulefile import import_rules
from pubcredit.records.models import Record
from pubcredit.records.writing import insert_records, record_columns, timestamp_text

# ----------------------------------------------------------------------------- loading


def _departments() -> dict[str, tuple[str, str]]:

    return {
        code: (name, uscc)
        for code, name, uscc in Department.objects.filter(active=True).values_list(
            "code", "name", "uscc"
        )
    }


def _list_types() -> tuple[dict[str, ListTypeInfo], dict[str, int]]:

    info, ids = {}, {}
    for lt in ListType.objects.filter(active=True).select_related("authority"):
        info[lt.code] = ListTypeInfo(
            code=lt.code,
            kind=lt.kind,
            subject_kinds=tuple(lt.subject_kinds or ()),
            validity_months=lt.default_validity_months,
            authority=lt.authority.code if lt.authority_id else "",
            authority_name=lt.authority_name,
            legal_basis=lt.legal_basis,
        )
        ids[lt.code] = lt.pk
    return info, ids


def ensure_rules(principal: Principal) -> list[str]:
    """Import the publicity rules and the list types when none are loaded (what the records and
    entries are judged by). Returns what was imported."""

    done = []
    if not PublicityRegime.objects.exists():
        import_rules(principal)
        done.append("publicity_rules")
    if not ListType.objects.exists():
        import_list_types(principal)
        done.append("list_types")
    return done


def _submissions(category, frame: pl.DataFrame, dept_ids: dict, now) -> pl.DataFrame:
    """One finished demo Submission per department of `frame` and receipt day (bulk_create: no
    signals, the records do not exist yet), counted as intake counts them, received at
    `reporting.receipt_moment`. Returns (department, _received_day, _submission_id,
    _received_at)."""

    counts = (
        frame.group_by("department", "_received_day")
        .agg(
            pl.len().alias("rows"),
            pl.col("late").sum().alias("late"),
            pl.col("content_hash").sort().str.join("").alias("hashes"),
        )
        .sort("department", "_received_day")
    )
    order = {code: i for i, code in enumerate(sorted(dept_ids))}
    keys, objs = [], []
    for code, day, rows, late, hashes in counts.iter_rows():
        moment = receipt_moment(day, order[code], now)
        keys.append((code, day, timestamp_text(moment)))
        objs.append(
            Submission(
                department_id=dept_ids[code],
                category=category,
                channel=Submission.Channel.API,
                filename=f"{DEMO_FILE_PREFIX}{code}-{category.code}-{day:%Y%m%d}.json",
                # What stands for the file's digest: the rows' content hashes.
                sha256=hashlib.sha256(hashes.encode("ascii")).hexdigest(),
                status=Submission.Status.DONE,
                progress=100,
                attempts=1,
                received_at=moment,
                started_at=moment,
                finished_at=moment,
                submitted_by_label=DEMO_LABEL,
                rows=rows,
                accepted=rows,
                inserted=rows,
                late=late,
            )
        )
    created = Submission.objects.bulk_create(objs)
    return pl.DataFrame(
        [(code, day, obj.pk, text) for (code, day, text), obj in zip(keys, created, strict=True)],
        schema={
            "department": pl.String,
            "_received_day": pl.Date,
            "_submission_id": pl.Int64,
            "_received_at": pl.String,
        },
        orient="row",
    )


def _late(decided: pl.Series, received: pl.Series) -> pl.Series:
    """超期报送 as intake flags it: decided more than LATE_AFTER_WORKDAYS working days before the
    receipt day (holiday table); False without a decision date."""
    known = decided.is_not_null().to_numpy()
    late = np.zeros(decided.len(), dtype=bool)
    if known.any():
        starts = decided.to_numpy()[known].astype("datetime64[D]")
        ends = received.to_numpy()[known].astype("datetime64[D]")
        late[known] = workdays_between_many(starts, ends) > LATE_AFTER_WORKDAYS
    return pl.Series(LATE_COLUMN, late)


def _record_rows(
    generated: DemoRecords, dept_ids: dict, now, *, seed: int, as_of: dt.date
) -> tuple[pl.DataFrame, dict]:
    """The records of every category through intake's preparation, as the records writer takes
    them (records.writing.insert_records), with ids reserved up front, each received on its
    `reporting.receipt_days` day under that day's submission of its department. Returns the
    rows and counts per category."""

    total = sum(f.height for f in generated.frames.values())
    ids = reserve_ids(Record, total)
    counts = {}
    offset = ids.start
    stamp = timestamp_text(now)
    written = []
    for code, frame in generated.frames.items():
        if frame.height == 0:
            counts[code] = 0
            continue
        category = Category.objects.get(code=code)
        plan = LoadPlan.for_submission(
            Submission(category=category, department_id=0, received_at=now)
        )
        received = receipt_days(frame, code, seed=seed, as_of=as_of)
        frame = frame.with_columns(
            received, _late(frame.get_column(DECISION_COLUMN[code]), received)
        )
        # Rows numbered per submission as in that submission's file (header = row 1).
        frame = frame.with_columns(
            (pl.int_range(pl.len()).over("department", "_received_day") + 2).alias(ROW_COLUMN)
        )
        staged = prepare_rows(frame, plan)  # keeps the row order
        staged = staged.with_columns(
            frame["subject_id"], frame["department"], frame["_received_day"]
        )
        submissions = _submissions(category, staged, dept_ids, now)
        staged = staged.join(
            submissions, on=["department", "_received_day"], how="left", maintain_order="left"
        )
        person = pl.col("subject_kind") == PERSON
        staged = staged.with_columns(
            pl.when(person).then(pl.lit("id")).otherwise(pl.lit("uscc")).alias("subject_link")
        )
        department = pl.col("department")
        constants = {
            "category_id": category.pk,
            "department_id": department.replace_strict(dept_ids, return_dtype=pl.Int64),
            "submission_id": pl.col("_submission_id"),
            "received_at": stamp,
            "stamp": stamp,
        }
        rows = (
            record_columns(staged, constants)
            .with_columns(staged.get_column("_received_at").alias("received_at"))
            .insert_column(0, pl.Series("id", np.arange(offset, offset + staged.height)))
        )
        written.append(rows)
        offset += staged.height
        counts[code] = staged.height
    rows = pl.concat(written, how="vertical_relaxed") if written else pl.DataFrame()
    return rows, counts


EVENT_COLUMNS = ("entry_id", "from_status", "to_status", "at", "by", "reason")


def _write_entries(
    entries: pl.DataFrame, types: dict, type_ids: dict, dept_ids: dict, now
) -> dict[str, int]:
    """The list entries and their events (creation; expiry for the expired ones), bulk-written.
    Returns counts by list kind and status ("red_published", "black_expired"…)."""

    if entries.height == 0:
        return {}
    ids = reserve_ids(ListEntry, entries.height)
    expired = pl.col("status") == "expired"
    rows = entries.select(
        pl.Series("id", np.arange(ids.start, ids.stop)),
        pl.col("list_type").replace_strict(type_ids, return_dtype=pl.Int64).alias("list_type_id"),
        "subject_id",
        pl.col("subject_name").str.slice(0, 200),
        pl.col("authority")
        .replace_strict(dept_ids, default=None, return_dtype=pl.Int64)
        .alias("identified_by_id"),
        "basis",
        pl.col("document_number").str.slice(0, 128),
        "decided_on",
        "valid_from",
        "valid_to",
        "status",
        pl.when(expired)
        .then(pl.lit(_("有效期已届满")))
        .otherwise(pl.lit(""))
        .alias("status_reason"),
        pl.when(expired).then(pl.lit(now)).alias("status_changed_at"),
        pl.lit("console").alias("source"),
        pl.lit(DEMO_LABEL).alias("created_by"),
    )
    bulk_copy(ListEntry, ["id", *ENTRY_DECISION_FIELDS, "source", "created_by"], rows)
    created = rows.select(
        pl.col("id").alias("entry_id"),
        pl.lit("").alias("from_status"),
        pl.lit("published").alias("to_status"),
        pl.lit(now).alias("at"),
        pl.lit(DEMO_LABEL).alias("by"),
        pl.lit(_("演示数据认定")).alias("reason"),
    )
    ended = rows.filter(expired).select(
        pl.col("id").alias("entry_id"),
        pl.lit("published").alias("from_status"),
        pl.lit("expired").alias("to_status"),
        pl.lit(now).alias("at"),
        pl.lit(DEMO_LABEL).alias("by"),
        pl.lit(_("有效期已届满")).alias("reason"),
    )
    bulk_copy(ListEntryEvent, list(EVENT_COLUMNS), pl.concat([created, ended]))
    kinds = {code: t.kind for code, t in types.items()}
    counted = (
        entries.with_columns(pl.col("list_type").replace_strict(kinds, return_dtype=pl.String))
        .group_by("list_type", "status")
        .len()
        .sort("list_type", "status")
    )
    return {f"{kind}_{status}": n for kind, status, n in counted.iter_rows()}


def _lap(timer, phase: str, since: float) -> float:
    if timer is not None:
        return timer.add(phase, since)
    return time.perf_counter()


@transaction.atomic
def load_demo_records(
    principal: Principal,
    *,
    first_id: int,
    last_id: int,
    seed: int,
    as_of: dt.date | None = None,
    timer=None,
) -> dict:
    """Generate and write the demo records, list entries and their read models for the demo
    subjects [first_id, last_id] (see the module docstring). Needs the catalogue; imports the
    publicity rules and list types when none are loaded. One transaction (the caller's).

    Returns counts: records per category, publicity states, list entries by kind and status."""

    principal.require("records.submit")
    principal.require("lists.identify")
    day = as_of or timezone.localdate()
    t = time.perf_counter()
    ensure_rules(principal)
    departments = _departments()
    dept_ids = dict(Department.objects.values_list("code", "pk"))
    types, type_ids = _list_types()
    register = register_from_database(first_id, last_id)
    generated = generate_records(
        register, seed=seed, as_of=day, departments=departments, list_types=types
    )
    generated = with_flow(generated, register, seed=seed, as_of=day, departments=departments)
    t = _lap(timer, "records_generate", t)
    now = timezone.now()
    rows, counts = _record_rows(generated, dept_ids, now, seed=seed, as_of=day)
    t = _lap(timer, "records_prepare", t)
    publicity = {}
    if rows.height:
        # Written by the records writer, which runs the records flow on them (judged on `day`).
        _written, flow = insert_records(rows, today=day, reason="demo")
        publicity = flow.get("publicity") or {}
    t = _lap(timer, "records_write", t)
    entries = _write_entries(generated.entries, types, type_ids, dept_ids, now)
    entries_changed(generated.entries.get_column("subject_id").to_list())
    flags = SubjectFlags.objects.count()
    _lap(timer, "lists", t)
    return {
        "as_of": day.isoformat(),
        "records": counts,
        "publicity": dict(sorted((publicity.get("states") or {}).items())),
        "list_entries": entries,
        "subjects_flagged": flags,
    }


def rebuild_demo_search_index(timer=None) -> dict:
    """Rebuild the portal's name-search index over the whole register (after a demo load, so
    that a million subjects are searchable at once)."""

    t = time.perf_counter()
    summary = rebuild_search_index()
    _lap(timer, "search_index", t)
    return {"indexed": summary.indexed}


# ----------------------------------------------------------------------------- removal


def _demo_submissions():

    return Submission.objects.filter(
        filename__startswith=DEMO_FILE_PREFIX, submitted_by_label=DEMO_LABEL
    )


def remove_demo_records(first_id: int, last_id: int) -> dict:
    """Delete what `load_demo_records` wrote for the subjects [first_id, last_id]: the demo list
    entries and their events, the check flags of those subjects, the demo records with their
    publicity rows and events, and the demo submissions left empty. Plain DELETEs (the ORM's
    collector would load every row first). Must run inside the caller's transaction.

    Refuses (ValidationError, Chinese) when anything else refers to a demo record (a repair, an
    objection mark, a tier set by a department, a newer version submitted through intake…):
    such facts are not the demo's to delete."""

    qn = connection.ops.quote_name
    span = [first_id, last_id]
    submissions = list(_demo_submissions().values_list("pk", flat=True))
    entry_table, event_table = qn(ListEntry._meta.db_table), qn(ListEntryEvent._meta.db_table)
    demo_entries = (
        f"SELECT id FROM {entry_table} WHERE subject_id BETWEEN %s AND %s "
        f"AND created_by = %s AND source = 'console'"
    )
    removed = {}
    with connection.cursor() as cursor:
        cursor.execute(
            f"DELETE FROM {event_table} WHERE entry_id IN ({demo_entries})", [*span, DEMO_LABEL]
        )
        cursor.execute(
            f"DELETE FROM {entry_table} WHERE id IN ({demo_entries})", [*span, DEMO_LABEL]
        )
        removed["list_entries"] = cursor.rowcount
        cursor.execute(
            f"DELETE FROM {qn(SubjectFlags._meta.db_table)} WHERE subject_id BETWEEN %s AND %s",
            span,
        )
    if not submissions:
        removed["records"] = 0
        return removed
    records = Record.objects.filter(
        submission_id__in=submissions, subject_id__gte=first_id, subject_id__lte=last_id
    )
    sub_sql, sub_params = records.values("id").query.sql_with_params()
    with connection.cursor() as cursor:
        for model in (PublicityEvent, Publicity):
            cursor.execute(
                f"DELETE FROM {qn(model._meta.db_table)} WHERE record_id IN ({sub_sql})",
                sub_params,
            )
    refs = []
    for rel in Record._meta.get_fields(include_hidden=True):
        if not (rel.auto_created and not rel.concrete and (rel.one_to_many or rel.one_to_one)):
            continue
        model = rel.related_model
        if model in (Publicity, PublicityEvent):
            continue
        if model._base_manager.filter(
            **{f"{rel.field.attname}__in": records.values("id")}
        ).exists():
            refs.append(str(model._meta.verbose_name))
    if refs:
        raise ValidationError(
            _(
                "演示信用记录已被其他数据引用(%(tables)s),不能替换;"
                "如需重新生成演示数据,请使用一个新的数据库。"
            )
            % {"tables": "、".join(sorted(set(refs)))}
        )
    with connection.cursor() as cursor:
        cursor.execute(
            f"DELETE FROM {qn(Record._meta.db_table)} WHERE id IN ({sub_sql})", sub_params
        )
        removed["records"] = cursor.rowcount
    _demo_submissions().exclude(
        pk__in=Record.objects.filter(submission_id__in=submissions).values("submission_id")
    ).delete()
    return removed
