"""Benchmark: credit checks under load on a city-sized PostgreSQL database, beside a bare indexed
SQL lookup of the same subjects, and a batch check of 100,000 subjects.

    .venv/bin/python benchmarks/checks.py                  # 1,000,000 subjects, 5,000,000 records
    .venv/bin/python benchmarks/checks.py --reuse          # keep the loaded database, drive again
    .venv/bin/python benchmarks/checks.py --subjects 100000 --records 500000 --duration 10
    .venv/bin/python benchmarks/checks.py --reuse --repeat 3   # median of three load runs
    .venv/bin/python benchmarks/checks.py --subjects 100000 --records 500000 --duration 10 \
        --json-out FILE                                    # what `make bench` runs

Steps:
1. a fresh database, `pubcredit migrate`, `pubcredit demo --subjects N` (the demo city), list
   types and measures imported (`pubcredit lists import`, `pubcredit measures import`);
2. R records with their publicity rows written with COPY (benchmarks/portal.py's generator:
   行政许可 and 行政处罚, skewed, penalties public for 1 or 3 years), and E list entries written
   with COPY (black / red / watch lists, a fifth of them already past their validity), then the
   check read model rebuilt (`measures.services.rebuild_subject_flags`) and the tables analysed,
   then the shipped scorecards imported and every grade computed (a check reads the subject's
   current grade in its one statement);
3. the check server started as production runs it: `pubcredit serve_checks` (granian serving
   pubcredit.wsgi_checks, settings pubcredit.settings_checks: only the check operation and the
   health check, the middleware an API-key request needs, prepared statements through the
   alias's `server_side_binding` / `prepare_threshold`), DEBUG off, `--workers` processes of
   `--threads` threads; `--server granian|gunicorn` measures the whole site (pubcredit.wsgi)
   instead;
4. load from a second process: `wrk` (Debian) POSTs /api/v1/checks with a bank's API key for D
   seconds from C connections, a random 统一社会信用代码 per request (a quarter of them subjects
   with list entries or public penalties, so checks return hits and measures); p50/p95/p99 and
   checks/s come from wrk's own latency histogram, a non-2xx response counts as an error
   (benchmarks/wrk.py, shared with benchmarks/portal.py); `--repeat N` drives N times and
   reports the median run by checks/s, with every run listed. Without wrk, Python threads drive
   instead;
5. the framework's floor in the same run: wrk GETs /api/v1/health (one SELECT 1, no auth) from
   the same server for the same duration and connections, the most any endpoint of this stack
   can serve on the machine;
6. the bare lookup in the same run: C threads in a second process send
   `SELECT id, kind, name FROM subjects_subject WHERE uscc = $1` (prepared, on the unique
   index) for the same codes through psycopg, same duration;
7. a batch check of B subjects (CSV with codes and names, two matters) through
   `check_batch.run_batch`, timed end to end (read, lookups, evaluation, COPY of the check log,
   results file).
The machine's load average is recorded before and after (it is shared). Results go to
benchmarks/out/checks-*.json (gitignored; `--json-out FILE` writes them there instead) and are
printed as a table. The JSON's top-level "figures" (benchmarks/figures.py) put each headline
figure beside its floor.

Targets (issue 20, on this machine, in one run): checks/s ≥ 50 % of the framework floor's rate
(ratio ≤ 2) and check p99 ≤ 2× the floor's p99, the floor being `GET /api/v1/health` on the same
server; the bare lookup reported beside them (the earlier target: check p99 within 3× of it);
a batch check of 100,000 ≤ 60 s.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import random
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))
import wrk  # noqa: E402
from demo_load import _pubcredit, fresh_database  # noqa: E402
from figures import figure  # noqa: E402
from portal import (  # noqa: E402
    _percentile,
    _setup_django,
    free_port,
    load_records,
    serving,
    start_server,
    stop_server,
)

OUT = ROOT / "benchmarks" / "out"
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/pubcredit_checks_bench"
# Ratios to the floors (times the floor's cost) and the batch's limit.
TARGETS = {
    "rate_vs_floor": 2.0,  # the floor's checks/s over ours: ours ≥ 50 % of the floor's
    "p99_vs_floor": 2.0,
    "p99_vs_bare": 3.0,  # the earlier target, reported
    "batch_s": 60.0,  # for 100,000 rows
}

MATTERS = ["GOV_PROCUREMENT", "BIDDING", "ADMIN_LICENSING", "FINANCING", "HONOURS"]


def _loadavg() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


# PostgreSQL's processes that work for every database: the WAL writer (the commits' WAL) and the
# writers behind the buffers.
_PG_SHARED = ("walwriter", "background writer", "checkpointer")


def cpu_seconds(server_group: int, database: str) -> dict[str, float]:
    """CPU seconds (user + system) used so far by the server's processes (its process group:
    granian and its workers) and by PostgreSQL for `database` (its backends, and the WAL writer
    and buffer writers every database shares), from /proc. Read before and after a run, divided
    by its requests, it gives each request's CPU on either side: on a machine shared by the
    server, PostgreSQL and the load driver, a rate is a matter of CPU per request."""
    hz = os.sysconf("SC_CLK_TCK")
    totals = {"server": 0, "postgres": 0}
    backend = f" {database} "
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
            title = Path(f"/proc/{entry}/cmdline").read_bytes().decode(errors="replace")
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        ticks = int(fields[11]) + int(fields[12])
        if int(fields[2]) == server_group:
            totals["server"] += ticks
        elif title.startswith("postgres:") and (
            backend in title or title.rstrip(" \0").endswith(_PG_SHARED)
        ):
            totals["postgres"] += ticks
    return {k: v / hz for k, v in totals.items()}


def with_cpu(server_group: int, database: str, run) -> dict:
    """`run()` (a wrk run's result), with the CPU per request of the server's processes and of
    PostgreSQL during it (`cpu_seconds`), in microseconds."""
    before = cpu_seconds(server_group, database)
    out = run()
    after = cpu_seconds(server_group, database)
    requests = out.get("requests") or 0
    if requests:
        for side in ("server", "postgres"):
            out[f"{side}_cpu_us"] = round((after[side] - before[side]) / requests * 1e6)
    return out


def _run(cmd: list[str], env: dict) -> str:
    done = subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{done.stderr[-3000:]}")
    return done.stdout


# --------------------------------------------------------------------------- data


def load_entries(n_entries: int, seed: int = 17) -> dict:
    """Write `n_entries` list entries with COPY (organisations and 个体工商户 drawn at random;
    black 40%, red 45%, watch 15%; a fifth already past their validity)."""
    import numpy as np
    import polars as pl
    from django.db import connection, transaction
    from django.utils import timezone

    from pubcredit.catalog.models import Department
    from pubcredit.core.bulkload import bulk_copy
    from pubcredit.lists.models import ListType

    started = time.perf_counter()
    rng = np.random.default_rng(seed)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id, name FROM subjects_subject WHERE kind IN ('org', 'ind') ORDER BY id"
        )
        rows = cursor.fetchall()
    ids = np.array([r[0] for r in rows])
    names = [r[1] for r in rows]
    picks = rng.choice(len(ids), size=min(n_entries, len(ids)), replace=False)
    types = {
        k: list(ListType.objects.filter(kind=k, active=True)) for k in ("black", "red", "watch")
    }
    kinds = rng.choice(["black", "red", "watch"], size=len(picks), p=[0.4, 0.45, 0.15])
    dept = Department.objects.order_by("code").first()
    today = timezone.localdate()
    epoch = dt.date(1970, 1, 1)
    today_days = (today - epoch).days
    decided = today_days - rng.integers(30, 3 * 365, len(picks))
    expired = rng.random(len(picks)) < 0.2
    # Expired entries ended halfway between their decision and today.
    valid_to = np.where(
        expired,
        decided + (today_days - decided) // 2,
        today_days + rng.integers(30, 700, len(picks)),
    )
    list_type_ids = [types[k][rng.integers(0, len(types[k]))].pk for k in kinds]
    now = timezone.now()
    frame = pl.DataFrame(
        {
            "list_type_id": list_type_ids,
            "subject_id": ids[picks],
            "subject_name": [names[i] for i in picks],
            "identified_by_id": [dept.pk] * len(picks),
            "basis": ["基准测试认定依据"] * len(picks),
            "document_number": [f"淄信认〔2026〕{i}号" for i in range(len(picks))],
            "decided_on": pl.Series(decided).cast(pl.Int32).cast(pl.Date),
            "valid_from": pl.Series(decided).cast(pl.Int32).cast(pl.Date),
            "valid_to": pl.Series(valid_to).cast(pl.Int32).cast(pl.Date),
            "status": ["published"] * len(picks),
            "status_changed_at": [now] * len(picks),
            "source": ["console"] * len(picks),
            "created_by": ["benchmark"] * len(picks),
        }
    )
    from pubcredit.lists.models import ListEntry

    with transaction.atomic():
        bulk_copy(ListEntry, list(frame.columns), frame)
    return {"entries": len(picks), "seconds": round(time.perf_counter() - started, 1)}


def prepare(url: str, var_dir: Path, args) -> dict:
    env = os.environ | {"DATABASE_URL": url, "PUBCREDIT_VAR_DIR": str(var_dir)}
    timings: dict = {}
    t = time.perf_counter()
    fresh_database(url)
    _run([*_pubcredit(), "migrate", "--noinput"], env)
    timings["migrate_s"] = round(time.perf_counter() - t, 1)
    t = time.perf_counter()
    _run([*_pubcredit(), "demo", "--subjects", str(args.subjects), "--json"], env)
    timings["demo_s"] = round(time.perf_counter() - t, 1)
    _run([*_pubcredit(), "lists", "import"], env)
    _run([*_pubcredit(), "measures", "import"], env)
    _setup_django(url, var_dir)
    print("records …", file=sys.stderr, flush=True)
    timings["records"] = load_records(args.records)
    print("entries …", file=sys.stderr, flush=True)
    timings["entries"] = load_entries(args.entries)
    print("check read model …", file=sys.stderr, flush=True)
    t = time.perf_counter()
    from pubcredit.measures.services import rebuild_subject_flags

    timings["flags_rows"] = rebuild_subject_flags()
    timings["flags_s"] = round(time.perf_counter() - t, 1)
    analyse()
    print("credit grades …", file=sys.stderr, flush=True)
    t = time.perf_counter()
    timings["grades"] = compute_grades()
    timings["grades_s"] = round(time.perf_counter() - t, 1)
    return timings


def compute_grades() -> int:
    """The shipped scorecards imported and every subject's grade computed, so that each check
    reads a real current grade (the check's probe of scoring's current results). Each scorecard
    is followed by an ANALYZE of the results: the engine's INSERT … WHERE NOT EXISTS is planned
    as a loop over a table the statistics still call empty after the previous scorecard's rows."""
    from django.db import connection

    from pubcredit.accounts.permissions import Principal
    from pubcredit.scoring import engine
    from pubcredit.scoring.scorecards import import_scorecards
    from pubcredit.scoring.services import scorecards_in_force

    import_scorecards(Principal.system("benchmark"))
    subjects = 0
    for version in scorecards_in_force():
        subjects += engine.compute(version)["subjects"]
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE scoring_scoreresult")
    return subjects


def analyse() -> None:
    """Vacuum the big tables (visibility maps for index-only scans) and analyse everything: a
    check reads commitments and lists loaded by the demo, and autovacuum may be off (it is on
    CI machines), which leaves the planner guessing on tables never analysed."""
    from django.db import connection

    with connection.cursor() as cursor:
        for table in (
            "subjects_subject",
            "records_record",
            "publicity_publicity",
            "lists_listentry",
            "measures_subjectflags",
            "measures_creditcheck",
        ):
            cursor.execute(f"VACUUM ANALYZE {table}")
        cursor.execute("ANALYZE")


def workload(n: int = 20_000, seed: int = 5) -> list[str]:
    """Codes to check: three quarters random organisations / 个体工商户, one quarter subjects
    that have something in the check read model (hits)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT uscc FROM subjects_subject TABLESAMPLE SYSTEM (5) "
            "WHERE uscc IS NOT NULL LIMIT %s",
            [n * 3 // 4],
        )
        plain = [r[0] for r in cursor.fetchall()]
        cursor.execute(
            "SELECT s.uscc FROM measures_subjectflags f JOIN subjects_subject s "
            "ON s.id = f.subject_id WHERE s.uscc IS NOT NULL ORDER BY random() LIMIT %s",
            [n // 4],
        )
        flagged = [r[0] for r in cursor.fetchall()]
    codes = plain + flagged
    random.Random(seed).shuffle(codes)
    return codes


def bench_key() -> str:
    from pubcredit.accounts.models import ApiKey, Role
    from pubcredit.accounts.permissions import Principal
    from pubcredit.accounts.services import issue_api_key

    ApiKey.objects.filter(name="benchmark bank").update(active=False)
    _key, clear = issue_api_key(
        Principal.system("benchmark"), name="benchmark bank", role=Role.BANK_USER
    )
    return clear


# --------------------------------------------------------------------------- load


def drive_wrk(port: int, requests_file: Path, key: str, seconds: int, connections: int) -> dict:
    """POST the checks in `requests_file` (benchmarks/wrk.py's format), one at random per
    request, with the bank's key."""
    out = wrk.run(
        port,
        requests_file,
        seconds,
        connections,
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {key}"},
        order="random",
        digits=2,
    )
    out["checks_per_second"] = out.pop("requests_per_second")
    return out


def check_requests(codes: list[str]) -> list[tuple[str, str, str]]:
    """The checks wrk sends: each code with one of the matters in turn."""
    return [
        ("POST", "/api/v1/checks", json.dumps({"uscc": code, "matter": MATTERS[i % len(MATTERS)]}))
        for i, code in enumerate(codes)
    ]


def drive_threads(port: int, codes: list[str], key: str, seconds: float, n: int) -> dict:
    from http.client import HTTPConnection

    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    stop_at = time.perf_counter() + seconds

    def worker(i):
        conn = HTTPConnection("127.0.0.1", port, timeout=30)
        rnd = random.Random(i)
        local = []
        while time.perf_counter() < stop_at:
            body = json.dumps({"uscc": rnd.choice(codes), "matter": rnd.choice(MATTERS)})
            t0 = time.perf_counter()
            conn.request(
                "POST",
                "/api/v1/checks",
                body=body,
                headers={"Content-Type": "application/json", "Authorization": f"Bearer {key}"},
            )
            response = conn.getresponse()
            response.read()
            local.append(time.perf_counter() - t0)
            if response.status != 200:
                with lock:
                    errors[0] += 1
        with lock:
            latencies.extend(local)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    values = sorted(latencies)
    return {
        "driver": f"python threads x{n}",
        "requests": len(values),
        "errors": errors[0],
        "checks_per_second": round(len(values) / seconds, 1),
        "p50_ms": round(_percentile(values, 50), 2),
        "p95_ms": round(_percentile(values, 95), 2),
        "p99_ms": round(_percentile(values, 99), 2),
        "max_ms": round(values[-1] * 1000, 2) if values else 0.0,
    }


def bare_lookup(url: str, codes: list[str], seconds: float, n: int) -> dict:
    """The floor: the same subjects looked up by their code on the unique index, from threads of
    a second process over psycopg (prepared statement), no application in between."""
    import psycopg

    latencies: list[float] = []
    lock = threading.Lock()
    stop_at = time.perf_counter() + seconds
    dsn = url.replace("postgres://", "postgresql://", 1)

    def worker(i):
        rnd = random.Random(100 + i)
        local = []
        with psycopg.connect(dsn, prepare_threshold=0) as conn:
            while time.perf_counter() < stop_at:
                t0 = time.perf_counter()
                conn.execute(
                    "SELECT id, kind, name FROM subjects_subject WHERE uscc = %s",
                    [rnd.choice(codes)],
                ).fetchone()
                local.append(time.perf_counter() - t0)
        with lock:
            latencies.extend(local)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    values = sorted(latencies)
    return {
        "driver": f"psycopg threads x{n}",
        "lookups": len(values),
        "lookups_per_second": round(len(values) / seconds, 1),
        "p50_ms": round(_percentile(values, 50), 3),
        "p95_ms": round(_percentile(values, 95), 3),
        "p99_ms": round(_percentile(values, 99), 3),
    }


def batch_check(codes: list[str], rows: int) -> dict:
    """A batch of `rows` subjects (codes, some names, two matters) through run_batch."""
    import io

    from django.db import connection

    from pubcredit.accounts.permissions import Principal
    from pubcredit.checks import batch as check_batch
    from pubcredit.checks.models import CheckBatch

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT uscc, name FROM subjects_subject TABLESAMPLE SYSTEM (20) "
            "WHERE uscc IS NOT NULL LIMIT %s",
            [rows],
        )
        sample = cursor.fetchall()
    lines = ["统一社会信用代码,名称,事项"]
    for i in range(rows):
        uscc, name = sample[i % len(sample)]
        matter = "GOV_PROCUREMENT" if i % 2 else "FINANCING"
        if i % 20 == 0:
            lines.append(f",{name.replace(',', ' ')},{matter}")
        else:
            lines.append(f"{uscc},,{matter}")
    content = ("\n".join(lines) + "\n").encode()
    from django.test import override_settings

    # The upload is stored and run here, not by a worker: the job itself is what is timed.
    with override_settings(
        TASKS={"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    ):
        batch = check_batch.submit_batch(
            Principal.system("benchmark"), io.BytesIO(content), filename="bench.csv"
        )
    t = time.perf_counter()
    batch = check_batch.run_batch(batch.pk)
    seconds = round(time.perf_counter() - t, 2)
    assert batch.status == CheckBatch.Status.DONE, batch.error_message
    return {
        "rows": batch.rows,
        "seconds": seconds,
        "timings": batch.timings,
        "counts": batch.counts,
    }


def start_check_server(url: str, var_dir: Path, port: int, workers: int, threads: int):
    """`pubcredit serve_checks` (the production command) on `port`, as `portal.start_server`
    starts the site: DEBUG off, persistent connections; waits until its health check answers."""

    env = os.environ | {
        "DATABASE_URL": url,
        "PUBCREDIT_VAR_DIR": str(var_dir),
        "PUBCREDIT_DEBUG": "0",
        "PUBCREDIT_CONN_MAX_AGE": "600",
        "DJANGO_SETTINGS_MODULE": "pubcredit.settings",
    }
    cmd = [*_pubcredit(), "serve_checks", "--port", str(port), "--workers", str(workers)]
    cmd += ["--threads", str(threads)]
    return serving(subprocess.Popen(cmd, env=env, cwd=ROOT, start_new_session=True), port)


# --------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--subjects", type=int, default=1_000_000)
    parser.add_argument("--records", type=int, default=5_000_000)
    parser.add_argument("--entries", type=int, default=60_000)
    parser.add_argument("--duration", type=int, default=20)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--batch", type=int, default=100_000)
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument("--reuse", action="store_true", help="use the loaded database as it is")
    parser.add_argument(
        "--server",
        choices=["checks", "granian", "gunicorn"],
        default="checks",
        help="checks: the check server (`pubcredit serve_checks`); granian or gunicorn: the "
        "whole site (pubcredit.wsgi)",
    )
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--json-out", type=Path, default=None, help="write the result JSON here")
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="drive the checks and the floor N times in turn and report the median run of each "
        "(a shared machine drifts)",
    )
    args = parser.parse_args(argv)

    url = args.database_url
    # One var dir for every run, so a --reuse run has the keys the data was loaded with.
    var_dir = ROOT / "var" / "bench-checks"
    var_dir.mkdir(parents=True, exist_ok=True)
    result: dict = {
        "benchmark": "checks",
        "at": dt.datetime.now().isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "load_average_before": _loadavg(),
        "subjects": args.subjects,
        "records": args.records,
        "entries": args.entries,
        "targets": TARGETS,
    }
    if not args.reuse:
        result["prepare"] = prepare(url, var_dir, args)
    else:
        _setup_django(url, var_dir)
    codes = workload()
    requests_file = wrk.write_requests(var_dir / "checks.txt", check_requests(codes))
    key = bench_key()

    kind = args.server
    port = free_port()
    if kind == "checks":
        server = start_check_server(url, var_dir, port, args.workers, args.threads)
    else:
        if not Path(sys.executable).with_name(kind).exists():
            has_gunicorn = Path(sys.executable).with_name("gunicorn").exists()
            kind = "gunicorn" if has_gunicorn else "runserver"
        server = start_server(url, var_dir, port, kind, args.workers, args.threads)
    database = urlsplit(url).path.lstrip("/")
    try:
        warm = min(5, args.duration)
        if wrk.available():
            # The framework's floor on this machine: the same server answering its health
            # check (one SELECT 1, no auth, a two-key JSON), same connections and duration,
            # driven in turn with the checks (a shared machine drifts: each pair of runs
            # sees the same load), the median run of each reported.
            health = wrk.write_requests(var_dir / "health.txt", ["/api/v1/health"])
            drive_wrk(port, requests_file, key, warm, args.connections)
            wrk.run(port, health, warm, args.connections, digits=2)
            runs, floors = [], []
            for _ in range(max(1, args.repeat)):
                runs.append(
                    with_cpu(
                        server.pid,
                        database,
                        lambda: drive_wrk(
                            port, requests_file, key, args.duration, args.connections
                        ),
                    )
                )
                floors.append(
                    with_cpu(
                        server.pid,
                        database,
                        lambda: wrk.run(port, health, args.duration, args.connections, digits=2),
                    )
                )
                floors[-1]["load_average"] = _loadavg()
            runs.sort(key=lambda r: r["checks_per_second"])
            floors.sort(key=lambda r: r["requests_per_second"])
            result["checks"] = runs[len(runs) // 2]
            result["checks_runs"] = [
                {k: r[k] for k in ("p50_ms", "p95_ms", "p99_ms", "checks_per_second")} for r in runs
            ]
            result["framework_floor"] = {
                "endpoint": "GET /api/v1/health",
                **floors[len(floors) // 2],
            }
            result["framework_floor_runs"] = [
                {k: r[k] for k in ("p50_ms", "p95_ms", "p99_ms", "requests_per_second")}
                for r in floors
            ]
        else:
            drive_threads(port, codes, key, warm, args.connections)
            result["checks"] = drive_threads(port, codes, key, args.duration, args.connections)
        result["load_average_during"] = _loadavg()
    finally:
        stop_server(server)
    label = "check server: pubcredit serve_checks (granian)" if kind == "checks" else kind
    result["server"] = f"{label} ({args.workers} workers x {args.threads} threads)"
    result["bare_lookup"] = bare_lookup(url, codes, args.duration, args.connections)
    result["batch"] = batch_check(codes, args.batch)
    result["load_average_after"] = _loadavg()
    checks, bare = result["checks"], result["bare_lookup"]
    result["ratio_p99_to_bare"] = round(checks["p99_ms"] / max(bare["p99_ms"], 1e-3), 1)
    result["ratio_rate_bare_to_checks"] = round(
        bare["lookups_per_second"] / max(checks["checks_per_second"], 1e-3), 2
    )
    floor = result.get("framework_floor")
    if floor:
        # How far the framework alone already is from the bare lookup: no endpoint of this
        # stack can be closer to it than the health check is.
        result["ratio_floor_p99_to_bare"] = round(floor["p99_ms"] / max(bare["p99_ms"], 1e-3), 1)
        result["ratio_floor_rate_bare_to_floor"] = round(
            bare["lookups_per_second"] / max(floor["requests_per_second"], 1e-3), 2
        )
    result["figures"] = figures(result)
    result["targets"] = {f["name"]: f["met"] for f in result["figures"] if f["met"] is not None}
    OUT.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    path = args.json_out or OUT / f"checks-{args.subjects}-{stamp}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, ensure_ascii=False, indent=2))
    _print(result, path)
    return 0


def figures(result: dict) -> list[dict]:
    """The headline figures beside their floors (benchmarks/figures.py)."""
    checks, bare, batch = result["checks"], result["bare_lookup"], result["batch"]
    floor = result.get("framework_floor") or {}
    on = "GET /api/v1/health on the same server"
    load = f"load average during {result.get('load_average_during')}"
    out = [
        figure(
            "checks per second",
            checks["checks_per_second"],
            "req/s",
            floor=floor.get("requests_per_second"),
            floor_name=on,
            target=TARGETS["rate_vs_floor"],
            higher_is_better=True,
            note=f"{result['server']}; {load}",
        ),
        figure(
            "check p99",
            checks["p99_ms"],
            "ms",
            floor=floor.get("p99_ms"),
            floor_name=on,
            target=TARGETS["p99_vs_floor"],
            note=load,
        ),
        *(
            figure(
                f"CPU per check, {label}",
                checks[key],
                "µs",
                floor=floor.get(key),
                floor_name=f"per {on}",
                note="during the measured run, from /proc (docs/floors.md)",
            )
            for key, label in (
                ("server_cpu_us", "check server's processes"),
                ("postgres_cpu_us", "PostgreSQL"),
            )
            if checks.get(key)
        ),
        figure(
            "check p99 vs the bare lookup",
            checks["p99_ms"],
            "ms",
            floor=bare["p99_ms"],
            floor_name="bare indexed lookup (psycopg, prepared, same codes)",
            note=f"no target; the earlier one was {TARGETS['p99_vs_bare']:g}x",
        ),
        figure(
            f"batch check of {batch['rows']:,} rows",
            batch["seconds"],
            "s",
            limit=TARGETS["batch_s"] if batch["rows"] >= 100_000 else None,
            note="limit 60 s for 100,000 rows",
        ),
    ]
    return out


def _print(result: dict, path: Path) -> None:
    c, b, batch = result["checks"], result["bare_lookup"], result["batch"]
    print(f"\ncredit checks — {result['subjects']:,} subjects, {result['records']:,} records")
    print(f"server: {result['server']}; driver: {c['driver']}")
    print(f"load average before/during/after: {result['load_average_before']} / "
          f"{result.get('load_average_during')} / {result['load_average_after']}")  # fmt: skip
    print(f"{'':24}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'per s':>10}")
    print(f"{'POST /api/v1/checks':24}{c['p50_ms']:>9}{c['p95_ms']:>9}{c['p99_ms']:>9}"
          f"{c['checks_per_second']:>10}  errors {c['errors']}")  # fmt: skip
    runs = result.get("checks_runs", [])
    if len(runs) > 1:
        each = ", ".join(f"{r['checks_per_second']}/s p99 {r['p99_ms']}" for r in runs)
        print(f"{'':24}median of {len(runs)} runs: {each}")
    print(f"{'bare SQL lookup':24}{b['p50_ms']:>9}{b['p95_ms']:>9}{b['p99_ms']:>9}"
          f"{b['lookups_per_second']:>10}")  # fmt: skip
    f = result.get("framework_floor")
    if f:
        print(f"{'GET /api/v1/health':24}{f['p50_ms']:>9}{f['p95_ms']:>9}{f['p99_ms']:>9}"
              f"{f['requests_per_second']:>10}  (same server: the framework's floor)")  # fmt: skip
    print(f"batch check: {batch['rows']:,} rows in {batch['seconds']} s {batch['timings']}")
    ratios = f"checks/bare: p99 {result['ratio_p99_to_bare']}x, rate {result['ratio_rate_bare_to_checks']}x"
    if f:
        ratios += (f"; health/bare (floor): p99 {result['ratio_floor_p99_to_bare']}x, "
                   f"rate {result['ratio_floor_rate_bare_to_floor']}x")  # fmt: skip
    print(ratios)
    for f in result["figures"]:
        ratio = f"{f['ratio']}x {f['floor_name']}" if f["ratio"] is not None else "no floor"
        met = {True: "met", False: "NOT met", None: "-"}[f["met"]]
        aim = f"target {f['target_ratio']}x" if f["target_ratio"] else "no ratio target"
        if f["limit"] is not None:
            aim += f", limit {f['limit']:g} {f['unit']}"
        print(f"  {f['name']}: {f['value']} {f['unit']} ({ratio}; {aim}) {met}")
    print(f"written to {path}")


if __name__ == "__main__":
    raise SystemExit(main())
