"""`pubcredit exchange export [--since DATETIME] [--out DIR] [--json]`,
`pubcredit exchange import DIR [--json]`, `pubcredit exchange push`.

Contract: with --json, stdout is ONE JSON object with at least batch, records, list_entries,
withdrawals. Exit 2 with one Chinese line on stderr when the arguments or the directory are
not usable.
"""

from __future__ import annotations

import datetime as dt
import json
import sys

from django.core.management.base import BaseCommand
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from pubcredit.exchange import exporting, importing, pushing

EXIT_UNUSABLE = 2


class Command(BaseCommand):
    help = "数据交换:导出上报批次、导入交换目录、推送待发送批次"

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        export = sub.add_parser("export", help="导出自水位(或 --since)以来变化的数据")
        export.add_argument("--since", help="起始时间(不含),例如 2026-01-01T00:00:00+08:00")
        export.add_argument("--out", help="输出目录(默认 MEDIA_ROOT/exchange/<批次号>)")
        export.add_argument("--json", action="store_true")
        imp = sub.add_parser("import", help="导入一个交换目录")
        imp.add_argument("directory")
        imp.add_argument("--json", action="store_true")
        push = sub.add_parser("push", help="推送到期的待发送批次")
        push.add_argument("--json", action="store_true")

    def _die(self, message: str):
        sys.stderr.write(" ".join(str(message).split()) + "\n")
        raise SystemExit(EXIT_UNUSABLE)

    def _since(self, text: str | None) -> dt.datetime | None:
        if not text:
            return None
        value = parse_datetime(text)
        if value is None:
            try:
                value = dt.datetime.combine(dt.date.fromisoformat(text), dt.time())
            except ValueError:
                self._die(_("无法识别的时间:%(t)s") % {"t": text})
        if timezone.is_naive(value):
            value = timezone.make_aware(value)
        return value

    def handle(self, *args, **options):
        action = options["action"]
        if action == "export":
            batch = exporting.export_batch(
                since=self._since(options["since"]), out=options["out"] or None
            )
            out = {**exporting.manifest(batch), "status": batch.status,
                   "directory": batch.directory}  # fmt: skip
        elif action == "import":
            try:
                out = importing.import_directory(options["directory"]).as_dict()
            except importing.ImportRefused as exc:
                self._die(str(exc))
        else:
            out = {"attempted": pushing.push_due()}
        if options["json"]:
            self.stdout.write(json.dumps(out, ensure_ascii=False))
        else:
            for key, value in out.items():
                if key != "files":
                    self.stdout.write(f"{key}: {value}")
