"""`pubcredit catalog import|export|check|regions`: the catalogue files and the database."""

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from pubcredit.accounts.permissions import Principal
from pubcredit.catalog import datafiles, duties, services
from pubcredit.catalog.regions import build_regions

LABELS = {
    "regions": "行政区划",
    "codelists": "代码表",
    "codeitems": "代码项",
    "categories": "信息类别",
    "fields": "数据项",
    "departments": "部门",
    "duties": "报送责任",
}


class Command(BaseCommand):
    help = (
        "信息目录:import 把数据文件导入数据库(可重复执行);export 把数据库中的目录和报送责任写成数据文件;"
        "check 只检查数据文件;regions 由 python-stdnum 重新生成 regions.json。"
    )

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        imp = sub.add_parser("import", help="导入数据文件(默认为随程序发布的 catalog/data)")
        imp.add_argument("--dir", help="数据文件目录")
        imp.add_argument(
            "--json", action="store_true", help="以 JSON 输出各类对象的新增/更新/未变数量"
        )
        exp = sub.add_parser("export", help="把数据库中的目录和报送责任导出为数据文件")
        exp.add_argument("--dir", required=True, help="目标目录(已有同名文件会被覆盖)")
        chk = sub.add_parser("check", help="检查数据文件的格式和一致性,不写数据库")
        chk.add_argument("--dir", help="数据文件目录")
        reg = sub.add_parser(
            "regions", help="由 python-stdnum 的 GB/T 2260 表重新生成 regions.json"
        )
        reg.add_argument("--dir", help="数据文件目录(默认为 catalog/data)")

    def handle(self, *args, action, **options):
        try:
            getattr(self, f"_{action}")(**options)
        except datafiles.CatalogueError as exc:
            raise CommandError(str(exc), returncode=2) from None
        except OSError as exc:
            raise CommandError(f"无法读写文件:{exc}", returncode=2) from None

    def _import(self, dir=None, json=False, **_):
        counts = services.import_catalogue(Principal.system("catalog import"), dir)
        if json:
            self.stdout.write(_dumps(counts))
            return
        for key, label in LABELS.items():
            if key not in counts:  # a directory without duties.json
                continue
            c = counts[key]
            self.stdout.write(
                f"{label}:新增 {c['created']},更新 {c['updated']},未变 {c['unchanged']}"
            )

    def _export(self, dir, **_):
        for path in services.export_catalogue(dir):
            self.stdout.write(str(path))

    def _check(self, dir=None, **_):
        data = datafiles.read_catalogue(dir)
        fields = sum(len(c["fields"]) for c in data.categories)
        text = (
            f"数据文件无误:行政区划 {len(data.regions)} 个,代码表 {len(data.codelists)} 个,"
            f"信息类别 {len(data.categories)} 个(数据项 {fields} 个),部门 {len(data.departments)} 个"
        )
        path = Path(dir or datafiles.DATA_DIR) / duties.DUTIES_FILE
        if path.exists():
            text += f",报送责任 {len(duties.read_duties(path))} 条"
        self.stdout.write(text)

    def _regions(self, dir=None, **_):
        path = Path(dir or datafiles.DATA_DIR) / datafiles.REGIONS_FILE
        rows = build_regions()
        path.write_text(datafiles.dump_json(datafiles.regions_document(rows)), encoding="utf-8")
        self.stdout.write(f"已写入 {path}({len(rows)} 个区划)")


def _dumps(obj) -> str:
    return json.dumps(obj, ensure_ascii=False)
