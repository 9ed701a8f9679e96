"""Records in force, kept: the counts behind the big screen's totals, monthly trend, district
comparison and top violation types (console.screen), so that no page view scans the records.

What is counted: records with status 有效 (RecordStatus.ACTIVE), in `RecordTally` per category ×
district × decision month and in `ViolationTally` per category × 违法行为类型 (the category's field
with the role "violation_type"; records without a value are not counted there).
RecordStatus.EXPIRED is set by no code path (a record ends by withdrawal, 撤回; publicity and
list entries expire, records do not): "in force" and "not withdrawn" are the same records. A
writer that starts setting it must run the records flow for the tallies to follow.

District (`RecordTally.region`): the district of the record's subject at the time the record was
written — loaded, corrected (a new version) or relinked to its subject — empty without a subject
or a district. A later change of a subject's district in the register is not followed until the
next rebuild, which reads the districts as they are then; a withdrawal takes the record off its
subject's district as it is at the withdrawal.

Kept by the bulletins step of the records-changed flow (`subscribers.records_changed`), set
based: one aggregate query over the changed records (and one over the versions a load
superseded), the deltas added with `core.tallies.add`:
- LOADED: every record the load wrote that is in force counts +1 under its key; a record the
  load superseded (version > 1) first leaves the key of the version it replaced, read from that
  RecordVersion (its subject, and its decision date and violation type from its data). A
  withdrawn record that receives a new version stays withdrawn and counts nowhere;
- WITHDRAWN: -1 under the record's key;
- SAVED with `previous_subjects` (records.services.link_subject): the record moves from its
  previous subject's district to its new subject's; SAVED without them changes no count.

`rebuild_tallies` recomputes both tables from the records with the same numbers (one aggregate
query), holding the tables against the flow while it runs: `pubcredit bulletins rebuild`.
"""

from __future__ import annotations

import datetime as dt

import polars as pl
from django.db import transaction
from django.db.models import Case, CharField, Count, F, QuerySet, Sum, Value, When
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Coalesce, Substr, TruncMonth

from pubcredit.bulletins.models import UNDATED, RecordTally, ViolationTally
from pubcredit.catalog.models import Field
from pubcredit.core import citus, tallies
from pubcredit.records.changes import RecordsChanged
from pubcredit.records.models import Record, RecordStatus, RecordVersion
from pubcredit.subjects.models import Subject

VIOLATION_ROLE = "violation_type"
DECISION_ROLE = "decision_date"
RECORD_KEYS = ("category_id", "region", "month")
VIOLATION_KEYS = ("category_id", "kind")
_SCHEMA = {
    "category_id": pl.Int64,
    "region": pl.String,
    "month": pl.Date,
    "kind": pl.String,
    "n": pl.Int64,
}


def _codes(role: str) -> dict[int, str]:
    """{category id: the code of its field with `role`} (the first, when several)."""
    codes: dict[int, str] = {}
    for category_id, code in (
        Field.objects.filter(role=role)
        .order_by("category_id", "pk")
        .values_list("category_id", "code")
    ):
        codes.setdefault(category_id, code)
    return codes


def _by_category(codes: dict[int, str], category: str, make):
    """A per-category expression: `make(code)` for the categories in `codes`, else null."""
    if not codes:
        return Value(None, output_field=CharField())
    return Case(
        *[When(**{category: c}, then=make(code)) for c, code in sorted(codes.items())],
        default=Value(None),
        output_field=CharField(),
    )


def _frame(rows) -> pl.DataFrame:
    frame = pl.DataFrame(list(rows), schema=_SCHEMA, orient="row")
    return frame.with_columns(pl.col("month").fill_null(UNDATED))


def _in_force_groups(records: QuerySet, status: str = RecordStatus.ACTIVE) -> pl.DataFrame:
    """The records of `records` with `status`, counted per (category, district of the subject
    now, decision month, violation type)."""
    kind = _by_category(
        _codes(VIOLATION_ROLE), "category_id", lambda code: KeyTextTransform(code, "data")
    )
    rows = (
        records.filter(status=status)
        .order_by()
        .annotate(
            _region=Coalesce(F("subject__region"), Value(""), output_field=CharField()),
            _month=TruncMonth("decision_date"),
            _kind=kind,
        )
        .values("category_id", "_region", "_month", "_kind")
        .annotate(n=Count("pk"))
        .values_list("category_id", "_region", "_month", "_kind", "n")
    )
    return _frame(rows)


def _superseded_groups(records: QuerySet) -> pl.DataFrame:
    """The versions that the records in force among `records` (just written) replaced, counted
    per the key they were counted under: their subject's district, and the decision month and
    violation type of their data."""
    versions = RecordVersion.objects.filter(
        record__in=records.filter(status=RecordStatus.ACTIVE, version__gt=1).values("pk"),
        version=F("record__version") - 1,
    )
    if citus.is_citus():
        # Co-located on Citus: a version and its record share the subject (no relink moves a
        # record there, docs/scale.md), and the join must say so to stay on one shard.
        versions = versions.filter(subject_id=F("record__subject_id"))
    decision = _by_category(
        _codes(DECISION_ROLE),
        "record__category_id",
        lambda code: Substr(KeyTextTransform(code, "data"), 1, 7),
    )
    kind = _by_category(
        _codes(VIOLATION_ROLE), "record__category_id", lambda code: KeyTextTransform(code, "data")
    )
    rows = (
        versions.order_by()
        .annotate(
            _category=F("record__category_id"),
            _region=Coalesce(F("subject__region"), Value(""), output_field=CharField()),
            _month=decision,
            _kind=kind,
        )
        .values("_category", "_region", "_month", "_kind")
        .annotate(n=Count("pk"))
        .values_list("_category", "_region", "_month", "_kind", "n")
    )
    frame = pl.DataFrame(list(rows), schema={**_SCHEMA, "month": pl.String}, orient="row")
    return frame.with_columns(
        (pl.col("month") + "-01").str.to_date("%Y-%m-%d", strict=False).fill_null(UNDATED)
    )


def _violations(frame: pl.DataFrame) -> pl.DataFrame:
    kind = pl.col("kind").str.slice(0, ViolationTally.KIND_LENGTH)
    return frame.filter(pl.col("kind").is_not_null() & (pl.col("kind") != "")).select(
        "category_id", kind.alias("kind"), "n"
    )


def _add(frame: pl.DataFrame) -> int:
    """Add the grouped deltas of `frame` (_SCHEMA) to both tallies; returns the keys changed."""
    if frame.height == 0:
        return 0
    changed = tallies.add(RecordTally, RECORD_KEYS, frame.select(*RECORD_KEYS, "n"))
    return changed + tallies.add(ViolationTally, VIOLATION_KEYS, _violations(frame))


def _negated(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.with_columns(-pl.col("n"))


# --------------------------------------------------------------------------- the flow


def add_loaded(event: RecordsChanged) -> int:
    """LOADED: the records written count under their key, the versions they superseded leave
    theirs. Returns the number of tally keys changed."""
    records = event.records()
    written = _in_force_groups(records)
    superseded = _superseded_groups(records)
    return _add(pl.concat([written, _negated(superseded)]))


def add_withdrawn(event: RecordsChanged) -> int:
    """WITHDRAWN: the records withdrawn leave their key."""
    return _add(_negated(_in_force_groups(event.records(), RecordStatus.WITHDRAWN)))


def add_relinked(event: RecordsChanged) -> int:
    """SAVED with the records' previous subjects: each record in force leaves its previous
    subject's district for its new subject's (decision month and violation type unchanged)."""
    if not event.previous_subjects:
        return 0
    kind = _by_category(
        _codes(VIOLATION_ROLE), "category_id", lambda code: KeyTextTransform(code, "data")
    )
    rows = (
        event.records()
        .filter(status=RecordStatus.ACTIVE)
        .order_by()
        .annotate(
            _region=Coalesce(F("subject__region"), Value(""), output_field=CharField()),
            _month=TruncMonth("decision_date"),
            _kind=kind,
        )
        .values_list("pk", "category_id", "_region", "_month", "_kind")
    )
    now = pl.DataFrame(
        list(rows),
        schema={"record_id": pl.Int64, **{k: t for k, t in _SCHEMA.items() if k != "n"}},
        orient="row",
    ).with_columns(pl.col("month").fill_null(UNDATED), n=pl.lit(1, dtype=pl.Int64))
    before = pl.DataFrame(
        list(event.previous_subjects),
        schema={"record_id": pl.Int64, "subject_id": pl.Int64},
        orient="row",
    )
    regions = pl.DataFrame(
        list(
            Subject.objects.filter(
                pk__in=before.get_column("subject_id").drop_nulls().to_list()
            ).values_list("pk", "region")
        ),
        schema={"subject_id": pl.Int64, "previous_region": pl.String},
        orient="row",
    )
    left = (
        now.join(before, on="record_id", how="inner")
        .join(regions, on="subject_id", how="left")
        .select(
            "category_id",
            pl.col("previous_region").fill_null("").alias("region"),
            "month",
            "kind",
            pl.lit(-1, dtype=pl.Int64).alias("n"),
        )
    )
    entered = now.join(before, on="record_id", how="semi").select(*_SCHEMA)
    # Only the district table moves: the violation type is the record's, before and after.
    moved = pl.concat([entered, left]).select(*RECORD_KEYS, "n")
    return tallies.add(RecordTally, RECORD_KEYS, moved)


# --------------------------------------------------------------------------- rebuild


@transaction.atomic
def rebuild_tallies() -> dict[str, int]:
    """Recompute RecordTally and ViolationTally from the records (one aggregate query over
    the records in force, each with its subject's district as it is now), replacing the kept
    rows: the numbers the flow keeps. The tables are held against the flow meanwhile
    (core.tallies.lock). Returns the rows written per table."""
    tallies.lock(RecordTally, ViolationTally)
    frame = _in_force_groups(Record.objects.all())
    return {
        "record_tally": tallies.replace(RecordTally, RECORD_KEYS, frame.select(*RECORD_KEYS, "n")),
        "violation_tally": tallies.replace(ViolationTally, VIOLATION_KEYS, _violations(frame)),
    }


# --------------------------------------------------------------------------- readers


def in_force_by_category() -> list[dict]:
    """[{"code", "name", "n"}] of every category with records in force, most first (then by
    code)."""
    rows = (
        RecordTally.objects.order_by()
        .values("category__code", "category__name")
        .annotate(total=Sum("n"))
        .filter(total__gt=0)
        .order_by("-total", "category__code")
    )
    return [
        {"code": r["category__code"], "name": r["category__name"], "n": int(r["total"])}
        for r in rows
    ]


def in_force_by_region(codes: list[str]) -> dict[str, int]:
    """{district code: records in force} for `codes` (districts without any are absent)."""
    return {
        region: int(total)
        for region, total in RecordTally.objects.filter(region__in=codes)
        .order_by()
        .values_list("region")
        .annotate(total=Sum("n"))
        if total
    }


def in_force_by_month(first: dt.date, last: dt.date) -> dict[dt.date, int]:
    """{first day of a month: records in force decided in it} for the months from `first`'s to
    `last`'s (whole months, whatever the days given)."""
    rows = (
        RecordTally.objects.filter(month__gte=first.replace(day=1), month__lte=last.replace(day=1))
        .order_by()
        .values_list("month")
        .annotate(total=Sum("n"))
    )
    return {month: int(total) for month, total in rows if total}


def top_violations(category_code: str, limit: int) -> list[tuple[str, int]]:
    """The `limit` most frequent violation types of `category_code`'s records in force, as
    (type, count), most first (then by type)."""
    rows = (
        ViolationTally.objects.filter(category__code=category_code, n__gt=0)
        .order_by("-n", "kind")
        .values_list("kind", "n")[:limit]
    )
    return [(kind, int(n)) for kind, n in rows]
