"""`pubcredit reports import [--file F] [--json]`: the fields (领域) of the 无违法违规记录证明版
(信用代证). Idempotent: a re-import changes nothing; a bad file is refused whole (exit 2)."""

import json

from django.core.management.base import BaseCommand, CommandError

from pubcredit.accounts.permissions import Principal
from pubcredit.reports.noviolation import NoViolationError, import_fields


class Command(BaseCommand):
    help = "信用报告:import 导入无违法违规记录证明的领域(信用代证,可重复执行)。"

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        imp = sub.add_parser(
            "import",
            help="导入证明领域(默认为随程序发布的 reports/data/noviolation_fields.json)",
        )
        imp.add_argument("--file", help="领域文件")
        imp.add_argument("--json", action="store_true", help="以 JSON 输出新增/更新/未变数量")

    def handle(self, *args, action, **options):
        if action == "import":
            try:
                counts = import_fields(Principal.system("reports import"), options.get("file"))
            except NoViolationError as exc:
                raise CommandError(str(exc), returncode=2) from None
            if options.get("json"):
                self.stdout.write(json.dumps(counts, ensure_ascii=False))
            else:
                self.stdout.write(
                    f"证明领域:新增 {counts['created']},更新 {counts['updated']},"
                    f"未变 {counts['unchanged']}"
                )
