"""`pubcredit publicity rules import|export|check`, `pubcredit publicity refresh`,
`pubcredit publicity sweep [--today YYYY-MM-DD]`: the publicity rules and the read model.

Output is JSON on stdout; bad input exits 2 with one line on stderr."""

from __future__ import annotations

import datetime as dt
import json

from django.core.management.base import BaseCommand, CommandError

from pubcredit.accounts.permissions import Principal
from pubcredit.publicity import rulefile, services


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"日期“{value}”无效,应为 YYYY-MM-DD", returncode=2) from None


class Command(BaseCommand):
    help = (
        "公示期:rules import/export/check 管理公示期规则文件;refresh 重新计算公示状态;"
        "sweep 每日清理公示期满的信息(--today 指定按哪一天计算)。"
    )

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        rules = sub.add_parser("rules", help="公示期规则文件")
        rules.add_argument("rules_action", choices=["import", "export", "check"])
        rules.add_argument("--file", help="规则文件(默认为随程序发布的 data/publicity_rules.json)")
        rules.add_argument("--no-refresh", action="store_true", help="导入后不重新计算公示状态")
        refresh = sub.add_parser("refresh", help="按规则重新计算公示状态(默认全部记录)")
        refresh.add_argument("--today", help="按哪一天计算(YYYY-MM-DD,默认今天)")
        refresh.add_argument("--record", type=int, action="append", help="只计算这些记录")
        sweep = sub.add_parser("sweep", help="每日清理:公示期满的停止公示")
        sweep.add_argument("--today", help="按哪一天计算(YYYY-MM-DD,默认今天)")

    def handle(self, *args, action, **options):
        try:
            result = getattr(self, f"_{action}")(**options)
        except rulefile.RulesError as exc:
            raise CommandError(str(exc), returncode=2) from None
        except OSError as exc:
            raise CommandError(f"无法读写文件:{exc}", returncode=2) from None
        self.stdout.write(json.dumps(result, ensure_ascii=False, default=str))

    def _rules(self, rules_action, file=None, no_refresh=False, **_):
        if rules_action == "check":
            doc = rulefile.read_rules(file)
            return {
                "ok": True,
                "regimes": len(doc["regimes"]),
                "periods": sum(len(r["periods"]) for r in doc["regimes"]),
                "sectors": len(doc["sectors"]),
                "tier_rules": len(doc["tier_rules"]),
            }
        if rules_action == "export":
            if not file:
                raise CommandError("导出需要 --file 指定目标文件", returncode=2)
            return {"written": str(rulefile.export_rules(file))}
        counts = rulefile.import_rules(Principal.system("publicity rules import"), file)
        if counts["changed"] and not no_refresh:
            counts["refresh"] = services.refresh_publicity(reason="rules")
        return counts

    def _refresh(self, today=None, record=None, **_):
        return services.refresh_publicity(record, today=_date(today) if today else None)

    def _sweep(self, today=None, **_):
        return services.sweep_publicity(_date(today) if today else None)
