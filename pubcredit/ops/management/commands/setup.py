"""`pubcredit setup [--demo-subjects N] [--site-url URL]`: make a fresh install usable.

Run by `make run` after `migrate`. Idempotent: a second run changes nothing and is fast.
1. imports the shipped catalogue when none is loaded, and the list types, measures (联合奖惩
   清单), publicity rules (公示期规则) and credit repair rules when none are;
2. creates the administrator `admin` once, with a random password that is printed that once
   and stored nowhere (`pubcredit changepassword admin` sets a new one);
3. with --demo-subjects N (default 0: none; `make run` asks for 2000), loads the demo city (N
   subjects, licences, penalties, list entries, commitments, with their publicity and read
   models) once, when the subject register is empty; the demo staff accounts, whose password
   is published, only with PUBCREDIT_DEBUG=1 (a developer's laptop);
4. imports the shipped scorecards (信用评价) when none are, and computes every grade once when
   subjects exist and none was computed (scoring.services.setup_scoring); imports the fields
   of the 无违法违规记录证明版 (信用代证) when none are (reports.noviolation.setup_noviolation);
5. every time, prints the site address, the admin login and the demo accounts, in Chinese.
"""

from __future__ import annotations

import os

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from pubcredit.accounts.permissions import Principal
from pubcredit.catalog.services import catalogue_loaded, import_catalogue
from pubcredit.demo.services import (
    DEMO_ACCOUNTS,
    DEMO_PASSWORD,
    MAX_SUBJECTS,
    demo_accounts_present,
    load_demo,
)
from pubcredit.holidays.services import calendar_known_through, seed_from_chinese_calendar
from pubcredit.lists.models import ListType
from pubcredit.lists.services import import_list_types
from pubcredit.measures.catalogue import import_measures
from pubcredit.measures.models import Measure
from pubcredit.ops.services import ensure_admin
from pubcredit.publicity.models import PublicityRegime
from pubcredit.publicity.rulefile import import_rules
from pubcredit.publicity.services import refresh_publicity
from pubcredit.records.models import Record
from pubcredit.repair.models import RepairRule
from pubcredit.repair.rules import import_rules as import_repair_rules
from pubcredit.reports.noviolation import NoViolationError, setup_noviolation
from pubcredit.scoring.services import setup_scoring
from pubcredit.subjects.models import Subject


def default_site_url() -> str:
    """PUBCREDIT_SITE_URL, else http://HOST:PORT/ from the environment `make run` exports."""
    url = os.environ.get("PUBCREDIT_SITE_URL")
    if url:
        return url if url.endswith("/") else url + "/"
    host = os.environ.get("HOST") or "127.0.0.1"
    port = os.environ.get("PORT") or "8000"
    return f"http://{host}:{port}/"


def _import_rules(system: Principal) -> list[str]:
    """The publicity rules (公示期规则) and the credit repair rules, each imported when none are
    loaded: a second run changes nothing, and rules an administrator edited in the admin are
    not overwritten (`pubcredit publicity rules import` re-imports the shipped file on
    purpose). Publicity is recomputed when records exist that were judged without rules."""
    done = []
    if not PublicityRegime.objects.exists():
        import_rules(system)
        done.append("已导入公示期规则(行政处罚信息公示期限、严重程度认定)")
        if Record.objects.exists():
            refresh_publicity(reason="rules")
            done.append("已按公示期规则重新计算公示状态")
    if not RepairRule.objects.exists():
        import_repair_rules(system)
        done.append("已导入信用修复规则")
    return done


def _demo_account_lines() -> list[str]:
    """The demo accounts that exist: their logins on a developer's laptop (DEBUG), otherwise a
    warning that accounts with a published password are open."""
    present = set(demo_accounts_present())
    accounts = [a for a in DEMO_ACCOUNTS if a.username in present]
    if not accounts:
        return []
    width = max(len(a.username) for a in accounts)
    if not settings.DEBUG:
        names = "、".join(a.username for a in accounts)
        return [
            "",
            f"  警告:演示账号 {names} 仍然存在,其密码是公开的。"
            "生产环境请在管理后台停用或删除这些账号。",
        ]
    lines = ["", f"  演示账号(密码均为 {DEMO_PASSWORD}):"]
    for a in accounts:
        lines.append(f"    {a.username:<{width}}  {a.label}")
    return lines


class Command(BaseCommand):
    help = "首次运行准备:导入信息目录、创建管理员账号、加载演示数据,并显示登录信息。"

    def add_arguments(self, parser):
        parser.add_argument(
            "--demo-subjects",
            type=int,
            default=0,
            help="主体库为空时加载的演示主体数(默认 0,即不加载;演示账号仅在调试模式下创建)",
        )
        parser.add_argument("--site-url", default=None, help="显示的站点地址")

    def handle(self, *args, **options):
        n = options["demo_subjects"]
        if n < 0 or n > MAX_SUBJECTS:
            raise CommandError(
                f"--demo-subjects 应在 0 到 {MAX_SUBJECTS:,} 之间,实为 {n}", returncode=2
            )
        system = Principal.system("setup")
        done: list[str] = []
        try:
            if not catalogue_loaded():
                import_catalogue(system)
                done.append("已导入信息目录(区划、部门、代码表、信息类别)")
            if not ListType.objects.exists():
                import_list_types(system)
                done.append("已导入名单类型(守信激励、严重失信主体名单、重点关注名单)")
            if not Measure.objects.exists():
                import_measures(system)
                done.append("已导入核查事项和联合奖惩措施清单")
            done += _import_rules(system)
            if calendar_known_through() is None:
                seeded = seed_from_chinese_calendar(system)
                done.append(
                    f"已导入节假日安排 {seeded['years'][0]}–{seeded['years'][1]} 年"
                    f"({seeded['created']} 条调整)"
                )
            admin = ensure_admin(system, settings.VAR_DIR)
            if admin.created:
                done.append("已创建管理员账号 admin")
            if admin.removed_file:
                done.append(f"已删除旧版本保存的明文管理员密码文件 {admin.removed_file}")
            if n and not Subject.objects.exists():
                # replace=True: an empty register with a demo marker means the demo rows were
                # deleted by hand; the stale marker must not block loading a fresh city.
                summary = load_demo(system, subjects=n, replace=True)
                done.append(
                    f"已加载演示数据 {summary['subjects']:,} 个主体"
                    f"(用时 {summary['seconds']['total']:.1f} 秒)"
                )
                if not summary["accounts"]:
                    done.append("未创建演示账号(仅在调试模式 PUBCREDIT_DEBUG=1 下创建)")
                records = summary.get("records") or {}
                if records:
                    counts = records["records"]
                    entries = sum(records["list_entries"].values())
                    done.append(
                        f"演示信用记录:行政许可 {counts.get('XK', 0):,} 条、"
                        f"行政处罚 {counts.get('CF', 0):,} 条(公示中 "
                        f"{records['publicity'].get('public', 0):,} 条),名单条目 {entries:,} 条"
                    )
            done += setup_scoring(system)
            done += setup_noviolation(system)
        except ValidationError as exc:
            raise CommandError(";".join(str(m) for m in exc.messages)) from None
        except NoViolationError as exc:
            raise CommandError(str(exc), returncode=2) from None

        site = (options["site_url"] or default_site_url()).rstrip("/") + "/"
        city = getattr(settings, "PUBCREDIT_CITY_NAME", "")
        rule = "=" * 64
        lines = [rule, f"  {city}公共信用信息平台已就绪"]
        for item in done:
            lines.append(f"  · {item}")
        lines += [
            "",
            f"  站点地址:    {site}",
            f"  工作台:      {site}console/",
            f"  管理后台:    {site}admin/",
            "",
            f"  管理员账号:  {admin.username}",
        ]
        if admin.password is None:
            lines.append(
                "  管理员密码:  (首次运行时已显示,系统不保存也不再显示;"
                "如需重新设置,请运行 pubcredit changepassword admin)"
            )
        else:
            lines.append(f"  管理员密码:  {admin.password}")
            lines.append(
                "               (仅显示这一次,系统不保存;请立即记下。"
                "忘记时运行 pubcredit changepassword admin 重新设置)"
            )
        lines += _demo_account_lines()
        lines.append(rule)
        self.stdout.write("\n".join(lines))
