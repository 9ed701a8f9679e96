"""`pubcredit matters [--json]`: the matters catalogue (事项). Contract: with --json, a JSON array
of {"code", "name"} on stdout, active matters in catalogue order."""

import json

from django.core.management.base import BaseCommand

from pubcredit.measures.catalogue import matters_catalogue


class Command(BaseCommand):
    help = '列出信用核查事项目录(--json 输出 [{"code", "name"}])。'

    def add_arguments(self, parser):
        parser.add_argument("--json", action="store_true", help="以 JSON 数组输出")

    def handle(self, *args, json=False, **options):
        rows = matters_catalogue()
        if json:
            self.stdout.write(_dumps(rows))
            return
        for row in rows:
            self.stdout.write(f"{row['code']}\t{row['name']}")


def _dumps(rows) -> str:
    return json.dumps(rows, ensure_ascii=False)
