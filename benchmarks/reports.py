"""Benchmark: credit reports (issue 18) on the demo city, through the real paths, each target
beside its floor: one report of the heaviest subject (`services.issue`: compose, render, sign,
store; target ≤ 1 s) and 1,000 reports for a tender's bidders as one batch job (`ReportBatch`
run by `pubcredit db_worker --batch`, the zip included; target ≤ 2 min).

    .venv/bin/python benchmarks/reports.py                         # demo city of 100,000 subjects
    .venv/bin/python benchmarks/reports.py --reuse                 # the loaded database, measure again
    .venv/bin/python benchmarks/reports.py --subjects 20000 --repeat 50 --batch 200 \\
        --database-url postgres://postgres@127.0.0.1:5432/pubcredit_reports_bench

Steps:
1. the data set: a fresh database, `pubcredit migrate`, `pubcredit demo --subjects N --seed 1`
   (the demo city: subjects, licences, penalties, list entries, commitments, publicity, grades);
   skipped with `--reuse`;
2. the heaviest subject: the organisation or 个体工商户 with the most records;
3. one report of it, `--repeat` times (after one warm-up), median and p95 of `services.issue`
   end to end (number, content, PDF, signature, stored file, audit row; rolled back, the file
   in a temporary directory) — the target — and of its steps: `content.compose` (the sections),
   `render.render_pdf` (the PDF, the font embedded, the QR code), the QR code alone,
   `signing.sign_pdf` (PAdES); the rest of `issue` (number, stored file, row, audit) is the
   difference. Also the PDF of the same content with its penalties repeated to 500 rows (a
   subject heavier than any in the demo city);
4. its floor, same repeats: the bare SELECTs of the same rows (the subject's records public
   today with their publicity row, its list entries in force, its public commitments, its
   current results) over the connection, reportlab drawing the same number of rows and
   columns as one plain table (strings, no paragraphs, no cover), and signing that plain PDF;
5. the batch: `--batch` codes (default 1,000: a tender's bidders; the organisations with the
   most records) submitted by a tender platform's API key (`reports.batch.submit_batch`, as
   `POST /api/v1/reports/batches` does), the job enqueued on commit, then run as in production
   by `pubcredit db_worker --batch` (a child process: its start-up counts; it exits when the
   queue is empty; `--batch-in-process` runs the same task through django-tasks' worker in this
   process instead). Timed: the worker's wall time and the job's own timings (lookup, issue,
   zip); checked: every code has its report and the zip holds them with index.xlsx. The batch's
   rows and files are deleted afterwards. Its floor: the floor of step 4 for every code of the
   batch (the bare SELECTs measured for each code, the plain table and its signature measured
   on a sample of `--floor-sample` codes and scaled).
Printed: a table (target, measured, floor, ratio) and one JSON object, also written to
benchmarks/out/reports-*.json (gitignored). The machine's load average is recorded (it is
shared).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import platform
import resource
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
from figures import figure, write_json_out  # noqa: E402

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


def _sign(pdf: bytes) -> bytes:
    from pubcredit.core import signing

    return signing.sign_pdf(pdf, reason="benchmark", location="benchmark")


def _stats_sum(*parts: dict) -> dict:
    return {
        "p50_ms": round(sum(p["p50_ms"] for p in parts), 1),
        "p95_ms": round(sum(p["p95_ms"] for p in parts), 1),
    }


@contextlib.contextmanager
def _timing_steps(spent: dict[str, float]):
    """Within: the time services.issue spends in each step, summed into `spent` (seconds)."""
    from pubcredit.core import signing
    from pubcredit.reports import render, services

    def timed(name, fn):
        def wrapper(*args, **kwargs):
            t = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                spent[name] = spent.get(name, 0.0) + time.perf_counter() - t

        return wrapper

    patches = [
        (services, "issue", "issue"),
        (services, "compose", "compose"),
        (render, "render_pdf", "render"),
        (render, "qr_drawing", "render: its qr_code"),
        (signing, "sign_pdf", "sign"),
    ]
    originals = [(module, attr, getattr(module, attr)) for module, attr, _n in patches]
    for module, attr, name in patches:
        setattr(module, attr, timed(name, getattr(module, attr)))
    try:
        yield
    finally:
        for module, attr, fn in originals:
            setattr(module, attr, fn)


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

    def issue():
        with transaction.atomic():
            services.issue(system, subject, channel=ReportChannel.CLI)
            transaction.set_rollback(True)

    issue_stats, _ = _timed(issue, repeat)
    # The same calls again with each step timed where services.issue makes it (its compose,
    # render_pdf and sign_pdf wrapped): the steps of the same runs, the rest is the difference.
    spent: dict[str, float] = {}
    with _timing_steps(spent):
        _timed(issue, repeat)
    runs = repeat + 1  # the warm-up too
    steps_ms = {name: _ms(seconds / runs) for name, seconds in spent.items()}
    rest = spent["issue"] - spent["compose"] - spent["render"] - spent["sign"]
    steps_ms["store_and_rest"] = _ms(max(0.0, rest) / runs)  # number, file, row, audit
    steps_ms.pop("issue")
    compose_stats, content = _timed(lambda: compose(subject), repeat)
    url = services.verify_url("XYBG20260101BENCHMARK000")
    head = {"number": "XYBG20260101BENCHMARK000", "issuer": "benchmark", "verify_url": url}
    _render_stats, pdf = _timed(lambda: render.render_pdf(content | head), 1)
    selects_stats, rows = _timed(lambda: bare_selects(subject_id, day), repeat)
    table_stats, table_pdf = _timed(lambda: plain_table(content), repeat)
    sign_plain_stats, _ = _timed(lambda: _sign(table_pdf), repeat)
    floor = _stats_sum(selects_stats, table_stats, sign_plain_stats)
    # A heavier subject than the demo holds: its penalties repeated to `SYNTHETIC_ROWS` rows.
    heavy = json.loads(json.dumps(content))
    for section in heavy["sections"]:
        if section["key"] == "penalties" and section["rows"]:
            section["rows"] = (section["rows"] * SYNTHETIC_ROWS)[:SYNTHETIC_ROWS]
    heavy_stats, _ = _timed(lambda: render.render_pdf(heavy | head), max(3, repeat // 5))
    return {
        "subject_id": subject_id,
        "rows_by_section": {s["key"]: len(s["rows"]) for s in content["sections"]},
        "pdf_bytes": len(_sign(pdf)),
        "services_issue": issue_stats,
        "steps_mean_ms": steps_ms,
        "compose_alone": compose_stats,
        "floor": {
            "bare_selects": selects_stats,
            "selected_rows": rows,
            "plain_table": table_stats,
            "sign_plain_table": sign_plain_stats,
            "total": floor,
        },
        "ratio_to_floor_p50": round(issue_stats["p50_ms"] / max(floor["p50_ms"], 0.1), 1),
        f"render_with_{SYNTHETIC_ROWS}_penalties": heavy_stats,
    }


def batch_floor(subject_ids: list[int], sample: int) -> dict:
    """The floor of the batch: the bare SELECTs of every code's rows (each measured), the plain
    table and its signature measured on `sample` codes spread over the batch and scaled."""
    from django.utils import timezone

    from pubcredit.reports.content import compose
    from pubcredit.subjects.models import Subject

    day = timezone.localdate()
    started = time.perf_counter()
    for sid in subject_ids:
        bare_selects(sid, day)
    selects = time.perf_counter() - started
    step = max(1, len(subject_ids) // max(sample, 1))
    chosen = subject_ids[::step][:sample]
    drawn = 0.0
    for subject in Subject.objects.filter(pk__in=chosen):
        content = compose(subject)  # not timed: the floor draws the same rows
        t = time.perf_counter()
        _sign(plain_table(content))
        drawn += time.perf_counter() - t
    scaled = drawn / max(len(chosen), 1) * len(subject_ids)
    return {
        "bare_selects_s": round(selects, 1),
        "plain_table_and_sign_s": round(scaled, 1),
        "sampled": len(chosen),
        "total_s": round(selects + scaled, 1),
    }


def _tender_platform():
    from pubcredit.accounts.models import Role
    from pubcredit.accounts.permissions import Principal
    from pubcredit.accounts.services import issue_api_key

    key, _clear = issue_api_key(
        Principal.system("benchmark"), name="基准测试招标平台", role=Role.BANK_USER
    )
    return key, Principal.of(key)


def _cpu(in_process: bool) -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF if in_process else resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _run_worker(url: str, var_dir: Path, in_process: bool) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the worker) of a worker run until the queue is empty."""
    started, cpu = time.perf_counter(), _cpu(in_process)
    if in_process:
        from pubcredit.core.jobs import process_token
        from pubcredit.core.management.commands.db_worker import Worker

        Worker(
            queue_names=["default"],
            interval=0.1,
            batch=True,
            backend_name="default",
            startup_delay=False,
            max_tasks=None,
            worker_id=process_token(),
            excluded_queue_names=[],
        ).run()
    else:
        env = os.environ | {"DATABASE_URL": url, "PUBCREDIT_VAR_DIR": str(var_dir)}
        subprocess.run(
            [*_pubcredit(), "db_worker", "--batch", "--no-startup-delay", "--interval", "0.1"],
            env=env,
            cwd=ROOT,
            check=True,
        )
    return time.perf_counter() - started, _cpu(in_process) - cpu


def batch(subject_ids: list[int], url: str, var_dir: Path, *, in_process: bool) -> dict:
    import io
    import zipfile

    from django.db import transaction
    from django.db.models import ProtectedError
    from django_tasks_db.models import DBTaskResult

    from pubcredit.reports import batch as report_batch
    from pubcredit.reports.models import Report
    from pubcredit.subjects.models import Subject

    codes = list(
        Subject.objects.filter(pk__in=subject_ids).order_by("pk").values_list("uscc", flat=True)
    )
    waiting = DBTaskResult.objects.filter(status="READY").count()
    key, platform_principal = _tender_platform()
    t = time.perf_counter()
    with transaction.atomic():  # the job is enqueued on commit, as after an API request
        job = report_batch.submit_batch(platform_principal, codes=codes)
    submit = time.perf_counter() - t
    load_before = _loadavg()
    wall, cpu = _run_worker(url, var_dir, in_process)
    load_after = _loadavg()
    job.refresh_from_db()
    reports = Report.objects.filter(batch=job)
    with job.zip_file.open("rb") as fh:
        data = fh.read()
    names = zipfile.ZipFile(io.BytesIO(data)).namelist()
    out = {
        "mode": "in-process django-tasks worker" if in_process else "pubcredit db_worker --batch",
        "reports": len(codes),
        "status": job.status,
        "issued": job.issued,
        "problems": len(job.problems),
        "zip_entries": len(names),
        "zip_bytes": len(data),
        "zip_complete": job.issued == len(codes) and len(names) == len(codes) + 1,
        "submit_s": round(submit, 2),
        "seconds": round(wall, 1),
        "job_timings_s": job.timings,
        "per_report_ms": _ms(wall / max(len(codes), 1)),
        "worker_cpu_s": round(cpu, 1),
        "other_tasks_waiting_before": waiting,
        "load_average": {"before": load_before, "after": load_after},
    }
    # Leave the benchmark database as it was: the batch's reports, files and key go.
    paths = [r.pdf.path for r in reports.only("pdf")] + [job.zip_file.path]
    reports.delete()
    job.delete()
    try:
        key.delete()
    except ProtectedError:  # its audit rows keep it
        pass
    for path in paths:
        Path(path).unlink(missing_ok=True)
    return out


def _table(result: dict) -> str:
    single_ = result["single"]
    issue = single_["services_issue"]
    floor = single_["floor"]["total"]
    lines = [
        f"{'target':<34}{'measured':>22}{'floor':>20}{'ratio':>8}{'limit':>9}  meets",
        f"{'one report (services.issue)':<34}"
        f"{issue['p50_ms']:>9.1f} / {issue['p95_ms']:>6.1f} ms"
        f"{floor['p50_ms']:>11.1f} / {floor['p95_ms']:>5.1f}"
        f"{single_['ratio_to_floor_p50']:>8.1f}{'1 s':>9}  {result['meets']['single_report']}",
    ]
    for name, value in single_["steps_mean_ms"].items():
        lines.append(f"  {name + ' (mean)':<32}{value:>9.1f} ms")
    if "batch" in result:
        b = result["batch"]
        lines.append(
            f"{str(b['reports']) + ' reports, one batch job':<34}{b['seconds']:>19.1f} s"
            f"{result['batch_floor']['total_s']:>18.1f} s"
            f"{result['batch_ratio_to_floor']:>8.1f}{'120 s':>9}  {result['meets']['batch_1000']}"
        )
        timings = b["job_timings_s"] or {}
        for name in ("lookup", "issue", "zip", "total"):
            if name in timings:
                lines.append(f"  job: {name:<27}{timings[name]:>19.1f} s")
        lines.append(f"  {'worker CPU time':<32}{b['worker_cpu_s']:>19.1f} s")
    lines.append("(single: p50 / p95 over the repeats; floor: bare SELECTs + plain table + sign)")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--subjects", type=int, default=100_000, help="demo city size")
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument("--reuse", action="store_true", help="use the loaded database as it is")
    parser.add_argument("--repeat", type=int, default=20, help="runs of the single report")
    parser.add_argument("--batch", type=int, default=1000, help="reports in the batch (0: none)")
    parser.add_argument(
        "--batch-in-process",
        action="store_true",
        help="run the batch job with django-tasks' worker in this process (not db_worker)",
    )
    parser.add_argument(
        "--floor-sample", type=int, default=50, help="codes the batch floor draws and signs"
    )
    parser.add_argument("--json-out", help="also write the result to this file")
    args = parser.parse_args(argv)

    OUT.mkdir(parents=True, exist_ok=True)
    var_dir = OUT / "var"
    var_dir.mkdir(exist_ok=True)
    timings = {} if args.reuse else prepare(args.database_url, var_dir, args.subjects)
    _setup_django(args.database_url, var_dir)
    from django.test import override_settings

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
        "reportlab_accelerator": _accelerated(),
        "load_average_before": _loadavg(),
        "prepare": timings,
        "heaviest": {"subject_id": subject_id, "records": records},
    }
    # The single reports are rolled back: their files go to a temporary directory.
    with override_settings(MEDIA_ROOT=tempfile.mkdtemp(prefix="reports-bench-media-")):
        result["single"] = single(subject_id, args.repeat)
    result["targets"] = TARGETS
    single_p95 = result["single"]["services_issue"]["p95_ms"] / 1000
    result["meets"] = {"single_report": single_p95 <= TARGETS["single_report_s"]}
    if args.batch:
        ids = [sid for sid, _n in top[: args.batch]]
        result["batch"] = batch(
            ids, args.database_url, var_dir.resolve(), in_process=args.batch_in_process
        )
        result["batch_floor"] = batch_floor(ids, args.floor_sample)
        result["batch_ratio_to_floor"] = round(
            result["batch"]["seconds"] / max(result["batch_floor"]["total_s"], 0.1), 1
        )
        scaled = result["batch"]["seconds"] * 1000 / max(result["batch"]["reports"], 1)
        result["meets"]["batch_1000"] = (
            scaled <= TARGETS["batch_1000_s"] and result["batch"]["zip_complete"]
        )
    result["load_average_after"] = _loadavg()
    result["figures"] = figures(result)
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    path = OUT / f"reports-{stamp}.json"
    path.write_text(json.dumps(result, ensure_ascii=False, indent=2))
    write_json_out(args.json_out, result)
    print(_table(result))
    print(json.dumps(result, ensure_ascii=False))
    return 0


def figures(result: dict) -> list[dict]:
    """The headline figures beside their floors (benchmarks/figures.py)."""
    issue = result["single"]["services_issue"]
    floor = result["single"]["floor"]["total"]
    out = [
        figure("one report of the heaviest subject, p95", issue["p95_ms"], "ms",
               floor=floor["p95_ms"],
               floor_name="bare SELECTs + a plain reportlab table + its signature",
               limit=TARGETS["single_report_s"] * 1000,
               note=f"{result['heaviest']['records']:,} records; p50 {issue['p50_ms']} ms")
    ]  # fmt: skip
    if "batch" in result:
        b, bf = result["batch"], result["batch_floor"]
        out.append(
            figure(f"batch of {b['reports']:,} reports (db_worker, zip)", b["seconds"], "s",
                   floor=bf["total_s"], floor_name="the single floor for every code",
                   limit=TARGETS["batch_1000_s"] if b["reports"] >= 1000 else None,
                   note=f"limit {TARGETS['batch_1000_s']:.0f} s for 1,000 (held at 1,000 or more;"
                   " the worker's start-up included)"
                   + ("" if b["zip_complete"] else "; zip INCOMPLETE"))
        )  # fmt: skip
    return out


def _accelerated() -> bool:
    """Whether reportlab runs with its C accelerators (the rl_accel package)."""
    from reportlab.lib import rl_accel

    return not rl_accel._py_funcs


if __name__ == "__main__":
    sys.exit(main())
