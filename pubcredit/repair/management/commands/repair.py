"""`pubcredit repair rules import [FILE]` / `pubcredit repair rules show` / `pubcredit repair overdue`.

- rules import: load the repair rules file (default: the shipped data/repair_rules.json).
- rules show: the rules in the database as JSON.
- overdue: the open applications and objections past their stage deadline, as JSON lines.
"""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from pubcredit.accounts.permissions import Principal
from pubcredit.repair.models import RepairRule
from pubcredit.repair.queries import overdue_items
from pubcredit.repair.rules import import_rules


class Command(BaseCommand):
    help = "信用修复规则导入与超期事项查询"

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="what", required=True)
        rules = sub.add_parser("rules")
        rules.add_argument("verb", choices=["import", "show"])
        rules.add_argument("file", nargs="?")
        sub.add_parser("overdue")

    def handle(self, *args, **options):
        if options["what"] == "rules" and options["verb"] == "import":
            try:
                counts = import_rules(Principal.system("cli"), options.get("file"))
            except (OSError, ValueError, KeyError) as exc:
                raise CommandError(f"信用修复规则文件有误:{exc}") from exc
            self.stdout.write(json.dumps(counts, ensure_ascii=False))
        elif options["what"] == "rules":
            rows = [
                {
                    "code": r.code,
                    "name": r.name,
                    "effective_from": r.effective_from.isoformat(),
                    "effective_to": r.effective_to.isoformat() if r.effective_to else None,
                    "training_tiers": r.training_tiers,
                    "deadlines": r.deadlines,
                }
                for r in RepairRule.objects.all()
            ]
            self.stdout.write(json.dumps(rows, ensure_ascii=False, indent=1))
        else:
            today = timezone.localdate()
            for item in overdue_items(today):
                self.stdout.write(json.dumps(item, ensure_ascii=False))
