"""Benchmark: the aggregation statistics (issue 16) on a city-sized PostgreSQL database — the
dashboard pages that read them, a monthly bulletin end to end, and what keeping them adds to
intake — each beside the same figures computed by a plain GROUP BY over the records.

    .venv/bin/python benchmarks/bulletins.py              # 1,000,000 subjects, 5,000,000 records
    .venv/bin/python benchmarks/bulletins.py --reuse           # the loaded database, measure again
    .venv/bin/python benchmarks/bulletins.py --subjects 100000 --records 500000 --requests 20
    .venv/bin/python benchmarks/bulletins.py --intake-only [--rows 200000] [--database-url URL]

Steps:
1. the data set (benchmarks/bulletins_data.py: the demo city's register and catalogue, a year of
   submissions from every department with a reporting duty, R records received over twelve
   months set based, some late, superseded or withdrawn, publicity, checks, repairs), skipped with
   `--reuse` when the database holds it; then the kept statistics rebuilt by
   `bulletins.metrics.rebuild_metrics()` (timed; on `--reuse` the build's timing is read back
   from benchmarks/out/bulletins-data-<database>.json unless `--rebuild-metrics`), and the
   dashboards' tallies by `bulletins.tallies.rebuild_tallies()`,
   `publicity.tally.rebuild_publicity_tally()` and `subjects.tally.rebuild_subject_tally()`
   when they are empty or with `--rebuild-metrics`
   (the data set is written around the records flow);
2. the floor, in this process over psycopg: the month's figures by a plain `SELECT department_id,
   category_id, count(*) … FROM records_record WHERE received_at in month GROUP BY …` (and the
   same over records_recordversion, and the submissions), and the year's monthly trend the same
   way (median of 5);
3. the code paths, in this process, caches cleared (median of 3): each figure of the big screen
   (`console.screen.FIGURES`), the portal's `public_statistics`, the console dashboard's
   `dashboard_stats` and `tasks_for`, `metrics_for_month`, `zero_reports`, `department_activity`,
   `compose(month)`, `render.pdf`, `render.xlsx`, and `bulletins.services.issue(month,
   new_version=True)` end to end (rolled back);
4. the pages over HTTP: the site as a real WSGI server (granian, 2 workers × 4 threads; gunicorn
   or runserver when absent, benchmarks/portal.py's helpers), DEBUG off, logged in as 信用中心工作人员
   (a session made with `Client.force_login`); each page requested N times one after another
   (after one warm-up): /console/, /console/screen/data.json, the portal's /statistics/, and the
   bulletin page when the site has one. Twice: with the site's caches as configured, N times
   (`--requests`, what a viewer gets between two refreshes) and with the cache off
   (`bulletins_nocache_settings`, `--uncached-requests` times: every request computes its
   figures, what the big screen's minute refresh costs once its cached copy has expired);
5. intake: benchmarks/intake.py's 行政处罚 file of `--rows` rows through `submit_file` on the same
   database (a department with a reporting duty), end to end, with the time the load spent
   keeping the dashboards' tallies (`bulletins.tallies.add_loaded`,
   `publicity.tally.add_refreshed`, `subjects.tally.add_registered`, timed inside that run),
   then the metrics
   (`metrics.add_written`) alone on the rows it wrote (best of 3): each one's share of intake.
   All of it is rolled back, so the data set stays as built.
Results go to benchmarks/out/bulletins-*.json (gitignored), printed as one JSON object and a
table. The machine's load average is recorded (it is shared).

Targets (2 cores): dashboard pages p95 ≤ 300 ms; a monthly bulletin (page, xlsx and PDF) ≤ 60 s;
the statistics add ≤ 10% to intake's end-to-end time.
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
from http.client import HTTPConnection
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from figures import figure, write_json_out  # noqa: E402

OUT = ROOT / "benchmarks" / "out"
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/pubcredit_bulletins_bench"
TARGETS = {"page_p95_ms": 300.0, "bulletin_s": 60.0, "intake_added_percent": 10.0}


def _loadavg() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def _median_time(fn, repeat: int) -> tuple[float, object]:
    times, out = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), out


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 1)


# --------------------------------------------------------------------------- intake share


def intake_share(rows: int, *, fresh: bool) -> dict:
    """One 行政处罚 file of `rows` rows through the whole pipeline, end to end, then the bulletins
    step alone on the records it wrote (best of 3, each rolled back). On an existing database
    (`fresh` false) everything is rolled back at the end."""
    from django.conf import settings
    from django.db import transaction
    from intake_engine import make_penalty_csv

    from pubcredit.accounts.permissions import Principal
    from pubcredit.bulletins import tallies
    from pubcredit.bulletins.metrics import add_written
    from pubcredit.catalog.models import Category, Department, ReportingDuty
    from pubcredit.catalog.services import import_catalogue
    from pubcredit.holidays.services import seed_from_chinese_calendar
    from pubcredit.intake.models import Submission
    from pubcredit.intake.services import submit_file
    from pubcredit.publicity import tally
    from pubcredit.records.models import Record
    from pubcredit.subjects import tally as subject_tally

    settings.MEDIA_ROOT = Path(tempfile.mkdtemp(prefix="bulletins-bench-media-"))
    system = Principal.system("benchmark")
    if fresh:
        import_catalogue(system)
        seed_from_chinese_calendar(system)
    csv_path = Path(tempfile.mkdtemp(prefix="bulletins-bench-")) / "penalties.csv"
    facts = make_penalty_csv(csv_path, rows)
    out: dict = {}
    # The tallies' upkeep, timed inside the real load (the flow calls them by module attribute).
    spent = {"record_tallies": 0.0, "publicity_tally": 0.0, "subject_tally": 0.0}

    def timed(name, fn):
        def call(*args, **kwargs):
            t = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                spent[name] += time.perf_counter() - t

        return call

    originals = (tallies.add_loaded, tally.add_refreshed, subject_tally.add_registered)
    tallies.add_loaded = timed("record_tallies", tallies.add_loaded)
    tally.add_refreshed = timed("publicity_tally", tally.add_refreshed)
    subject_tally.add_registered = timed("subject_tally", subject_tally.add_registered)
    with transaction.atomic():
        department = Department.objects.create(
            code="BENCH",
            name="淄博市张店区市场监督管理局(基准测试)",
            uscc=facts["source_uscc"],
            level=Department.Level.DISTRICT,
        )
        category = Category.objects.get(code="CF")
        ReportingDuty.objects.create(
            department=department,
            category=category,
            rhythm=ReportingDuty.Rhythm.WITHIN,
            workdays=7,
            effective_from=dt.date(2000, 1, 1),
        )
        t = time.perf_counter()
        try:
            submission = submit_file(
                system,
                department=department,
                category=category,
                source=csv_path,
                filename=csv_path.name,
                channel=Submission.Channel.CLI,
                background=False,
            )
        finally:
            tallies.add_loaded, tally.add_refreshed, subject_tally.add_registered = originals
        end_to_end = time.perf_counter() - t
        records = Record.objects.filter(
            department=department, category=category, submission=submission
        )
        flow = (submission.timings or {}).get("flow") or {}
        times = []
        for _ in range(3):
            with transaction.atomic():
                t = time.perf_counter()
                add_written(records, category.pk)
                times.append(time.perf_counter() - t)
                transaction.set_rollback(True)
        step = min(times)
        kept = sum(spent.values())
        out = {
            "rows": rows,
            "records": records.count(),
            "status": submission.status,
            "end_to_end_s": round(end_to_end, 2),
            "bulletins_step_s": round(step, 3),
            "tallies_s": {name: round(v, 3) for name, v in spent.items()},
            "tallies_added_percent": round(100 * kept / max(end_to_end - kept, 1e-9), 1),
            "added_percent": round(100 * (step + kept) / max(end_to_end - step - kept, 1e-9), 1),
            "flow_timings": flow,
            "load_average": _loadavg(),
        }
        if not fresh:
            transaction.set_rollback(True)
    return out


# --------------------------------------------------------------------------- floor


def _bounds(month: dt.date) -> tuple[dt.datetime, dt.datetime]:
    from pubcredit.bulletins.metrics import SHANGHAI, next_month

    start = dt.datetime.combine(month, dt.time(), tzinfo=SHANGHAI)
    return start, dt.datetime.combine(next_month(month), dt.time(), tzinfo=SHANGHAI)


FLOOR_MONTH = """
SELECT department_id, category_id, count(*), count(*) FILTER (WHERE version = 1),
       count(*) FILTER (WHERE version > 1), count(*) FILTER (WHERE late)
  FROM records_record WHERE received_at >= %(start)s AND received_at < %(end)s
 GROUP BY department_id, category_id
"""
FLOOR_VERSIONS = """
SELECT r.department_id, r.category_id, count(*), count(*) FILTER (WHERE v.version = 1)
  FROM records_recordversion v JOIN records_record r ON r.id = v.record_id
 WHERE v.received_at >= %(start)s AND v.received_at < %(end)s
 GROUP BY r.department_id, r.category_id
"""
FLOOR_SUBMISSIONS = """
SELECT department_id, category_id, count(*), sum(rows), sum(accepted), sum(rejected)
  FROM intake_submission WHERE received_at >= %(start)s AND received_at < %(end)s
   AND status <> 'failed'
 GROUP BY department_id, category_id
"""
FLOOR_YEAR = """
SELECT date_trunc('month', received_at AT TIME ZONE 'Asia/Shanghai') AS m, department_id,
       count(*)
  FROM records_record WHERE received_at >= %(start)s AND received_at < %(end)s
 GROUP BY 1, 2
"""


def floor(month: dt.date, repeat: int = 5) -> dict:
    """The same figures by a plain GROUP BY over the records (see the module docstring)."""
    from django.db import connection

    from pubcredit.bulletins.metrics import next_month

    start, end = _bounds(month)
    year_start, _unused = _bounds(dt.date(month.year - 1, month.month, 1))
    year_start = max(year_start, year_start)
    params = {"start": start, "end": end}
    out: dict = {}

    def run(sql, p):
        with connection.cursor() as cursor:
            cursor.execute(sql, p)
            return cursor.fetchall()

    for name, sql, p in (
        ("month_records", FLOOR_MONTH, params),
        ("month_versions", FLOOR_VERSIONS, params),
        ("month_submissions", FLOOR_SUBMISSIONS, params),
        ("year_by_month", FLOOR_YEAR, {"start": year_start, "end": _bounds(next_month(month))[0]}),
    ):
        run(sql, p)  # warm
        seconds, rows = _median_time(lambda s=sql, q=p: run(s, q), repeat)
        out[name] = {"ms": _ms(seconds), "groups": len(rows)}
    out["month_ms"] = round(
        sum(out[k]["ms"] for k in ("month_records", "month_versions", "month_submissions")), 1
    )
    return out


# --------------------------------------------------------------------------- code paths


def code_paths(month: dt.date, centre) -> dict:
    """The statistics' readers and the bulletin, in this process, caches cleared (median of 3;
    the bulletin once, rolled back)."""
    from django.conf import settings
    from django.core.cache import cache
    from django.db import transaction
    from django.utils import timezone, translation

    from pubcredit.accounts.permissions import Principal
    from pubcredit.bulletins import render, services
    from pubcredit.bulletins import statistics as stats
    from pubcredit.bulletins.compose import compose
    from pubcredit.bulletins.periods import Period
    from pubcredit.console import screen
    from pubcredit.console.services import dashboard_stats
    from pubcredit.console.worklist import tasks_for
    from pubcredit.portal.statistics import public_statistics

    settings.MEDIA_ROOT = Path(tempfile.mkdtemp(prefix="bulletins-bench-media-"))
    today = timezone.localdate()
    principal = Principal.of(centre)
    out: dict = {"screen": {}}
    translation.activate("zh-hans")

    def uncached(fn):
        def call():
            cache.clear()
            return fn()

        return call

    for name, compute in screen.FIGURES.items():
        seconds, _unused = _median_time(uncached(lambda f=compute: f(today)), 3)
        out["screen"][name] = _ms(seconds)
    out["screen_total_ms"] = round(sum(out["screen"].values()), 1)
    seconds, _unused = _median_time(uncached(public_statistics), 3)
    out["portal_statistics_ms"] = _ms(seconds)
    seconds, _unused = _median_time(uncached(lambda: dashboard_stats(principal)), 3)
    out["dashboard_stats_ms"] = _ms(seconds)
    seconds, _unused = _median_time(lambda: tasks_for(principal), 3)
    out["dashboard_tasks_ms"] = _ms(seconds)
    seconds, rows = _median_time(lambda: stats.metrics_for_month(month), 3)
    out["metrics_for_month"] = {"ms": _ms(seconds), "rows": len(rows)}
    seconds, rows = _median_time(lambda: stats.zero_reports(month), 3)
    out["zero_reports"] = {"ms": _ms(seconds), "rows": len(rows)}
    seconds, rows = _median_time(lambda: stats.department_activity(month), 3)
    out["department_activity"] = {"ms": _ms(seconds), "rows": len(rows)}
    period = Period.parse(f"{month:%Y-%m}")
    seconds, content = _median_time(lambda: compose(period), 3)
    out["compose_s"] = round(seconds, 2)
    seconds, pdf = _median_time(lambda: render.pdf(content), 1)
    out["pdf_s"] = round(seconds, 2)
    out["pdf_bytes"] = len(pdf)
    seconds, xlsx = _median_time(lambda: render.xlsx(content), 1)
    out["xlsx_s"] = round(seconds, 2)
    out["xlsx_bytes"] = len(xlsx)
    out["departments_ranked"] = len(content.get("departments", []))
    with transaction.atomic():
        t = time.perf_counter()
        bulletin, _created = services.issue(period, Principal.system("benchmark"), new_version=True)
        out["issue_s"] = round(time.perf_counter() - t, 2)
        out["issued"] = bulletin.number
        transaction.set_rollback(True)
    return out


# --------------------------------------------------------------------------- pages over HTTP


def centre_user():
    from pubcredit.accounts.models import Role, User

    user, _created = User.objects.get_or_create(
        username="bench_centre", defaults={"role": Role.CENTRE_STAFF}
    )
    if user.role != Role.CENTRE_STAFF or not user.is_active:
        user.role, user.is_active = Role.CENTRE_STAFF, True
        user.save()
    return user


def session_cookie(user) -> str:
    from django.conf import settings
    from django.test import Client

    client = Client()
    client.force_login(user)
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"


def pages(month: dt.date) -> dict[str, str]:
    """The pages that read the statistics, by label → path (the bulletin page when the site has
    one under one of the names it may be given)."""
    from django.urls import NoReverseMatch, reverse

    out = {
        "console": reverse("console:dashboard"),
        "screen_data": reverse("console:screen_data"),
        "portal_statistics": reverse("portal:statistics"),
    }
    for name, kwargs in (
        ("console:bulletins:detail", {"period": f"{month:%Y-%m}"}),
        ("console:bulletins:period", {"period": f"{month:%Y-%m}"}),
        ("console:bulletins:bulletin", {"period": f"{month:%Y-%m}"}),
        ("console:bulletin", {"period": f"{month:%Y-%m}"}),
        ("console:bulletins:index", {}),
        ("console:bulletins:list", {}),
    ):
        try:
            out["bulletin"] = reverse(name, kwargs=kwargs)
            break
        except NoReverseMatch:
            continue
    return out


def start_site(url: str, var_dir: Path, port: int, kind: str, settings_module: str):
    """benchmarks/portal.py's start_server, with a settings module of choice."""
    import portal

    env = os.environ | {
        "DATABASE_URL": url,
        "PUBCREDIT_VAR_DIR": str(var_dir),
        "PUBCREDIT_DEBUG": "0",
        "PUBCREDIT_PUBLIC_RATE": "0",
        "PUBCREDIT_CONN_MAX_AGE": "600",
        "DJANGO_SETTINGS_MODULE": settings_module,
        "PYTHONPATH": os.pathsep.join(
            [str(ROOT), str(ROOT / "benchmarks"), os.environ.get("PYTHONPATH", "")]
        ),
    }
    proc = subprocess.Popen(
        portal.server_command(kind, port), env=env, cwd=ROOT, start_new_session=True
    )
    return portal.serving(proc, port, seconds=90)


def drive(port: int, paths: dict[str, str], cookie: str, n: int) -> dict:
    """Each page `n` times one after another on one keep-alive connection, after one warm-up."""
    from portal import _percentile

    out = {}
    conn = HTTPConnection("127.0.0.1", port, timeout=120)
    headers = {"Accept-Language": "zh-CN", "Cookie": cookie}
    for label, path in paths.items():
        values, errors, size = [], 0, 0
        for i in range(n + 1):
            t = time.perf_counter()
            conn.request("GET", path, headers=headers)
            response = conn.getresponse()
            body = response.read()
            elapsed = time.perf_counter() - t
            if response.status != 200:
                errors += 1
            if i:
                values.append(elapsed)
            size = len(body)
        values.sort()
        out[label] = {
            "path": path,
            "requests": len(values),
            "errors": errors,
            "bytes": size,
            "p50_ms": round(_percentile(values, 50), 1),
            "p95_ms": round(_percentile(values, 95), 1),
            "max_ms": round(values[-1] * 1000, 1) if values else 0.0,
        }
    conn.close()
    return out


# --------------------------------------------------------------------------- main


def _setup(url: str, var_dir: Path) -> None:
    from portal import _setup_django

    _setup_django(url, var_dir)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--subjects", type=int, default=1_000_000)
    parser.add_argument("--records", type=int, default=5_000_000)
    parser.add_argument("--database-url")
    parser.add_argument("--reuse", action="store_true", help="use the loaded data set as it is")
    parser.add_argument("--rebuild-metrics", action="store_true")
    parser.add_argument("--month", help="YYYY-MM (default: last month)")
    parser.add_argument("--requests", type=int, default=50, help="requests per page (cached)")
    parser.add_argument(
        "--uncached-requests",
        type=int,
        default=10,
        help="requests per page with the cache off (each computes every figure: seconds each)",
    )
    parser.add_argument("--rows", type=int, default=200_000, help="rows of the intake file")
    parser.add_argument("--server", choices=["granian", "gunicorn", "runserver"], default="granian")
    parser.add_argument("--skip-pages", action="store_true", help="no HTTP measurement")
    parser.add_argument("--skip-intake", action="store_true", help="no intake measurement")
    parser.add_argument("--json-out", help="also write the result to this file")
    parser.add_argument(
        "--intake-only",
        action="store_true",
        help="only the intake share (default database: a fresh SQLite file)",
    )
    args = parser.parse_args(argv)

    if args.intake_only:
        url = args.database_url or (
            f"sqlite:///{tempfile.mkdtemp(prefix='bulletins-bench-db-')}/b.db"
        )
        fresh = url.startswith("sqlite")
        if fresh:
            os.environ["DATABASE_URL"] = url
            _setup(url, Path(tempfile.mkdtemp(prefix="bulletins-bench-var-")))
            from django.core.management import call_command

            call_command("migrate", verbosity=0, interactive=False)
        else:
            _setup(url, ROOT / "var" / "bench-bulletins")
        out = intake_share(args.rows, fresh=fresh)
        out["backend"] = url.split(":", 1)[0]
        print(json.dumps(out, ensure_ascii=False))
        return 0

    import bulletins_data

    url = args.database_url or DEFAULT_URL
    var_dir = ROOT / "var" / "bench-bulletins"
    var_dir.mkdir(parents=True, exist_ok=True)
    OUT.mkdir(parents=True, exist_ok=True)
    data_file = OUT / f"bulletins-data-{url.rsplit('/', 1)[-1]}.json"
    result: dict = {
        "benchmark": "bulletins",
        "at": dt.datetime.now().isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "load_average_before": _loadavg(),
        "targets": TARGETS,
    }
    reuse = args.reuse and bulletins_data.loaded(url, args.subjects, args.records)
    if args.reuse and not reuse:
        print("--reuse: the database does not hold the data set; building it", file=sys.stderr)
    build: dict = {}
    if reuse:
        _setup(url, var_dir)
        if data_file.exists():
            build = json.loads(data_file.read_text(encoding="utf-8"))
    else:
        build = {"data": bulletins_data.build(url, var_dir, args.subjects, args.records, _setup)}
    from django.db import connection

    from pubcredit.bulletins.metrics import rebuild_metrics
    from pubcredit.bulletins.models import DepartmentMonthMetric, RecordTally
    from pubcredit.bulletins.tallies import rebuild_tallies
    from pubcredit.publicity.tally import rebuild_publicity_tally
    from pubcredit.subjects.tally import rebuild_subject_tally

    if not reuse or args.rebuild_metrics or not DepartmentMonthMetric.objects.exists():
        bulletins_data._log("rebuild_metrics()")
        t = time.perf_counter()
        rows = rebuild_metrics()
        build["rebuild_metrics"] = {"rows": rows, "seconds": round(time.perf_counter() - t, 1)}
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE bulletins_departmentmonthmetric")
        data_file.write_text(json.dumps(build, ensure_ascii=False, indent=2), encoding="utf-8")
    if args.rebuild_metrics or not RecordTally.objects.exists():
        bulletins_data._log("the tallies' rebuilds")
        t = time.perf_counter()
        rows = {
            **rebuild_tallies(),
            "publicity_tally": rebuild_publicity_tally(),
            "subject_tally": rebuild_subject_tally(),
        }
        build["rebuild_tallies"] = {"rows": rows, "seconds": round(time.perf_counter() - t, 1)}
        data_file.write_text(json.dumps(build, ensure_ascii=False, indent=2), encoding="utf-8")
    result["build"] = build
    result["data"] = bulletins_data.data_facts(
        {
            "subjects": "subjects_subject",
            "records": "records_record",
            "versions": "records_recordversion",
            "submissions": "intake_submission",
            "metric_rows": "bulletins_departmentmonthmetric",
        }
    )
    from django.utils import timezone

    today = timezone.localdate()
    if args.month:
        month = dt.date.fromisoformat(args.month + "-01")
    else:
        month = (today.replace(day=1) - dt.timedelta(days=1)).replace(day=1)
    result["month"] = f"{month:%Y-%m}"

    bulletins_data._log("floor")
    result["floor"] = floor(month)
    bulletins_data._log("code paths")
    centre = centre_user()
    result["code"] = code_paths(month, centre)

    import portal

    kind = args.server
    if kind != "runserver" and not Path(sys.executable).with_name(kind).exists():
        kind = "gunicorn" if Path(sys.executable).with_name("gunicorn").exists() else "runserver"
    cookie = session_cookie(centre)
    paths = pages(month)
    connection.close()
    result["server"] = f"{kind} (2 workers x 4 threads)"
    result["pages"] = {}
    for label, settings_module, n in (
        ("cached", "pubcredit.settings", args.requests),
        ("uncached", "bulletins_nocache_settings", args.uncached_requests),
    ):
        if args.skip_pages:
            break
        bulletins_data._log(f"pages over HTTP ({label})")
        port = portal.free_port()
        server = start_site(url, var_dir, port, kind, settings_module)
        try:
            result["pages"][label] = drive(port, paths, cookie, n)
        finally:
            portal.stop_server(server)
    result["load_average_during"] = _loadavg()

    if not args.skip_intake:
        bulletins_data._log("intake share")
        result["intake"] = intake_share(args.rows, fresh=False)
    result["load_average_after"] = _loadavg()

    floor_ms = result["floor"]["month_ms"]
    code = result["code"]
    result["ratios"] = {
        "metrics_for_month_to_floor": round(
            code["metrics_for_month"]["ms"] / max(floor_ms, 1e-3), 3
        ),
        "bulletin_to_floor": round(code["issue_s"] * 1000 / max(floor_ms, 1e-3), 1),
        **{
            f"{label}_{page}_p95_to_floor": round(p["p95_ms"] / max(floor_ms, 1e-3), 2)
            for label, by_page in result["pages"].items()
            for page, p in by_page.items()
        },
    }
    result["met"] = {"bulletin_s": code["issue_s"] <= TARGETS["bulletin_s"]}
    for label, by_page in result["pages"].items():
        worst = max(p["p95_ms"] for p in by_page.values())
        result["met"][f"page_p95_ms_{label}"] = worst <= TARGETS["page_p95_ms"]
    if "intake" in result:
        result["met"]["intake_added_percent"] = (
            result["intake"]["added_percent"] <= TARGETS["intake_added_percent"]
        )
    result["figures"] = figures(result)
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    path = OUT / f"bulletins-{stamp}.json"
    path.write_text(json.dumps(result, ensure_ascii=False, indent=2, default=str), encoding="utf-8")
    write_json_out(args.json_out, result)
    print(json.dumps(result, ensure_ascii=False, default=str))
    _print(result, path)
    return 0


def figures(result: dict) -> list[dict]:
    """The headline figures beside their floors (benchmarks/figures.py): the month's figures by
    the plain GROUP BY over the records is every figure's floor; intake's is the same load less
    the time spent keeping the statistics."""
    floor_ms = result["floor"]["month_ms"]
    floor_name = "plain GROUP BY over the month's records"
    code = result["code"]
    size = f"{result['data']['subjects']:,} subjects, {result['data']['records']:,} records"
    out = [
        figure("metrics_for_month", code["metrics_for_month"]["ms"], "ms", floor=floor_ms,
               floor_name=floor_name, note=size),
        figure("monthly bulletin, issue() end to end", code["issue_s"] * 1000, "ms",
               floor=floor_ms, floor_name=floor_name, limit=TARGETS["bulletin_s"] * 1000,
               note=f"compose {code['compose_s']} s, pdf {code['pdf_s']} s, "
               f"xlsx {code['xlsx_s']} s"),
    ]  # fmt: skip
    for label, by_page in result["pages"].items():
        page, worst = max(by_page.items(), key=lambda item: item[1]["p95_ms"])
        errors = sum(p["errors"] for p in by_page.values())
        out.append(
            figure(f"dashboard pages ({label}), worst p95", worst["p95_ms"], "ms",
                   floor=floor_ms, floor_name=floor_name, limit=TARGETS["page_p95_ms"],
                   note=f"{page}" + (f"; {errors} errors" if errors else ""))
        )  # fmt: skip
    if "intake" in result:
        i = result["intake"]
        kept = i["bulletins_step_s"] + sum(i["tallies_s"].values())
        out.append(
            figure(f"intake of {i['rows']:,} rows with the statistics", i["end_to_end_s"], "s",
                   floor=i["end_to_end_s"] - kept,
                   floor_name="the same intake less the statistics' upkeep",
                   target=1 + TARGETS["intake_added_percent"] / 100,
                   note=f"statistics +{i['added_percent']}%")
        )  # fmt: skip
    return out


def _print(result: dict, path: Path) -> None:
    d, f, c = result["data"], result["floor"], result["code"]
    print(
        f"\nbulletins — {d['subjects']:,} subjects, {d['records']:,} records, "
        f"{d['submissions']:,} submissions; month {result['month']}; server {result['server']}"
    )
    print(f"load average before/during/after: {result['load_average_before']} / "
          f"{result.get('load_average_during')} / {result['load_average_after']}")  # fmt: skip
    rebuilt = result["build"].get("rebuild_metrics") or {}
    if rebuilt:
        print(f"rebuild_metrics(): {rebuilt['rows']:,} rows in {rebuilt['seconds']} s")
    rebuilt = result["build"].get("rebuild_tallies") or {}
    if rebuilt:
        print(f"rebuild of the tallies: {rebuilt['rows']} rows in {rebuilt['seconds']} s")
    print(f"floor (plain GROUP BY over records, month): {f['month_ms']} ms "
          f"(records {f['month_records']['ms']}, versions {f['month_versions']['ms']}, "
          f"submissions {f['month_submissions']['ms']}); "
          f"year by month {f['year_by_month']['ms']} ms")  # fmt: skip
    cached, uncached = result["pages"].get("cached"), result["pages"].get("uncached")
    if cached and uncached:
        print(f"{'page':<22}{'cached p50':>11}{'p95':>8}{'uncached p50':>14}{'p95':>8}"
              f"{'p95/floor':>11}")  # fmt: skip
    else:
        print("pages over HTTP: not measured (--skip-pages)")
    for page in cached if cached and uncached else ():
        a, b = cached[page], uncached[page]
        print(f"{page:<22}{a['p50_ms']:>11}{a['p95_ms']:>8}{b['p50_ms']:>14}{b['p95_ms']:>8}"
              f"{b['p95_ms'] / max(f['month_ms'], 1e-3):>11.2f}"
              + (f"  errors {a['errors'] + b['errors']}"
                 if a["errors"] + b["errors"] else ""))  # fmt: skip
    print(f"screen figures (ms, uncached): {c['screen']}")
    print(f"metrics_for_month {c['metrics_for_month']['ms']} ms, zero_reports "
          f"{c['zero_reports']['ms']} ms, "
          f"department_activity {c['department_activity']['ms']} ms")  # fmt: skip
    print(f"bulletin {result['month']}: compose {c['compose_s']} s, pdf {c['pdf_s']} s, xlsx "
          f"{c['xlsx_s']} s; issue() end to end {c['issue_s']} s "
          f"({c['departments_ranked']} departments)")  # fmt: skip
    i = result.get("intake") or {"rows": 0, "end_to_end_s": "-", "bulletins_step_s": "-",
                                 "tallies_s": "-", "tallies_added_percent": "-",
                                 "added_percent": "-"}  # fmt: skip
    print(f"intake {i['rows']:,} rows: {i['end_to_end_s']} s end to end, metrics "
          f"{i['bulletins_step_s']} s, tallies {i['tallies_s']} "
          f"(+{i['tallies_added_percent']}%), together +{i['added_percent']}%")  # fmt: skip
    met = ", ".join(f"{k} {'met' if ok else 'NOT met'}" for k, ok in result["met"].items())
    print(f"targets: {met}")
    print(f"written to {path.relative_to(ROOT)}")


if __name__ == "__main__":
    raise SystemExit(main())
