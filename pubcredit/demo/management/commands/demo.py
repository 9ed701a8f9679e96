"""`pubcredit demo --subjects N --seed S [--replace] [--json] [--as-of DATE] [--no-records]`: load
the demo city (subjects, and unless --no-records their licences, penalties and list entries, the
records judged on --as-of, default today), and with PUBCREDIT_DEBUG=1 the demo staff accounts.

Prints a Chinese summary (or, with --json, the summary as JSON on stdout). A second load without
--replace is refused with one line on stderr and exit status 1; bad arguments exit 2. The command
acts as the platform itself (Principal.system): whoever can run it already holds the server.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from pubcredit.accounts.permissions import Principal
from pubcredit.demo.generate import DEFAULT_SEED
from pubcredit.demo.services import DEMO_PASSWORD, MAX_SUBJECTS, load_demo

KIND_LABELS = {"org": "法人及非法人组织", "ind": "个体工商户", "person": "自然人"}
# Phases overlap: generation and preparation run in a worker thread during the others.
PHASE_LABELS = {
    "catalogue": "导入信息目录",
    "remove": "删除原演示数据",
    "accounts": "创建演示账号",
    "generate": "生成",
    "prepare": "规范化与加密",
    "write": "写入数据库",
    "indexes": "重建索引",
    "commitments": "信用承诺",
    "records_generate": "生成信用记录",
    "records_write": "写入信用记录",
    "publicity": "计算公示状态",
    "lists": "名单与核查标识",
    "search_index": "重建名称检索索引",
}
RECORD_LABELS = {"XK": "行政许可", "CF": "行政处罚"}
STATE_LABELS = {
    "public": "公示中",
    "ended": "公示期满",
    "expired": "已失效",
    "not_published": "不予公示",
    "pending": "待公示",
}
ENTRY_LABELS = {"red": "守信激励名单", "black": "严重失信主体名单", "watch": "重点关注名单"}


def _records_lines(records: dict | None) -> list[str]:
    """The licences, penalties and list entries of a load, in Chinese."""
    if not records:
        return []
    counts = ",".join(f"{RECORD_LABELS.get(k, k)} {n:,} 条" for k, n in records["records"].items())
    states = ",".join(f"{STATE_LABELS.get(k, k)} {n:,}" for k, n in records["publicity"].items())
    entries: dict[str, dict[str, int]] = {}
    for key, n in records["list_entries"].items():
        kind, _, status = key.partition("_")
        entries.setdefault(kind, {})[status] = n
    lists = ",".join(
        f"{ENTRY_LABELS.get(k, k)} {sum(v.values()):,} 条(已到期 {v.get('expired', 0):,})"
        for k, v in entries.items()
    )
    return [
        f"  信用记录:{counts}(按 {records['as_of']} 计算公示状态:{states})",
        f"  名单条目:{lists or '无'}",
    ]


def _iso_date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"日期格式应为 YYYY-MM-DD:{value}") from None


def _message(exc: ValidationError) -> str:
    return ";".join(str(m) for m in exc.messages)


def format_summary(summary: dict) -> str:
    lines = [
        f"已加载演示数据:{summary['subjects']:,} 个主体(随机种子 {summary['seed']},"
        f"数据库 {summary['database']},用时 {summary['seconds']['total']:.1f} 秒)",
    ]
    if summary.get("replaced_subjects"):
        lines.append(f"  已先删除原演示主体 {summary['replaced_subjects']:,} 个")
    kinds = ",".join(f"{KIND_LABELS.get(k, k)} {n:,}" for k, n in summary["by_kind"].items())
    lines.append(f"  主体类别:{kinds}")
    districts = ",".join(f"{k.split(' ')[-1]} {n:,}" for k, n in summary["by_district"].items())
    lines.append(f"  区县分布:{districts}")
    lines.append(f"  曾用名:{summary['former_names']:,} 条")
    commitments = summary.get("commitments") or {}
    if commitments.get("commitments"):
        lines.append(
            f"  信用承诺:{commitments['commitments']:,} 条"
            f"(其中违诺 {commitments['breaches']:,} 条,已列入违背信用承诺重点关注对象名单)"
        )
    lines += _records_lines(summary.get("records"))
    phases = ",".join(
        f"{PHASE_LABELS.get(k, k)} {v:.1f} 秒"
        for k, v in summary["seconds"].items()
        if k != "total"
    )
    lines.append(f"  各阶段用时(生成与写入并行):{phases}")
    created = [a["username"] for a in summary["accounts"] if a["created"]]
    names = "、".join(a["username"] for a in summary["accounts"])
    if names:
        lines.append(f"  演示账号:{names}(密码均为 {DEMO_PASSWORD})")
    else:
        lines.append("  演示账号:未创建(仅在调试模式 PUBCREDIT_DEBUG=1 下创建)")
    if created:
        lines.append(f"  本次新建账号:{'、'.join(created)}")
    return "\n".join(lines)


class Command(BaseCommand):
    help = "生成并加载演示城市(淄博)的主体数据和演示账号。"

    def add_arguments(self, parser):
        parser.add_argument("--subjects", type=int, default=2000, help="主体数(默认 2000)")
        parser.add_argument(
            "--seed", type=int, default=DEFAULT_SEED, help=f"随机种子(默认 {DEFAULT_SEED})"
        )
        parser.add_argument("--replace", action="store_true", help="删除已有演示数据后重新生成")
        parser.add_argument("--json", action="store_true", help="以 JSON 输出摘要")
        parser.add_argument(
            "--as-of",
            type=_iso_date,
            metavar="DATE",
            default=None,
            help="信用记录和名单按该日期生成并计算公示状态(YYYY-MM-DD,默认今天)",
        )
        parser.add_argument(
            "--no-records", action="store_true", help="只加载主体,不生成信用记录和名单条目"
        )

    def handle(self, *args, **options):
        n = options["subjects"]
        if n < 1 or n > MAX_SUBJECTS:
            raise CommandError(f"--subjects 应在 1 到 {MAX_SUBJECTS:,} 之间,实为 {n}", returncode=2)
        quiet = options["json"] or options["verbosity"] == 0

        def progress(done, total):
            if not quiet and total >= 100_000:
                print(f"  已写入 {done:,} / {total:,}", file=sys.stderr, flush=True)

        try:
            summary = load_demo(
                Principal.system("demo"),
                subjects=n,
                seed=options["seed"],
                replace=options["replace"],
                progress=progress,
                records=not options["no_records"],
                as_of=options["as_of"],
            )
        except ValidationError as exc:
            raise CommandError(_message(exc), returncode=1) from None
        if options["json"]:
            self.stdout.write(json.dumps(summary, ensure_ascii=False, indent=2))
        else:
            self.stdout.write(format_summary(summary))
