"""`pubcredit bulletins rebuild [--month YYYY-MM]` / `pubcredit bulletins zero --month YYYY-MM`.

- rebuild: recompute the aggregation statistics from the records and their history (all months,
  or one), replacing what the records flow kept; the same numbers, so this is a repair tool
  (after restoring a backup, or a change of the reporting duties that should apply backwards).
- zero: the duties with nothing submitted in the month (零报送), as JSON lines.
"""

from __future__ import annotations

import datetime as dt
import json

from django.core.management.base import BaseCommand, CommandError

from pubcredit.bulletins.metrics import rebuild_metrics
from pubcredit.bulletins.statistics import zero_reports


def _month(text: str | None) -> dt.date | None:
    if text is None:
        return None
    try:
        return dt.date.fromisoformat(f"{text}-01")
    except ValueError as exc:
        raise CommandError(f"月份“{text}”应为 YYYY-MM") from exc


class Command(BaseCommand):
    help = "归集统计重算与零报送查询"

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="what", required=True)
        rebuild = sub.add_parser("rebuild")
        rebuild.add_argument("--month", help="YYYY-MM;不填则重算全部月份")
        zero = sub.add_parser("zero")
        zero.add_argument("--month", required=True, help="YYYY-MM")

    def handle(self, *args, **options):
        month = _month(options.get("month"))
        if options["what"] == "rebuild":
            rows = rebuild_metrics(month)
            self.stdout.write(json.dumps({"metric_rows": rows}, ensure_ascii=False))
        else:
            for item in zero_reports(month):
                self.stdout.write(json.dumps(item, ensure_ascii=False))
