"""`pubcredit idcheck VALUE [VALUE…]`: check 统一社会信用代码 / 身份证号 values.

Prints one JSON object per value and line (ensure_ascii=False):
{"value", "kind", "valid", "normalized", "errors", "warnings"}. Exit status 0 whatever the
verdicts (an invalid value is a result, not a failure); "-" reads values from stdin, one a line.
"""

import json
import sys

from django.core.management.base import BaseCommand, CommandError

from pubcredit.core.identifiers import check_identifier


class Command(BaseCommand):
    help = "校验统一社会信用代码或身份证号码,每个号码输出一行 JSON。"
    requires_system_checks = []
    requires_migrations_checks = False

    def add_arguments(self, parser):
        parser.add_argument("values", nargs="+", help="号码;“-” 表示从标准输入逐行读取")

    def handle(self, *args, **options):
        values = []
        for value in options["values"]:
            if value == "-":
                values.extend(line.rstrip("\r\n") for line in sys.stdin if line.strip())
            else:
                values.append(value)
        if not values:
            raise CommandError("没有要校验的号码", returncode=2)
        for value in values:
            self.stdout.write(json.dumps(check_identifier(value).as_dict(), ensure_ascii=False))
