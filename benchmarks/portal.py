"""Benchmark: the public portal under load on a city-sized PostgreSQL database.

    .venv/bin/python benchmarks/portal.py                 # 1,000,000 subjects, 5,000,000 records
    .venv/bin/python benchmarks/portal.py --reuse         # keep the loaded database, drive again
    .venv/bin/python benchmarks/portal.py --demo-loaded --database-url …  # on a kept demo city
    .venv/bin/python benchmarks/portal.py --subjects 100000 --records 500000 --duration 10

Steps:
1. a fresh database (benchmarks/demo_load.py's helpers), `pubcredit migrate`, then
   `pubcredit demo --subjects N` (the demo city: organisations, 个体工商户, natural persons);
   with `--demo-loaded`, the database already holds it (`benchmarks/demo_load.py --keep`, as
   `make bench` does) and this step is skipped;
2. R records generated with numpy/polars and written with PostgreSQL COPY straight into the
   records table (行政许可 and 行政处罚 with their catalogue fields, persons' ID numbers masked as
   intake stores them) and into the publicity read model (windows from the decision date: a
   penalty public for 1 year, or 3 for one in ten; a licence while valid), skewed so that a few
   subjects have hundreds of records and most have none;
3. the name-search index rebuilt (`portal.search.rebuild_search_index`) and the tables analysed;
4. the site started as a real WSGI server in its own process (gunicorn, 2 workers × 4 threads,
   when installed; else `pubcredit runserver --noreload`), DEBUG off, rate limit off;
5. load from a second process for D seconds per run, on keep-alive connections, every request
   with `Accept-Language: zh-CN`, any response that is not 2xx counted as an error:
   - search: the search page for substrings of real names — 2 characters (half the queries),
     3 to 6 characters, and 18-character 统一社会信用代码;
   - subject: a subject's page (基本信息 or 行政处罚 tab), subjects drawn by record count
     ("by-records": the heavy tail) and uniformly among organisations ("uniform");
   - api-search / api-records: the same through /api/v1/public.
   With `wrk` installed (Debian's, the default `--driver auto`; `--driver wrk` to insist), wrk
   runs with -t2 -c<C> (benchmarks/wrk.py, shared with benchmarks/checks.py), one path per
   line from a file, taken round-robin. wrk's Lua `done()` gives one latency histogram per run,
   so each scenario is: a warm-up run of W seconds over all its paths, then a mixed run of D
   seconds over all its paths (the kinds in their sampled proportions) — the scenario's
   overall row (requests/s, p50/p95/p99, errors) is that run's, measured, not combined from the
   kinds — then one D-second run per kind over that kind's paths alone: the per-kind rows,
   with their own requests/s (a kind alone, not its share of the mix). p50/p95/p99 are wrk's
   (from request written to response read). So a scenario takes W + (1 + kinds) × D seconds.
   Without wrk (or `--driver threads`), this script with --drive sends the paths round-robin
   from C Python threads for W + D seconds per scenario and takes the per-kind rows from the
   same mixed run; on a 2-core machine those client threads compete with the server for CPU
   and understate it.
Results go to benchmarks/out/portal-*.json (gitignored) with the machine's load average, which
matters on a shared machine.

Targets (2 cores): name search p95 ≤ 50 ms (2-character queries included), subject page p95 ≤
100 ms.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import random
import signal
import socket
import subprocess
import sys
import threading
import time
from http.client import HTTPConnection
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))
import wrk  # noqa: E402
from demo_load import _pubcredit, fresh_database  # noqa: E402
from figures import figure, write_json_out  # noqa: E402

OUT = ROOT / "benchmarks" / "out"
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/pubcredit_portal_bench"
TARGETS_MS = {"search": 50.0, "subject": 100.0}
FLOOR = "framework-floor"
CHUNK = 500_000


# --------------------------------------------------------------------------- data


def _setup_django(url: str, var_dir: Path) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ["PUBCREDIT_VAR_DIR"] = str(var_dir)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pubcredit.settings")
    import django

    django.setup()


def _subjects_frame():
    import polars as pl
    from django.db import connection

    from pubcredit.subjects.models import Subject

    buf = bytearray()
    with connection.cursor() as cursor:
        sql = (
            f"COPY (SELECT id, kind, name, COALESCE(uscc, ''), id_masked "
            f"FROM {Subject._meta.db_table} ORDER BY id) TO STDOUT (FORMAT csv)"
        )
        with cursor.cursor.copy(sql) as copy:
            for block in copy:
                buf += block
    return pl.read_csv(
        bytes(buf),
        has_header=False,
        schema={
            "id": pl.Int64,
            "kind": pl.String,
            "name": pl.String,
            "uscc": pl.String,
            "id_masked": pl.String,
        },
    ).with_columns(pl.col(pl.String).fill_null(""))


KIND_LABEL = {"org": "法人及非法人组织", "ind": "个体工商户", "person": "自然人"}


def load_records(n_records: int, seed: int = 11) -> dict:
    """Write `n_records` records and their publicity rows with COPY; returns counts and times."""
    import numpy as np
    import polars as pl
    from django.db import transaction
    from django.utils import timezone

    from pubcredit.catalog.models import Category, Department
    from pubcredit.core.bulkload import bulk_copy, deferred_indexes, reserve_ids
    from pubcredit.intake.models import Submission
    from pubcredit.publicity.models import Publicity
    from pubcredit.records.models import Record

    started = time.perf_counter()
    rng = np.random.default_rng(seed)
    subjects = _subjects_frame()
    escaped = (
        subjects["name"]
        .str.replace_all("\\", "", literal=True)
        .str.replace_all('"', "", literal=True)
    )
    subjects = subjects.with_columns(name_json=escaped)
    # A few subjects have many records, most have none (Pareto weights); persons get 5%.
    persons = np.flatnonzero((subjects["kind"] == "person").to_numpy())
    others = np.flatnonzero((subjects["kind"] != "person").to_numpy())
    weights = rng.pareto(1.8, len(others)) + 0.05
    weights /= weights.sum()
    categories = {c.code: c for c in Category.objects.filter(code__in=["XK", "CF"])}
    departments = list(Department.objects.filter(active=True).order_by("code")[:12])
    now = timezone.now()
    submissions = {}
    for dept in departments:
        for code, cat in categories.items():
            submissions[(dept.pk, code)] = Submission.objects.create(
                department=dept,
                category=cat,
                channel=Submission.Channel.CLI,
                filename=f"bench-{dept.code}-{code}.csv",
                sha256=f"{dept.pk:032d}{cat.pk:032d}",
                status=Submission.Status.DONE,
            ).pk
    dept_ids = np.array([d.pk for d in departments])
    dept_names = pl.Series([d.name for d in departments])
    dept_usccs = pl.Series([d.uscc for d in departments])
    today = timezone.localdate()
    epoch = dt.date(1970, 1, 1)
    today_days = (today - epoch).days
    written = 0
    with transaction.atomic():
        ids = reserve_ids(Record, n_records)
        with deferred_indexes(Record), deferred_indexes(Publicity):
            for start in range(0, n_records, CHUNK):
                m = min(CHUNK, n_records - start)
                is_person = rng.random(m) < 0.05
                rows = np.where(
                    is_person,
                    persons[rng.integers(0, len(persons), m)],
                    others[rng.choice(len(others), m, p=weights)],
                )
                subj = subjects[rows]
                is_cf = rng.random(m) < 0.45
                dept_index = rng.integers(0, len(departments), m)
                decided_days = today_days - rng.integers(0, 6 * 365, m)
                serious = rng.random(m) < 0.1
                record_ids = np.arange(ids.start + start, ids.start + start + m)
                frame = pl.DataFrame(
                    {
                        "id": record_ids,
                        "subject_id": subj["id"],
                        "kind": subj["kind"],
                        "name": subj["name"],
                        "name_json": subj["name_json"],
                        "uscc": subj["uscc"],
                        "id_masked": subj["id_masked"],
                        "is_cf": is_cf,
                        "dept": dept_index,
                        "decided": pl.Series(decided_days).cast(pl.Int32).cast(pl.Date),
                        "serious": serious,
                    }
                ).with_columns(
                    department_id=pl.Series(dept_ids[dept_index]),
                    dept_name=dept_names.gather(dept_index),
                    dept_uscc=dept_usccs.gather(dept_index),
                    kind_label=pl.col("kind").replace_strict(KIND_LABEL),
                    n=pl.col("id").cast(pl.String),
                )
                frame = _with_record_columns(frame, categories, submissions, now)
                bulk_copy(Record, RECORD_COLUMNS, frame)
                bulk_copy(Publicity, PUBLICITY_COLUMNS, _publicity(frame, today, now))
                written += m
                print(f"  records {written:,}/{n_records:,}", file=sys.stderr, flush=True)
            # Check the deferred foreign keys now: PostgreSQL refuses CREATE INDEX on a table
            # with pending trigger events, and the indexes are rebuilt when this block ends.
            from django.db import connection

            with connection.cursor() as cursor:
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    return {"records": written, "seconds": round(time.perf_counter() - started, 1)}


RECORD_COLUMNS = [
    "id",
    "category_id",
    "department_id",
    "business_key",
    "subject_id",
    "subject_link",
    "subject_name",
    "subject_kind",
    "content_hash",
    "data",
    "decision_date",
    "valid_from",
    "valid_to",
    "submission_id",
    "source_row",
    "received_at",
    "created_at",
    "updated_at",
]
PUBLICITY_COLUMNS = [
    "record_id",
    "subject_id",
    "category_id",
    "department_id",
    "tier",
    "tier_source",
    "start",
    "repair_from",
    "end",
    "state",
    "published_at",
    "ended_at",
    "computed_at",
]


def _with_record_columns(frame, categories, submissions, now):
    import polars as pl

    date = pl.col("decided").dt.to_string("%Y-%m-%d")
    valid_to = (
        pl.when(pl.col("is_cf"))
        .then(pl.col("decided").dt.offset_by("1y"))
        .otherwise(pl.col("decided").dt.offset_by("5y"))
    )
    person = pl.col("kind") == "person"
    ident = (
        pl.when(person)
        .then(pl.format('"XDR_ZJLX":"身份证","XDR_ZJHM":"{}"', pl.col("id_masked")))
        .otherwise(pl.format('"XDR_SHXYM":"{}","FRDB":"李明"', pl.col("uscc")))
    )
    common = pl.format('XDR_MC":"{}","XDR_LB":"{}",', pl.col("name_json"), pl.col("kind_label"))
    cf = pl.format(
        '{{"CF_{},"CF_WSH":"淄罚〔{}〕{}号","CF_WFXW":"违反《中华人民共和国食品安全法》",'
        '"CF_SY":"经营超过保质期的食品,货值金额较小","CF_YJ":"《中华人民共和国食品安全法》第一百二十四条",'
        '"CF_CFLB":["罚款"],"CF_NR":"罚款人民币伍仟元","CF_NR_FK":"0.5","CF_JDRQ":"{}",'
        '"CF_YXQ":"{}","CF_CFJG":"{}","CF_CFJGDM":"{}","CF_SJLY":"{}","CF_SJLYDM":"{}"}}',
        pl.concat_str([common, ident]).str.replace_all(',"', ',"CF_', literal=True),
        pl.col("decided").dt.year(),
        pl.col("n"),
        date,
        valid_to.dt.to_string("%Y-%m-%d"),
        pl.col("dept_name"),
        pl.col("dept_uscc"),
        pl.col("dept_name"),
        pl.col("dept_uscc"),
    )
    xk = pl.format(
        '{{"XK_{},"XK_XKWS":"食品经营许可决定书","XK_WSH":"淄许〔{}〕{}号","XK_XKLB":"普通",'
        '"XK_XKZS":"食品经营许可证","XK_XKBH":"JY1370303{}","XK_NR":"预包装食品销售","XK_JDRQ":"{}",'
        '"XK_YXQZ":"{}","XK_YXQZI":"{}","XK_XKJG":"{}","XK_XKJGDM":"{}","XK_ZT":"有效",'
        '"XK_LYDW":"{}","XK_LYDWDM":"{}"}}',
        pl.concat_str([common, ident]).str.replace_all(',"', ',"XK_', literal=True),
        pl.col("decided").dt.year(),
        pl.col("n"),
        pl.col("n"),
        date,
        date,
        valid_to.dt.to_string("%Y-%m-%d"),
        pl.col("dept_name"),
        pl.col("dept_uscc"),
        pl.col("dept_name"),
        pl.col("dept_uscc"),
    )
    cf_id, xk_id = categories["CF"].pk, categories["XK"].pk
    sub_cf = {d: s for (d, c), s in submissions.items() if c == "CF"}
    sub_xk = {d: s for (d, c), s in submissions.items() if c == "XK"}
    return frame.with_columns(
        category_id=pl.when(pl.col("is_cf")).then(cf_id).otherwise(xk_id),
        business_key=pl.format("BENCH-{}", pl.col("n")),
        subject_link=pl.lit("uscc"),
        subject_name=pl.col("name"),
        subject_kind=pl.col("kind"),
        content_hash=pl.col("id").hash(7).cast(pl.String).str.slice(0, 32),
        data=pl.when(pl.col("is_cf")).then(cf).otherwise(xk),
        decision_date=pl.col("decided"),
        valid_from=pl.col("decided"),
        valid_to=valid_to,
        submission_id=pl.when(pl.col("is_cf"))
        .then(pl.col("department_id").replace_strict(sub_cf))
        .otherwise(pl.col("department_id").replace_strict(sub_xk)),
        source_row=pl.col("id") % 100_000 + 2,
        received_at=pl.lit(now),
        created_at=pl.lit(now),
        updated_at=pl.lit(now),
    )


def _publicity(frame, today, now):
    import polars as pl

    end = (
        pl.when(~pl.col("is_cf"))
        .then(pl.col("decided").dt.offset_by("5y"))
        .when(pl.col("serious"))
        .then(pl.col("decided").dt.offset_by("3y"))
        .otherwise(pl.col("decided").dt.offset_by("1y"))
    )
    public = end > pl.lit(today)
    return frame.select(
        record_id=pl.col("id"),
        subject_id=pl.col("subject_id"),
        category_id=pl.col("category_id"),
        department_id=pl.col("department_id"),
        tier=pl.when(~pl.col("is_cf"))
        .then(pl.lit(""))
        .when(pl.col("serious"))
        .then(pl.lit("serious"))
        .otherwise(pl.lit("general")),
        tier_source=pl.lit("rule"),
        start=pl.col("decided"),
        repair_from=pl.when(pl.col("is_cf")).then(pl.col("decided").dt.offset_by("3mo")),
        end=end,
        state=pl.when(public).then(pl.lit("public")).otherwise(pl.lit("ended")),
        published_at=pl.lit(now),
        ended_at=pl.when(public).then(pl.lit(None)).otherwise(pl.lit(now)),
        computed_at=pl.lit(now),
    )


def analyse() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        for table in (
            "records_record",
            "publicity_publicity",
            "subjects_subject",
            "portal_namegram",
            "portal_searchentry",
            "portal_gramstat",
        ):
            cursor.execute(f"VACUUM ANALYZE {table}")


def sample_workload(n: int = 4000, seed: int = 5) -> dict:
    """Request paths for each scenario, drawn from the loaded data."""
    from django.db import connection

    rnd = random.Random(seed)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT name_norm, uscc FROM subjects_subject TABLESAMPLE SYSTEM (2) "
            "WHERE kind IN ('org', 'ind') LIMIT %s",
            [n],
        )
        names = cursor.fetchall()
        cursor.execute(
            "SELECT p.subject_id FROM publicity_publicity p TABLESAMPLE SYSTEM (1) "
            "JOIN subjects_subject s ON s.id = p.subject_id WHERE s.kind <> 'person' LIMIT %s",
            [n],
        )
        with_records = [r[0] for r in cursor.fetchall()]
        cursor.execute(
            "SELECT id FROM subjects_subject TABLESAMPLE SYSTEM (1) WHERE kind <> 'person' "
            "LIMIT %s",
            [n // 4],
        )
        any_subject = [r[0] for r in cursor.fetchall()]
    searches = []
    for name, uscc in names:
        roll = rnd.random()
        if roll < 0.5:
            i = rnd.randrange(0, max(1, len(name) - 1))
            searches.append(("2", name[i : i + 2]))
        elif roll < 0.9:
            k = rnd.randint(3, 6)
            i = rnd.randrange(0, max(1, len(name) - k + 1))
            searches.append(("3-6", name[i : i + k]))
        elif uscc:
            searches.append(("uscc", uscc))
    rnd.shuffle(searches)
    # Subjects drawn by record count (a subject with 5,000 records is 5,000 times likelier than
    # one with one) and uniformly among organisations: the first stresses the heavy tail.
    subjects = [("by-records", s) for s in with_records] + [("uniform", s) for s in any_subject]
    rnd.shuffle(subjects)
    return {
        "search": [(k, "/search/?q=" + quote(q)) for k, q in searches],
        "subject": [
            (k, f"/subjects/{s}/" + ("?tab=penalties" if i % 2 else ""))
            for i, (k, s) in enumerate(subjects)
        ],
        "api-search": [(k, "/api/v1/public/search?q=" + quote(q)) for k, q in searches],
        "api-records": [
            (k, f"/api/v1/public/subjects/{s}/records?tab=penalties") for k, s in subjects
        ],
    }


# --------------------------------------------------------------------------- server


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def server_command(kind: str, port: int, workers: int = 2, threads: int = 4) -> list[str]:
    """The command serving the site on 127.0.0.1:`port`: granian (a WSGI server whose HTTP side
    is Rust; `threads` blocking threads per worker), gunicorn (gthread, sync for one thread) or
    `pubcredit runserver --noreload`."""
    exe = str(Path(sys.executable).with_name(kind))
    if kind == "granian":
        return [
            exe,
            "--interface",
            "wsgi",
            "--workers",
            str(workers),
            "--blocking-threads",
            str(threads),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
            "pubcredit.wsgi:application",
        ]
    if kind == "gunicorn":
        return [
            exe,
            "pubcredit.wsgi:application",
            "--workers",
            str(workers),
            "--threads",
            str(threads),
            "--worker-class",
            "gthread" if threads > 1 else "sync",
            "--bind",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
        ]
    return [*_pubcredit(), "runserver", "--noreload", f"127.0.0.1:{port}"]


def start_server(
    url: str, var_dir: Path, port: int, kind: str, workers: int = 2, threads: int = 4
) -> subprocess.Popen:
    """Start `server_command(kind, …)` in its own session (DEBUG off, persistent connections,
    no public rate limit) and wait until /api/v1/health answers."""
    env = os.environ | {
        "DATABASE_URL": url,
        "PUBCREDIT_VAR_DIR": str(var_dir),
        "PUBCREDIT_DEBUG": "0",
        "PUBCREDIT_PUBLIC_RATE": "0",
        "PUBCREDIT_CONN_MAX_AGE": "600",
        "DJANGO_SETTINGS_MODULE": "pubcredit.settings",
    }
    cmd = server_command(kind, port, workers, threads)
    return serving(subprocess.Popen(cmd, env=env, cwd=ROOT, start_new_session=True), port)


def serving(proc: subprocess.Popen, port: int, seconds: float = 60) -> subprocess.Popen:
    """`proc` once it answers GET /api/v1/health on `port`; stopped, and an error, if it does
    not within `seconds`."""
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            conn = HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/api/v1/health")
            if conn.getresponse().status == 200:
                return proc
        except OSError:
            time.sleep(0.5)
    stop_server(proc)
    raise RuntimeError(f"the server on port {port} did not start")


def stop_server(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=20)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        os.killpg(proc.pid, signal.SIGKILL)


# --------------------------------------------------------------------------- load generator


def drive(port: int, paths: list, seconds: float, concurrency: int, warmup: float) -> dict:
    """Send the paths round-robin from `concurrency` threads for `seconds` (after `warmup`);
    returns latencies per kind and overall."""
    lock = threading.Lock()
    cursor = {"i": 0}
    results: list[tuple[str, float, int]] = []
    stop_at = time.perf_counter() + warmup + seconds
    measure_from = time.perf_counter() + warmup

    def worker():
        conn = HTTPConnection("127.0.0.1", port, timeout=30)
        while True:
            with lock:
                kind, path = paths[cursor["i"] % len(paths)]
                cursor["i"] += 1
            t0 = time.perf_counter()
            if t0 >= stop_at:
                break
            try:
                conn.request("GET", path, headers={"Accept-Language": "zh-CN"})
                response = conn.getresponse()
                response.read()
                status = response.status
            except OSError:
                conn.close()
                conn = HTTPConnection("127.0.0.1", port, timeout=30)
                status = 0
            elapsed = time.perf_counter() - t0
            if t0 >= measure_from:
                with lock:
                    results.append((kind, elapsed, status))
        conn.close()

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return summarise(results, seconds)


def drive_wrk(
    port: int, paths: list, seconds: float, concurrency: int, warmup: float, work_dir: Path
) -> dict:
    """The scenario with wrk: a warm-up over all its paths, a mixed run over all its paths (the
    overall row), then one run per kind over that kind's paths (the per-kind rows); the same
    shape as `summarise`'s, plus each kind's own requests/s."""
    headers = {"Accept-Language": "zh-CN"}
    every = wrk.write_requests(work_dir / "portal-wrk-all.txt", [p for _k, p in paths])
    if warmup > 0:
        wrk.run(port, every, warmup, concurrency, headers=headers)
    out = wrk.run(port, every, seconds, concurrency, headers=headers)
    out["by_kind"] = {}
    for kind in sorted({k for k, _p in paths}):
        own = wrk.write_requests(
            work_dir / "portal-wrk-kind.txt", [p for k, p in paths if k == kind]
        )
        ks = wrk.run(port, own, seconds, concurrency, headers=headers)
        out["by_kind"][kind] = {k: v for k, v in ks.items() if k != "driver"}
    every.unlink(missing_ok=True)
    (work_dir / "portal-wrk-kind.txt").unlink(missing_ok=True)
    return out


def _percentile(sorted_values: list[float], p: float) -> float:
    if not sorted_values:
        return 0.0
    k = max(0, min(len(sorted_values) - 1, round(p / 100 * len(sorted_values) + 0.5) - 1))
    return sorted_values[k] * 1000


def summarise(results: list, seconds: float) -> dict:
    def stats(rows):
        values = sorted(r[1] for r in rows)
        return {
            "requests": len(values),
            "errors": sum(1 for r in rows if r[2] != 200),
            "p50_ms": round(_percentile(values, 50), 1),
            "p95_ms": round(_percentile(values, 95), 1),
            "p99_ms": round(_percentile(values, 99), 1),
            "max_ms": round(values[-1] * 1000, 1) if values else 0.0,
        }

    out = stats(results) | {"requests_per_second": round(len(results) / seconds, 1)}
    out["by_kind"] = {k: stats([r for r in results if r[0] == k]) for k in {r[0] for r in results}}
    return out


# --------------------------------------------------------------------------- main


def figures(result: dict) -> list[dict]:
    """Each scenario's p95 beside the framework floor's (GET /api/v1/health on the same server,
    driven the same way), benchmarks/figures.py."""
    floor = result["scenarios"][FLOOR]
    data = result["data"]
    out = []
    for name, s in result["scenarios"].items():
        if name == FLOOR:
            continue
        out.append(
            figure(f"{name}, p95", s["p95_ms"], "ms", floor=floor["p95_ms"],
                   floor_name="GET /api/v1/health, same server and load",
                   limit=TARGETS_MS.get(name),
                   note=f"{s['requests_per_second']} req/s (floor {floor['requests_per_second']});"
                   f" {data['subjects']:,} subjects, {data['records']:,} records"
                   + (f"; {s['errors']} errors" if s["errors"] else ""))
        )  # fmt: skip
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--subjects", type=int, default=1_000_000)
    parser.add_argument("--records", type=int, default=5_000_000)
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument("--reuse", action="store_true", help="drive an already loaded database")
    parser.add_argument(
        "--demo-loaded",
        action="store_true",
        help="the database holds the demo city (demo_load.py --keep): add the records only",
    )
    parser.add_argument("--duration", type=float, default=30.0, help="seconds per scenario")
    parser.add_argument("--warmup", type=float, default=5.0)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--server", choices=["auto", "gunicorn", "runserver"], default="auto")
    parser.add_argument(
        "--driver",
        choices=["auto", "wrk", "threads"],
        default="auto",
        help="load generator: wrk (when installed, the default) or Python threads",
    )
    parser.add_argument("--json-out", help="also write the result to this file")
    parser.add_argument("--drive", help=argparse.SUPPRESS)  # internal: the load generator
    args = parser.parse_args(argv)

    if args.drive:  # the second process: read the workload, drive, print JSON
        spec = json.loads(Path(args.drive).read_text(encoding="utf-8"))
        result = drive(
            spec["port"], spec["paths"], spec["seconds"], spec["concurrency"], spec["warmup"]
        )
        print(json.dumps(result))
        return 0

    driver = args.driver
    if driver == "auto":
        driver = "wrk" if wrk.available() else "threads"
    if driver == "wrk" and not wrk.available():
        parser.error("--driver wrk: wrk is not installed (apt-get install wrk)")

    url = args.database_url
    var_dir = OUT / "var"
    OUT.mkdir(parents=True, exist_ok=True)
    var_dir.mkdir(exist_ok=True)
    env = os.environ | {"DATABASE_URL": url, "PUBCREDIT_VAR_DIR": str(var_dir)}
    timings: dict = {}
    if not args.reuse and not args.demo_loaded:
        print(f"fresh database: {url}", file=sys.stderr)
        fresh_database(url)
        subprocess.run(
            [*_pubcredit(), "migrate", "--noinput", "-v0"], env=env, cwd=ROOT, check=True
        )
        t = time.perf_counter()
        subprocess.run(
            [*_pubcredit(), "demo", "--subjects", str(args.subjects), "--seed", "1", "--json"],
            env=env,
            cwd=ROOT,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        timings["demo_seconds"] = round(time.perf_counter() - t, 1)
    _setup_django(url, var_dir)
    if not args.reuse:
        print(f"writing {args.records:,} records", file=sys.stderr)
        timings["records"] = load_records(args.records)
        print("rebuilding the search index", file=sys.stderr)
        from pubcredit.portal.search import rebuild_search_index

        timings["search_index"] = rebuild_search_index().as_dict()
        t = time.perf_counter()
        analyse()
        timings["analyse_seconds"] = round(time.perf_counter() - t, 1)

    workload = sample_workload()
    # The framework's floor on the same server, driven the same way: its health check (one
    # SELECT 1, no auth, no template).
    workload[FLOOR] = [("health", "/api/v1/health")]
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT (SELECT count(*) FROM subjects_subject), (SELECT count(*) FROM "
            "records_record), (SELECT count(*) FROM publicity_publicity WHERE state = 'public'),"
            " (SELECT count(*) FROM portal_namegram), pg_database_size(current_database())"
        )
        subjects, records, public, postings, size = cursor.fetchone()
    connection.close()

    kind = args.server
    if kind == "auto":
        kind = "gunicorn" if Path(sys.executable).with_name("gunicorn").exists() else "runserver"
    port = free_port()
    server = start_server(url, var_dir, port, kind)
    scenarios = {}
    load_before = os.getloadavg()
    try:
        for name, paths in workload.items():
            runs = 1 + len({k for k, _p in paths}) if driver == "wrk" else 1
            print(
                f"driving {name} with {driver} for {args.warmup:.0f} + {runs} × "
                f"{args.duration:.0f} s",
                file=sys.stderr,
            )
            if driver == "wrk":
                out = drive_wrk(port, paths, args.duration, args.concurrency, args.warmup, OUT)
            else:
                spec = OUT / "portal-drive.json"
                spec.write_text(
                    json.dumps(
                        {
                            "port": port,
                            "paths": paths,
                            "seconds": args.duration,
                            "concurrency": args.concurrency,
                            "warmup": args.warmup,
                        }
                    ),
                    encoding="utf-8",
                )
                out = json.loads(
                    subprocess.run(
                        [sys.executable, __file__, "--drive", str(spec)],
                        check=True,
                        capture_output=True,
                        text=True,
                    ).stdout
                )
                out = {"driver": f"python threads x{args.concurrency}"} | out
            scenarios[name] = out | {"load_average": os.getloadavg()}
    finally:
        stop_server(server)

    driver_label = next(iter(scenarios.values()))["driver"] + (
        " (per scenario: a mixed run, then one run per kind)" if driver == "wrk" else ""
    )
    result = {
        "benchmark": "portal",
        "at": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "database_url": url,
        "server": kind + (" (2 workers x 4 threads)" if kind == "gunicorn" else ""),
        "driver": driver_label,
        "concurrency": args.concurrency,
        "duration_seconds": args.duration,
        "data": {
            "subjects": subjects,
            "records": records,
            "public_records": public,
            "search_postings": postings,
            "database_bytes": size,
        },
        "load_timings": timings,
        "scenarios": scenarios,
        "targets_p95_ms": TARGETS_MS,
        "machine": {
            "cpus": os.cpu_count(),
            "load_average_before": load_before,
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
    }
    result["figures"] = figures(result)
    path = OUT / f"portal-{dt.datetime.now():%Y%m%d-%H%M%S}.json"
    path.write_text(json.dumps(result, ensure_ascii=False, indent=2), encoding="utf-8")
    write_json_out(args.json_out, result)
    print(
        f"\n{subjects:,} subjects, {records:,} records ({public:,} public); server {kind}, "
        f"{args.concurrency} clients, driver {driver_label}, load average before "
        f"{load_before[0]:.2f}"
    )
    print(
        f"{'scenario':<12} {'kind':<10} {'req/s':>7} {'p50':>7} {'p95':>7} {'p99':>7} {'errors':>6}"
    )
    for name, s in scenarios.items():
        print(
            f"{name:<12} {'all':<10} {s['requests_per_second']:>7} {s['p50_ms']:>7} "
            f"{s['p95_ms']:>7} {s['p99_ms']:>7} {s['errors']:>6}"
        )
        for k, ks in sorted(s["by_kind"].items()):
            print(
                f"{'':<12} {k:<10} {ks.get('requests_per_second', ''):>7} {ks['p50_ms']:>7} "
                f"{ks['p95_ms']:>7} "
                f"{ks['p99_ms']:>7} {ks['errors']:>6}"
            )
    print(f"written to {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
