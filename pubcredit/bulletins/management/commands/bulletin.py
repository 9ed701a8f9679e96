"""`pubcredit bulletin issue (--month YYYY-MM | --quarter YYYYQn | --year YYYY) [--new-version]
[--json]`: issue the period's aggregation bulletin (归集情况通报), or re-print the one already
issued (the same number, files and figures); `--new-version` recomputes and issues the next
version. Prints the number and the files, or with --json the contract of
`services.summary_json`. Exit 2 with one line for an invalid period."""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError

from pubcredit.accounts.permissions import Principal
from pubcredit.bulletins.periods import Period
from pubcredit.bulletins.services import issue, summary_json
from pubcredit.core.pdffonts import PdfFontMissing


class Command(BaseCommand):
    help = "发布(或重新打印)归集情况通报"

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="what", required=True)
        cmd = sub.add_parser("issue", help="发布通报;已发布的期间则重新打印")
        which = cmd.add_mutually_exclusive_group(required=True)
        which.add_argument("--month", help="YYYY-MM")
        which.add_argument("--quarter", help="YYYYQn,如 2026Q4")
        which.add_argument("--year", help="YYYY")
        cmd.add_argument(
            "--new-version", action="store_true", help="按当前数据重新计算并发布新版本"
        )
        cmd.add_argument("--json", action="store_true", help="以 JSON 输出")

    def handle(self, *args, **options):
        text = options["month"] or options["quarter"] or options["year"]
        try:
            period = Period.parse(text)
        except ValueError as exc:
            raise CommandError(str(exc), returncode=2) from exc
        try:
            bulletin, created = issue(
                period, Principal.system("cli"), new_version=options["new_version"]
            )
        except (ValueError, PdfFontMissing) as exc:
            raise CommandError(str(exc), returncode=2) from exc
        if options["json"]:
            self.stdout.write(json.dumps(summary_json(bulletin), ensure_ascii=False))
            return
        verb = "已发布" if created else "已发布过,重新打印"
        self.stdout.write(f"{bulletin.number} {bulletin.title}({verb})")
        self.stdout.write(f"PDF:  {bulletin.pdf.path}")
        self.stdout.write(f"Excel: {bulletin.xlsx.path}")
