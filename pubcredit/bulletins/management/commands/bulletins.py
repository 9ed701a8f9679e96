"""`pubcredit bulletins rebuild [--month YYYY-MM | --tallies]` / `pubcredit bulletins zero --month
YYYY-MM`.

- rebuild: recompute the kept statistics from the records, their history and the publicity read
  model, replacing what the records flow kept; the same numbers, so this is a repair tool (after
  restoring a backup, a change of the reporting duties that should apply backwards, subjects
  moved between districts, or data written around the flow). Without options: the aggregation
  statistics of every month and the dashboards' tallies (records in force by category, district,
  decision month and violation type: bulletins.tallies; publicity shown by category, department
  and start month: publicity.tally; subjects by kind and district: subjects.tally); `--month`:
  the aggregation statistics of one month only;
  `--tallies`: the tallies only. Prints one JSON object with the rows written per table.
- zero: the duties with nothing submitted in the month (零报送), as JSON lines.
"""

from __future__ import annotations

import datetime as dt
import json

from django.core.management.base import BaseCommand, CommandError

from pubcredit.bulletins.metrics import rebuild_metrics
from pubcredit.bulletins.statistics import zero_reports
from pubcredit.bulletins.tallies import rebuild_tallies
from pubcredit.publicity.tally import rebuild_publicity_tally
from pubcredit.subjects.tally import rebuild_subject_tally


def _month(text: str | None) -> dt.date | None:
    if text is None:
        return None
    try:
        return dt.date.fromisoformat(f"{text}-01")
    except ValueError as exc:
        raise CommandError(f"月份“{text}”应为 YYYY-MM") from exc


class Command(BaseCommand):
    help = "归集统计与看板计数重算、零报送查询"

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="what", required=True)
        rebuild = sub.add_parser("rebuild")
        only = rebuild.add_mutually_exclusive_group()
        only.add_argument("--month", help="YYYY-MM:只重算该月的归集统计;不填则重算全部")
        only.add_argument(
            "--tallies",
            action="store_true",
            help="只重算看板计数(有效记录按类别、区县、决定月份、违法行为类型;公示中记录;主体)",
        )
        zero = sub.add_parser("zero")
        zero.add_argument("--month", required=True, help="YYYY-MM")

    def handle(self, *args, **options):
        month = _month(options.get("month"))
        if options["what"] == "rebuild":
            out = {}
            if not options.get("tallies"):
                out["metric_rows"] = rebuild_metrics(month)
            if month is None:
                out.update(rebuild_tallies())
                out["publicity_tally"] = rebuild_publicity_tally()
                out["subject_tally"] = rebuild_subject_tally()
            self.stdout.write(json.dumps(out, ensure_ascii=False))
        else:
            for item in zero_reports(month):
                self.stdout.write(json.dumps(item, ensure_ascii=False))
