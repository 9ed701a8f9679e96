"""`pubcredit portal reindex [--full] [--json]`: keep the public name-search index current.

Without --full: the incremental refresh (subjects added in bulk or changed since the last run,
entries of removed subjects dropped). With --full: rebuild everything (after a large load, or to
renew the ranking); PostgreSQL tables are vacuumed afterwards so searches use index-only scans.
"""

import json

from django.core.management.base import BaseCommand
from django.db import connection

from pubcredit.portal.models import GramStat, NameGram, SearchEntry
from pubcredit.portal.search import rebuild_search_index, refresh_search_index


class Command(BaseCommand):
    help = "公众门户:reindex 刷新名称检索索引(--full 全量重建)。"

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        reindex = sub.add_parser("reindex", help="刷新名称检索索引")
        reindex.add_argument("--full", action="store_true", help="全量重建(较慢,期间查询需等待)")
        reindex.add_argument("--json", action="store_true", help="以 JSON 输出结果")

    def handle(self, *args, action, **options):
        if action == "reindex":
            self._reindex(full=options["full"], as_json=options["json"])

    def _reindex(self, *, full: bool, as_json: bool):
        summary = (rebuild_search_index() if full else refresh_search_index()).as_dict()
        if connection.vendor == "postgresql" and (full or summary["indexed"] > 10_000):
            with connection.cursor() as cursor:
                for model in (NameGram, SearchEntry, GramStat):
                    cursor.execute(
                        f"VACUUM ANALYZE {connection.ops.quote_name(model._meta.db_table)}"
                    )
        summary["mode"] = "full" if full else "incremental"
        if as_json:
            self.stdout.write(json.dumps(summary, ensure_ascii=False))
            return
        self.stdout.write(
            f"名称检索索引已{'重建' if full else '刷新'}:索引主体 {summary['indexed']:,} 个,"
            f"移除 {summary['removed']:,} 个,二元索引 {summary['postings']:,} 条,"
            f"用时 {summary['seconds']} 秒。"
        )
