"""Benchmark: credit reports (issue 18) on the demo city — one standard report of the heaviest
subject, beside a floor, and 1,000 reports one after another.

    .venv/bin/python benchmarks/reports.py                         # demo city of 100,000 subjects
    .venv/bin/python benchmarks/reports.py --reuse                 # the loaded database, measure again
    .venv/bin/python benchmarks/reports.py --subjects 20000 --repeat 50 --batch 200 \\
        --database-url postgres://postgres@127.0.0.1:5432/pubcredit_reports_bench

Steps:
1. the data set: a fresh database, `pubcredit migrate`, `pubcredit demo --subjects N --seed 1`
   (the demo city: subjects, licences, penalties, list entries, commitments, publicity, grades);
   skipped with `--reuse`;
2. the heaviest subject: the organisation or 个体工商户 with the most records;
3. one report of it, `--repeat` times (after one warm-up), median and p95 of
   - `content.compose` (the sections: one query per section),
   - `render.render_pdf` (the PDF, the font embedded),
   - both together (the target: ≤ 1 s), and `services.issue` end to end (number, PDF, stored
     file, audit row; rolled back);
   and the PDF of the same content with its penalties repeated to 500 rows (a subject heavier
   than any in the demo city);
4. the floor, same repeats: the bare SELECTs of the same rows (the subject's records public
   today with their publicity row, its list entries in force, its public commitments, its
   current results) over the connection, and reportlab drawing the same number of rows and
   columns as one plain table (strings, no paragraphs, no cover);
5. the batch: `--batch` reports (default 1,000: a tender's bidders) through the batch job when
   `reports.batch` exists, else `services.issue` called once per subject one after another in
   this process (said in the output: "mode"), on the organisations with the most records;
   rolled back, the files written to a temporary directory. Target ≤ 2 min.
Results go to benchmarks/out/reports-*.json (gitignored), printed as one JSON object. The
machine's load average is recorded (it is shared).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from demo_load import _pubcredit, fresh_database  # noqa: E402

OUT = ROOT / "benchmarks" / "out"
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/pubcredit_reports_bench"
TARGETS = {"single_report_s": 1.0, "batch_1000_s": 120.0}
SYNTHETIC_ROWS = 500


def _loadavg() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 1)


def _stats(times: list[float]) -> dict:
    ordered = sorted(times)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return {"p50_ms": _ms(statistics.median(ordered)), "p95_ms": _ms(p95), "n": len(ordered)}


def _timed(fn, repeat: int) -> tuple[dict, object]:
    out = fn()  # warm-up (caches of the catalogue, the font, the rules)
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return _stats(times), out


def _setup_django(url: str, var_dir: Path) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ["PUBCREDIT_VAR_DIR"] = str(var_dir)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pubcredit.settings")
    import django

    django.setup()


def prepare(url: str, var_dir: Path, subjects: int) -> dict:
    env = os.environ | {"DATABASE_URL": url, "PUBCREDIT_VAR_DIR": str(var_dir)}
    timings = {}
    t = time.perf_counter()
    fresh_database(url)
    subprocess.run([*_pubcredit(), "migrate", "--noinput", "-v0"], env=env, cwd=ROOT, check=True)
    timings["migrate_s"] = round(time.perf_counter() - t, 1)
    t = time.perf_counter()
    subprocess.run(
        [*_pubcredit(), "demo", "--subjects", str(subjects), "--seed", "1", "--json"],
        env=env,
        cwd=ROOT,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    timings["demo_s"] = round(time.perf_counter() - t, 1)
    return timings


def heaviest(limit: int) -> list[tuple[int, int]]:
    """(subject id, records) of the `limit` organisations / 个体工商户 with the most records."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT r.subject_id, count(*) FROM records_record r "
            "JOIN subjects_subject s ON s.id = r.subject_id WHERE s.kind <> 'person' "
            "GROUP BY r.subject_id ORDER BY count(*) DESC, r.subject_id LIMIT %s",
            [limit],
        )
        return list(cursor.fetchall())


def bare_selects(subject_id: int, day: dt.date) -> int:
    """The floor of compose: the same rows, fetched by plain SQL, nothing rendered."""
    from django.db import connection

    n = 0
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT r.*, p.* FROM publicity_publicity p JOIN records_record r ON r.id = p.record_id"
            " WHERE p.subject_id = %s AND p.state IN ('public', 'objection') AND p.start <= %s"
            ' AND (p."end" IS NULL OR p."end" > %s)',
            [subject_id, day, day],
        )
        n += len(cursor.fetchall())
        cursor.execute(
            "SELECT e.*, t.* FROM lists_listentry e JOIN lists_listtype t ON t.id = e.list_type_id"
            " WHERE e.subject_id = %s AND e.status = 'published' AND e.valid_from <= %s"
            " AND (e.valid_to IS NULL OR e.valid_to >= %s)",
            [subject_id, day, day],
        )
        n += len(cursor.fetchall())
        cursor.execute(
            "SELECT * FROM commitments_commitment WHERE subject_id = %s AND made_on <= %s"
            " AND withdrawn_at IS NULL",
            [subject_id, day],
        )
        n += len(cursor.fetchall())
        cursor.execute(
            "SELECT * FROM scoring_scoreresult WHERE subject_id = %s AND current", [subject_id]
        )
        n += len(cursor.fetchall())
    return n


def plain_table(content: dict) -> bytes:
    """The floor of render: reportlab drawing the content's rows as one plain table."""
    import io

    from reportlab.lib.pagesizes import A4
    from reportlab.platypus import SimpleDocTemplate, Table

    from pubcredit.core import pdffonts

    font = pdffonts.embedded_font()
    width = max(len(s["columns"]) for s in content["sections"])
    rows = [
        [v[:30] for v in row] + [""] * (width - len(row))
        for s in content["sections"]
        for row in s["rows"]
    ] or [[""] * width]
    out = io.BytesIO()
    doc = SimpleDocTemplate(out, pagesize=A4, invariant=True, initialFontName=font)
    table = Table(rows, repeatRows=0)
    table.setStyle([("FONT", (0, 0), (-1, -1), font, 6)])
    doc.build([table])
    return out.getvalue()


def single(subject_id: int, repeat: int) -> dict:
    from django.db import transaction
    from django.utils import timezone

    from pubcredit.accounts.permissions import Principal
    from pubcredit.reports import render, services
    from pubcredit.reports.content import compose
    from pubcredit.reports.models import ReportChannel
    from pubcredit.subjects.models import Subject

    subject = Subject.objects.get(pk=subject_id)
    system = Principal.system("benchmark")
    day = timezone.localdate()
    compose_stats, content = _timed(lambda: compose(subject), repeat)
    head = {"number": "XYBG20260101BENCHMARK000", "issuer": "benchmark", "verify_url": "x"}
    render_stats, pdf = _timed(lambda: render.render_pdf(content | head), repeat)
    both_stats, _ = _timed(lambda: render.render_pdf(compose(subject) | head), repeat)

    def issue():
        with transaction.atomic():
            services.issue(system, subject, channel=ReportChannel.CLI)
            transaction.set_rollback(True)

    issue_stats, _ = _timed(issue, repeat)
    selects_stats, rows = _timed(lambda: bare_selects(subject_id, day), repeat)
    table_stats, _ = _timed(lambda: plain_table(content), repeat)
    # A heavier subject than the demo holds: its penalties repeated to `SYNTHETIC_ROWS` rows.
    heavy = json.loads(json.dumps(content))
    for section in heavy["sections"]:
        if section["key"] == "penalties" and section["rows"]:
            section["rows"] = (section["rows"] * SYNTHETIC_ROWS)[:SYNTHETIC_ROWS]
    heavy_stats, _ = _timed(lambda: render.render_pdf(heavy | head), max(3, repeat // 5))
    return {
        "subject_id": subject_id,
        "rows_by_section": {s["key"]: len(s["rows"]) for s in content["sections"]},
        "pdf_bytes": len(pdf),
        "compose": compose_stats,
        "render": render_stats,
        "compose_and_render": both_stats,
        "services_issue": issue_stats,
        "floor": {"bare_selects": selects_stats, "selected_rows": rows, "plain_table": table_stats},
        f"render_with_{SYNTHETIC_ROWS}_penalties": heavy_stats,
    }


def batch(subject_ids: list[int]) -> dict:
    from django.db import transaction

    from pubcredit.accounts.permissions import Principal
    from pubcredit.reports import services
    from pubcredit.reports.models import ReportChannel
    from pubcredit.subjects.models import Subject

    try:  # the channels' batch job, once merged
        from pubcredit.reports import batch as batch_job  # noqa: F401

        note = "reports.batch exists: the batch job is measured by its own benchmark step"
    except ImportError:
        note = "reports.batch not on this branch: services.issue called once per subject"
    system = Principal.system("benchmark")
    subjects = list(Subject.objects.filter(pk__in=subject_ids).order_by("pk"))
    started = time.perf_counter()
    with transaction.atomic():
        for subject in subjects:  # sequential, as a single-process batch would
            services.issue(system, subject, channel=ReportChannel.BATCH)
        elapsed = time.perf_counter() - started
        transaction.set_rollback(True)
    return {
        "mode": "sequential services.issue",
        "note": note,
        "reports": len(subjects),
        "seconds": round(elapsed, 1),
        "per_report_ms": _ms(elapsed / max(len(subjects), 1)),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--subjects", type=int, default=100_000, help="demo city size")
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument("--reuse", action="store_true", help="use the loaded database as it is")
    parser.add_argument("--repeat", type=int, default=30, help="runs of the single report")
    parser.add_argument("--batch", type=int, default=1000, help="reports in the batch (0: none)")
    args = parser.parse_args(argv)

    OUT.mkdir(parents=True, exist_ok=True)
    var_dir = OUT / "var"
    var_dir.mkdir(exist_ok=True)
    timings = {} if args.reuse else prepare(args.database_url, var_dir, args.subjects)
    _setup_django(args.database_url, var_dir)
    from django.conf import settings

    settings.MEDIA_ROOT = Path(tempfile.mkdtemp(prefix="reports-bench-media-"))
    top = heaviest(max(args.batch, 1))
    if not top:
        print("no records: load the demo city first (without --reuse)", file=sys.stderr)
        return 2
    subject_id, records = top[0]
    result = {
        "benchmark": "reports",
        "database": args.database_url.rsplit("/", 1)[-1],
        "demo_subjects": args.subjects,
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count()},
        "load_average_before": _loadavg(),
        "prepare": timings,
        "heaviest": {"subject_id": subject_id, "records": records},
        "single": single(subject_id, args.repeat),
    }
    if args.batch:
        result["batch"] = batch([sid for sid, _n in top[: args.batch]])
    result["load_average_after"] = _loadavg()
    result["targets"] = TARGETS
    single_p95 = result["single"]["compose_and_render"]["p95_ms"] / 1000
    result["meets"] = {"single_report": single_p95 <= TARGETS["single_report_s"]}
    if args.batch:
        scaled = result["batch"]["seconds"] * 1000 / max(result["batch"]["reports"], 1)
        result["meets"]["batch_1000"] = scaled <= TARGETS["batch_1000_s"]
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    path = OUT / f"reports-{stamp}.json"
    path.write_text(json.dumps(result, ensure_ascii=False, indent=2))
    print(json.dumps(result, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
