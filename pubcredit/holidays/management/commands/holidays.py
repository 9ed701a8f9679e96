from django.core.management.base import BaseCommand

from pubcredit.accounts.permissions import Principal
from pubcredit.holidays.services import (
    calendar_known_through,
    calendar_warning,
    seed_from_chinese_calendar,
)


class Command(BaseCommand):
    help = "节假日表:从 chinese-calendar 导入国务院放假安排(人工维护的日期不会被覆盖)。"

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["seed", "status"])

    def handle(self, *args, action, **options):
        if action == "seed":
            result = seed_from_chinese_calendar(Principal.system("holidays seed"))
            self.stdout.write(
                f"新增 {result['created']} 条,更新 {result['updated']} 条,"
                f"年份 {result['years'][0]}–{result['years'][1]}"
            )
        self.stdout.write(f"节假日安排已维护至 {calendar_known_through() or '—'} 年")
        warning = calendar_warning()
        if warning:
            self.stderr.write(f"警告:{warning}")
