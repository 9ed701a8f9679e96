"""Benchmark: load the demo city into a fresh database and measure it.

    .venv/bin/python benchmarks/demo_load.py                       # 1,000,000 subjects, PostgreSQL
    .venv/bin/python benchmarks/demo_load.py --subjects 100000 \\
        --database-url sqlite:////tmp/pubcredit_bench.sqlite3      # SQLite for comparison

Steps: create a fresh database (PostgreSQL: DROP/CREATE DATABASE through the server's
`postgres` database; SQLite: a new file), `pubcredit migrate`, then time
`pubcredit demo --subjects N --seed S --json` as a child process (subjects, their licences,
penalties, list entries and commitments, publicity, the check flags and the search index).
Reported: wall time of the demo command (process start to exit, Django start-up and catalogue
import included), the child's peak RSS (from wait4's rusage, so only that process), rows per second, the phase
timings the command reports, row counts and the table size on disk. The result is written as
JSON to benchmarks/out/ (gitignored) and printed as a short table. The database is dropped
afterwards unless --keep.

Targets (PostgreSQL, 1,000,000 subjects): ≤ 120 s wall, peak RSS ≤ 2 GB.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlparse, urlunparse

from figures import figure, write_json_out

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "benchmarks" / "out"
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/pubcredit_bench"
TARGET_SECONDS = 120.0
TARGET_RSS_MB = 2048.0


def _pubcredit() -> list[str]:
    exe = Path(sys.executable).with_name("pubcredit")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "pubcredit"]


def _pg_admin_url(url: str) -> tuple[str, str]:
    parsed = urlparse(url)
    name = parsed.path.lstrip("/")
    return urlunparse(parsed._replace(path="/postgres")), name


def fresh_database(url: str) -> None:
    if url.startswith("sqlite"):
        path = Path(urlparse(url).path)
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(str(path) + suffix).unlink(missing_ok=True)
        return
    import psycopg

    admin, name = _pg_admin_url(url)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def drop_database(url: str) -> None:
    if url.startswith("sqlite"):
        fresh_database(url)
        return
    import psycopg

    admin, name = _pg_admin_url(url)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def table_stats(url: str) -> dict:
    if url.startswith("sqlite"):
        import sqlite3

        path = urlparse(url).path
        with sqlite3.connect(path) as conn:
            subjects = conn.execute("SELECT count(*) FROM subjects_subject").fetchone()[0]
            former = conn.execute("SELECT count(*) FROM subjects_formername").fetchone()[0]
            persons = conn.execute(
                "SELECT count(*) FROM subjects_subject WHERE kind = 'person'"
            ).fetchone()[0]
        size = sum(os.path.getsize(path + s) for s in ("", "-wal") if os.path.exists(path + s))
        return {
            "subjects": subjects,
            "former_names": former,
            "persons": persons,
            "database_bytes": size,
        }
    import psycopg

    with psycopg.connect(url) as conn:
        row = conn.execute(
            "SELECT (SELECT count(*) FROM subjects_subject),"
            " (SELECT count(*) FROM subjects_formername),"
            " (SELECT count(*) FROM subjects_subject WHERE kind = 'person'),"
            " pg_relation_size('subjects_subject'),"
            " pg_total_relation_size('subjects_subject'),"
            " pg_indexes_size('subjects_subject'),"
            " pg_database_size(current_database())"
        ).fetchone()
    return {
        "subjects": row[0],
        "former_names": row[1],
        "persons": row[2],
        "table_bytes": row[3],
        "table_total_bytes": row[4],
        "index_bytes": row[5],
        "database_bytes": row[6],
    }


def copy_floor(url: str, min_rows: int = 1000) -> dict:
    """The floor: a bare COPY of the rows the demo wrote. Every table holding at least
    `min_rows` rows is read out (COPY TO, binary, not timed) and written back by COPY FROM
    into an empty table like it with the same indexes (timed), then dropped. PostgreSQL only."""
    import psycopg

    out: dict = {"seconds": 0.0, "rows": 0, "tables": {}}
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("ANALYZE")
        tables = conn.execute(
            "SELECT relname, n_live_tup FROM pg_stat_user_tables WHERE schemaname = 'public'"
            " AND n_live_tup >= %s ORDER BY relname",
            [min_rows],
        ).fetchall()
        for table, _estimate in tables:
            copy_name = f"bench_floor_{table}"[:63]
            with conn.cursor() as cur:
                with cur.copy(f'COPY "{table}" TO STDOUT (FORMAT BINARY)') as copy:
                    data = b"".join(bytes(chunk) for chunk in copy)
                cur.execute(f'DROP TABLE IF EXISTS "{copy_name}"')
                cur.execute(f'CREATE TABLE "{copy_name}" (LIKE "{table}" INCLUDING ALL)')
                t = time.perf_counter()
                with cur.copy(f'COPY "{copy_name}" FROM STDIN (FORMAT BINARY)') as copy:
                    copy.write(data)
                seconds = time.perf_counter() - t
                rows = cur.execute(f'SELECT count(*) FROM "{copy_name}"').fetchone()[0]
                cur.execute(f'DROP TABLE "{copy_name}"')
            del data
            out["tables"][table] = {"rows": rows, "seconds": round(seconds, 2)}
            out["seconds"] += seconds
            out["rows"] += rows
    out["seconds"] = round(out["seconds"], 2)
    return out


def run_timed(cmd: list[str], env: dict) -> tuple[float, float, int, str, str]:
    """(wall seconds, peak RSS MB of that child, exit status, stdout, stderr)."""
    started = time.perf_counter()
    proc = subprocess.Popen(
        cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT, text=True
    )
    # Read both pipes to the end before reaping, so the child never blocks on a full pipe;
    # then wait4 gives this child's own rusage (ru_maxrss in KiB on Linux).
    out, err = _drain(proc)
    _pid, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    return wall, usage.ru_maxrss / 1024, proc.returncode, out, err


def _drain(proc: subprocess.Popen) -> tuple[str, str]:
    import threading

    chunks: dict[str, list[str]] = {"out": [], "err": []}

    def pump(stream, key, echo):
        for line in stream:
            chunks[key].append(line)
            if echo:
                print(line, end="", file=sys.stderr, flush=True)

    threads = [
        threading.Thread(target=pump, args=(proc.stdout, "out", False)),
        threading.Thread(target=pump, args=(proc.stderr, "err", True)),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return "".join(chunks["out"]), "".join(chunks["err"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--subjects", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--json-out", help="also write the result to this file")
    args = parser.parse_args(argv)
    url = args.database_url
    vendor = "sqlite" if url.startswith("sqlite") else "postgresql"

    OUT.mkdir(parents=True, exist_ok=True)
    var_dir = OUT / "var"  # keys for this benchmark only; never the developer's var/
    var_dir.mkdir(exist_ok=True)
    env = os.environ | {"DATABASE_URL": url, "PUBCREDIT_VAR_DIR": str(var_dir)}

    print(f"fresh database: {url}", file=sys.stderr)
    fresh_database(url)
    t0 = time.perf_counter()
    subprocess.run([*_pubcredit(), "migrate", "--noinput", "-v0"], env=env, cwd=ROOT, check=True)
    migrate_seconds = time.perf_counter() - t0

    cmd = [*_pubcredit(), "demo", "--subjects", str(args.subjects), "--seed", str(args.seed)]
    print(f"running: {' '.join(cmd[-5:])}", file=sys.stderr)
    wall, rss_mb, status, out, err = run_timed([*cmd, "--json"], env)
    if status != 0:
        print(err, file=sys.stderr)
        print(f"demo command failed with status {status}", file=sys.stderr)
        return 1
    summary = json.loads(out)
    stats = table_stats(url)
    result = {
        "benchmark": "demo_load",
        "at": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "database": vendor,
        "database_url": url,
        "subjects": args.subjects,
        "seed": args.seed,
        "wall_seconds": round(wall, 2),
        "peak_rss_mb": round(rss_mb, 1),
        "rows_per_second": round(args.subjects / wall),
        "migrate_seconds": round(migrate_seconds, 2),
        "phases_seconds": summary["seconds"],
        "stats": stats,
        # Licences, penalties, list entries (pubcredit.demo.records) and the search index.
        "records": summary.get("records"),
        "search_index": summary.get("search_index"),
        "targets": {"wall_seconds": TARGET_SECONDS, "peak_rss_mb": TARGET_RSS_MB},
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
    }
    if vendor == "postgresql" and args.subjects == 1_000_000:
        result["meets_targets"] = wall <= TARGET_SECONDS and rss_mb <= TARGET_RSS_MB
    floor = copy_floor(url) if vendor == "postgresql" else None
    result["floor_copy"] = floor
    targeted = vendor == "postgresql" and args.subjects == 1_000_000
    result["figures"] = [
        figure(
            f"demo city of {args.subjects:,} subjects",
            wall,
            "s",
            floor=floor["seconds"] if floor else None,
            floor_name=f"bare COPY of the {floor['rows']:,} rows it wrote" if floor else "",
            limit=TARGET_SECONDS if targeted else None,
            note=f"{vendor}; process start to exit, Django start-up included",
        ),
        figure(
            "demo city: peak RSS",
            rss_mb,
            "MB",
            limit=TARGET_RSS_MB if targeted else None,
            note=f"{args.subjects:,} subjects",
        ),
    ]
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    path = OUT / f"demo_load-{vendor}-{args.subjects}-{stamp}.json"
    path.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n")
    write_json_out(args.json_out, result)

    mb = 1024 * 1024
    rows = [
        ("database", vendor),
        ("subjects", f"{args.subjects:,}"),
        (
            "wall time",
            f"{wall:.1f} s" + (f" (target ≤ {TARGET_SECONDS:.0f} s)" if targeted else ""),
        ),
        (
            "peak RSS",
            f"{rss_mb:,.0f} MB" + (f" (target ≤ {TARGET_RSS_MB:,.0f} MB)" if targeted else ""),
        ),
        ("rows/s", f"{args.subjects / wall:,.0f}"),
        (
            "phases",
            ", ".join(f"{k} {v:.1f}" for k, v in summary["seconds"].items()),
        ),
        ("former names", f"{stats['former_names']:,}"),
        (
            "records",
            ", ".join(
                f"{k} {v:,}"
                for k, v in ((summary.get("records") or {}).get("records") or {}).items()
            )
            or "-",
        ),
    ]
    if "table_total_bytes" in stats:
        rows.append(
            (
                "table size",
                f"{stats['table_bytes'] / mb:,.0f} MB heap + {stats['index_bytes'] / mb:,.0f} MB"
                f" indexes = {stats['table_total_bytes'] / mb:,.0f} MB",
            )
        )
    if floor:
        rows.append(("floor", f"bare COPY of {floor['rows']:,} rows: {floor['seconds']} s"))
    rows.append(("database size", f"{stats['database_bytes'] / mb:,.0f} MB"))
    rows.append(("result", str(path.relative_to(ROOT))))
    width = max(len(k) for k, _ in rows)
    for key, value in rows:
        print(f"{key:<{width}}  {value}")

    if not args.keep:
        drop_database(url)
    return 0


if __name__ == "__main__":
    sys.exit(main())
