"""`pubcredit scaleout distribute [--json]`: convert a migrated database on a Citus coordinator
to the platform's distribution plan (pubcredit.ops.scaleout; docs/scale.md). Idempotent: a second
run prints that nothing was left to do. Refuses, exit 2, on a database without Citus."""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError

from pubcredit.ops import scaleout


class Command(BaseCommand):
    help = "把已迁移的数据库按分布方案转换到 Citus 集群(大表按主体分片,小表为参考表)"

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        distribute = sub.add_parser("distribute", help="按分布方案转换当前数据库")
        distribute.add_argument("--json", action="store_true", help="以 JSON 输出结果")

    def handle(self, *args, action, **options):
        try:
            report = scaleout.distribute()
        except scaleout.NotCitus:
            raise CommandError(
                "当前数据库不是 Citus 协调节点(未安装 citus 扩展,或不是 PostgreSQL):"
                "请先在数据库中执行 CREATE EXTENSION citus 并登记工作节点。",
                returncode=2,
            ) from None
        if options["json"]:
            self.stdout.write(json.dumps(report.as_dict(), ensure_ascii=False, indent=2))
            return
        self.stdout.write(
            f"Citus {report.citus_version},工作节点:{', '.join(report.workers) or '无'}"
        )
        if not report.changed:
            self.stdout.write("已按分布方案转换,无需再做。")
            return
        sections = [
            ("删除的外键(由平台写入方维持)", report.dropped_foreign_keys),
            ("加入分布列重建的唯一约束", report.rebuilt_unique),
            ("参考表", report.reference_tables),
            ("分布表", report.distributed_tables),
            ("数据库设置", report.settings),
        ]
        for title, items in sections:
            if items:
                self.stdout.write(f"{title}:{len(items)}")
                for item in items:
                    self.stdout.write(f"  {item}")
        if report.keys_written:
            self.stdout.write(f"主体标识键(由主体库回填):{report.keys_written}")
