"""`pubcredit exchange export [--since DATETIME] [--out DIR] [--json]`,
`pubcredit exchange import DIR [--json]`, `pubcredit exchange push`,
`pubcredit exchange acknowledge BATCH --receipt FILE` (a receipt that arrived after a 202).

Contract: with --json, stdout is ONE JSON object with at least batch, records, list_entries,
withdrawals. Exit 2 with one Chinese line on stderr when the arguments or the directory are
not usable.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path

from django.core.management.base import BaseCommand
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from pubcredit.exchange import exporting, importing, pushing
from pubcredit.exchange.models import ExportBatch

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
        imp.add_argument(
            "--source",
            choices=importing.SOURCES,
            default="national",
            help="下发来源:national 国家下发(默认)或 provincial 省级下发",
        )
        imp.add_argument("--json", action="store_true")
        push = sub.add_parser("push", help="推送到期的待发送批次")
        push.add_argument("--json", action="store_true")
        ack = sub.add_parser("acknowledge", help="登记接收端事后发来的回执(已发送的批次)")
        ack.add_argument("batch", help="批次号,例如 B000001")
        ack.add_argument("--receipt", required=True, help="回执 JSON 文件")
        ack.add_argument("--json", action="store_true")

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

    def _acknowledge(self, batch_id: str, receipt_path: str) -> dict:
        sequence = batch_id.upper().removeprefix("B")
        batch = ExportBatch.objects.filter(sequence=int(sequence) if sequence.isdigit() else -1)
        batch = batch.first()
        if batch is None:
            self._die(_("未知的批次:%(b)s") % {"b": batch_id})
        try:
            receipt = json.loads(Path(receipt_path).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            self._die(_("无法读取回执文件:%(f)s") % {"f": receipt_path})
        try:
            batch = pushing.acknowledge(batch, receipt)
        except ValueError:
            self._die(_("批次 %(b)s 当前不能确认。") % {"b": batch_id})
        return {**exporting.manifest(batch), "status": batch.status}

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
                out = importing.import_directory(
                    options["directory"], source=options["source"]
                ).as_dict()
            except importing.ImportRefused as exc:
                self._die(str(exc))
        elif action == "acknowledge":
            out = self._acknowledge(options["batch"], options["receipt"])
        else:
            out = {"attempted": pushing.push_due()}
        if options["json"]:
            self.stdout.write(json.dumps(out, ensure_ascii=False))
        else:
            for key, value in out.items():
                if key != "files":
                    self.stdout.write(f"{key}: {value}")
