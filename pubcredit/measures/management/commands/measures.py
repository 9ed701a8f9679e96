"""`pubcredit measures import|refresh-flags`: the matters catalogue and the reward/punishment
measures; the check read model (SubjectFlags) rebuilt from the list entries."""

import json

from django.core.management.base import BaseCommand, CommandError

from pubcredit.accounts.permissions import Principal
from pubcredit.measures import catalogue, services


class Command(BaseCommand):
    help = (
        "联合奖惩措施:import 导入核查事项和奖惩措施清单(可重复执行;须先导入名单类型);"
        "refresh-flags 重建信用核查使用的主体标识。"
    )

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        imp = sub.add_parser(
            "import", help="导入措施清单(默认为随程序发布的 measures/data/measures.json)"
        )
        imp.add_argument("--file", help="措施清单文件")
        imp.add_argument("--json", action="store_true", help="以 JSON 输出新增/更新/未变数量")
        ref = sub.add_parser("refresh-flags", help="重建全部主体核查标识")
        ref.add_argument("--json", action="store_true")

    def handle(self, *args, action, **options):
        try:
            getattr(self, "_" + action.replace("-", "_"))(**options)
        except (catalogue.SeedError, ValueError) as exc:
            raise CommandError(str(exc), returncode=2) from None
        except OSError as exc:
            raise CommandError(f"无法读取文件:{exc}", returncode=2) from None

    def _import(self, file=None, json=False, **_):
        counts = catalogue.import_measures(Principal.system("measures import"), file)
        if json:
            self.stdout.write(_dumps(counts))
            return
        for key, label in (("matters", "核查事项"), ("measures", "奖惩措施")):
            c = counts[key]
            self.stdout.write(
                f"{label}:新增 {c['created']},更新 {c['updated']},未变 {c['unchanged']}"
            )

    def _refresh_flags(self, json=False, **_):
        n = services.rebuild_subject_flags()
        if json:
            self.stdout.write(_dumps({"subjects": n}))
            return
        self.stdout.write(f"已重建主体核查标识:{n} 个主体")


def _dumps(data) -> str:
    return json.dumps(data, ensure_ascii=False)
