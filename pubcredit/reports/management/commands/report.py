"""`pubcredit report --uscc X [--kind standard|no-violation] --out FILE.pdf [--json]`: issue a
credit report of an organisation or 个体工商户 (channel 命令行, as the platform itself).

Contract: writes the PDF to --out; with --json prints one line on stdout,
{"number", "sha256", "verify_url", "valid_until"}; without it the same as text. An invalid
统一社会信用代码, one the register does not hold, or a bad option exits 2 with one Chinese line
on stderr (nothing is issued then). A 无违法违规记录证明版 covers the last 36 months unless
--period-from / --period-to say otherwise, and every field unless --fields names some.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from pubcredit.accounts.permissions import Principal
from pubcredit.reports import channels, services
from pubcredit.reports.models import ReportChannel


def _date(value: str | None, option: str) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"{option} 应为日期,格式 YYYY-MM-DD:{value}", returncode=2) from None


def _one_line(exc: ValidationError) -> str:
    if hasattr(exc, "error_dict"):
        messages = [str(m) for msgs in exc.message_dict.values() for m in msgs]
    else:
        messages = [str(m) for m in exc.messages]
    return ";".join(messages).replace("\n", " ") or "输入无效"


class Command(BaseCommand):
    help = (
        "出具信用报告:pubcredit report --uscc 统一社会信用代码 "
        "[--kind standard|no-violation] --out 文件.pdf [--json]"
    )

    def add_arguments(self, parser):
        parser.add_argument("--uscc", required=True, help="统一社会信用代码")
        parser.add_argument(
            "--kind",
            default="standard",
            choices=["standard", "no-violation"],
            help="standard 标准版(默认)/ no-violation 无违法违规记录证明版",
        )
        parser.add_argument("--out", required=True, help="PDF 文件的保存路径")
        parser.add_argument("--json", action="store_true", help="输出 JSON")
        parser.add_argument("--period-from", help="无违法违规记录证明版的查询期间起始日")
        parser.add_argument("--period-to", help="查询期间截止日(默认今天)")
        parser.add_argument("--fields", default="", help="证明领域编码,以逗号分隔(默认全部)")
        parser.add_argument("--purpose", default="", help="用途(记入报告记录)")

    def handle(self, *args, **options):
        out = Path(options["out"])
        if not out.parent.is_dir():
            raise CommandError(f"保存目录不存在:{out.parent}", returncode=2)
        try:
            report = channels.issue_for(
                Principal.system("cli"),
                channel=ReportChannel.CLI,
                uscc=options["uscc"],
                kind=options["kind"],
                period_from=_date(options.get("period_from"), "--period-from"),
                period_to=_date(options.get("period_to"), "--period-to"),
                fields=[f for f in options["fields"].split(",") if f.strip()],
                purpose=options["purpose"],
            )
        except ValidationError as exc:
            raise CommandError(_one_line(exc), returncode=2) from None
        with report.pdf.open("rb") as fh:
            out.write_bytes(fh.read())
        head = {
            "number": report.number,
            "sha256": report.pdf_sha256,
            "verify_url": services.verify_url(report.number),
            "valid_until": report.valid_until.isoformat(),
        }
        if options["json"]:
            self.stdout.write(json.dumps(head, ensure_ascii=False))
            return
        self.stdout.write(f"报告编号 {head['number']}  有效期至 {head['valid_until']}")
        self.stdout.write(f"核验地址 {head['verify_url']}")
        self.stdout.write(f"SHA-256 {head['sha256']}  已保存到 {out}")
