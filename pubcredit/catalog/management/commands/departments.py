"""`pubcredit departments [--json]`: the departments that submit credit information.

`--json` is a contract other tools rely on: a JSON array of
{"code", "name", "uscc", "level" ("city"|"district"), "district" (region code or null)},
active departments only, sorted by code. It lists the database, the same departments `pubcredit
intake` accepts; before `pubcredit setup` it first imports the shipped catalogue as setup would
(`catalog.services.ensure_catalogue`, audited) and says so on stderr.
"""

import json
import unicodedata

from django.core.management.base import BaseCommand

from pubcredit.accounts.permissions import Principal
from pubcredit.catalog.models import Department
from pubcredit.catalog.services import ensure_catalogue


def department_rows() -> list[dict]:
    """The active departments in the contract's shape."""
    return [
        {
            "code": d.code,
            "name": d.name,
            "uscc": d.uscc,
            "level": d.level,
            "district": d.district_id,
        }
        for d in Department.objects.filter(active=True).order_by("code")
    ]


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _width(text))


class Command(BaseCommand):
    help = "列出报送信用信息的部门(--json 输出 JSON 数组:code、name、uscc、level、district)。"

    def add_arguments(self, parser):
        parser.add_argument("--json", action="store_true", help="输出 JSON 数组")

    def handle(self, *args, json: bool = False, **options):
        if ensure_catalogue(Principal.system("departments")):
            self.stderr.write(
                "信息目录尚未导入,已导入随程序发布的目录和部门(与 pubcredit setup 相同)。"
            )
        rows = department_rows()
        if json:
            self.stdout.write(_dumps(rows))
            return
        levels = dict(Department.Level.choices)
        header = ["部门编码", "部门名称", "统一社会信用代码", "层级", "所在区县"]
        table = [
            [
                r["code"],
                r["name"],
                r["uscc"],
                str(levels.get(r["level"], r["level"])),
                r["district"] or "—",
            ]
            for r in rows
        ]
        widths = [max(_width(row[i]) for row in [header, *table]) for i in range(len(header))]
        for row in [header, *table]:
            self.stdout.write(
                "  ".join(_pad(cell, w) for cell, w in zip(row, widths, strict=True)).rstrip()
            )
        self.stdout.write(f"共 {len(rows)} 个部门")


def _dumps(obj) -> str:
    return json.dumps(obj, ensure_ascii=False)
