"""`pubcredit intake FILE --department CODE --category CODE [--errors OUT.xlsx] [--json]
[--source local|provincial|national]` (and `pubcredit intake watch DIR …`, intake.watching)

Submits a department's file synchronously, as the platform (channel 命令行), and reports the
result. Contract (outside checks rely on it):
- with --json, stdout is ONE JSON object with at least submission, rows, accepted, rejected,
  inserted, updated, unchanged, late (also status, errors, warnings, duplicates, review,
  extra_columns, mapping, timings, sha256);
- exit 0 when the file was processed, even if rows were rejected;
- exit 2 with one Chinese line on stderr when the file cannot be read or the department or the
  category is unknown (or cannot receive data); exit 1 with one line when loading failed.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from pubcredit.accounts.permissions import Principal
from pubcredit.catalog.models import Category, Department
from pubcredit.catalog.services import ensure_catalogue
from pubcredit.intake import services
from pubcredit.intake.engine import write_error_report_xlsx
from pubcredit.intake.models import Submission
from pubcredit.intake.services import submission_errors

EXIT_UNREADABLE = 2
EXIT_FAILED = 1


class Command(BaseCommand):
    help = "报送一个数据文件(同步处理),输出处理结果"

    def add_arguments(self, parser):
        parser.add_argument(
            "file",
            nargs="+",
            help="数据文件:xlsx、xls、csv 或 json;或 watch DIR(监视投递目录)",
        )
        parser.add_argument("--once", action="store_true", help="watch:只扫描一次投递目录后退出")
        parser.add_argument(
            "--interval", type=int, default=60, help="watch:两次扫描之间的秒数(默认 60)"
        )
        parser.add_argument("--department", required=True, help="报送部门编码")
        parser.add_argument("--category", required=True, help="信息类别编码,例如 CF")
        parser.add_argument("--errors", metavar="OUT.xlsx", help="把错误报告写入该 xlsx 文件")
        parser.add_argument("--json", action="store_true", help="以一个 JSON 对象输出结果")
        parser.add_argument(
            "--source",
            choices=Submission.Source.values,
            default=Submission.Source.LOCAL,
            help="数据来源:local 本级(默认)、provincial 省级下发、national 国家下发",
        )

    def _die(self, message: str, code: int = EXIT_UNREADABLE):
        # One line, nothing else: outside checks read it.
        sys.stderr.write(" ".join(str(message).split()) + "\n")
        sys.stderr.flush()
        raise SystemExit(code)

    def handle(self, *args, **options):
        names = options["file"]
        if names[0] == "watch" and len(names) == 2:
            return self._watch(Path(names[1]), options)
        if len(names) != 1:
            self._die(_("请只给出一个数据文件,或者 watch DIR。"))
        path = Path(names[0])
        # Before `pubcredit setup`: the shipped catalogue, the departments `departments` lists.
        ensure_catalogue(Principal.system("cli"))
        department = Department.objects.filter(code=options["department"]).first()
        if department is None:
            self._die(_("未知的部门编码:%(c)s") % {"c": options["department"]})
        category = Category.objects.filter(code=options["category"]).first()
        if category is None:
            self._die(_("未知的信息类别编码:%(c)s") % {"c": options["category"]})
        if not path.is_file():
            self._die(_("无法读取文件:%(p)s 不存在或不是文件") % {"p": path})
        try:
            with path.open("rb") as fh:
                fh.read(1)
        except OSError as exc:
            self._die(_("无法读取文件:%(p)s(%(e)s)") % {"p": path, "e": exc.strerror or exc})

        try:
            submission = services.submit_file(
                Principal.system("cli"),
                department=department,
                category=category,
                source=path,
                filename=path.name,
                channel=Submission.Channel.CLI,
                background=False,
                data_source=options["source"],
            )
        except (ValidationError, PermissionDenied) as exc:
            messages = getattr(exc, "messages", None) or [str(exc)]
            self._die(messages[0])

        if submission.status != Submission.Status.DONE:
            unreadable = submission.failure == "unreadable"
            self._die(
                submission.error_message or _("处理失败"),
                EXIT_UNREADABLE if unreadable else EXIT_FAILED,
            )

        if options["errors"]:
            self._write_errors(submission, Path(options["errors"]))

        summary = submission.summary()
        summary.update(
            {
                "sha256": submission.sha256,
                "extra_columns": submission.extra_columns,
                "mapping": submission.mapping.get("columns", []),
                "timings": submission.timings,
                "source": submission.source,
            }
        )
        if options["json"]:
            self.stdout.write(json.dumps(summary, ensure_ascii=False))
            return
        self.stdout.write(
            _(
                "报送批次 %(submission)s:读取 %(rows)d 行,通过 %(accepted)d 行,拒收 %(rejected)d 行;"
                "新增 %(inserted)d,更新 %(updated)d,未变化 %(unchanged)d;超期报送 %(late)d 行。"
            )
            % summary
        )
        if summary["review"]:
            self.stdout.write(_("%(n)d 条记录的主体需要人工确认。") % {"n": summary["review"]})
        if submission.extra_columns:
            self.stdout.write(
                _("未使用的列:%(c)s") % {"c": "、".join(map(str, submission.extra_columns))}
            )

    def _write_errors(self, submission, target: Path) -> None:

        try:
            write_error_report_xlsx(
                submission_errors(submission),
                target,
                totals=submission.error_totals or [],
                note=submission.errors_note,
            )
        except OSError as exc:
            self._die(_("无法写入错误报告 %(p)s:%(e)s") % {"p": target, "e": exc.strerror or exc})

    def _watch(self, folder: Path, options) -> None:
        """`pubcredit intake watch DIR --department CODE --category CODE [--source national]
        [--once] [--interval SECONDS]`: submit the folder's new files (intake.watching)."""
        import time

        from pubcredit.intake.watching import scan_folder

        ensure_catalogue(Principal.system("cli"))
        department = Department.objects.filter(code=options["department"]).first()
        if department is None:
            self._die(_("未知的部门编码:%(c)s") % {"c": options["department"]})
        category = Category.objects.filter(code=options["category"]).first()
        if category is None:
            self._die(_("未知的信息类别编码:%(c)s") % {"c": options["category"]})
        if not folder.is_dir():
            self._die(_("投递目录不存在:%(p)s") % {"p": folder})
        while True:
            results = scan_folder(
                folder,
                department=department,
                category=category,
                data_source=options["source"],
                principal=Principal.system("intake-watch"),
            )
            for r in results:
                if options["json"]:
                    self.stdout.write(json.dumps(r.__dict__, ensure_ascii=False))
                else:
                    self.stdout.write(
                        f"{r.file}\t{r.outcome}\t{r.submission or ''}\t{r.message}".rstrip()
                    )
            if options["once"]:
                return
            time.sleep(max(1, options["interval"]))
