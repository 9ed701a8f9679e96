"""What keeping the aggregation statistics adds to intake: one 行政处罚 file through the whole
pipeline (benchmarks/intake.py's file and setup, with a reporting duty for the department), then
the bulletins step of the records flow timed alone on the records that load wrote.

    .venv/bin/python benchmarks/bulletins.py [--rows 200000] [--database-url URL]

Prints one JSON object: the end-to-end seconds of the submission (the step included), the
step's seconds (best of 3, each rolled back), and the step's share of the intake without it.
Default database: a fresh SQLite file in a temporary directory (a PostgreSQL URL names a
database that must exist and is migrated; use an empty one).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))


def run(rows: int, database_url: str) -> dict:
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pubcredit.settings")
    import django
    from django.conf import settings

    django.setup()
    settings.MEDIA_ROOT = Path(tempfile.mkdtemp(prefix="bulletins-bench-media-"))
    from django.core.management import call_command
    from django.db import transaction
    from intake_engine import make_penalty_csv

    from pubcredit.accounts.permissions import Principal
    from pubcredit.bulletins.metrics import add_written
    from pubcredit.catalog.models import Category, Department, ReportingDuty
    from pubcredit.catalog.services import import_catalogue
    from pubcredit.holidays.services import seed_from_chinese_calendar
    from pubcredit.intake.models import Submission
    from pubcredit.intake.services import submit_file
    from pubcredit.records.models import Record

    call_command("migrate", verbosity=0, interactive=False)
    system = Principal.system("benchmark")
    import_catalogue(system)
    seed_from_chinese_calendar(system)
    csv_path = Path(tempfile.mkdtemp(prefix="bulletins-bench-")) / "penalties.csv"
    facts = make_penalty_csv(csv_path, rows)
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
    submission = submit_file(
        system,
        department=department,
        category=category,
        source=csv_path,
        filename=csv_path.name,
        channel=Submission.Channel.CLI,
        background=False,
    )
    end_to_end = time.perf_counter() - t
    records = Record.objects.filter(department=department, category=category, submission=submission)
    times = []
    for _ in range(3):
        with transaction.atomic():
            t = time.perf_counter()
            add_written(records, category.pk)
            times.append(time.perf_counter() - t)
            transaction.set_rollback(True)
    step = min(times)
    return {
        "rows": rows,
        "records": records.count(),
        "backend": database_url.split(":", 1)[0],
        "end_to_end_s": round(end_to_end, 2),
        "bulletins_step_s": round(step, 3),
        "added_percent": round(100 * step / max(end_to_end - step, 1e-9), 1),
        "load_average": os.getloadavg(),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    url = args.database_url or f"sqlite:///{tempfile.mkdtemp(prefix='bulletins-bench-db-')}/b.db"
    print(json.dumps(run(args.rows, url), ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
