"""`pubcredit check (--uscc X | --id-number X | --name X) --matter CODE [--json]`: a credit check.

Contract: with --json, prints on stdout the same JSON object as `POST /api/v1/checks` (the check
is logged with channel 命令行, run as the platform itself); without it, the conclusion, the credit
grade (`[信用等级] B — 公共信用综合评价(SCORE_PUBLIC 第 1 版),得分 76,评价基准日 …`, or 未评价;
a person's 个人信用积分 is never shown here: the CLI is not a staff member) and the measures as text. An invalid 统一社会信用代码 / 身份证号 or an unknown matter exits 2 with one clear
Chinese line on stderr.

Without any of --uscc/--id-number/--name this is Django's own `check` (system checks), so
`pubcredit check [--deploy] …` keeps working.
"""

from __future__ import annotations

import json

from django.core.exceptions import ValidationError
from django.core.management.base import CommandError
from django.core.management.commands.check import Command as SystemCheckCommand

from pubcredit.accounts.permissions import Principal
from pubcredit.checks.models import CheckChannel
from pubcredit.checks.services import run_check


class Command(SystemCheckCommand):
    help = (
        "信用核查:pubcredit check (--uscc 代码 | --id-number 身份证号 | --name 名称) "
        "--matter 事项编码 [--json]。不带主体参数时执行 Django 系统检查。"
    )

    def add_arguments(self, parser):
        super().add_arguments(parser)
        group = parser.add_argument_group("信用核查")
        group.add_argument("--uscc", help="统一社会信用代码")
        group.add_argument("--id-number", dest="id_number", help="身份证号码")
        group.add_argument("--name", help="名称(仅名称时只在唯一且完全一致时作出结论)")
        group.add_argument("--matter", help="核查事项编码(pubcredit matters 列出)")
        group.add_argument("--json", action="store_true", help="输出与接口相同的 JSON")
        group.add_argument("--client", default="", help="调用方名称(记入核查日志)")

    def handle(self, *app_labels, **options):
        subject_args = [options.get(k) for k in ("uscc", "id_number", "name")]
        if not any(a is not None for a in subject_args) and not options.get("matter"):
            return super().handle(*app_labels, **options)
        if app_labels:
            raise CommandError("信用核查不接受位置参数。", returncode=2)
        if sum(a is not None for a in subject_args) != 1:
            raise CommandError("请只提供 --uscc、--id-number、--name 中的一项。", returncode=2)
        if not options.get("matter"):
            raise CommandError("请用 --matter 指定核查事项编码。", returncode=2)

        try:
            result = run_check(
                Principal.system("cli"),
                uscc=options.get("uscc"),
                id_number=options.get("id_number"),
                name=options.get("name"),
                matter=options["matter"],
                channel=CheckChannel.CLI,
                client=options.get("client") or "cli",
            )
        except ValidationError as exc:
            raise CommandError(_one_line(exc), returncode=2) from None
        if options.get("json"):
            self.stdout.write(json.dumps(result.data, ensure_ascii=False))
            return
        data = result.data
        self.stdout.write(f"{data['number']}  {data['checked_at']}  {data['matter']['name']}")
        self.stdout.write(data["conclusion"])
        if data["subject"] is not None:
            self.stdout.write(_grade_line(data["grade"], data["subject"]["kind"]))
            for g in data.get("sector_grades", []):
                self.stdout.write(_grade_line(g, data["subject"]["kind"], sector=True))
        for title, key in (("惩戒措施", "punishments"), ("激励措施", "rewards")):
            for m in data[key]:
                self.stdout.write(f"[{title}] {m['name']} — 依据:{m['legal_basis']}")


def _grade_line(grade: dict | None, kind: str, *, sector: bool = False) -> str:
    title = "行业信用评价" if sector else "信用等级"
    if grade is None:
        if kind == "person":
            return f"[{title}] 个人信用积分不公开,命令行核查不显示"
        return f"[{title}] 未评价"
    return (
        f"[{title}] {grade['grade']} — {grade['scorecard_name']}({grade['scorecard']} "
        f"第 {grade['version']} 版),得分 {grade['score']},评价基准日 {grade['as_of']},"
        f"计算时间 {grade['computed_at']}"
    )


def _one_line(exc: ValidationError) -> str:
    if hasattr(exc, "error_dict"):
        messages = [str(m) for msgs in exc.message_dict.values() for m in msgs]
    else:
        messages = [str(m) for m in exc.messages]
    return ";".join(messages) or "输入无效"
