"""The console's left navigation as data.

A console page joins the navigation by adding one `NavItem` to `NAV_ITEMS` (label, URL name,
the action a principal needs to see it, and the group it is listed under). The layout shows an
item only to principals whose role has the action, and only once its URL name resolves, so an
item can be listed before its page exists without producing a broken link.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _

from pubcredit.accounts.permissions import Principal


@dataclass(frozen=True)
class NavItem:
    label: str
    url_name: str
    action: str
    group: str
    # Django's admin also demands User.is_staff, which a role does not imply.
    needs_staff_flag: bool = False
    # Other pages (view names) under this item, which mark it as the current one.
    also_current: tuple[str, ...] = ()


GROUP_OVERVIEW = _("概览")
GROUP_INTAKE = _("数据归集")
GROUP_SUBJECTS = _("主体管理")
GROUP_CHECKS = _("联合奖惩")
# Credit services: commitments (信用承诺), repair (信用修复) and objections (异议).
GROUP_SERVICES = _("信用服务")
GROUP_PORTAL = _("门户管理")
GROUP_SYSTEM = _("系统管理")

NAV_ITEMS: list[NavItem] = [
    NavItem(_("工作台首页"), "console:dashboard", "console.view", GROUP_OVERVIEW),
    NavItem(
        _("上传数据"),
        "console:intake:upload",
        "records.submit",
        GROUP_INTAKE,
        also_current=("console:intake:mapping",),
    ),
    NavItem(
        _("报送批次"),
        "console:intake:submission_list",
        "records.view",
        GROUP_INTAKE,
        also_current=("console:intake:submission_detail",),
    ),
    NavItem(_("主体匹配确认"), "console:intake:review_list", "subjects.change", GROUP_INTAKE),
    NavItem(_("报送提醒"), "console:reminders:list", "records.view", GROUP_INTAKE),
    NavItem(
        _("归集通报"),
        "console:bulletins:list",
        "bulletins.view",
        GROUP_INTAKE,
        also_current=(
            "console:bulletins:detail",
            "console:bulletins:department",
            "console:bulletins:live",
            "console:bulletins:live_department",
            "console:bulletins:rows",
        ),
    ),
    NavItem(
        _("主体查询"),
        "console:subject_search",
        "subjects.view",
        GROUP_SUBJECTS,
        also_current=("console:subject_detail",),
    ),
    NavItem(_("分级分类监管"), "supervision:list", "scoring.supervision", GROUP_SUBJECTS),
    NavItem(
        _("信用名单"),
        "console:lists:entry_list",
        "lists.identify",
        GROUP_CHECKS,
        also_current=("console:lists:entry_detail",),
    ),
    NavItem(_("认定名单"), "console:lists:identify", "lists.identify", GROUP_CHECKS),
    NavItem(
        _("信用核查"),
        "console:checks:window",
        "checks.run",
        GROUP_CHECKS,
        also_current=("console:checks:result",),
    ),
    NavItem(_("批量核查"), "console:checks:batches", "checks.run", GROUP_CHECKS),
    NavItem(_("核查对象变动通知"), "console:checks:notifications", "checks.run", GROUP_CHECKS),
    NavItem(_("联合奖惩案例统计"), "console:checks:stats", "checks.run", GROUP_CHECKS),
    NavItem(_("信息共享统计"), "sharing:statistics", "sharing.statistics", GROUP_INTAKE),
    NavItem(
        _("信用承诺"),
        "console:commitments:list",
        "repair.view",
        GROUP_SERVICES,
        also_current=("console:commitments:detail", "console:commitments:assess"),
    ),
    NavItem(
        _("修复与异议办理"),
        "console:repair:queue",
        "repair.view",
        GROUP_SERVICES,
        also_current=("console:repair:application", "console:repair:objection"),
    ),
    NavItem(
        _("修复培训"),
        "console:repair:training",
        "repair.handle",
        GROUP_SERVICES,
        also_current=("console:repair:session",),
    ),
    NavItem(_("办理统计"), "console:repair:stats", "repair.view", GROUP_SERVICES),
    NavItem(_("信用报告"), "reports:window", "reports.issue", GROUP_SERVICES),
    NavItem(_("批量出具信用报告"), "reports:batches", "reports.issue", GROUP_SERVICES),
    # 信易贷 (issue 19)
    NavItem(
        _("信易贷需求对接"),
        "financing:demands",
        "financing.lend",
        GROUP_SERVICES,
        also_current=("financing:demand",),
    ),
    NavItem(_("企业账号审核"), "financing:bindings", "financing.manage", GROUP_SERVICES),
    NavItem(_("信易贷统计"), "financing:statistics", "financing.manage", GROUP_SERVICES),
    NavItem(
        _("新闻发布"),
        "console:news_list",
        "news.change",
        GROUP_PORTAL,
        also_current=("console:news_create", "console:news_edit"),
    ),
    NavItem(_("管理后台"), "admin:index", "accounts.manage", GROUP_SYSTEM, needs_staff_flag=True),
]

# Groups in display order; an item whose group is not listed here goes last.
GROUP_ORDER = [
    GROUP_OVERVIEW,
    GROUP_INTAKE,
    GROUP_SUBJECTS,
    GROUP_CHECKS,
    GROUP_SERVICES,
    GROUP_PORTAL,
    GROUP_SYSTEM,
]


@dataclass(frozen=True)
class NavLink:
    label: str
    url: str
    view_names: tuple[str, ...]  # the pages on which this link is the current one


def visible_navigation(principal: Principal) -> list[tuple[str, list[NavLink]]]:
    """The groups and links `principal` may see, in display order; empty groups are dropped."""
    user = principal.user
    groups: dict[str, list[NavLink]] = {}
    for item in NAV_ITEMS:
        if not principal.can(item.action):
            continue
        if item.needs_staff_flag and not getattr(user, "is_staff", False):
            continue
        try:
            url = reverse(item.url_name)
        except NoReverseMatch:
            continue
        groups.setdefault(str(item.group), []).append(
            NavLink(str(item.label), url, (item.url_name, *item.also_current))
        )
    order = [str(group) for group in GROUP_ORDER]
    return sorted(
        groups.items(), key=lambda kv: order.index(kv[0]) if kv[0] in order else len(order)
    )
