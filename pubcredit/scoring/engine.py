"""The scoring engine: every subject of a scorecard version, or a set of them, in one set-based
pass.

`compute(version, subject_ids=None, as_of=None)`:

1. the population (subjects of the scorecard's kinds, narrowed by the version's population and
   by `subject_ids` for an incremental computation) and its facts (`facts.read_facts`): one
   frame (subject_id, rule, day, points, source_type, source_id, …), one query per source;
2. in polars: repeats (the 2nd and later facts of a repeat rule count `multiplier` times),
   each indicator's total held within ±cap, the sum on the base points, the score's bounds,
   the grade of the bands, the direct downgrades (the worst grade cap in force), and each
   subject's contributions as JSON text — one row per subject, no Python loop per subject; a
   computation of many facts scores its subjects in slices of about SCORE_SLICE_FACTS facts
   (the same results in a fraction of the memory: a full computation of a million subjects
   stays well under 2 GB);
3. in SQL: the results are staged in a TEMP table (a few: a VALUES list in the statements, no
   stage) and compared with the current rows; only subjects whose version, score, grade or
   contributions changed get a new row (the old one stops being current: history), and
   subjects no longer evaluated lose their current row. Before comparing a large stage the
   planner's statistics are refreshed (core.staging.analyze), and a first computation of a
   scorecard inserts without comparing (a results table seen empty is planned as a loop).

An incremental computation of one subject (the records flow) is about twenty statements and a
few milliseconds of polars per scorecard (benchmarks/scoring.py measures both paths beside a
plain SQL floor).

Computations of one scorecard are serialised (PostgreSQL: an advisory lock on the scorecard,
taken before the facts are read and held to the end of the transaction), so each reads what
every earlier one committed and none overwrites a newer result with older facts. An incremental
computation in the records flow thus waits for a full one running at the same time.

Contributions are stored as [{"indicator", "points", "source"}] (+ "value" for a grade read as
given, + "grade_cap" for a downgrade). Sources: "record:<id>", "entry:<id>",
"commitment:<id>", "subject:<id>" (registration age), "cap" (what an indicator's cap took
off), "bounds" (what the score's bounds took off). Their points add up to score − base points.

Returns counts and timings. Runs in the caller's transaction (or its own).
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Sequence

import polars as pl
from django.db import connection, transaction
from django.utils import timezone

from pubcredit.scoring.definition import Definition, Indicator, parse_definition
from pubcredit.scoring.facts import FACT_SCHEMA, read_facts, read_population
from pubcredit.scoring.frames import SubjectFilter, is_pg
from pubcredit.scoring.models import ScorecardVersion, ScoreResult

# pg_advisory_xact_lock(LOCK_CLASS, scorecard id): one writer of a scorecard's results at a time.
LOCK_CLASS = 0x53434F52  # "SCOR"
STAGE = "scoring_stage"
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


def _json_literal(expr: pl.Expr) -> pl.Expr:
    """A string column as JSON string literals ("A" → \"A\", escaped as JSON wants)."""
    return (
        pl.struct(expr.alias("v"))
        .struct.json_encode()
        .str.strip_prefix('{"v":')
        .str.strip_suffix("}")
    )


def score(defn: Definition, population: pl.DataFrame, facts: pl.DataFrame) -> pl.DataFrame:
    """One row per subject of `population`: score, grade, points_grade, contributions (JSON
    text). Pure polars, one lazy plan (module docstring, step 2)."""
    rules = _rules_frame(defn).lazy()
    facts = facts.lazy().join(rules, on="rule", how="inner")
    # A fact worth nothing (9 hours where each full 10 count) says nothing, unless it shows
    # a grade read as given (纳税信用 M: 0 points).
    ind = facts.filter(
        pl.col("_cap_grade").is_null() & ((pl.col("points") != 0) | pl.col("value").is_not_null())
    )
    dg = facts.filter(pl.col("_cap_grade").is_not_null())

    # Repeats: the n-th fact (n ≥ 2, by date) of the same rule and `same` value.
    ind = (
        ind.sort(["subject_id", "rule", "same", "day", "source_id"], nulls_last=True)
        .with_columns(pl.int_range(pl.len()).over(["subject_id", "rule", "same"]).alias("_n"))
        .with_columns(
            pl.when(pl.col("_mult").is_not_null() & (pl.col("_n") > 0))
            .then(pl.col("points") * pl.col("_mult"))
            .otherwise(pl.col("points"))
            .alias("points")
        )
    )

    # Caps per indicator, then the sum on the base points and the bounds.
    totals = (
        ind.group_by(["subject_id", "rule"])
        .agg(
            pl.col("points").sum().alias("_total"),
            pl.col("_cap").first(),
            pl.col("_order").first(),
        )
        .with_columns(
            pl.when(pl.col("_cap").is_not_null())
            .then(pl.col("_total").clip(-pl.col("_cap"), pl.col("_cap")))
            .otherwise(pl.col("_total"))
            .alias("_capped")
        )
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
    results = (
        population.lazy()
        .select("subject_id")
        .join(sums, on="subject_id", how="left")
        .with_columns(raw.round(2).alias("_raw"), bounded.round(2).alias("score"))
        .with_columns(_grade_of(pl.col("score"), defn).alias("points_grade"))
    )
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
    results = (
        results.join(worst, on="subject_id", how="left")
        .with_columns(
            pl.max_horizontal(
                pl.col("points_grade").replace_strict(rank, return_dtype=pl.Int64),
                pl.col("_cap_rank"),
            ).alias("_rank")
        )
        .with_columns(
            pl.col("_rank")
            .replace_strict({n: g for g, n in rank.items()}, return_dtype=pl.String)
            .alias("grade")
        )
    )

    # Contributions, in the definition's order, latest fact first.
    source = pl.concat_str(
        [pl.col("source_type"), pl.lit(":"), pl.col("source_id").cast(pl.String)]
    ).alias("_source")
    fact_lines = pl.concat(
        [
            ind.select(
                "subject_id",
                "rule",
                "points",
                source,
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
                source,
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
    line = pl.concat_str(
        [
            pl.lit('{"indicator":'),
            _json_literal(pl.col("rule")),
            pl.lit(',"points":'),
            _number_text(pl.col("points")),
            pl.lit(',"source":"'),
            pl.col("_source"),
            pl.lit('"'),
            pl.when(pl.col("value").is_not_null())
            .then(pl.lit(',"value":') + _json_literal(pl.col("value")))
            .otherwise(pl.lit("")),
            pl.when(pl.col("_cap_grade").is_not_null())
            .then(pl.lit(',"grade_cap":') + _json_literal(pl.col("_cap_grade")))
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
    return (
        results.join(lines, on="subject_id", how="left")
        .with_columns(
            pl.concat_str([pl.lit("["), pl.col("_line").fill_null(""), pl.lit("]")]).alias(
                "contributions"
            )
        )
        .select(list(RESULT_SCHEMA))
        # In memory: its frames are bounded (score_sliced), and polars' streaming engine costs
        # a full computation twice the time and a single subject its set-up.
        .collect(engine="in-memory")
    )


# A computation with more facts than this scores its subjects in slices of about this many
# facts (by subject id): the same results (every step of `score` is per subject), a fraction
# of the memory (the contributions' text of every fact is built one slice at a time).
SCORE_SLICE_FACTS = 500_000


def score_sliced(defn: Definition, population: pl.DataFrame, facts: pl.DataFrame) -> pl.DataFrame:
    """`score` of the population, in slices of about SCORE_SLICE_FACTS facts (each subject
    weighs its facts + 1)."""
    if facts.height + population.height <= SCORE_SLICE_FACTS:
        return score(defn, population, facts)
    weights = (
        population.select("subject_id")
        .join(facts.group_by("subject_id").len(), on="subject_id", how="left")
        .sort("subject_id")
        .select("subject_id", (pl.col("len").fill_null(0) + 1).cum_sum().alias("_upto"))
    )
    edges = (
        weights.group_by((pl.col("_upto") - 1) // SCORE_SLICE_FACTS)
        .agg(pl.col("subject_id").min())
        .get_column("subject_id")
        .sort()
        .to_list()
    )
    parts = []
    for n, low in enumerate(edges):
        keep = pl.col("subject_id") >= low
        if n + 1 < len(edges):
            keep = keep & (pl.col("subject_id") < edges[n + 1])
        parts.append(score(defn, population.filter(keep), facts.filter(keep)))
    return pl.concat(parts, how="vertical")


# --------------------------------------------------------------------------- persisting (SQL)


def _q(name: str) -> str:
    return connection.ops.quote_name(name)


# Up to this many results (a subject or a few changed) with contributions of up to this many
# characters in all are compared from a VALUES list written into the statements themselves: no
# stage, so no DDL, COPY or clean-up. More are staged.
INLINE_ROWS = 50
INLINE_CHARS = 65_536
# A stage of at most this many rows is emptied and kept for the session's next computation
# (no DDL for an incremental one); a larger one is dropped, so that its size never misleads the
# planner about a small one.
KEEP_STAGE_ROWS = 1000
STAGE_BATCH = 100_000


def _stage(cursor, results: pl.DataFrame) -> None:
    from pubcredit.core.staging import analyze, write_frame

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
    cursor.execute(f"CREATE TEMP TABLE IF NOT EXISTS {STAGE} ({ddl})")
    for offset in range(0, results.height, STAGE_BATCH):  # the COPY text of a batch at a time
        write_frame(cursor, STAGE, list(RESULT_SCHEMA), results.slice(offset, STAGE_BATCH))
    if results.height > KEEP_STAGE_ROWS:
        # The planner: join the stage to the results by hash, not by a loop over a results
        # table it believes empty (analysed before the first full computation filled it).
        analyze(cursor, STAGE, _q(ScoreResult._meta.db_table))


def _unstage(cursor, rows: int) -> None:
    from pubcredit.core.staging import drop_table

    if rows > KEEP_STAGE_ROWS:
        drop_table(cursor, STAGE)
    else:
        cursor.execute(f"DELETE FROM {STAGE}")


def _inline(results: pl.DataFrame) -> tuple[str, list]:
    """A few results as a derived table with the stage's columns and types (VALUES names its
    columns column1…), and its parameters."""
    if is_pg():
        row = (
            "(CAST(%s AS bigint), CAST(%s AS numeric(9, 2)), CAST(%s AS text), "
            "CAST(%s AS text), CAST(%s AS jsonb))"
        )
    else:
        row = "(%s, %s, %s, %s, %s)"
    columns = ", ".join(f"column{n} AS {c}" for n, c in enumerate(RESULT_SCHEMA, 1))
    values = ", ".join([row] * results.height)
    params = [v for r in results.select(list(RESULT_SCHEMA)).iter_rows() for v in r]
    return f"(SELECT {columns} FROM (VALUES {values}) AS v)", params


def _persist(
    cursor,
    version: ScorecardVersion,
    scope: SubjectFilter,
    results: pl.DataFrame,
    *,
    as_of: dt.date,
    now: dt.datetime,
) -> dict[str, int]:
    """Step 3 of the module docstring, in three statements over the results (staged in a TEMP
    table, or a VALUES list for a few): retire the current rows that differ, retire those of
    subjects no longer evaluated, insert a row for every result left without a current one.
    Returns {"created", "retired", "unchanged"}."""
    table = _q(ScoreResult._meta.db_table)
    ops = connection.ops
    ts = ops.adapt_datetimefield_value(now)
    card = version.scorecard_id
    staged = (
        results.height > INLINE_ROWS
        or results.get_column("contributions").str.len_chars().sum() > INLINE_CHARS
    )
    if staged:
        _stage(cursor, results)
        source = (STAGE, [])
    else:
        source = _inline(results)
    name, values = source
    # The scope's own filter lets an incremental computation find its rows by index.
    narrow, params = scope.sql("o.subject_id")
    cursor.execute(
        f"""UPDATE {table} SET current = %s WHERE id IN (
                SELECT o.id FROM {table} o JOIN {name} n ON n.subject_id = o.subject_id
                 WHERE o.scorecard_id = %s AND o.current = %s{narrow}
                   AND (o.version_id <> %s OR o.score <> n.score OR o.grade <> n.grade
                        OR o.points_grade <> n.points_grade
                        OR o.contributions <> n.contributions))""",
        [False, *values, card, True, *params, version.pk],
    )
    retired = max(cursor.rowcount, 0)
    ids = None if staged else results.get_column("subject_id").to_list()
    retired += _retire_missing(cursor, card, scope, source=source, ids=ids)
    narrow, params = scope.sql("o.subject_id")
    anti = (
        f" WHERE NOT EXISTS (SELECT 1 FROM {table} o WHERE o.subject_id = n.subject_id"
        f" AND o.scorecard_id = %s AND o.current = %s{narrow})"
    )
    anti_params = [card, True, *params]
    if staged and not _has_current(cursor, card):
        # Nothing to keep (a first computation): a plain INSERT. The anti-join would be
        # planned against a results table seen empty, as a loop that scans the table being
        # filled once per staged row.
        anti, anti_params = "", []
    cursor.execute(
        f"""INSERT INTO {table}
                (subject_id, scorecard_id, version_id, score, grade, points_grade, as_of,
                 computed_at, contributions, current)
            SELECT n.subject_id, %s, %s, n.score, n.grade, n.points_grade, %s, %s,
                   n.contributions, %s
              FROM {name} n{anti}""",
        [card, version.pk, ops.adapt_datefield_value(as_of), ts, True, *values, *anti_params],
    )
    created = max(cursor.rowcount, 0)
    if created and version.in_use_since is None:
        cursor.execute(
            f"UPDATE {_q(ScorecardVersion._meta.db_table)} SET in_use_since = %s "
            f"WHERE id = %s AND in_use_since IS NULL",
            [ts, version.pk],
        )
    if staged:
        _unstage(cursor, results.height)
    return {"created": created, "retired": retired, "unchanged": results.height - created}


def _has_current(cursor, card: int) -> bool:
    cursor.execute(
        f"SELECT 1 FROM {_q(ScoreResult._meta.db_table)} WHERE scorecard_id = %s "
        f"AND current = %s LIMIT 1",
        [card, True],
    )
    return cursor.fetchone() is not None


def _retire_missing(
    cursor,
    card: int,
    scope: SubjectFilter,
    *,
    source: tuple[str, list] | None = None,
    ids: list[int] | None = None,
) -> int:
    """The current rows of the scope's subjects that are not among the results — `ids` (a few),
    or `source` (the stage: see _persist), or none — stop being current (no longer evaluated:
    their kind or the population changed). Returns how many."""
    table = _q(ScoreResult._meta.db_table)
    narrow, params = scope.sql(f"{table}.subject_id")
    name, values = source or ("", [])
    if ids:
        missing = f" AND {table}.subject_id NOT IN ({', '.join(['%s'] * len(ids))})"
        values = ids
    elif name:
        missing = (
            f" AND NOT EXISTS (SELECT 1 FROM {name} n WHERE n.subject_id = {table}.subject_id)"
        )
    else:
        missing = ""
    cursor.execute(
        f"UPDATE {table} SET current = %s WHERE scorecard_id = %s AND current = %s"
        f"{narrow}{missing}",
        [False, card, True, *params, *values],
    )
    return max(cursor.rowcount, 0)


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

    day = as_of or timezone.localdate()
    card = version.scorecard
    defn = parse_definition(version.definition, base_points=version.base_points)
    with (
        # In the caller's transaction no savepoint of its own (two statements fewer for each
        # scorecard of an incremental computation): an error rolls the caller back anyway.
        transaction.atomic(savepoint=False),
        connection.cursor() as cursor,
        SubjectFilter(cursor, subject_ids) as scope,
    ):
        if is_pg():
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [LOCK_CLASS, card.pk])
        lap("lock")
        population = read_population(cursor, card.subject_kinds, defn, scope)
        lap("population")
        if population.height == 0:
            facts = pl.DataFrame(schema=FACT_SCHEMA)
            results = pl.DataFrame(schema=RESULT_SCHEMA)
        elif scope.everyone and (defn.population_categories or defn.population_list_types):
            # A sector scorecard: read the facts of its population only, not of everyone.
            ids = population.get_column("subject_id").to_list()
            with SubjectFilter(cursor, ids) as narrowed:
                facts = read_facts(cursor, defn, narrowed, day, population)
        else:
            facts = read_facts(cursor, defn, scope, day, population)
        lap("facts")
        facts_read = facts.height
        if population.height:
            results = score_sliced(defn, population, facts)
        del facts, population  # what the write needs is in the results
        lap("score")
        if results.height:
            counts = _persist(cursor, version, scope, results, as_of=day, now=timezone.now())
        else:
            retired = _retire_missing(cursor, version.scorecard_id, scope)
            counts = {"created": 0, "retired": retired, "unchanged": 0}
        lap("write")
    return {
        "scorecard": card.code,
        "version": version.version,
        "subjects": results.height,
        "facts": facts_read,
        **counts,
        "timings": timings,
        "seconds": round(time.perf_counter() - t0, 3),
    }
