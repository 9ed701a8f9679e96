"""End-to-end intake benchmark: a department's 行政处罚 file through the whole pipeline.

    .venv/bin/python benchmarks/intake.py [--rows 1000000] [--bad 0.02]
        [--postgres postgres://postgres@127.0.0.1:5432/postgres] [--skip-sqlite]
        [--skip-frictionless] [--skip-tuned] [--keep DIR] [--json-out FILE]

`make bench` runs `benchmarks/intake.py --rows 200000 --skip-sqlite --json-out FILE`.

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
- the PostgreSQL part twice, side by side: "postgresql" on the server given (`--postgres`, as
  it is configured) and "postgresql_tuned" on a second PostgreSQL 15 instance the benchmark
  creates for the run (initdb in a temporary directory, a free port, the bulk-loading settings
  of docs/postgresql.md: TUNED_SETTINGS below) and stops and removes afterwards; each with its
  own bare-COPY floor measured on the same server (`--skip-tuned` leaves the second out);
- the targets of issue 20 and whether they were met, and a top-level "figures" list
  (benchmarks/figures.py: each figure beside its floor).
The databases are created for the run and dropped afterwards.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import shutil
import socket
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

PG_BIN = Path(os.environ.get("BENCH_PG_BIN", "/usr/lib/postgresql/15/bin"))
# The bulk-loading settings of docs/postgresql.md ("tuned"), for a server with a few GB of RAM to
# spare for PostgreSQL (this machine: 2 cores). Keep the two in step.
TUNED_SETTINGS = {
    "shared_buffers": "2GB",
    "effective_cache_size": "6GB",
    "work_mem": "64MB",
    "maintenance_work_mem": "1GB",
    "max_wal_size": "16GB",
    "min_wal_size": "1GB",
    "checkpoint_timeout": "30min",
    "checkpoint_completion_target": "0.9",
    "wal_buffers": "64MB",
    "wal_compression": "lz4",
    "jit": "off",
    "max_parallel_maintenance_workers": "2",
    "autovacuum_vacuum_cost_limit": "2000",
}


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


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def tuned_server(settings: dict[str, str] = TUNED_SETTINGS):
    """A throw-away PostgreSQL 15 instance with `settings`: initdb in a temporary directory,
    started on a free port (trust authentication, user postgres, listening on 127.0.0.1 only),
    stopped and removed on exit. Yields its base URL. As root the server runs as the postgres
    user (`su postgres -c`), which PostgreSQL requires."""
    root = Path(tempfile.mkdtemp(prefix="intake-bench-pg-"))
    data = root / "data"
    port = _free_port()
    as_root = os.geteuid() == 0
    if as_root:
        shutil.chown(root, "postgres", "postgres")

    def run(*argv: str) -> None:
        command = " ".join(f"'{a}'" for a in argv)
        full = ["su", "postgres", "-c", command] if as_root else list(argv)
        subprocess.run(full, check=True, capture_output=True)

    options = " ".join(f"-c {k}={v}" for k, v in settings.items())
    options += f" -c port={port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={root}"
    try:
        run(str(PG_BIN / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust", "-E", "UTF8")
        run(
            str(PG_BIN / "pg_ctl"),
            "-D",
            str(data),
            "-l",
            str(root / "log"),
            "-w",
            "-o",
            options,
            "start",
        )
        try:
            yield f"postgres://postgres@127.0.0.1:{port}/postgres"
        finally:
            run(str(PG_BIN / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop")
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _postgres_part(server: str, csv_path: Path, facts: dict) -> tuple[dict, float | None]:
    """One submission on a fresh database of `server`, then the bare COPY on the same server.
    Returns (the worker's result, the bare COPY's seconds)."""
    dbname = f"pubcredit_intake_bench_{os.getpid()}"
    with _admin_connection(server) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{dbname}"')
        admin.execute(f'CREATE DATABASE "{dbname}"')
    url = _pg_url(server, dbname)
    try:
        result = _run_worker(url, csv_path, facts)
        result["settings"] = _server_settings(url)
        return result, round(_bare_copy(url, csv_path), 2)
    finally:
        with _admin_connection(server) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')


def _server_settings(url: str) -> dict[str, str]:
    import psycopg

    names = sorted({*TUNED_SETTINGS, "server_version", "full_page_writes", "fsync"})
    with psycopg.connect(url, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT name, current_setting(name) FROM pg_settings WHERE name = ANY(%s)", [names]
        ).fetchall()
    return dict(rows)


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
    parser.add_argument(
        "--skip-tuned",
        action="store_true",
        help="leave out the second PostgreSQL instance with the tuned settings",
    )
    parser.add_argument("--keep", help="keep the generated CSV in this directory")
    parser.add_argument("--json-out", help="also write the result JSON to this file")
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
            out["postgresql"], out["bare_copy_s"] = _postgres_part(args.postgres, csv_path, facts)
            out["machine"]["load_average_after_default"] = os.getloadavg()
            if not args.skip_tuned:
                try:
                    with tuned_server() as server:
                        tuned, floor = _postgres_part(server, csv_path, facts)
                    out["postgresql_tuned"], out["bare_copy_tuned_s"] = tuned, floor
                except (OSError, subprocess.CalledProcessError) as exc:
                    out["postgresql_tuned"] = {"error": f"tuned server: {exc}"}
                out["machine"]["load_average_after_tuned"] = os.getloadavg()

        if not args.skip_frictionless:
            out["frictionless"] = _frictionless(csv_path)

        out["machine"]["load_average_end"] = os.getloadavg()
        out["targets"] = _targets(out)
        out["figures"] = _figures(out)
        text = json.dumps(out, ensure_ascii=False, indent=2)
        print(text)
        if args.json_out:
            Path(args.json_out).write_text(text + "\n", encoding="utf-8")
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
    for key, floor_key, name in (
        ("postgresql", "bare_copy_s", "pg_vs_bare_copy"),
        ("postgresql_tuned", "bare_copy_tuned_s", "pg_tuned_vs_bare_copy"),
    ):
        run = out.get(key) or {}
        if "end_to_end_s" in run and out.get(floor_key):
            ratio = run["end_to_end_s"] / out[floor_key]
            checks[name] = {
                "value": round(ratio, 2),
                "target": f"<= {TARGET_COPY_RATIO}",
                "met": ratio <= TARGET_COPY_RATIO,
            }
    tuned = out.get("postgresql_tuned") or {}
    engines = [
        w["timings_s"].get("engine")
        for w in (pg, tuned, out.get("sqlite") or {})
        if "timings_s" in w
    ]
    friction = (out.get("frictionless") or {}).get("seconds")
    if engines and friction:
        speedup = friction / min(engines)
        checks["parse_validate_vs_frictionless"] = {
            "value": round(speedup, 1),
            "target": f">= {TARGET_FRICTIONLESS_SPEEDUP}",
            "met": speedup >= TARGET_FRICTIONLESS_SPEEDUP,
        }
    peaks = [w["peak_rss_mb"] for w in (pg, tuned, out.get("sqlite") or {}) if "peak_rss_mb" in w]
    if peaks:
        checks["peak_memory_mb"] = {
            "value": max(peaks),
            "target": f"<= {TARGET_PEAK_MB}",
            "met": max(peaks) <= TARGET_PEAK_MB,
        }
    return checks


def _figures(out: dict) -> list[dict]:
    """The headline figures, each beside its floor (benchmarks/figures.py)."""
    from figures import figure

    figures = []
    for key, floor_key, label in (
        ("postgresql", "bare_copy_s", "server as configured"),
        ("postgresql_tuned", "bare_copy_tuned_s", "tuned settings (docs/postgresql.md)"),
    ):
        run = out.get(key) or {}
        if "end_to_end_s" not in run:
            continue
        figures.append(
            figure(
                f"intake end to end, PostgreSQL, {label}",
                run["end_to_end_s"],
                "s",
                floor=out.get(floor_key),
                floor_name="bare COPY of the same file into an unindexed text table, same server",
                target=TARGET_COPY_RATIO,
                note=f"{out['rows']:,} rows; derived refresh {run.get('derived_refresh_s')} s",
            )
        )
        if run.get("records_copy_floor_s"):
            # The write no design that keeps the records as they are can avoid, beside the
            # same floor: what of the target it already takes (docs/floors.md).
            figures.append(
                figure(
                    f"the load's record rows COPYed into an unindexed table, {label}",
                    run["records_copy_floor_s"],
                    "s",
                    floor=out.get(floor_key),
                    floor_name="bare COPY of the same file into an unindexed text table",
                    note="no index, no linking, no derived step: the record rows alone",
                )
            )
    peaks = [
        w["peak_rss_mb"]
        for w in (out.get("postgresql"), out.get("postgresql_tuned"), out.get("sqlite"))
        if w and "peak_rss_mb" in w
    ]
    if peaks:
        figures.append(
            figure("intake peak memory", max(peaks), "MB", limit=TARGET_PEAK_MB, note="VmHWM")
        )
    engines = [
        w["timings_s"]["engine"]
        for w in (out.get("postgresql"), out.get("postgresql_tuned"), out.get("sqlite"))
        if w and "engine" in (w.get("timings_s") or {})
    ]
    friction = (out.get("frictionless") or {}).get("seconds")
    if engines:
        figures.append(
            figure(
                "intake parse + validate",
                min(engines),
                "s",
                floor=friction,
                floor_name="frictionless validate of the same file",
                target=1 / TARGET_FRICTIONLESS_SPEEDUP,
                note="the floor is the slower tool here: ours must cost at most a tenth of it",
            )
        )
    return figures


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        result = _worker(sys.argv[2], Path(sys.argv[3]), json.loads(sys.argv[4]))
        print(json.dumps(result, ensure_ascii=False))
        raise SystemExit(0)
    raise SystemExit(main())
