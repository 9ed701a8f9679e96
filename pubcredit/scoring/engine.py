"""The scoring engine: every subject of a scorecard version, or a set of them, in one set-based
pass.

`compute(version, subject_ids=None, as_of=None)`:

1. the population (subjects of the scorecard's kinds, narrowed by the version's population and
   by `subject_ids` for an incremental computation) and its facts (`facts.read_facts`): one
   frame (subject_id, rule, day, points, source_type, source_id, …), one query per source;
2. in polars: repeats (the 2nd and later facts of a repeat rule count `multiplier` times),
   each indicator's total held within ±cap, the sum on the base points, the score's bounds,
   the grade of the bands, the direct downgrades (the worst grade cap in force), and each
   subject's contributions as JSON text — one row per subject, no Python loop per subject;
3. in SQL, under a per-scorecard lock: the results are staged in a TEMP table and compared with
   the current rows; only subjects whose version, score, grade or contributions changed get a
   new row (the old one stops being current: history), subjects no longer evaluated lose their
   current row, and a current row written by a later computation (an incremental one that
   committed while a full one was reading) is left alone.

Contributions are stored as [{"indicator", "points", "source"}] (+ "value" for a grade read as
given, + "grade_cap" for a downgrade). Sources: "record:<id>", "entry:<id>",
"commitment:<id>", "subject:<id>" (registration age), "cap" (what an indicator's cap took
off), "bounds" (what the score's bounds took off). Their points add up to score − base points.

Returns counts and timings. Runs in the caller's transaction (or its own).
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Sequence

import polars as pl
from django.db import connection, transaction
from django.utils import timezone

from pubcredit.scoring.definition import Definition, Indicator, parse_definition
from pubcredit.scoring.facts import read_facts, read_population
from pubcredit.scoring.frames import SubjectFilter, is_pg
from pubcredit.scoring.models import ScorecardVersion, ScoreResult

# pg_advisory_xact_lock(LOCK_CLASS, scorecard id): one writer of a scorecard's results at a time.
LOCK_CLASS = 0x53434F52  # "SCOR"
STAGE = "scoring_stage"
CHANGED = "scoring_changed"
BOUNDS = "_bounds"

RESULT_SCHEMA = {
    "subject_id": pl.Int64,
    "score": pl.Float64,
    "grade": pl.String,
    "points_grade": pl.String,
    "contributions": pl.String,
}


# --------------------------------------------------------------------------- scoring (polars)


def _rules_frame(defn: Definition) -> pl.DataFrame:
    rows = []
    for n, rule in enumerate(defn.rules()):
        is_indicator = isinstance(rule, Indicator)
        rows.append(
            {
                "rule": rule.code,
                "_order": n,
                "_cap": rule.cap if is_indicator else None,
                "_mult": rule.repeat[0] if is_indicator and rule.repeat else None,
                "_cap_grade": None if is_indicator else rule.grade,
            }
        )
    return pl.DataFrame(
        rows,
        schema={
            "rule": pl.String,
            "_order": pl.Int64,
            "_cap": pl.Float64,
            "_mult": pl.Float64,
            "_cap_grade": pl.String,
        },
    )


def _grade_of(score: pl.Expr, defn: Definition) -> pl.Expr:
    *graded, last = defn.bands
    expr = None
    for band in graded:
        expr = (pl.when if expr is None else expr.when)(score >= band.min).then(pl.lit(band.grade))
    return expr.otherwise(pl.lit(last.grade)) if expr is not None else pl.lit(last.grade)


def _number_text(points: pl.Expr) -> pl.Expr:
    """Points as JSON numbers: -10, not -10.0; else two decimals at most."""
    rounded = points.round(2)
    return (
        pl.when(rounded == rounded.round(0))
        .then(rounded.cast(pl.Int64).cast(pl.String))
        .otherwise(rounded.cast(pl.String))
    )


def _json_strings(values) -> dict[str, str]:
    return {v: json.dumps(v, ensure_ascii=False) for v in values if v is not None}


def score(defn: Definition, population: pl.DataFrame, facts: pl.DataFrame) -> pl.DataFrame:
    """One row per subject of `population`: score, grade, points_grade, contributions (JSON
    text). Pure polars (module docstring, step 2)."""
    rules = _rules_frame(defn)
    facts = facts.join(rules, on="rule", how="inner")
    # A fact worth nothing (9 hours where each full 10 count) says nothing, unless it shows
    # a grade read as given (纳税信用 M: 0 points).
    ind = facts.filter(
        pl.col("_cap_grade").is_null() & ((pl.col("points") != 0) | pl.col("value").is_not_null())
    )
    dg = facts.filter(pl.col("_cap_grade").is_not_null())

    # Repeats: the n-th fact (n ≥ 2, by date) of the same rule and `same` value.
    ind = ind.sort(["subject_id", "rule", "same", "day", "source_id"], nulls_last=True)
    ind = ind.with_columns(pl.int_range(pl.len()).over(["subject_id", "rule", "same"]).alias("_n"))
    ind = ind.with_columns(
        pl.when(pl.col("_mult").is_not_null() & (pl.col("_n") > 0))
        .then(pl.col("points") * pl.col("_mult"))
        .otherwise(pl.col("points"))
        .alias("points")
    )

    # Caps per indicator, then the sum on the base points and the bounds.
    totals = ind.group_by(["subject_id", "rule"]).agg(
        pl.col("points").sum().alias("_total"),
        pl.col("_cap").first(),
        pl.col("_order").first(),
    )
    totals = totals.with_columns(
        pl.when(pl.col("_cap").is_not_null())
        .then(pl.col("_total").clip(-pl.col("_cap"), pl.col("_cap")))
        .otherwise(pl.col("_total"))
        .alias("_capped")
    )
    capped = totals.filter((pl.col("_capped") - pl.col("_total")).abs() > 1e-9).select(
        "subject_id",
        "rule",
        (pl.col("_capped") - pl.col("_total")).alias("points"),
        pl.lit("cap").alias("_source"),
        "_order",
    )
    sums = totals.group_by("subject_id").agg(pl.col("_capped").sum().alias("_sum"))
    raw = pl.lit(defn.base_points) + pl.col("_sum").fill_null(0.0)
    bounded = raw
    if defn.min_score is not None:
        bounded = pl.max_horizontal(bounded, pl.lit(defn.min_score))
    if defn.max_score is not None:
        bounded = pl.min_horizontal(bounded, pl.lit(defn.max_score))
    results = population.select("subject_id").join(sums, on="subject_id", how="left")
    results = results.with_columns(
        raw.round(2).alias("_raw"), bounded.round(2).alias("score")
    ).with_columns(_grade_of(pl.col("score"), defn).alias("points_grade"))
    bounds = results.filter(pl.col("score") != pl.col("_raw")).select(
        "subject_id",
        pl.lit(BOUNDS).alias("rule"),
        (pl.col("score") - pl.col("_raw")).alias("points"),
        pl.lit("bounds").alias("_source"),
        pl.lit(len(defn.rules())).cast(pl.Int64).alias("_order"),
    )

    # Direct downgrades: the worst grade cap in force.
    rank = {g: n for n, g in enumerate(defn.grades)}
    worst = dg.group_by("subject_id").agg(
        pl.col("_cap_grade").replace_strict(rank, return_dtype=pl.Int64).max().alias("_cap_rank")
    )
    results = results.join(worst, on="subject_id", how="left").with_columns(
        pl.max_horizontal(
            pl.col("points_grade").replace_strict(rank, return_dtype=pl.Int64),
            pl.col("_cap_rank"),
        ).alias("_rank")
    )
    results = results.with_columns(
        pl.col("_rank")
        .replace_strict({n: g for g, n in rank.items()}, return_dtype=pl.String)
        .alias("grade")
    )

    # Contributions, in the definition's order, latest fact first.
    fact_lines = pl.concat(
        [
            ind.select(
                "subject_id",
                "rule",
                "points",
                pl.concat_str(
                    [pl.col("source_type"), pl.lit(":"), pl.col("source_id").cast(pl.String)]
                ).alias("_source"),
                "_order",
                "day",
                "source_id",
                "value",
                pl.lit(None, dtype=pl.String).alias("_cap_grade"),
            ),
            dg.select(
                "subject_id",
                "rule",
                pl.lit(0.0).alias("points"),
                pl.concat_str(
                    [pl.col("source_type"), pl.lit(":"), pl.col("source_id").cast(pl.String)]
                ).alias("_source"),
                "_order",
                "day",
                "source_id",
                "value",
                "_cap_grade",
            ),
            *(
                extra.with_columns(
                    pl.lit(None, dtype=pl.Date).alias("day"),
                    pl.lit(None, dtype=pl.Int64).alias("source_id"),
                    pl.lit(None, dtype=pl.String).alias("value"),
                    pl.lit(None, dtype=pl.String).alias("_cap_grade"),
                )
                for extra in (capped, bounds)
            ),
        ],
        how="vertical_relaxed",
    )
    codes = _json_strings([*(r.code for r in defn.rules()), BOUNDS])
    values = _json_strings(fact_lines.get_column("value").unique().to_list())
    grades = _json_strings(defn.grades)
    line = pl.concat_str(
        [
            pl.lit('{"indicator":'),
            pl.col("rule").replace_strict(codes, return_dtype=pl.String),
            pl.lit(',"points":'),
            _number_text(pl.col("points")),
            pl.lit(',"source":"'),
            pl.col("_source"),
            pl.lit('"'),
            pl.when(pl.col("value").is_not_null())
            .then(
                pl.lit(',"value":')
                + pl.col("value").replace_strict(values, default="null", return_dtype=pl.String)
            )
            .otherwise(pl.lit("")),
            pl.when(pl.col("_cap_grade").is_not_null())
            .then(
                pl.lit(',"grade_cap":')
                + pl.col("_cap_grade").replace_strict(grades, return_dtype=pl.String)
            )
            .otherwise(pl.lit("")),
            pl.lit("}"),
        ]
    )
    lines = (
        fact_lines.sort(
            ["subject_id", "_order", "day", "source_id"],
            descending=[False, False, True, False],
            nulls_last=True,
        )
        .select("subject_id", line.alias("_line"))
        .group_by("subject_id", maintain_order=True)
        .agg(pl.col("_line").str.join(","))
    )
    results = results.join(lines, on="subject_id", how="left").with_columns(
        pl.concat_str([pl.lit("["), pl.col("_line").fill_null(""), pl.lit("]")]).alias(
            "contributions"
        )
    )
    return results.select(list(RESULT_SCHEMA))


# --------------------------------------------------------------------------- persisting (SQL)


def _q(name: str) -> str:
    return connection.ops.quote_name(name)


def _stage(cursor, results: pl.DataFrame) -> None:
    from pubcredit.core.staging import drop_table, write_frame

    drop_table(cursor, STAGE)
    if is_pg():
        ddl = (
            "subject_id bigint PRIMARY KEY, score numeric(9, 2), grade text, "
            "points_grade text, contributions jsonb"
        )
    else:
        ddl = (
            "subject_id INTEGER PRIMARY KEY, score decimal, grade TEXT, points_grade TEXT, "
            "contributions TEXT"
        )
    cursor.execute(f"CREATE TEMP TABLE {STAGE} ({ddl})")
    write_frame(cursor, STAGE, list(RESULT_SCHEMA), results)
    if is_pg():
        cursor.execute(f"ANALYZE {STAGE}")


def _persist(
    cursor,
    version: ScorecardVersion,
    scope: SubjectFilter,
    results: pl.DataFrame,
    *,
    as_of: dt.date,
    now: dt.datetime,
    started: dt.datetime,
) -> dict[str, int]:
    """Step 3 of the module docstring. Returns {"created", "retired", "unchanged"}."""
    from pubcredit.core.staging import drop_table

    table = _q(ScoreResult._meta.db_table)
    ops = connection.ops
    ts = ops.adapt_datetimefield_value(now)
    since = ops.adapt_datetimefield_value(started)
    card = version.scorecard_id
    if is_pg():
        cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [LOCK_CLASS, card])
    _stage(cursor, results)
    drop_table(cursor, CHANGED)
    cursor.execute(
        f"""CREATE TEMP TABLE {CHANGED} AS
            SELECT n.subject_id, o.id AS old_id
              FROM {STAGE} n
              LEFT JOIN {table} o
                ON o.subject_id = n.subject_id AND o.scorecard_id = %s AND o.current = %s
             WHERE o.id IS NULL
                OR (o.computed_at < %s
                    AND (o.version_id <> %s OR o.score <> n.score OR o.grade <> n.grade
                         OR o.points_grade <> n.points_grade
                         OR o.contributions <> n.contributions))""",
        [card, True, since, version.pk],
    )
    cursor.execute(
        f"UPDATE {table} SET current = %s WHERE id IN "
        f"(SELECT old_id FROM {CHANGED} WHERE old_id IS NOT NULL)",
        [False],
    )
    retired = max(cursor.rowcount, 0)
    # Subjects of the scope no longer evaluated (their kind or the population changed).
    narrow, params = scope.sql(f"{table}.subject_id")
    cursor.execute(
        f"""UPDATE {table} SET current = %s
             WHERE scorecard_id = %s AND current = %s AND computed_at < %s{narrow}
               AND NOT EXISTS (SELECT 1 FROM {STAGE} n WHERE n.subject_id = {table}.subject_id)""",
        [False, card, True, since, *params],
    )
    dropped = max(cursor.rowcount, 0)
    cursor.execute(
        f"""INSERT INTO {table}
                (subject_id, scorecard_id, version_id, score, grade, points_grade, as_of,
                 computed_at, contributions, current)
            SELECT n.subject_id, %s, %s, n.score, n.grade, n.points_grade, %s, %s,
                   n.contributions, %s
              FROM {STAGE} n JOIN {CHANGED} c ON c.subject_id = n.subject_id""",
        [card, version.pk, ops.adapt_datefield_value(as_of), ts, True],
    )
    created = max(cursor.rowcount, 0)
    if created:
        cursor.execute(
            f"UPDATE {_q(ScorecardVersion._meta.db_table)} SET in_use_since = %s "
            f"WHERE id = %s AND in_use_since IS NULL",
            [ts, version.pk],
        )
    drop_table(cursor, CHANGED)
    drop_table(cursor, STAGE)
    return {
        "created": created,
        "retired": retired + dropped,
        "unchanged": results.height - created,
    }


def compute(
    version: ScorecardVersion,
    *,
    subject_ids: Sequence[int] | None = None,
    as_of: dt.date | None = None,
) -> dict:
    """Evaluate the subjects of `version` (all of them, or those of `subject_ids` that it
    covers) on `as_of` (default: today in Asia/Shanghai) and write what changed (module
    docstring). Returns {"scorecard", "version", "subjects", "facts", "created", "retired",
    "unchanged", "timings", "seconds"}."""
    clock = t0 = time.perf_counter()
    timings: dict[str, float] = {}

    def lap(name: str) -> None:
        nonlocal clock
        now_ = time.perf_counter()
        timings[name] = round(now_ - clock, 3)
        clock = now_

    started = timezone.now()
    day = as_of or timezone.localdate()
    card = version.scorecard
    defn = parse_definition(version.definition, base_points=version.base_points)
    with (
        transaction.atomic(),
        connection.cursor() as cursor,
        SubjectFilter(cursor, subject_ids) as scope,
    ):
        population = read_population(cursor, card.subject_kinds, defn, scope)
        lap("population")
        facts = read_facts(cursor, defn, scope, day, population)
        lap("facts")
        results = score(defn, population, facts)
        lap("score")
        counts = _persist(
            cursor, version, scope, results, as_of=day, now=timezone.now(), started=started
        )
        lap("write")
    return {
        "scorecard": card.code,
        "version": version.version,
        "subjects": results.height,
        "facts": facts.height,
        **counts,
        "timings": timings,
        "seconds": round(time.perf_counter() - t0, 3),
    }
