"""Benchmark: the credit evaluation engine (issue 17) on a city-sized PostgreSQL database — a full
recompute of every subject and single-subject recomputes after a change — each beside a plain SQL
aggregation of the same indicators (the floor), measured in the same run.

    .venv/bin/python benchmarks/scoring.py              # 1,000,000 subjects, 5,000,000 records
    .venv/bin/python benchmarks/scoring.py --reuse           # the loaded database, measure again
    .venv/bin/python benchmarks/scoring.py --subjects 100000 --records 500000 --singles 50
    .venv/bin/python benchmarks/scoring.py --reuse --database-url postgres://…/pubcredit_bench

Steps:
1. the data set: benchmarks/bulletins_data.py's city (the register, a year of submissions and
   their records, publicity with tiers, list entries, commitments, grades given by other
   authorities, sector records: `bulletins_data.build`), skipped with `--reuse` when the
   database holds it; on a data set built before the scorecards' inputs were part of it, they
   are added (`bulletins_data.write_scoring_inputs`); the shipped scorecards imported when none
   are;
2. the full recompute, in a child process of its own (its peak RSS is the computation's):
   `scoring.services.compute_all()` — every scorecard in force over every subject — twice: into
   an emptied results table (every result new, what `pubcredit setup` does once) and again the
   same day (every result compared, none changed: the daily run's comparison); each
   scorecard's time and the engine's timings (lock, population, facts, score, write);
3. the floor of the full recompute, in this process over the same connection: one SQL statement
   that computes the 公共信用综合评价's score of every subject — each indicator's facts (records
   joined to categories and publicity tiers, list entries, commitments, the latest given grade,
   the registration age), summed per indicator, held within its cap, summed on the base points
   and held within the bounds — without the contributions, the grade, the downgrades and the
   writing (median of 3); its sum of scores is checked against the engine's current results;
4. single subjects: `--singles` subjects in two samples (`pick_subjects`: half drawn evenly
   from the register, half in proportion to their 行政处罚 records), each in its own transaction: a change to the subject (a 经营异常名录 entry
   published today), then `services.compute_subjects([id])` timed (every scorecard in force
   that may cover it; statements counted), then the floor's statement narrowed to that subject
   timed, then rolled back (the data set stays as built); p50 and p95 of each, for all and per
   sample (the builder's register is skewed: a few subjects carry tens of thousands of
   records, and their recompute — the floor's too — takes hundreds of ms).
Results go to benchmarks/out/scoring-*.json (gitignored), printed as one JSON object and a
table, with the ratios ours / floor. The machine's load average is recorded (it is shared).

Targets (2 cores): a full recompute of 1,000,000 subjects with 5,000,000 records ≤ 5 min and
≤ 2 GB peak RSS; one subject recomputed ≤ 50 ms after its change (p95).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from figures import write_json_out  # noqa: E402

OUT = ROOT / "benchmarks" / "out"
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/pubcredit_bulletins_bench"
TARGETS = {"full_s": 300.0, "full_peak_mb": 2048.0, "single_p95_ms": 50.0}
FLOOR_SCORECARD = "SCORE_PUBLIC"


def _loadavg() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 2)


def _percentile(values: list[float], p: float) -> float:
    from portal import _percentile as percentile

    return round(percentile(sorted(values), p), 2)


def _peak_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)  # Linux: KiB


def _setup(url: str, var_dir: Path) -> None:
    from portal import _setup_django

    _setup_django(url, var_dir)


# --------------------------------------------------------------------------- full (child)


def full_child(url: str, var_dir: Path, empty: bool) -> dict:
    """The full recompute in this (child) process: compute_all(), after emptying the results
    when `empty`. Returns timings and the process's peak RSS."""
    _setup(url, var_dir)
    from django.db import connection

    from pubcredit.scoring import services
    from pubcredit.scoring.models import ScoreResult

    if empty:
        # DELETE, not TRUNCATE: objections may reference a result (repair_objection's
        # score_result and result_after), and PostgreSQL refuses to truncate a referenced table
        # even when no row refers to it; the data set's objections refer to none.
        with connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {ScoreResult._meta.db_table}")
            cursor.execute(f"VACUUM ANALYZE {ScoreResult._meta.db_table}")
    peak_before = _peak_mb()
    t = time.perf_counter()
    computed = services.compute_all()
    seconds = time.perf_counter() - t
    return {
        "seconds": round(seconds, 1),
        "peak_rss_mb": _peak_mb(),
        "peak_rss_before_mb": peak_before,
        "scorecards": {
            c["scorecard"]: {
                k: c[k] for k in ("subjects", "facts", "created", "retired", "unchanged", "seconds")
            }
            | {"timings": c["timings"]}
            for c in computed
        },
        "load_average": _loadavg(),
    }


def run_full(url: str, var_dir: Path, empty: bool) -> dict:
    cmd = [sys.executable, __file__, "--database-url", url, "--child-full"]
    if empty:
        cmd.append("--child-empty")
    env = os.environ | {
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])
    }
    done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"the full recompute failed:\n{done.stderr[-4000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


# --------------------------------------------------------------------------- floor


def floor_sql(version, as_of: dt.date, *, one_subject: bool) -> tuple[str, list]:
    """One statement: the score of every subject of the version's kinds (or of the one subject
    given as its last parameter), from its indicators, as the module docstring says (step 3).
    Returns (sql, params); the statement yields (subjects, sum of scores)."""
    from pubcredit.catalog.models import Category
    from pubcredit.scoring.definition import Indicator, parse_definition
    from pubcredit.scoring.facts import grade_fields
    from pubcredit.scoring.frames import months_before

    defn = parse_definition(version.definition, base_points=version.base_points)
    categories = dict(Category.objects.values_list("code", "pk"))
    given = grade_fields()
    parts: list[str] = []
    params: list = []
    who = " AND {col} = %s" if one_subject else ""
    subject_params: list = []

    def cutoff(rule) -> str:
        if not rule.window_months:
            return ""
        params.append(months_before(as_of, rule.window_months))
        return " AND {day} > %s"

    def value(code: str) -> str:
        return f"(r.data ->> '{code}')"

    def condition(c) -> str:
        if "all" in c:
            return "(" + " AND ".join(condition(x) for x in c["all"]) + ")"
        if "any" in c:
            return "(" + " OR ".join(condition(x) for x in c["any"]) + ")"
        for op, sym in (("gte", ">="), ("gt", ">"), ("lte", "<="), ("lt", "<")):
            if op in c:
                return f"({value(c['field'])})::numeric {sym} {float(c[op])}"
        listed = ", ".join("'" + v.replace("'", "''") + "'" for v in c.get("in") or [])
        return f"{value(c['field'])} IN ({listed})"

    for rule in defn.indicators:
        src = rule.source
        cap = "NULL" if rule.cap is None else str(float(rule.cap))
        code = f"'{rule.code}'"
        if src.type == "records":
            day = "COALESCE(r.decision_date, r.valid_from)"
            points = str(float(rule.points))
            if rule.per_amount:
                fld, step, per = rule.per_amount
                points += f" + floor(coalesce(({value(fld)})::numeric, 0) / {step}) * {per}"
            join = ""
            where = ""
            if src.tiers:
                join = " JOIN publicity_publicity p ON p.record_id = r.id"
                where += " AND p.tier IN (" + ", ".join(f"'{t}'" for t in src.tiers) + ")"
            if src.condition:
                where += " AND " + condition(src.condition)
            params.append(categories[src.category])
            params += [as_of, as_of]
            window = cutoff(rule).format(day=day)
            parts.append(
                f"SELECT r.subject_id, {code} AS rule, {points} AS points, {cap} AS cap"
                f" FROM records_record r{join} WHERE r.category_id = %s AND r.status = 'active'"
                f" AND (r.valid_to IS NULL OR r.valid_to >= %s) AND {day} <= %s{window}{where}"
                f" AND NOT EXISTS (SELECT 1 FROM publicity_publicitymark m"
                f" WHERE m.record_id = r.id AND m.kind = 'repaired' AND m.lifted_at IS NULL)"
                + who.format(col="r.subject_id")
            )
        elif src.type == "list_entries":
            which = []
            if src.list_types:
                which.append("lt.code IN (" + ", ".join(f"'{c}'" for c in src.list_types) + ")")
            if src.list_kinds:
                which.append("lt.kind IN (" + ", ".join(f"'{k}'" for k in src.list_kinds) + ")")
            params += [as_of, as_of, as_of]
            window = cutoff(rule).format(day="e.decided_on")
            parts.append(
                f"SELECT e.subject_id, {code}, {float(rule.points)}, {cap}"
                f" FROM lists_listentry e JOIN lists_listtype lt ON lt.id = e.list_type_id"
                f" WHERE e.status = 'published' AND e.valid_from <= %s"
                f" AND (e.valid_to IS NULL OR e.valid_to >= %s) AND e.decided_on <= %s"
                f" AND lt.active AND ({' OR '.join(which)}){window}"
                + who.format(col="e.subject_id")
            )
        elif src.type == "commitments":
            day = "COALESCE(c.assessed_on, c.made_on)"
            performance = ", ".join(f"'{p}'" for p in src.performance)
            params.append(as_of)
            window = cutoff(rule).format(day=day)
            parts.append(
                f"SELECT c.subject_id, {code}, {float(rule.points)}, {cap}"
                f" FROM commitments_commitment c WHERE c.withdrawn_at IS NULL"
                f" AND c.performance IN ({performance}) AND {day} <= %s{window}"
                + who.format(col="c.subject_id")
            )
        elif src.type == "given_grade" and src.category in given:
            category_id, fld = given[src.category]
            grades = ", ".join(f"'{g}'" for g in dict(rule.points_by_grade))
            table = " ".join(
                f"WHEN '{g}' THEN {float(p)}" for g, p in dict(rule.points_by_grade).items()
            )
            params += [category_id, as_of, as_of]
            if one_subject:
                subject_params.append(len(params))
                params.append(None)
            window = cutoff(rule).format(day="g.day")
            parts.append(
                f"SELECT g.subject_id, {code}, CASE g.grade {table} END, {cap} FROM ("
                f"SELECT DISTINCT ON (r.subject_id) r.subject_id, trim(r.data ->> '{fld}')"
                f" AS grade, COALESCE(r.decision_date, r.valid_from) AS day"
                f" FROM records_record r WHERE r.category_id = %s AND r.status = 'active'"
                f" AND (r.valid_to IS NULL OR r.valid_to >= %s)"
                f" AND COALESCE(r.decision_date, r.valid_from) <= %s"
                f" AND trim(coalesce(r.data ->> '{fld}', '')) <> ''"
                + who.format(col="r.subject_id")
                + " ORDER BY r.subject_id, COALESCE(r.decision_date, r.valid_from) DESC,"
                f" r.id DESC) g WHERE g.grade IN ({grades}){window}"
            )
            continue  # the subject's parameter is in place
        elif src.type == "registration_age" and isinstance(rule, Indicator) and rule.steps:
            steps = " ".join(
                f"WHEN a.years >= {y} THEN {float(p)}" for y, p in sorted(rule.steps, reverse=True)
            )
            params += [as_of, as_of]
            parts.append(
                f"SELECT s.id, {code}, CASE {steps} END, {cap} FROM subjects_subject s"
                f" CROSS JOIN LATERAL (SELECT extract(year FROM age(%s::date, s.established_on))"
                f" AS years) a WHERE s.established_on <= %s" + who.format(col="s.id")
            )
        else:
            continue
        if one_subject:
            subject_params.append(len(params))
            params.append(None)  # the subject, filled in by floor_params
    kinds = ", ".join(f"'{k}'" for k in version.scorecard.subject_kinds)
    low = "NULL" if defn.min_score is None else str(float(defn.min_score))
    high = "NULL" if defn.max_score is None else str(float(defn.max_score))
    facts = " UNION ALL ".join(parts)
    sql = f"""
        WITH facts (subject_id, rule, points, cap) AS ({facts}),
        per_rule AS (
            SELECT subject_id, rule, CASE WHEN max(cap) IS NULL THEN sum(points)
                   ELSE greatest(least(sum(points), max(cap)), -max(cap)) END AS points
              FROM facts WHERE points <> 0 GROUP BY subject_id, rule),
        per_subject AS (SELECT subject_id, sum(points) AS points FROM per_rule GROUP BY subject_id)
        SELECT count(*), sum(round(greatest(least({float(defn.base_points)}
                                                   + coalesce(t.points, 0), {high}), {low}), 2))
          FROM subjects_subject s LEFT JOIN per_subject t ON t.subject_id = s.id
         WHERE s.kind IN ({kinds}){who.format(col="s.id")}
    """
    if one_subject:
        subject_params.append(len(params))
        params.append(None)
    return sql, [*params, subject_params]


def floor_params(prepared: list, subject_id: int) -> list:
    *params, slots = prepared
    params = list(params)
    for slot in slots:
        params[slot] = subject_id
    return params


def floor_full(version, as_of: dt.date, repeat: int = 3) -> dict:
    from django.db import connection

    sql, params = floor_sql(version, as_of, one_subject=False)
    params = params[:-1]
    times, row = [], None
    for _ in range(repeat):
        with connection.cursor() as cursor:
            t = time.perf_counter()
            cursor.execute(sql, params)
            row = cursor.fetchone()
            times.append(time.perf_counter() - t)
    return {
        "scorecard": version.scorecard.code,
        "seconds": round(statistics.median(times), 2),
        "subjects": row[0],
        "score_sum": float(row[1] or 0),
    }


# --------------------------------------------------------------------------- single subjects


def pick_subjects(n: int) -> dict[str, list[int]]:
    """Two samples of organisations and individual businesses (the floor's scorecard), n/2 each,
    deterministic: "register", drawn evenly from the register (a typical subject: a few facts),
    and "records", drawn from a sample of the 行政处罚 records (where changes land: a subject
    weighs its records, so the few that carry thousands of them come up)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT DISTINCT r.subject_id FROM records_record r TABLESAMPLE SYSTEM (1)"
            " REPEATABLE (17) JOIN catalog_category c ON c.id = r.category_id"
            " JOIN subjects_subject s ON s.id = r.subject_id"
            " WHERE c.code = 'CF' AND s.kind IN ('org', 'ind') LIMIT %s",
            [n - n // 2],
        )
        records = [r[0] for r in cursor.fetchall()]
        cursor.execute(
            "SELECT id FROM subjects_subject TABLESAMPLE SYSTEM (2) REPEATABLE (18)"
            " WHERE kind IN ('org', 'ind') AND NOT (id = ANY (%s)) ORDER BY md5(id::text)"
            " LIMIT %s",
            [records, n // 2],
        )
        register = [r[0] for r in cursor.fetchall()]
    return {"register": register, "records": records}


def change(cursor, subject_id: int, today: dt.date, list_type: int) -> None:
    """The change: a 经营异常名录 entry published today for the subject."""
    cursor.execute(
        """
        INSERT INTO lists_listentry (
            subject_name, basis, document_number, decided_on, valid_from, valid_to, status,
            status_reason, source, created_by, created_at, updated_at, subject_id, list_type_id)
        SELECT s.name, '基准测试', '变更', %s, %s, NULL, 'published', '', 'console',
               'benchmark', now(), now(), s.id, %s
          FROM subjects_subject s WHERE s.id = %s
        """,
        [today, today, list_type, subject_id],
    )


def singles(version, samples: dict[str, list[int]], today: dt.date) -> dict:
    """Each subject of the samples in its own transaction (module docstring, step 4), the
    samples interleaved; p50/p95 for all of them and per sample."""
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext

    from pubcredit.lists.models import ListType
    from pubcredit.scoring import services

    list_type = ListType.objects.get(code="WATCH_ABNORMAL_OPERATION").pk
    prepared = floor_sql(version, today, one_subject=True)
    order = sorted(
        ((label, pk) for label, ids in samples.items() for pk in ids),
        key=lambda item: hash((item[1], 17)),
    )
    rows: list[dict] = []
    statements: list[int] = []
    for i, (label, subject_id) in enumerate([*order[:5], *order]):  # 5 warm-ups
        with transaction.atomic():
            with connection.cursor() as cursor:
                change(cursor, subject_id, today, list_type)
            if i < 5:  # statements counted in the warm-ups (counting costs time)
                with CaptureQueriesContext(connection) as queries:
                    services.compute_subjects([subject_id], as_of=today)
                statements.append(len(queries))
                transaction.set_rollback(True)
                continue
            t = time.perf_counter()
            counts = services.compute_subjects([subject_id], as_of=today)
            spent = time.perf_counter() - t
            with connection.cursor() as cursor:
                # One subject's rows: no parallel workers (their start-up would be the floor).
                cursor.execute("SET LOCAL max_parallel_workers_per_gather = 0")
                t = time.perf_counter()
                cursor.execute(prepared[0], floor_params(prepared[1], subject_id))
                cursor.fetchone()
                floor_spent = time.perf_counter() - t
            transaction.set_rollback(True)
        if i >= 5:
            rows.append(
                {
                    "sample": label,
                    "ours": spent,
                    "floor": floor_spent,
                    "facts": sum(c["facts"] for c in counts),
                    "created": sum(c["created"] for c in counts),
                    "phases": {
                        name: sum(c["timings"][name] for c in counts)
                        for name in ("lock", "population", "facts", "score", "write")
                    },
                }
            )

    def stats(part: list[dict]) -> dict:
        ours = [r["ours"] for r in part]
        floor = [r["floor"] for r in part]
        facts = sorted(r["facts"] for r in part)
        return {
            "subjects": len(part),
            "p50_ms": _percentile(ours, 50),
            "p95_ms": _percentile(ours, 95),
            "max_ms": _ms(max(ours)),
            "floor_p50_ms": _percentile(floor, 50),
            "floor_p95_ms": _percentile(floor, 95),
            "facts_p50": facts[len(facts) // 2],
            "facts_max": facts[-1],
        }

    out = stats(rows)
    out |= {
        "results_changed": sum(r["created"] for r in rows),
        "statements_median": statistics.median(statements),
        # the engine's own timings, summed over the scorecards of one subject (median, ms)
        "phases_median_ms": {
            name: _ms(statistics.median(r["phases"][name] for r in rows))
            for name in ("lock", "population", "facts", "score", "write")
        },
        "samples": {label: stats([r for r in rows if r["sample"] == label]) for label in samples},
        "load_average": _loadavg(),
    }
    return out


# --------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--subjects", type=int, default=1_000_000)
    parser.add_argument("--records", type=int, default=5_000_000)
    parser.add_argument("--database-url")
    parser.add_argument("--reuse", action="store_true", help="use the loaded data set as it is")
    parser.add_argument("--singles", type=int, default=200, help="single-subject recomputes")
    parser.add_argument("--skip-full", action="store_true", help="no full recompute")
    parser.add_argument(
        "--floor-repeat", type=int, default=3, help="runs of the full floor (its median)"
    )
    parser.add_argument("--json-out", help="also write the result to this file")
    parser.add_argument("--child-full", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--child-empty", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    url = args.database_url or DEFAULT_URL
    var_dir = ROOT / "var" / "bench-scoring"
    var_dir.mkdir(parents=True, exist_ok=True)
    if args.child_full:
        print(json.dumps(full_child(url, var_dir, args.child_empty)))
        return 0

    import bulletins_data

    OUT.mkdir(parents=True, exist_ok=True)
    result: dict = {
        "benchmark": "scoring",
        "at": dt.datetime.now().isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "load_average_before": _loadavg(),
        "targets": TARGETS,
    }
    reuse = args.reuse and bulletins_data.loaded(url, args.subjects, args.records)
    if args.reuse and not reuse:
        print("--reuse: the database does not hold the data set; building it", file=sys.stderr)
    if reuse:
        _setup(url, var_dir)
    else:
        result["build"] = bulletins_data.build(url, var_dir, args.subjects, args.records, _setup)
    from django.db import connection
    from django.utils import timezone

    from pubcredit.accounts.permissions import Principal
    from pubcredit.scoring.models import Scorecard
    from pubcredit.scoring.scorecards import import_scorecards
    from pubcredit.scoring.services import scorecards_in_force

    if not bulletins_data.scoring_inputs_loaded():
        bulletins_data._log("the scorecards' inputs")
        result["build_scoring_inputs"] = bulletins_data.write_scoring_inputs(timezone.localdate())
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE records_record")
    if not Scorecard.objects.exists():
        import_scorecards(Principal.system("benchmark"))
    result["data"] = bulletins_data.data_facts(
        {
            "subjects": "subjects_subject",
            "records": "records_record",
            "list_entries": "lists_listentry",
            "commitments": "commitments_commitment",
            "publicity": "publicity_publicity",
        }
    )
    today = timezone.localdate()
    version = next(v for v in scorecards_in_force() if v.scorecard.code == FLOOR_SCORECARD)
    connection.close()

    if not args.skip_full:
        bulletins_data._log("full recompute into an empty results table (child process)")
        result["full_initial"] = run_full(url, var_dir, empty=True)
        bulletins_data._log("full recompute again, nothing changed (child process)")
        result["full_again"] = run_full(url, var_dir, empty=False)
    bulletins_data._log("floor: the scores of every subject in one statement")
    result["floor"] = floor_full(version, today, repeat=args.floor_repeat)
    from pubcredit.scoring.models import ScoreResult
    from pubcredit.scoring.services import results_of

    if ScoreResult.objects.exists():
        ours = float(sum(results_of(FLOOR_SCORECARD).values_list("score", flat=True)))
        result["floor"]["engine_score_sum"] = ours
        result["floor"]["agrees"] = abs(ours - result["floor"]["score_sum"]) < 0.005
    bulletins_data._log(f"single subjects: {args.singles}")
    result["single"] = singles(version, pick_subjects(args.singles), today)
    result["load_average_after"] = _loadavg()

    floor = result["floor"]
    single = result["single"]
    result["ratios"] = {
        "single_p50_to_floor": round(single["p50_ms"] / max(single["floor_p50_ms"], 1e-3), 1),
        "single_p95_to_floor": round(single["p95_ms"] / max(single["floor_p95_ms"], 1e-3), 1),
    }
    result["met"] = {"single_p95_ms": single["p95_ms"] <= TARGETS["single_p95_ms"]}
    for label, sample in single["samples"].items():
        result["ratios"][f"single_{label}_p95_to_floor"] = round(
            sample["p95_ms"] / max(sample["floor_p95_ms"], 1e-3), 1
        )
        result["met"][f"single_{label}_p95_ms"] = sample["p95_ms"] <= TARGETS["single_p95_ms"]
    for label in ("full_initial", "full_again"):
        if label in result:
            full = result[label]
            card = full["scorecards"].get(FLOOR_SCORECARD, {})
            result["ratios"][f"{label}_to_floor"] = round(
                full["seconds"] / max(floor["seconds"], 1e-3), 1
            )
            result["ratios"][f"{label}_{FLOOR_SCORECARD}_to_floor"] = round(
                card.get("seconds", 0) / max(floor["seconds"], 1e-3), 1
            )
            result["met"][f"{label}_s"] = full["seconds"] <= TARGETS["full_s"]
            result["met"][f"{label}_peak_mb"] = full["peak_rss_mb"] <= TARGETS["full_peak_mb"]
    result["figures"] = figures(result)
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    path = OUT / f"scoring-{stamp}.json"
    path.write_text(json.dumps(result, ensure_ascii=False, indent=2, default=str), encoding="utf-8")
    write_json_out(args.json_out, result)
    print(json.dumps(result, ensure_ascii=False, default=str))
    _print(result, path)
    return 0


def figures(result: dict) -> list[dict]:
    """The headline figures beside their floors (benchmarks/figures.py). The full recompute's
    absolute targets are for the city of 1,000,000 subjects: held against them at that size
    only; a single subject's p95 is held against its target at any size."""
    from figures import figure

    floor, single = result["floor"], result["single"]
    full_size = result["data"]["subjects"] >= 1_000_000
    size = f"{result['data']['subjects']:,} subjects, {result['data']['records']:,} records"
    out = []
    for label, name in (("full_initial", "full recompute, empty results"),
                        ("full_again", "full recompute, nothing changed")):  # fmt: skip
        if label not in result:
            continue
        full = result[label]
        out.append(
            figure(name, full["seconds"], "s", floor=floor["seconds"],
                   floor_name="one SQL statement scoring every subject (SCORE_PUBLIC)",
                   limit=TARGETS["full_s"] if full_size else None,
                   note=f"{size}; every scorecard in force (the floor: one)")
        )  # fmt: skip
        out.append(
            figure(f"{name}: peak RSS", full["peak_rss_mb"], "MB",
                   limit=TARGETS["full_peak_mb"] if full_size else None, note=size)
        )  # fmt: skip
    out.append(
        figure("one subject after a change, p95", single["p95_ms"], "ms",
               floor=single["floor_p95_ms"],
               floor_name="the floor's statement narrowed to the subject",
               limit=TARGETS["single_p95_ms"],
               note=f"{single['subjects']} subjects, p50 {single['p50_ms']} ms")
    )  # fmt: skip
    for label, sample in single["samples"].items():
        out.append(
            figure(f"one subject ({label}), p95", sample["p95_ms"], "ms",
                   floor=sample["floor_p95_ms"],
                   floor_name="the floor's statement narrowed to the subject",
                   limit=TARGETS["single_p95_ms"], note=f"{sample['subjects']} subjects")
        )  # fmt: skip
    return out


def _print(result: dict, path: Path) -> None:
    d, f, s, r = result["data"], result["floor"], result["single"], result["ratios"]
    print(
        f"\nscoring — {d['subjects']:,} subjects, {d['records']:,} records, "
        f"{d['list_entries']:,} list entries, {d['commitments']:,} commitments"
    )
    print(f"load average before/after: {result['load_average_before']} / "
          f"{result['load_average_after']}")  # fmt: skip
    for label, name in (("full_initial", "full, empty results"), ("full_again", "full, again")):
        if label not in result:
            continue
        full = result[label]
        cards = ", ".join(
            f"{code} {c['seconds']} s ({c['subjects']:,} subjects, {c['facts']:,} facts)"
            for code, c in full["scorecards"].items()
        )
        print(f"{name}: {full['seconds']} s, peak RSS {full['peak_rss_mb']} MB — {cards}")
    print(f"floor ({f['scorecard']}, one statement): {f['seconds']} s for {f['subjects']:,} "
          f"subjects" + (f"; sum of scores agrees with the engine: {f['agrees']}"
                         if "agrees" in f else ""))  # fmt: skip
    print(f"one subject after a change ({s['subjects']}): p50 {s['p50_ms']} ms, p95 "
          f"{s['p95_ms']} ms, max {s['max_ms']} ms, {s['statements_median']} statements; floor "
          f"p50 {s['floor_p50_ms']} ms, p95 {s['floor_p95_ms']} ms; "
          f"phases (median ms) {s['phases_median_ms']}")  # fmt: skip
    for label, x in s["samples"].items():
        print(f"  {label:<9} ({x['subjects']}): p50 {x['p50_ms']} ms, p95 {x['p95_ms']} ms, max "
              f"{x['max_ms']} ms; floor p50 {x['floor_p50_ms']} ms, p95 {x['floor_p95_ms']} ms; "
              f"facts per subject p50 {x['facts_p50']}, max {x['facts_max']:,}")  # fmt: skip
    print("ratios (ours / floor): " + ", ".join(f"{k} {v}" for k, v in r.items()))
    met = ", ".join(f"{k} {'met' if ok else 'NOT met'}" for k, ok in result["met"].items())
    print(f"targets: {met}")
    print(f"written to {path.relative_to(ROOT)}")


if __name__ == "__main__":
    raise SystemExit(main())
