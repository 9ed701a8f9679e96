"""`pubcredit scoring (import | compute | explain)`: credit evaluation from the command line.

    pubcredit scoring import [--dir DIR] [--supervision FILE] [--json]
        import the scorecard files (default: the shipped ones); a changed file becomes a new
        version, an unchanged one changes nothing; then the supervision policy (inspection
        ratios by grade, departments' fields: scoring/data/supervision.json, or FILE; skipped
        when --dir is given without --supervision); --json prints the scorecards' counts plus
        "supervision": {"ratios": {"created", "updated", "unchanged"}, "fields": {…}} (or null)
    pubcredit scoring compute (--all | --uscc X | --id-number X) [--scorecard CODE]
                              [--as-of YYYY-MM-DD] [--json]
        recompute every subject (set-based) or one subject; --json prints
        {"computations": [{"scorecard", "version", "subjects", "facts", "created", "retired",
        "unchanged", "timings", "seconds"}], "grades": [...]} (grades: the subject's current
        grades, organisations only)
    pubcredit scoring explain (--uscc X | --id-number X) [--scorecard CODE] [--purpose TEXT]
                              [--json]
        the subject's current grade line by line; --json prints {"uscc", "name", "scorecard",
        "version", "score", "grade", "computed_at", "contributions": [{"indicator", "name",
        "points", "source", "basis", …}], …}

A person is addressed by 身份证号 only (a staff path: the look at the person's points is logged
with the purpose, default "命令行查询个人信用积分"), and shown with a masked name. An invalid
统一社会信用代码 or 身份证号 exits 2 with one Chinese line on stderr; an unknown subject or one not
evaluated exits 1.
"""

from __future__ import annotations

import datetime as dt
import json

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from pubcredit.accounts.permissions import Principal
from pubcredit.core.identifiers import check_ric, check_uscc
from pubcredit.scoring import services
from pubcredit.scoring.models import Scorecard
from pubcredit.scoring.policyfile import PolicyFileError, import_supervision
from pubcredit.scoring.scorecards import ScorecardFileError, import_scorecards
from pubcredit.subjects.models import Subject
from pubcredit.subjects.services import person_id_index

DEFAULT_PURPOSE = "命令行查询个人信用积分"


def _subject(options) -> Subject:
    uscc, ric = options.get("uscc"), options.get("id_number")
    if (uscc is None) == (ric is None):
        raise CommandError("请只提供 --uscc 或 --id-number 中的一项。", returncode=2)
    if uscc is not None:
        verdict = check_uscc(uscc)
        if not verdict.valid:
            raise CommandError(
                f"统一社会信用代码 {uscc} 无效:{';'.join(verdict.errors)}", returncode=2
            )
        subject = Subject.objects.filter(uscc=verdict.normalized).first()
        if subject is None:
            raise CommandError(f"主体库中没有统一社会信用代码为 {verdict.normalized} 的主体。")
        return subject
    verdict = check_ric(ric)
    if not verdict.valid:
        raise CommandError(f"身份证号码无效:{';'.join(verdict.errors)}", returncode=2)
    subject = Subject.objects.filter(id_index=person_id_index(verdict.normalized)).first()
    if subject is None:
        raise CommandError("主体库中没有该身份证号码的自然人。")
    return subject


def _scorecard(options) -> Scorecard | None:
    code = options.get("scorecard")
    if not code:
        return None
    card = Scorecard.objects.filter(code=code).first()
    if card is None:
        raise CommandError(f"没有编码为 {code} 的信用评价。", returncode=2)
    return card


def _as_of(options) -> dt.date | None:
    value = options.get("as_of")
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"日期 {value} 应写作 YYYY-MM-DD。", returncode=2) from None


class Command(BaseCommand):
    help = "信用评价:导入评价规则、计算信用等级、查看评价明细(import | compute | explain)。"

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        imp = sub.add_parser("import", help="导入评价规则文件(修改过的文件成为新版本)")
        imp.add_argument("--dir", default=None, help="评价规则文件目录(默认随程序发布的文件)")
        imp.add_argument(
            "--supervision", default=None, help="分级分类监管文件(默认随程序发布的文件)"
        )
        imp.add_argument("--json", action="store_true")

        comp = sub.add_parser("compute", help="计算信用等级")
        target = comp.add_mutually_exclusive_group(required=True)
        target.add_argument("--all", action="store_true", help="全部主体(批量)")
        target.add_argument("--uscc", help="统一社会信用代码")
        target.add_argument("--id-number", dest="id_number", help="身份证号码(自然人)")
        comp.add_argument("--scorecard", help="只计算这一信用评价(编码)")
        comp.add_argument("--as-of", dest="as_of", help="评价基准日 YYYY-MM-DD(默认今天)")
        comp.add_argument("--json", action="store_true")

        exp = sub.add_parser("explain", help="查看主体当前信用等级的得分明细")
        who = exp.add_mutually_exclusive_group(required=True)
        who.add_argument("--uscc", help="统一社会信用代码")
        who.add_argument("--id-number", dest="id_number", help="身份证号码(自然人)")
        exp.add_argument("--scorecard", help="信用评价编码(默认主体适用的综合评价)")
        exp.add_argument("--purpose", default=DEFAULT_PURPOSE, help="查看自然人积分的查询事由")
        exp.add_argument("--json", action="store_true")

    def handle(self, *args, **options):
        return getattr(self, f"_{options['action']}")(options)

    def _out(self, options, data, text: str) -> None:
        self.stdout.write(json.dumps(data, ensure_ascii=False) if options.get("json") else text)

    def _import(self, options):
        principal = Principal.system("cli")
        policy = options.get("supervision")
        try:
            with transaction.atomic():
                counts = import_scorecards(principal, options.get("dir"))
                supervision = None
                if policy or not options.get("dir"):
                    supervision = import_supervision(principal, policy)
        except (ScorecardFileError, PolicyFileError) as exc:
            raise CommandError(str(exc), returncode=2) from None
        counts["supervision"] = supervision
        lines = [
            f"信用评价:新增 {counts['created']} 个,更新 {counts['updated']} 个,"
            f"未变 {counts['unchanged']} 个;新版本 {counts['versions']} 个"
        ]
        if supervision:
            for key, label in (("ratios", "抽查比例"), ("fields", "部门监管领域")):
                c = supervision[key]
                lines.append(
                    f"{label}:新增 {c['created']} 条,更新 {c['updated']} 条,未变 {c['unchanged']} 条"
                )
        self._out(options, counts, "\n".join(lines))

    def _compute(self, options):
        card = _scorecard(options)
        day = _as_of(options)
        subject = None if options.get("all") else _subject(options)
        if options.get("all"):
            computations = services.compute_all(card, as_of=day)
            grades = []
        else:
            computations = services.compute_subjects([subject.pk], as_of=day, scorecard=card)
            grades = []
            if not subject.is_person:
                rows = services.history(subject, card)
                grades = [r for r in rows if r["current"]]
        data = {"computations": computations, "grades": grades}
        lines = [
            f"{c['scorecard']} v{c['version']}:{c['subjects']:,} 个主体,{c['facts']:,} 项事实,"
            f"新结果 {c['created']:,} 条,不变 {c['unchanged']:,} 条({c['seconds']} 秒)"
            for c in computations
        ] or ["没有适用的信用评价。"]
        lines += [f"{g['scorecard_name']}:{g['score']} 分,{g['grade']} 级" for g in grades]
        self._out(options, data, "\n".join(lines))

    def _explain(self, options):
        card = _scorecard(options)
        subject = _subject(options)
        try:
            data = services.explain(
                subject,
                card,
                principal=Principal.system("cli"),
                purpose=options.get("purpose") or DEFAULT_PURPOSE,
            )
        except ValidationError as exc:
            raise CommandError(";".join(exc.messages), returncode=2) from None
        if data is None:
            raise CommandError("该主体尚无信用评价结果(可先运行 pubcredit scoring compute)。")
        lines = [
            f"{data['name']} {data['identifier']}",
            f"{data['scorecard_name']}(第 {data['version']} 版):{data['score']} 分,"
            f"{data['grade']} 级(基础分 {data['base_points']},计算于 {data['computed_at']})",
        ]
        for c in data["contributions"]:
            cap = f" 等级上限 {c['grade_cap']}" if "grade_cap" in c else ""
            lines.append(f"  {c['points']:+} {c['name']}{cap} [{c['source']}] 依据:{c['basis']}")
        self._out(options, data, "\n".join(lines))
