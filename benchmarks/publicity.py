"""Benchmark of the publicity read model on PostgreSQL: refresh, sweep and the portal's queries.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/pubcredit_bench_publicity \\
        .venv/bin/python benchmarks/publicity.py [--records 1000000] [--reuse]
    .venv/bin/python benchmarks/publicity.py --database-url postgres://…/db --json-out FILE

Creates (or, with --reuse, keeps) the database named in DATABASE_URL, migrates it, loads the
catalogue and the rules, writes `--records` synthetic records (80% 行政处罚, 20% 行政许可, decision
dates 2018–2026, realistic penalty-type mix and fines, several deciding departments) with COPY,
then times:
- the first full refresh (every Publicity row and its first event created),
- a second full refresh (nothing changed: read + derive + compare only),
- a rules change that moves part of the rows (a fine threshold), refreshed in full,
- a refresh of 10,000 records by id (what a large submission costs),
- the sweep for a day three years ahead, and a second sweep on that day (idempotent),
- the portal's queries: a subject's public records, the 双公示 lists overall and per department
  (p50/p95 over repeated calls, plus the plans).
Floors, in the same run: for the first refresh, the bare INSERT … SELECT of the rows it wrote
(Publicity and its events) into empty tables like them with the same indexes; for a subject's
public records, the bare indexed lookup of that subject's public rows of the read model over
the connection (no join, no ORM).
Prints one JSON object (with a "figures" list, benchmarks/figures.py).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import polars as pl

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

sys.path.insert(0, str(ROOT / "benchmarks"))

from figures import figure, write_json_out  # noqa: E402

SUBJECTS_PER_RECORD = 0.25


def _ensure_database(url: str, reuse: bool) -> None:
    import psycopg

    base, _, name = url.rpartition("/")
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if exists and not reuse:
            conn.execute(f'DROP DATABASE "{name}"')
            exists = None
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')


def _setup(url: str) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pubcredit.settings")
    os.environ["DATABASE_URL"] = url
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)


def _generate(n: int, seed: int = 7) -> dict:
    from django.db import connection, transaction
    from django.utils import timezone

    from pubcredit.accounts.permissions import Principal
    from pubcredit.catalog.models import Category, Department
    from pubcredit.catalog.services import import_catalogue
    from pubcredit.core.bulkload import bulk_copy
    from pubcredit.intake.models import Submission
    from pubcredit.publicity.rulefile import import_rules
    from pubcredit.records.models import Record
    from pubcredit.subjects.models import Subject

    t0 = time.perf_counter()
    system = Principal.system("benchmark")
    import_catalogue(system)
    import_rules(system)
    rng = np.random.default_rng(seed)
    now = timezone.now()
    cats = {c.code: c for c in Category.objects.filter(code__in=["CF", "XK"])}
    depts = {d.code: d for d in Department.objects.all()}
    dept_codes = ["ZB-SCJG", "ZB-YJGL", "ZB-XFZD", "ZB-STHJ", "ZB-JTYS", "ZB-ZJJ", "ZB-SWU"]
    dept_weights = [0.4, 0.1, 0.05, 0.15, 0.1, 0.1, 0.1]

    n_subjects = max(1, int(n * SUBJECTS_PER_RECORD))
    with transaction.atomic():
        names = pl.Series([f"淄博市基准测试{i}有限公司" for i in range(n_subjects)])
        subjects = pl.DataFrame(
            {
                "kind": pl.repeat("org", n_subjects, eager=True),
                "name": names,
                "name_norm": names,
                "name_key": names,
            }
        )
        bulk_copy(Subject, ["kind", "name", "name_norm", "name_key"], subjects)
    lo = Subject.objects.order_by("id").values_list("id", flat=True).first()

    submissions = {}
    for code in dept_codes:
        for cat in ("CF", "XK"):
            submissions[(code, cat)] = Submission.objects.create(
                department=depts[code],
                category=cats[cat],
                channel=Submission.Channel.CLI,
                filename=f"bench-{code}-{cat}.csv",
                sha256=f"{code}{cat}".ljust(64, "0"),
                status=Submission.Status.DONE,
            ).pk

    is_cf = rng.random(n) < 0.8
    dept = rng.choice(len(dept_codes), n, p=dept_weights)
    start = np.datetime64("2018-01-01")
    days = int((np.datetime64("2026-11-20") - start).astype(int))
    decision = start + rng.integers(0, days, n).astype("timedelta64[D]")
    kinds = [
        "罚款",
        "警告",
        "罚款;没收违法所得",
        "吊销许可证件",
        "责令停产停业",
        "通报批评",
        "警告;罚款",
    ]
    kind = rng.choice(len(kinds), n, p=[0.55, 0.15, 0.1, 0.03, 0.02, 0.05, 0.1])
    fines = np.round(np.exp(rng.normal(0.0, 1.6, n)), 4)
    lifetime = rng.integers(365, 5 * 365, n).astype("timedelta64[D]")
    long_term = rng.random(n) < 0.1
    wfxw = np.array(
        ["违反《中华人民共和国食品安全法》", "使用未经定期检验的电梯", "未按规定开展安全生产培训"]
    )
    wfxw_pick = rng.choice(3, n, p=[0.8, 0.1, 0.1])
    frame = pl.DataFrame(
        {
            "i": np.arange(n),
            "is_cf": is_cf,
            "dept": np.array(dept_codes)[dept],
            "decision_date": decision.astype("datetime64[D]"),
            "types": np.array(kinds)[kind],
            "fine": fines,
            "valid_to": np.where(
                long_term,
                np.datetime64("2099-12-31"),
                (decision + lifetime).astype("datetime64[D]"),
            ),
            "wfxw": wfxw[wfxw_pick],
            "subject_id": rng.integers(lo, lo + n_subjects, n),
        }
    ).with_columns(pl.col("decision_date").cast(pl.Date), pl.col("valid_to").cast(pl.Date))
    uscc = {c: d.uscc for c, d in depts.items()}
    date_text = pl.col("decision_date").dt.to_string("%Y-%m-%d")
    cf_json = pl.concat_str(
        [
            pl.lit('{"CF_WSH":"淄罚〔'),
            pl.col("decision_date").dt.year().cast(pl.String),
            pl.lit("〕"),
            pl.col("i").cast(pl.String),
            pl.lit('号","CF_CFLB":["'),
            pl.col("types").str.replace_all(";", '","'),
            pl.lit('"],"CF_NR_FK":"'),
            pl.col("fine").cast(pl.String),
            pl.lit('","CF_WFXW":"'),
            pl.col("wfxw"),
            pl.lit(
                '","CF_SY":"经查,当事人存在上述违法行为,事实清楚,证据确凿。","CF_YJ":"《中华人民共和国行政处罚法》第二十八条","CF_NR":"责令改正,并处罚款。","CF_JDRQ":"'
            ),
            date_text,
            pl.lit('","CF_CFJG":"淄博市某局","CF_CFJGDM":"'),
            pl.col("dept").replace_strict(uscc, return_dtype=pl.String),
            pl.lit('","CF_XDR_MC":"淄博市基准测试有限公司","CF_XDR_LB":"法人及非法人组织"}'),
        ]
    )
    xk_json = pl.concat_str(
        [
            pl.lit('{"XK_WSH":"淄许〔'),
            pl.col("i").cast(pl.String),
            pl.lit(
                '〕号","XK_XKWS":"准予行政许可决定书","XK_XKLB":"普通","XK_NR":"准予许可","XK_JDRQ":"'
            ),
            date_text,
            pl.lit('","XK_YXQZ":"'),
            date_text,
            pl.lit('","XK_YXQZI":"'),
            pl.col("valid_to").dt.to_string("%Y-%m-%d"),
            pl.lit('","XK_ZT":"有效","XK_XDR_MC":"淄博市基准测试有限公司"}'),
        ]
    )
    sub_ids = pl.struct("dept", "is_cf").map_elements(
        lambda s: submissions[(s["dept"], "CF" if s["is_cf"] else "XK")], return_dtype=pl.Int64
    )
    records = frame.select(
        pl.when(pl.col("is_cf"))
        .then(pl.lit(cats["CF"].pk))
        .otherwise(pl.lit(cats["XK"].pk))
        .alias("category_id"),
        pl.col("dept")
        .replace_strict({c: d.pk for c, d in depts.items()}, return_dtype=pl.Int64)
        .alias("department_id"),
        pl.concat_str([pl.lit("bench-"), pl.col("i").cast(pl.String)]).alias("business_key"),
        pl.col("subject_id"),
        pl.lit("uscc").alias("subject_link"),
        pl.lit("淄博市基准测试有限公司").alias("subject_name"),
        pl.lit("org").alias("subject_kind"),
        pl.lit(1).alias("version"),
        pl.col("i").cast(pl.String).str.zfill(32).alias("content_hash"),
        pl.when(pl.col("is_cf")).then(cf_json).otherwise(xk_json).alias("data"),
        pl.lit("{}").alias("original"),
        pl.col("decision_date"),
        pl.when(pl.col("is_cf")).then(None).otherwise(pl.col("decision_date")).alias("valid_from"),
        pl.when(pl.col("is_cf")).then(None).otherwise(pl.col("valid_to")).alias("valid_to"),
        pl.lit(False).alias("late"),
        pl.lit("active").alias("status"),
        pl.lit("").alias("status_reason"),
        sub_ids.alias("submission_id"),
        (pl.col("i") + 2).alias("source_row"),
        pl.lit(now).alias("received_at"),
        pl.lit(now).alias("created_at"),
        pl.lit(now).alias("updated_at"),
    )
    with transaction.atomic():
        bulk_copy(Record, list(records.columns), records)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE records_record")
        cursor.execute("ANALYZE subjects_subject")
    return {
        "subjects": n_subjects,
        "records": n,
        "generate_seconds": round(time.perf_counter() - t0, 1),
    }


def _timed(fn, *args, **kwargs):
    t = time.perf_counter()
    result = fn(*args, **kwargs)
    return result, round(time.perf_counter() - t, 2)


def _latency(fn, calls: int) -> dict:
    times = []
    for i in range(calls):
        t = time.perf_counter()
        fn(i)
        times.append((time.perf_counter() - t) * 1000)
    times.sort()
    return {
        "calls": calls,
        "p50_ms": round(statistics.median(times), 2),
        "p95_ms": round(times[int(0.95 * (calls - 1))], 2),
    }


def _plan(qs) -> str:
    return qs.explain()


def insert_floor(tables: list[str]) -> dict:
    """The bare INSERT … SELECT of every row of `tables` into an empty table like each, with
    the same indexes (timed), then dropped."""
    from django.db import connection

    out: dict = {"seconds": 0.0, "rows": 0}
    with connection.cursor() as cursor:
        for table in tables:
            copy = f"bench_floor_{table}"[:63]
            cursor.execute(f'DROP TABLE IF EXISTS "{copy}"')
            cursor.execute(f'CREATE TABLE "{copy}" (LIKE "{table}" INCLUDING ALL)')
            t = time.perf_counter()
            cursor.execute(f'INSERT INTO "{copy}" SELECT * FROM "{table}"')
            out["seconds"] += time.perf_counter() - t
            out["rows"] += cursor.rowcount
            cursor.execute(f'DROP TABLE "{copy}"')
    out["seconds"] = round(out["seconds"], 3)
    return out


def bare_lookup(subject_ids: list[int], calls: int) -> dict:
    """A subject's public rows of the read model by the index, over the connection."""
    from django.db import connection

    from pubcredit.publicity.models import Publicity

    sql = f"SELECT * FROM {Publicity._meta.db_table} WHERE subject_id = %s AND state = 'public'"
    with connection.cursor() as cursor:

        def call(i):
            cursor.execute(sql, [subject_ids[i % len(subject_ids)]])
            cursor.fetchall()

        return _latency(call, calls)


def figures(out: dict) -> list[dict]:
    """The headline figures beside their floors (benchmarks/figures.py)."""
    floor = out["floor_insert_select"]
    n = f"{out['records']:,} records"
    return [
        figure("first full refresh", out["refresh_first_seconds"], "s",
               floor=floor["seconds"],
               floor_name=f"bare INSERT … SELECT of the {floor['rows']:,} rows it wrote", note=n),
        figure("full refresh, nothing changed", out["refresh_unchanged_seconds"], "s", note=n),
        figure("refresh of 10,000 records by id", out["refresh_10k_ids_seconds"], "s", note=n),
        figure("sweep three years ahead", out["sweep_seconds"], "s", note=n),
        figure("a subject's public records, p95", out["query_public_records"]["p95_ms"], "ms",
               floor=out["floor_bare_lookup"]["p95_ms"],
               floor_name="bare indexed lookup of the subject's public rows",
               note=f"p50 {out['query_public_records']['p50_ms']} ms"),
        figure("双公示 list, first page, p95", out["query_lists_first_page"]["p95_ms"], "ms",
               note=n),
    ]  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--reuse", action="store_true", help="keep an existing benchmark database")
    parser.add_argument(
        "--database-url", help="default: DATABASE_URL, else pubcredit_bench_publicity"
    )
    parser.add_argument("--json-out", help="also write the result to this file")
    args = parser.parse_args()
    url = args.database_url or os.environ.get(
        "DATABASE_URL", "postgres://postgres@127.0.0.1:5432/pubcredit_bench_publicity"
    )
    if not url.startswith("postgres"):
        raise SystemExit("this benchmark needs PostgreSQL (DATABASE_URL=postgres://…)")
    _ensure_database(url, args.reuse)
    _setup(url)

    from django.db import connection
    from django.db.models import Count

    from pubcredit.publicity import services
    from pubcredit.publicity.models import Publicity, PublicityEvent, TierRule
    from pubcredit.records.models import Record

    out: dict = {"database": connection.vendor}
    if args.reuse and Record.objects.count() == args.records:
        out["generate"] = "reused"
    else:
        out["generate"] = _generate(args.records)
    today = dt.date(2026, 11, 27)

    from pubcredit.accounts.permissions import Principal
    from pubcredit.publicity.rulefile import import_rules

    import_rules(Principal.system("benchmark"))  # undo the rule change of a previous run
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {Publicity._meta.db_table}, {PublicityEvent._meta.db_table}")
    out["load_average_before"] = round(os.getloadavg()[0], 1)
    first, out["refresh_first_seconds"] = _timed(services.refresh_publicity, today=today)
    out["refresh_first"] = first
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE publicity_publicity")
    out["floor_insert_select"] = insert_floor(
        [Publicity._meta.db_table, PublicityEvent._meta.db_table]
    )
    again, out["refresh_unchanged_seconds"] = _timed(services.refresh_publicity, today=today)
    out["refresh_unchanged"] = {k: again[k] for k in ("records", "updated", "events")}

    rule = TierRule.objects.get(code="fine-very-large")
    rule.min_amount = 5
    rule.save()
    moved, out["refresh_rules_change_seconds"] = _timed(services.refresh_publicity, today=today)
    out["refresh_rules_change"] = {k: moved[k] for k in ("records", "updated", "events")}

    ids = list(Record.objects.order_by("?").values_list("id", flat=True)[:10_000])
    subset, out["refresh_10k_ids_seconds"] = _timed(
        services.refresh_publicity, ids, today=dt.date(2027, 6, 1)
    )
    out["refresh_10k_ids"] = {k: subset[k] for k in ("records", "updated", "events")}

    later = dt.date(2029, 11, 27)
    swept, out["sweep_seconds"] = _timed(services.sweep_publicity, later)
    out["sweep"] = swept
    swept2, out["sweep_again_seconds"] = _timed(services.sweep_publicity, later)
    out["sweep_again"] = swept2

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE publicity_publicity")
    subject_ids = list(
        Publicity.objects.filter(state="public").values_list("subject_id", flat=True)[:500]
    )
    out["query_public_records"] = _latency(
        lambda i: list(services.public_records(subject_ids[i % len(subject_ids)], today=later)),
        500,
    )
    out["floor_bare_lookup"] = bare_lookup(subject_ids, 500)
    out["query_lists_first_page"] = _latency(
        lambda i: list(services.publicity_lists(today=later)[:20]), 100
    )
    out["query_lists_department_page_5"] = _latency(
        lambda i: list(services.publicity_lists(department="ZB-YJGL", today=later)[80:100]), 100
    )
    out["plans"] = {
        "public_records": _plan(services.public_records(subject_ids[0], today=later)),
        "publicity_lists": _plan(services.publicity_lists(today=later)[:20]),
        "publicity_lists_department": _plan(
            services.publicity_lists(department="ZB-YJGL", today=later)[:20]
        ),
    }
    out["states"] = dict(Publicity.objects.values_list("state").annotate(n=Count("pk")).order_by())
    out["load_average_after"] = round(os.getloadavg()[0], 1)
    out["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    out["records"] = args.records
    out["figures"] = figures(out)
    write_json_out(args.json_out, out)
    print(json.dumps(out, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
