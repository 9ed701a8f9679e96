"""`pubcredit lists import|expire`: list types and the daily expiry sweep. (The check read model
derived from the entries is rebuilt with `pubcredit measures refresh-flags`.)"""

import datetime as dt
import json

from django.core.management.base import BaseCommand, CommandError

from pubcredit.accounts.permissions import Principal
from pubcredit.lists import services


class Command(BaseCommand):
    help = (
        "信用名单:import 导入名单类型(可重复执行);expire 将有效期届满的名单条目置为已到期"
        "(每日执行,可重复执行)。"
    )

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        imp = sub.add_parser(
            "import", help="导入名单类型(默认为随程序发布的 lists/data/list_types.json)"
        )
        imp.add_argument("--file", help="名单类型文件")
        imp.add_argument("--json", action="store_true", help="以 JSON 输出新增/更新/未变数量")
        exp = sub.add_parser("expire", help="将有效期届满的名单条目置为已到期")
        exp.add_argument("--date", help="按哪一天执行(YYYY-MM-DD,默认今天)")
        exp.add_argument("--json", action="store_true")

    def handle(self, *args, action, **options):
        try:
            getattr(self, "_" + action.replace("-", "_"))(**options)
        except (services.SeedError, ValueError) as exc:
            raise CommandError(str(exc), returncode=2) from None
        except OSError as exc:
            raise CommandError(f"无法读取文件:{exc}", returncode=2) from None

    def _out(self, as_json: bool, data: dict, text: str) -> None:
        self.stdout.write(json.dumps(data, ensure_ascii=False) if as_json else text)

    def _import(self, file=None, json=False, **_):
        counts = services.import_list_types(Principal.system("lists import"), file)
        self._out(
            json,
            counts,
            f"名单类型:新增 {counts['created']},更新 {counts['updated']},未变 {counts['unchanged']}",
        )

    def _expire(self, date=None, json=False, **_):
        day = _parse_date(date)
        n = services.expire_entries(day)
        self._out(json, {"expired": n}, f"已到期名单条目:{n} 条")


def _parse_date(value):
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"日期格式应为 YYYY-MM-DD:{value}", returncode=2) from None
