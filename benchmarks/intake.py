"""End-to-end intake benchmark: a department's 行政处罚 file through the whole pipeline.

    .venv/bin/python benchmarks/intake.py [--rows 1000000] [--bad 0.02]
        [--postgres postgres://postgres@127.0.0.1:5432/postgres] [--skip-sqlite]
        [--skip-frictionless] [--keep DIR]

One run reports, as one JSON object:
- the generated file (benchmarks/intake_engine.make_penalty_csv: Chinese headers, ~2% bad rows);
- end-to-end rows/s of `intake.services.submit_file` (store the raw file, read, map, clean,
  validate, link subjects, write records and row errors, one transaction) on a fresh SQLite
  database and on a fresh PostgreSQL database, each in its own process, with the stage timings
  and the process's peak memory; the refresh of the read models derived from records (the
  records-changed flow: publicity, lists, commitments, flags, run inside the same transaction by
  the records writer) is also given apart;
- the time of a bare PostgreSQL `COPY` of the same file into an unindexed table of text
  columns (the floor any loader is measured against), and the time of a COPY of the loaded
  records themselves into an unindexed table shaped like the records table (the write no loader
  can avoid: a record carries its cleaned JSON, the cells as written, keys and dates, about twice
  the bytes of its CSV line);
- the time of `frictionless validate` on the same file (pip install frictionless into the venv;
  it is not a project dependency), against the engine's parse-and-validate stage;
- the targets of issue 3 and whether they were met.
The databases are created for the run and dropped afterwards.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

DEPARTMENT_CODE = "ZB-BENCH"
TARGET_ROWS_PER_S = 100_000
TARGET_COPY_RATIO = 3.0
TARGET_FRICTIONLESS_SPEEDUP = 10.0
TARGET_PEAK_MB = 2048


# --------------------------------------------------------------------------- worker process


def _worker(database_url: str, csv_path: Path, facts: dict) -> dict:
    """Runs in a child process against `database_url`: migrate, load the catalogue, register the
    submitting department, then time one synchronous submission of the file."""
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pubcredit.settings")
    media = Path(tempfile.mkdtemp(prefix="intake-bench-media-"))
    import django
    from django.conf import settings

    django.setup()
    settings.MEDIA_ROOT = media
    from django.core.management import call_command

    t = time.perf_counter()
    call_command("migrate", verbosity=0, interactive=False)
    from pubcredit.accounts.permissions import Principal
    from pubcredit.catalog.models import Category, Department
    from pubcredit.catalog.services import import_catalogue
    from pubcredit.holidays.services import seed_from_chinese_calendar
    from pubcredit.intake.models import Submission
    from pubcredit.intake.services import submit_file
    from pubcredit.records.models import Record

    system = Principal.system("benchmark")
    import_catalogue(system)
    seed_from_chinese_calendar(system)
    department = Department.objects.filter(uscc=facts["source_uscc"]).first()
    if department is None:
        department = Department.objects.create(
            code=DEPARTMENT_CODE,
            name="淄博市张店区市场监督管理局(基准测试)",
            uscc=facts["source_uscc"],
            level=Department.Level.DISTRICT,
        )
    category = Category.objects.get(code="CF")
    setup_s = time.perf_counter() - t
    rss_before = _peak_rss_mb()

    t = time.perf_counter()
    submission = submit_file(
        system,
        department=department,
        category=category,
        source=csv_path,
        filename=csv_path.name,
        channel=Submission.Channel.CLI,
        background=False,
    )
    elapsed = time.perf_counter() - t
    shutil.rmtree(media, ignore_errors=True)
    if submission.status != Submission.Status.DONE:
        return {"error": submission.error_message, "status": submission.status}
    # The read models other apps derive from records (publicity, lists, …) refresh inside the
    # load transaction (records.changes); shown apart so each part can be judged.
    derived = float(submission.timings.get("derived", 0.0))
    peak_mb = _peak_rss_mb()
    floor = _records_floor(submission.pk) if database_url.startswith("postgres") else None
    return {
        "end_to_end_s": round(elapsed, 2),
        "rows_per_s": round(submission.rows / elapsed),
        "derived_refresh_s": round(derived, 2),
        "without_derived_rows_per_s": round(submission.rows / max(elapsed - derived, 1e-9)),
        "summary": submission.summary(),
        "records_in_db": Record.objects.count(),
        "timings_s": submission.timings,
        "setup_s": round(setup_s, 1),
        "peak_rss_mb": round(peak_mb),
        "peak_rss_before_submission_mb": round(rss_before),
        "records_copy_floor_s": floor,
    }


def _records_floor(submission_id: int) -> float:
    """The write no loader can avoid: the submission's records, exactly as loaded, COPYed into
    an unindexed table shaped like the records table (timed; the rows are staged in a file)."""
    from django.db import connection

    with tempfile.TemporaryFile() as spool:
        with connection.cursor() as cursor:
            raw = cursor.cursor
            select = f"SELECT * FROM records_record WHERE submission_id = {int(submission_id)}"
            with raw.copy(f"COPY ({select}) TO STDOUT") as copy:
                for block in copy:
                    spool.write(block)
            cursor.execute(
                "DROP TABLE IF EXISTS bench_records_floor; "
                "CREATE TABLE bench_records_floor (LIKE records_record INCLUDING DEFAULTS)"
            )
            spool.seek(0)
            t = time.perf_counter()
            with raw.copy("COPY bench_records_floor FROM STDIN") as copy:
                while block := spool.read(1 << 20):
                    copy.write(block)
            elapsed = time.perf_counter() - t
            cursor.execute("DROP TABLE bench_records_floor")
    return round(elapsed, 2)


def _peak_rss_mb() -> float:
    """This process's peak resident memory (VmHWM: unlike ru_maxrss it does not inherit the
    parent's peak across fork and exec)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# --------------------------------------------------------------------------- orchestration


def _run_worker(database_url: str, csv_path: Path, facts: dict) -> dict:
    proc = subprocess.run(
        [
            sys.executable,
            __file__,
            "--worker",
            database_url,
            str(csv_path),
            json.dumps(facts),
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "DATABASE_URL": database_url},
    )
    if proc.returncode != 0:
        return {"error": proc.stderr.strip().splitlines()[-1:] or ["worker failed"]}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _pg_url(base: str, dbname: str) -> str:
    parts = urlsplit(base)
    return urlunsplit(parts._replace(path="/" + dbname))


def _admin_connection(base: str):
    import psycopg

    return psycopg.connect(_pg_url(base, "postgres"), autocommit=True)


def _bare_copy(url: str, csv_path: Path) -> float:
    """COPY the file, as it is, into an unindexed table of text columns."""
    import psycopg

    with csv_path.open("rb") as fh:
        header = fh.readline().decode("utf-8-sig").strip().split(",")
    columns = ", ".join(f"c{i} text" for i in range(len(header)))
    with psycopg.connect(url, autocommit=True) as conn, conn.cursor() as cur:
        cur.execute(
            f"DROP TABLE IF EXISTS bench_bare_copy; CREATE TABLE bench_bare_copy ({columns})"
        )
        t = time.perf_counter()
        with cur.copy("COPY bench_bare_copy FROM STDIN WITH (FORMAT csv, HEADER true)") as copy:
            with csv_path.open("rb") as fh:
                while block := fh.read(1 << 20):
                    copy.write(block)
        elapsed = time.perf_counter() - t
        cur.execute("DROP TABLE bench_bare_copy")
    return elapsed


def _frictionless(csv_path: Path) -> dict:
    exe = shutil.which("frictionless") or str(Path(sys.executable).with_name("frictionless"))
    if not Path(exe).exists():
        return {"error": "frictionless is not installed (pip install frictionless)"}
    # --trusted: the file is outside the working directory; --limit-errors: by default
    # frictionless stops after 1000 errors, i.e. after a few percent of this file.
    t = time.perf_counter()
    proc = subprocess.run(
        [exe, "validate", "--trusted", "--limit-errors", "1000000000", "--json", str(csv_path)],
        capture_output=True,
    )
    out = {"seconds": round(time.perf_counter() - t, 2), "exit_code": proc.returncode}
    try:
        stats = json.loads(proc.stdout)["tasks"][0]["stats"]
        out.update(rows_validated=stats.get("rows"), errors_found=stats.get("errors"))
    except (ValueError, KeyError, IndexError):
        out["output"] = proc.stdout[-300:].decode("utf-8", "replace")
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--bad", type=float, default=0.02)
    parser.add_argument(
        "--postgres",
        default=os.environ.get("BENCH_POSTGRES", "postgres://postgres@127.0.0.1:5432/postgres"),
        help="a PostgreSQL server URL; a fresh database is created on it and dropped after",
    )
    parser.add_argument("--skip-sqlite", action="store_true")
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument("--skip-frictionless", action="store_true")
    parser.add_argument("--keep", help="keep the generated CSV in this directory")
    args = parser.parse_args(argv)

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pubcredit.settings")
    import django

    django.setup()
    from intake_engine import make_penalty_csv

    tmp = Path(tempfile.mkdtemp(prefix="intake-bench-"))
    out: dict = {
        "rows": args.rows,
        "bad_share": args.bad,
        # Other work on the machine skews every figure: say how busy it was.
        "machine": {"cpus": os.cpu_count(), "load_average_start": os.getloadavg()},
    }
    try:
        csv_dir = Path(args.keep) if args.keep else tmp
        csv_dir.mkdir(parents=True, exist_ok=True)
        csv_path = csv_dir / "penalties.csv"
        t = time.perf_counter()
        facts = make_penalty_csv(csv_path, args.rows, args.bad)
        out["file"] = {
            "mb": round(facts["bytes"] / 2**20, 1),
            "faulty_rows": facts["bad_rows"],
            "generate_s": round(time.perf_counter() - t, 1),
        }

        if not args.skip_sqlite:
            out["sqlite"] = _run_worker(f"sqlite:///{tmp / 'bench.sqlite3'}", csv_path, facts)

        if not args.skip_postgres:
            dbname = f"pubcredit_intake_bench_{os.getpid()}"
            with _admin_connection(args.postgres) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{dbname}"')
                admin.execute(f'CREATE DATABASE "{dbname}"')
            url = _pg_url(args.postgres, dbname)
            try:
                out["postgresql"] = _run_worker(url, csv_path, facts)
                out["bare_copy_s"] = round(_bare_copy(url, csv_path), 2)
            finally:
                with _admin_connection(args.postgres) as admin:
                    admin.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')

        if not args.skip_frictionless:
            out["frictionless"] = _frictionless(csv_path)

        out["machine"]["load_average_end"] = os.getloadavg()
        out["targets"] = _targets(out)
        print(json.dumps(out, ensure_ascii=False, indent=2))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


def _targets(out: dict) -> dict:
    checks: dict = {}
    pg = out.get("postgresql") or {}
    if "rows_per_s" in pg:
        checks["pg_rows_per_s"] = {
            "value": pg["rows_per_s"],
            "target": f">= {TARGET_ROWS_PER_S}",
            "met": pg["rows_per_s"] >= TARGET_ROWS_PER_S,
        }
        if out.get("bare_copy_s"):
            ratio = pg["end_to_end_s"] / out["bare_copy_s"]
            checks["pg_vs_bare_copy"] = {
                "value": round(ratio, 2),
                "target": f"<= {TARGET_COPY_RATIO}",
                "met": ratio <= TARGET_COPY_RATIO,
            }
    engines = [
        w["timings_s"].get("engine") for w in (pg, out.get("sqlite") or {}) if "timings_s" in w
    ]
    friction = (out.get("frictionless") or {}).get("seconds")
    if engines and friction:
        speedup = friction / min(engines)
        checks["parse_validate_vs_frictionless"] = {
            "value": round(speedup, 1),
            "target": f">= {TARGET_FRICTIONLESS_SPEEDUP}",
            "met": speedup >= TARGET_FRICTIONLESS_SPEEDUP,
        }
    peaks = [w["peak_rss_mb"] for w in (pg, out.get("sqlite") or {}) if "peak_rss_mb" in w]
    if peaks:
        checks["peak_memory_mb"] = {
            "value": max(peaks),
            "target": f"<= {TARGET_PEAK_MB}",
            "met": max(peaks) <= TARGET_PEAK_MB,
        }
    return checks


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        result = _worker(sys.argv[2], Path(sys.argv[3]), json.loads(sys.argv[4]))
        print(json.dumps(result, ensure_ascii=False))
        raise SystemExit(0)
    raise SystemExit(main())
