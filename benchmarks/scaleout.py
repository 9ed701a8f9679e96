"""Benchmark: per-node figures of the Citus scale-out (docs/scale.md), on the local three-node
cluster (`../shared/vendor/citus/cluster.sh start`) beside single PostgreSQL (127.0.0.1:5432).

    python benchmarks/scaleout.py                       # 5,000 intake rows, 500 check reads
    python benchmarks/scaleout.py --rows 20000 --reads 2000

For each target (Citus: a database on the coordinator and both workers, migrated, reference
data imported, `scaleout distribute`d; PostgreSQL: a plain database, migrated, reference data
imported), in a child process of its own (Django's settings are per process):
1. intake: a 行政处罚 CSV of N rows, N/2 subjects, through `intake.services.submit_file` (parse,
   validate, link, write, the records-changed flow), timed end to end; its floor is a bare COPY
   of the same file into an unlogged table of text columns on the same server;
2. the credit check's read (`measures.applicability.read_subject_facts` by subject id, the
   router query on Citus) for R random subjects, p50 and p99; its floor is the bare primary-key
   look-up of the same subjects (`SELECT id FROM subjects_subject WHERE id = $1`); and the same
   read by 统一社会信用代码 (on Citus: the key table's look-up, then the router query), whose
   floor is the read by id;
3. Citus only: the records table's bytes per row, summed over its shards on each worker.
The machine's load average is recorded before and after. The JSON (top-level "figures",
benchmarks/figures.py) goes to benchmarks/out/scaleout-*.json and is printed.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
CITUS_URL = "postgres://postgres@127.0.0.1:5440/pubcredit_bench_citus"
PG_URL = "postgres://postgres@127.0.0.1:5432/pubcredit_bench_single"


def _cluster_script() -> Path:
    """The vendored cluster script: $CITUS_VENDOR, ../shared beside the checkout, /work/shared."""
    candidates = [os.environ.get("CITUS_VENDOR", ""), ROOT.parent / "shared/vendor/citus"]
    for directory in [*candidates, "/work/shared/vendor/citus"]:
        if directory and (Path(directory) / "cluster.sh").exists():
            return Path(directory) / "cluster.sh"
    raise SystemExit("benchmarks/scaleout.py: cluster.sh not found; set CITUS_VENDOR")


def _load() -> float:
    return os.getloadavg()[0]


def _prepare(citus: bool) -> None:
    import psycopg
    from django.conf import settings
    from django.core.management import call_command

    from pubcredit.accounts.permissions import Principal
    from pubcredit.testing import reference as refdata

    url = settings.DATABASES["default"]
    if citus:
        sys.path.insert(0, str(ROOT))
        from scale.conftest import _fresh_database

        _fresh_database(url)
    else:
        with psycopg.connect(
            host=url["HOST"], port=url["PORT"], user=url["USER"], dbname="postgres", autocommit=True
        ) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{url["NAME"]}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{url["NAME"]}"')
    call_command("migrate", verbosity=0, interactive=False)
    refdata.import_all(Principal.system("bench"))
    if citus:
        call_command("scaleout", "distribute", verbosity=0)


def _child(citus: bool, rows: int, reads: int) -> dict:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pubcredit.settings")
    import django

    django.setup()
    import random

    from django.db import connection
    from django.test import override_settings
    from django.utils import timezone

    from pubcredit.accounts.permissions import Principal
    from pubcredit.catalog.models import Category, Department
    from pubcredit.intake import services
    from pubcredit.intake.models import Submission
    from pubcredit.measures.applicability import read_subject_facts
    from pubcredit.testing.loadkit import CF_DEPARTMENT, cf_csv, cf_row, make_uscc

    _prepare(citus)
    department = Department.objects.get(code=CF_DEPARTMENT)
    category = Category.objects.get(code="CF")
    data = cf_csv(
        [
            cf_row(n, uscc=make_uscc(n // 2), name=f"淄博基准{n // 2}有限公司",
                   source_uscc=department.uscc)
            for n in range(rows)
        ]
    )  # fmt: skip
    # The floor: a bare COPY of the same file into a table of text columns.
    header = data.decode("utf-8-sig").splitlines()[0].split(",")
    with connection.cursor() as cursor:
        cols = ", ".join(f"c{i} text" for i in range(len(header)))
        cursor.execute(f"CREATE UNLOGGED TABLE IF NOT EXISTS bench_copy ({cols})")
        started = time.perf_counter()
        with cursor.cursor.copy("COPY bench_copy FROM STDIN WITH (FORMAT csv, HEADER true)") as cp:
            cp.write(data.decode("utf-8-sig").encode())
        copy_seconds = time.perf_counter() - started
        cursor.execute("DROP TABLE bench_copy")
    media = ROOT / "var" / "bench-media"
    with override_settings(MEDIA_ROOT=media):
        started = time.perf_counter()
        submission = services.submit_file(
            Principal.system("bench"),
            department=department,
            category=category,
            source=data,
            filename="bench.csv",
            channel="cli",
            background=False,
        )
        intake_seconds = time.perf_counter() - started
    assert submission.status == Submission.Status.DONE, submission.status
    with connection.cursor() as cursor:
        cursor.execute("SELECT id, uscc FROM subjects_subject ORDER BY id")
        codes = dict(cursor.fetchall())
    ids = list(codes)
    rnd = random.Random(7)
    sample = [rnd.choice(ids) for _ in range(reads)]
    day = timezone.localdate()
    fields = ("id", "kind", "name", "uscc")
    facts, bare = [], []
    for sid in sample:
        t = time.perf_counter()
        read_subject_facts("id", sid, fields, day)
        facts.append(time.perf_counter() - t)
        with connection.cursor() as cursor:
            t = time.perf_counter()
            cursor.execute("SELECT id FROM subjects_subject WHERE id = %s", [sid])
            cursor.fetchone()
            bare.append(time.perf_counter() - t)
    by_code = []
    for sid in sample:
        t = time.perf_counter()
        found = read_subject_facts("uscc", codes[sid], fields, day)
        by_code.append(time.perf_counter() - t)
        assert found is not None and found.subject["id"] == sid
    out = {
        "rows": rows,
        "subjects": len(ids),
        "intake_seconds": intake_seconds,
        "copy_seconds": copy_seconds,
        "read_p50_ms": statistics.median(facts) * 1000,
        "read_p99_ms": sorted(facts)[int(len(facts) * 0.99) - 1] * 1000,
        "bare_p50_ms": statistics.median(bare) * 1000,
        "bare_p99_ms": sorted(bare)[int(len(bare) * 0.99) - 1] * 1000,
        "by_code_p50_ms": statistics.median(by_code) * 1000,
        "by_code_p99_ms": sorted(by_code)[int(len(by_code) * 0.99) - 1] * 1000,
    }
    if citus:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT nodeport, sum(shard_size) FROM citus_shards "
                "WHERE table_name = 'records_record'::regclass GROUP BY 1 ORDER BY 1"
            )
            per_node = {str(p): int(b) for p, b in cursor.fetchall()}
            cursor.execute("SELECT count(*) FROM records_record")
            records = cursor.fetchone()[0]
        out["records"] = records
        out["records_bytes_per_node"] = per_node
    else:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_total_relation_size('records_record'), count(*) FROM records_record"
            )
            size, records = cursor.fetchone()
        out["records"] = records
        out["records_bytes"] = size
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=5000)
    parser.add_argument("--reads", type=int, default=500)
    parser.add_argument("--child", choices=["citus", "pg"])
    parser.add_argument("--json-out", help="also write the result JSON to this file")
    args = parser.parse_args()
    if args.child:
        print(json.dumps(_child(args.child == "citus", args.rows, args.reads)))
        return
    sys.path.insert(0, str(HERE))
    from figures import figure, write_json_out

    # The local cluster (idempotent: a running cluster is left as it is).
    subprocess.run(
        ["bash", str(_cluster_script()), "start"],
        check=True,
        capture_output=True,
    )
    load_before = _load()
    results = {}
    for target, url in (("citus", CITUS_URL), ("pg", PG_URL)):
        env = {**os.environ, "DATABASE_URL": url, "PYTHONPATH": str(ROOT)}
        done = subprocess.run(
            [sys.executable, __file__, "--child", target, "--rows", str(args.rows),
             "--reads", str(args.reads)],
            env=env, check=True, capture_output=True, text=True,
        )  # fmt: skip
        results[target] = json.loads(done.stdout.strip().splitlines()[-1])
    c, p = results["citus"], results["pg"]
    figures = [
        figure("intake through the Citus coordinator", c["rows"] / c["intake_seconds"], "rows/s",
               floor=c["rows"] / c["copy_seconds"], floor_name="bare COPY on the coordinator",
               higher_is_better=True),
        figure("intake on single PostgreSQL", p["rows"] / p["intake_seconds"], "rows/s",
               floor=p["rows"] / p["copy_seconds"], floor_name="bare COPY", higher_is_better=True),
        figure("check read p50, Citus router query", c["read_p50_ms"], "ms",
               floor=c["bare_p50_ms"], floor_name="bare primary-key look-up on Citus"),
        figure("check read p99, Citus router query", c["read_p99_ms"], "ms",
               floor=c["bare_p99_ms"], floor_name="bare primary-key look-up on Citus"),
        figure("check read by USCC p50, Citus (key look-up + router query)",
               c["by_code_p50_ms"], "ms", floor=c["read_p50_ms"], floor_name="the read by id"),
        figure("check read by USCC p99, Citus (key look-up + router query)",
               c["by_code_p99_ms"], "ms", floor=c["read_p99_ms"], floor_name="the read by id"),
        figure("check read p50, single PostgreSQL", p["read_p50_ms"], "ms",
               floor=p["bare_p50_ms"], floor_name="bare primary-key look-up"),
        figure("check read p99, single PostgreSQL", p["read_p99_ms"], "ms",
               floor=p["bare_p99_ms"], floor_name="bare primary-key look-up"),
        figure("records bytes per row (Citus, all shards)",
               sum(c["records_bytes_per_node"].values()) / c["records"], "bytes",
               floor=p["records_bytes"] / p["records"],
               floor_name="single PostgreSQL, same rows"),
    ]  # fmt: skip
    out = {
        "benchmark": "scaleout",
        "load_before": load_before,
        "load_after": _load(),
        "results": results,
        "figures": figures,
    }
    folder = HERE / "out"
    folder.mkdir(exist_ok=True)
    path = folder / f"scaleout-{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps(out, ensure_ascii=False, indent=2))
    write_json_out(args.json_out, out)
    print(json.dumps(out, ensure_ascii=False, indent=2))
    print(f"written to {path}")


if __name__ == "__main__":
    main()
