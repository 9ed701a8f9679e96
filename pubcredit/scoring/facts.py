"""The facts a scorecard version counts, read set-based: one frame of
(subject_id, rule, day, points, source_type, source_id, same, value) per computation.

One query per source (records: one per category, whatever the number of indicators on it;
list entries; commitments; given grades per category), filtered in SQL by what never counts —
withdrawn or expired records (status, or 有效期至 before the evaluation day), records with a
granted repair (an open PublicityMark REPAIRED), entries not published or not in force, withdrawn
commitments, facts dated after the evaluation day or before the earliest window — then split
per indicator in polars (its window, tiers, condition, points). No Python loop per subject or
record.

`points` is the fact's own points before repeats and caps (the engine applies those); `same` is
the value that makes two facts "the same offence" for a repeat rule; `value` is what is shown
with the contribution (the grade read as given).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from functools import reduce

import polars as pl

from pubcredit.catalog.models import Category, Field
from pubcredit.commitments.models import Commitment
from pubcredit.lists.models import EntryStatus, ListEntry, ListType
from pubcredit.publicity.models import Publicity, PublicityMark
from pubcredit.records.models import Record, RecordStatus
from pubcredit.scoring.definition import GRADE_ROLE, Definition, Downgrade, Indicator
from pubcredit.scoring.frames import (
    SubjectFilter,
    json_text,
    months_before,
    polars_engine,
    read_frame,
)
from pubcredit.subjects.models import Subject

FACT_SCHEMA = {
    "subject_id": pl.Int64,
    "rule": pl.String,
    "day": pl.Date,
    "points": pl.Float64,
    "source_type": pl.String,
    "source_id": pl.Int64,
    "same": pl.String,
    "value": pl.String,
}
POPULATION_SCHEMA = {"subject_id": pl.Int64, "established_on": pl.Date}

Rule = Indicator | Downgrade


def empty_facts() -> pl.DataFrame:
    return pl.DataFrame(schema=FACT_SCHEMA)


def _t(model) -> str:
    return model._meta.db_table


def _cutoff(rule: Rule, as_of: dt.date) -> dt.date | None:
    """Facts dated on or before this day are outside the rule's window (None: no window)."""
    return months_before(as_of, rule.window_months) if rule.window_months else None


def _lower_bound(rules: list[Rule], as_of: dt.date) -> dt.date | None:
    cutoffs = [_cutoff(r, as_of) for r in rules]
    return None if any(c is None for c in cutoffs) else min(cutoffs)


def _in_window(rule: Rule, as_of: dt.date) -> pl.Expr:
    cutoff = _cutoff(rule, as_of)
    return pl.lit(True) if cutoff is None else pl.col("day") > pl.lit(cutoff)


def _fact_columns(rule: Rule, points: pl.Expr, source_type: str, *, same=None, value=None):
    return [
        pl.col("subject_id"),
        pl.lit(rule.code).alias("rule"),
        pl.col("day"),
        points.cast(pl.Float64).alias("points"),
        pl.lit(source_type).alias("source_type"),
        pl.col("id").alias("source_id"),
        (same if same is not None else pl.lit("")).cast(pl.String).alias("same"),
        (value if value is not None else pl.lit(None, dtype=pl.String)).alias("value"),
    ]


def _rule_points(rule: Rule) -> pl.Expr:
    return pl.lit(rule.points if isinstance(rule, Indicator) else 0.0)


# --------------------------------------------------------------------------- conditions


def field_column(code: str) -> str:
    return f"f_{code}"


def _values(code: str) -> pl.Expr:
    """data[code] as a list of non-empty values: a JSON list (as PostgreSQL's ->> or SQLite's
    json_extract gives it, with or without \\u escapes) or a single value."""
    raw = pl.col(field_column(code)).str.strip_chars()
    is_list = raw.str.starts_with("[")
    escaped = is_list & raw.str.contains("\\", literal=True)
    decoded = (
        pl.when(escaped)
        .then(raw)
        .otherwise(None)
        .str.json_decode(pl.List(pl.String))
        .list.join("\x1f")
    )
    listed = raw.str.strip_prefix("[").str.strip_suffix("]").str.replace_all(r'"\s*,\s*"', "\x1f")
    text = (
        pl.when(escaped)
        .then(decoded)
        .when(is_list)
        .then(listed.str.replace_all('"', "", literal=True))
        .otherwise(raw)
    )
    return text.str.split("\x1f").list.eval(
        pl.element().str.strip_chars().filter(pl.element().str.strip_chars() != "")
    )


def _number(code: str) -> pl.Expr:
    return (
        pl.col(field_column(code))
        .str.strip_chars()
        .str.replace_all(",", "", literal=True)
        .cast(pl.Float64, strict=False)
    )


def condition_expr(condition) -> pl.Expr:
    """A scoring condition (definition module docstring) as a boolean polars expression over the
    `f_<code>` text columns; a missing value matches not_in and never matches in or a number."""
    if "all" in condition:
        return reduce(lambda a, b: a & b, (condition_expr(c) for c in condition["all"]))
    if "any" in condition:
        return reduce(lambda a, b: a | b, (condition_expr(c) for c in condition["any"]))
    code = condition["field"]
    for op in ("gte", "gt", "lte", "lt"):
        if op in condition:
            number = _number(code)
            bound = float(condition[op])
            test = {
                "gte": number >= bound,
                "gt": number > bound,
                "lte": number <= bound,
                "lt": number < bound,
            }[op]
            return test.fill_null(False)
    values = _values(code)
    if "filled" in condition:
        filled = values.list.len().fill_null(0) > 0
        return filled if condition["filled"] else ~filled
    listed = list(condition.get("in") or condition.get("not_in"))
    # "其他-具体类型" (a code list allowing other values) counts as 其他.
    hit = (
        values.list.eval(
            pl.element().is_in(listed)
            | (pl.element().str.starts_with("其他") & pl.lit("其他" in listed))
        )
        .list.any()
        .fill_null(False)
    )
    return hit if "in" in condition else ~hit


# --------------------------------------------------------------------------- sources


_REPAIRED = (
    "NOT EXISTS (SELECT 1 FROM {marks} m WHERE m.record_id = r.id AND m.kind = '{kind}' "
    "AND m.lifted_at IS NULL)"
)


def _record_where(as_of: dt.date, lower: dt.date | None, scope: SubjectFilter) -> tuple[str, list]:
    """What every counted record satisfies (module docstring), as SQL on alias r."""
    day = "COALESCE(r.decision_date, r.valid_from)"
    where = (
        f"r.category_id = %s AND r.status = '{RecordStatus.ACTIVE.value}' "
        f"AND r.subject_id IS NOT NULL AND (r.valid_to IS NULL OR r.valid_to >= %s) "
        f"AND {day} <= %s AND "
        + _REPAIRED.format(marks=_t(PublicityMark), kind=PublicityMark.Kind.REPAIRED.value)
    )
    params: list = [as_of, as_of]
    if lower is not None:
        where += f" AND {day} > %s"
        params.append(lower)
    narrow, extra = scope.sql("r.subject_id")
    return where + narrow, params + extra


def _read_records(
    cursor, scope, as_of, category_id: int, codes: list[str], lower, *, tier: bool
) -> pl.DataFrame:
    where, params = _record_where(as_of, lower, scope)
    cols = ["r.id", "r.subject_id", "COALESCE(r.decision_date, r.valid_from)"]
    schema = {"id": pl.Int64, "subject_id": pl.Int64, "day": pl.Date}
    join = ""
    if tier:
        cols.append("p.tier")
        schema["tier"] = pl.String
        join = f" LEFT JOIN {_t(Publicity)} p ON p.record_id = r.id"
    for code in codes:
        cols.append(json_text("r", code))
        schema[field_column(code)] = pl.String
    sql = f"SELECT {', '.join(cols)} FROM {_t(Record)} r{join} WHERE {where}"
    # Never fetched row by row: one subject may carry thousands of records (COPY costs a few
    # subjects no more than a fetch).
    return read_frame(cursor, sql, [category_id, *params], schema)


def _records_facts(cursor, scope, as_of, rules: list[Rule], categories: dict) -> list[pl.LazyFrame]:
    by_category: dict[str, list[Rule]] = defaultdict(list)
    for rule in rules:
        by_category[rule.source.category].append(rule)
    out = []
    for code, group in by_category.items():
        category_id = categories.get(code)
        if category_id is None:
            continue
        fields = sorted(set().union(*(r.fields() for r in group)))
        frame = _read_records(
            cursor,
            scope,
            as_of,
            category_id,
            fields,
            _lower_bound(group, as_of),
            tier=any(r.source.tiers for r in group),
        )
        if frame.height == 0:
            continue
        for rule in group:
            keep = _in_window(rule, as_of)
            if rule.source.tiers:
                keep = keep & pl.col("tier").is_in(list(rule.source.tiers)).fill_null(False)
            if rule.source.condition:
                keep = keep & condition_expr(rule.source.condition)
            points = _rule_points(rule)
            if isinstance(rule, Indicator) and rule.per_amount:
                fld, step, per = rule.per_amount
                points = points + (_number(fld).fill_null(0.0) / step).floor() * per
            same = None
            if isinstance(rule, Indicator) and rule.repeat and rule.repeat[1]:
                same = pl.col(field_column(rule.repeat[1])).fill_null("")
            out.append(
                frame.lazy().filter(keep).select(_fact_columns(rule, points, "record", same=same))
            )
    return out


def latest_grades(
    cursor, scope: SubjectFilter, as_of: dt.date, category_id: int, grade_field: str
) -> pl.DataFrame:
    """Per subject, the latest active record of a grade category on `as_of` (id, subject_id,
    day, grade, valid_to): the grade as the deciding authority gave it."""
    where, params = _record_where(as_of, None, scope)
    sql = (
        f"SELECT r.id, r.subject_id, COALESCE(r.decision_date, r.valid_from), "
        f"{json_text('r', grade_field)}, r.valid_to FROM {_t(Record)} r WHERE {where}"
    )
    frame = read_frame(
        cursor,
        sql,
        [category_id, *params],
        {
            "id": pl.Int64,
            "subject_id": pl.Int64,
            "day": pl.Date,
            "grade": pl.String,
            "valid_to": pl.Date,
        },
        small=scope.small,
    )
    return (
        frame.lazy()
        .filter(pl.col("grade").is_not_null() & (pl.col("grade").str.strip_chars() != ""))
        .with_columns(pl.col("grade").str.strip_chars())
        .sort(["subject_id", "day", "id"], descending=[False, True, True])
        .unique("subject_id", keep="first", maintain_order=True)
        .collect(engine=polars_engine(scope.small))
    )


def grade_fields() -> dict[str, tuple[int, str]]:
    """Category code → (category id, field code) of the categories carrying a grade decided by
    another authority (a field with role credit_grade)."""
    rows = Field.objects.filter(role=GRADE_ROLE).values_list(
        "category__code", "category_id", "code"
    )
    return {cat: (cid, code) for cat, cid, code in rows}


def _catalogue(cursor) -> tuple[dict[str, int], dict[str, tuple[int, str]]]:
    """Category code → id, and `grade_fields()`, in one query."""
    cursor.execute(
        f"SELECT c.code, c.id, f.code FROM {_t(Category)} c LEFT JOIN {_t(Field)} f "
        f"ON f.category_id = c.id AND f.role = %s ORDER BY c.id, f.id",
        [GRADE_ROLE],
    )
    categories: dict[str, int] = {}
    fields: dict[str, tuple[int, str]] = {}
    for code, pk, field in cursor.fetchall():
        categories[code] = pk
        if field is not None:
            fields[code] = (pk, field)
    return categories, fields


def _given_grade_facts(cursor, scope, as_of, rules: list[Rule], fields) -> list[pl.LazyFrame]:
    out = []
    for rule in rules:
        found = fields.get(rule.source.category)
        if found is None:
            continue
        frame = latest_grades(cursor, scope, as_of, *found).lazy().filter(_in_window(rule, as_of))
        if isinstance(rule, Indicator):
            table = dict(rule.points_by_grade)
            frame = frame.filter(pl.col("grade").is_in(list(table)))
            points = pl.col("grade").replace_strict(table, return_dtype=pl.Float64)
        else:
            points = pl.lit(0.0)
        out.append(frame.select(_fact_columns(rule, points, "record", value=pl.col("grade"))))
    return out


def _list_facts(cursor, scope, as_of, rules: list[Rule]) -> list[pl.LazyFrame]:
    codes = sorted({c for r in rules for c in r.source.list_types})
    kinds = sorted({k for r in rules for k in r.source.list_kinds})
    which, params = [], [as_of, as_of, as_of, True, as_of, as_of]
    if codes:
        which.append(f"lt.code IN ({', '.join(['%s'] * len(codes))})")
        params += codes
    if kinds:
        which.append(f"lt.kind IN ({', '.join(['%s'] * len(kinds))})")
        params += kinds
    narrow, extra = scope.sql("e.subject_id")
    sql = (
        f"SELECT e.id, e.subject_id, e.decided_on, lt.code, lt.kind "
        f"FROM {_t(ListEntry)} e JOIN {_t(ListType)} lt ON lt.id = e.list_type_id "
        f"WHERE e.status = '{EntryStatus.PUBLISHED.value}' AND e.valid_from <= %s "
        f"AND (e.valid_to IS NULL OR e.valid_to >= %s) AND e.decided_on <= %s "
        f"AND lt.active = %s AND (lt.effective_from IS NULL OR lt.effective_from <= %s) "
        f"AND (lt.effective_to IS NULL OR lt.effective_to >= %s) "
        f"AND ({' OR '.join(which)}){narrow}"
    )
    frame = read_frame(
        cursor,
        sql,
        params + extra,
        {
            "id": pl.Int64,
            "subject_id": pl.Int64,
            "day": pl.Date,
            "code": pl.String,
            "kind": pl.String,
        },
        small=scope.small,
    )
    out = []
    for rule in rules:
        src = rule.source
        hit = pl.col("code").is_in(list(src.list_types)) | pl.col("kind").is_in(
            list(src.list_kinds)
        )
        out.append(
            frame.lazy()
            .filter(hit & _in_window(rule, as_of))
            .select(_fact_columns(rule, _rule_points(rule), "entry"))
        )
    return out


def _commitment_facts(cursor, scope, as_of, rules: list[Rule]) -> list[pl.LazyFrame]:
    performances = sorted({p for r in rules for p in r.source.performance})
    narrow, extra = scope.sql("c.subject_id")
    day = "COALESCE(c.assessed_on, c.made_on)"
    sql = (
        f"SELECT c.id, c.subject_id, {day}, c.performance, c.commitment_type "
        f"FROM {_t(Commitment)} c WHERE c.withdrawn_at IS NULL "
        f"AND c.performance IN ({', '.join(['%s'] * len(performances))}) AND {day} <= %s{narrow}"
    )
    frame = read_frame(
        cursor,
        sql,
        [*performances, as_of, *extra],
        {
            "id": pl.Int64,
            "subject_id": pl.Int64,
            "day": pl.Date,
            "performance": pl.String,
            "commitment_type": pl.String,
        },
        small=scope.small,
    )
    out = []
    for rule in rules:
        src = rule.source
        keep = pl.col("performance").is_in(list(src.performance)) & _in_window(rule, as_of)
        if src.commitment_types:
            keep = keep & pl.col("commitment_type").is_in(list(src.commitment_types))
        out.append(
            frame.lazy().filter(keep).select(_fact_columns(rule, _rule_points(rule), "commitment"))
        )
    return out


def _age_facts(population: pl.DataFrame, as_of: dt.date, rules: list[Rule]) -> list[pl.LazyFrame]:
    est = pl.col("established_on")
    years = (
        pl.lit(as_of.year)
        - est.dt.year()
        - (
            (est.dt.month() > as_of.month)
            | ((est.dt.month() == as_of.month) & (est.dt.day() > as_of.day))
        ).cast(pl.Int32)
    )
    frame = (
        population.lazy()
        .filter(est.is_not_null() & (est <= as_of))
        .with_columns(years.alias("_years"), pl.col("subject_id").alias("id"), est.alias("day"))
    )
    out = []
    for rule in rules:
        if not isinstance(rule, Indicator) or not rule.steps:
            continue
        points = pl.lit(None, dtype=pl.Float64)
        for years_needed, pts in rule.steps:  # ascending: the last step reached wins
            points = pl.when(pl.col("_years") >= years_needed).then(pl.lit(pts)).otherwise(points)
        out.append(
            frame.with_columns(points.alias("_points"))
            .filter(pl.col("_points").is_not_null())
            .select(_fact_columns(rule, pl.col("_points"), "subject"))
        )
    return out


# --------------------------------------------------------------------------- entry points


def read_population(cursor, kinds, defn: Definition, scope: SubjectFilter) -> pl.DataFrame:
    """The subjects the version evaluates: of the scorecard's kinds and, for a version with a
    population, with an active record of its categories or a published entry of its lists."""
    narrow, params = scope.sql("s.id")
    sql = (
        f"SELECT s.id, s.established_on FROM {_t(Subject)} s "
        f"WHERE s.kind IN ({', '.join(['%s'] * len(kinds))}){narrow}"
    )
    params = [*kinds, *params]
    if defn.population_categories or defn.population_list_types:
        parts = []
        if defn.population_categories:
            codes = list(defn.population_categories)
            parts.append(
                f"EXISTS (SELECT 1 FROM {_t(Record)} r WHERE r.subject_id = s.id "
                f"AND r.category_id IN (SELECT c.id FROM {_t(Category)} c "
                f"WHERE c.code IN ({', '.join(['%s'] * len(codes))})) "
                f"AND r.status = '{RecordStatus.ACTIVE.value}')"
            )
            params += codes
        if defn.population_list_types:
            codes = list(defn.population_list_types)
            parts.append(
                f"EXISTS (SELECT 1 FROM {_t(ListEntry)} e JOIN {_t(ListType)} lt "
                f"ON lt.id = e.list_type_id WHERE e.subject_id = s.id "
                f"AND lt.code IN ({', '.join(['%s'] * len(codes))}) "
                f"AND e.status = '{EntryStatus.PUBLISHED.value}')"
            )
            params += codes
        sql += f" AND ({' OR '.join(parts)})"
    return read_frame(cursor, sql, params, POPULATION_SCHEMA, small=scope.small)


def read_facts(
    cursor, defn: Definition, scope: SubjectFilter, as_of: dt.date, population: pl.DataFrame
) -> pl.DataFrame:
    """Every counted fact of the version's indicators and downgrade rules, for the subjects of
    `population` (module docstring)."""
    by_type: dict[str, list[Rule]] = defaultdict(list)
    for rule in defn.rules():
        by_type[rule.source.type].append(rule)
    categories, fields = (
        _catalogue(cursor) if by_type["records"] or by_type["given_grade"] else ({}, {})
    )
    parts: list[pl.LazyFrame] = []
    if by_type["records"]:
        parts += _records_facts(cursor, scope, as_of, by_type["records"], categories)
    if by_type["given_grade"]:
        parts += _given_grade_facts(cursor, scope, as_of, by_type["given_grade"], fields)
    if by_type["list_entries"]:
        parts += _list_facts(cursor, scope, as_of, by_type["list_entries"])
    if by_type["commitments"]:
        parts += _commitment_facts(cursor, scope, as_of, by_type["commitments"])
    if by_type["registration_age"]:
        parts += _age_facts(population, as_of, by_type["registration_age"])
    if not parts:
        return empty_facts()
    facts = pl.concat(parts, how="vertical")
    facts = facts.join(population.lazy().select("subject_id"), on="subject_id", how="semi")
    # One chunk per column: the streaming engine leaves many small ones, which slow every step
    # of scoring after it.
    return facts.collect(engine=polars_engine(scope.small)).rechunk()
