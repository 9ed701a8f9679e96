"""What each role may do (actions) and on which rows (scope).

Permissions are data, not scattered `if` statements: ROLE_ACTIONS says what a role may do and is
the single source of truth (docs/roles.md is generated from it, the Django admin's model
permissions are derived from it); `restrict(queryset, principal, action)` narrows a queryset to
the rows the principal's scope covers, using the model's `scope_lookups` (a dict of scope kind →
ORM lookup path).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from pubcredit.accounts.models import Role

# Every action, "<area>.<verb>", with what it lets a person do. Adding an action: add it here and
# to the roles that get it in ROLE_ACTIONS, then regenerate docs/roles.md (`pubcredit roles
# --write docs/roles.md`); a test fails until both are done.
ACTIONS: dict[str, str] = {
    "catalog.view": gettext_lazy("查看信息目录、部门和代码表"),
    "catalog.change": gettext_lazy("维护信息目录、部门和代码表(管理后台)"),
    "subjects.view": gettext_lazy("查询主体库(自然人信息脱敏显示)"),
    "subjects.change": gettext_lazy("登记和维护主体"),
    "subjects.view_person": gettext_lazy("填写查询事由后查看自然人完整信息(记录查看日志)"),
    "records.submit": gettext_lazy("报送信用信息"),
    "records.view": gettext_lazy("查看已归集的信用信息"),
    "checks.run": gettext_lazy("开展信用核查"),
    "scoring.view": gettext_lazy(
        "查看主体的信用评价明细和历史(自然人的个人信用积分须有查看自然人信息的权限并填写事由)"
    ),
    "console.view": gettext_lazy("使用工作台"),
    "news.change": gettext_lazy("编辑和发布门户新闻(信用动态、政策法规、通知公告)"),
    "lists.identify": gettext_lazy("认定和移出信用名单条目(部门报送员限本部门)"),
    "lists.change": gettext_lazy("维护名单类型(管理后台)"),
    "measures.change": gettext_lazy("维护联合奖惩措施和核查事项(管理后台)"),
    "commitments.assess": gettext_lazy("认定信用承诺履行情况(部门报送员限本部门受理的承诺)"),
    "repair.view": gettext_lazy("查看信用修复、异议和信用承诺的办理情况(部门、区县限本范围)"),
    "repair.handle": gettext_lazy("受理、决定信用修复和异议申请,组织修复培训(信用中心)"),
    "repair.review": gettext_lazy("核实信用修复和异议申请(部门报送员限本部门的记录)"),
    "bulletins.view": gettext_lazy(
        "查看归集情况通报和统计(部门报送员限本部门,区县管理员限本区县的部门)"
    ),
    "bulletins.issue": gettext_lazy("发布归集情况通报"),
    "reports.issue": gettext_lazy(
        "通过工作台或接口出具信用报告(自然人的报告须有查看自然人信息的权限并填写查询事由)"
    ),
    "scoring.supervision": gettext_lazy(
        "查看和下载分级分类监管名单(部门报送员限本部门,区县管理员限本区县的主体)"
    ),
    "accounts.manage": gettext_lazy("管理用户和接口密钥(管理后台)"),
    "accounts.view_audit": gettext_lazy("查看审计日志和个人信息查看记录(管理后台)"),
    # 信易贷 (issue 19, part 1)
    "financing.manage": gettext_lazy("审核企业账号绑定,维护金融机构,查看信易贷统计(信用中心)"),
    "financing.lend": gettext_lazy(
        "查看匹配的融资需求,在企业有效授权下查看其信用档案(记录查看日志),登记受理、放款或拒绝"
    ),
    "financing.apply": gettext_lazy(
        "以企业身份发布融资需求,授予和撤销授权书,查看谁查看了本企业档案"
    ),
    # Procedures API (issue 19, part 5): another system files a repair application or an
    # objection for an applicant (/api/v1/repairs, /api/v1/objections). The centre and the
    # service windows (政务服务大厅) file both for anyone; a department's system files only
    # objections to its own department's records (repair.procedures.check_filer). A filer
    # follows what it filed; "repair.view" still decides what else it sees.
    "repair.file": gettext_lazy(
        "通过接口代申请人提交信用修复和异议申请并跟踪所提交的申请(部门报送员限本部门记录的异议)"
    ),
    # 共享 (issue 19, part 4): department systems and the centre query the shareable
    # categories' records and list entries with a stated purpose (pubcredit.sharing, every
    # query logged); the centre and the administrator read the statistics. Banks, windows,
    # districts and the public do not share.
    "sharing.query": gettext_lazy(
        "通过共享接口查询主体的信用记录和名单(须说明查询事由,每次查询均记录;自然人信息脱敏,"
        "有查看自然人信息权限的除外)"
    ),
    "sharing.statistics": gettext_lazy("查看信息共享统计(查询量、共享率)"),
}

# A role has exactly the actions listed; nothing is implied.
ROLE_ACTIONS: dict[str, frozenset[str]] = {
    Role.PLATFORM_ADMIN: frozenset(
        {
            "catalog.view",
            "catalog.change",
            "subjects.view",
            "subjects.change",
            "subjects.view_person",
            "accounts.manage",
            "accounts.view_audit",
            "records.submit",
            "records.view",
            "checks.run",
            "scoring.view",
            "console.view",
            "news.change",
            "lists.identify",
            "lists.change",
            "measures.change",
            "commitments.assess",
            "repair.view",
            "repair.handle",
            "repair.review",
            "bulletins.view",
            "bulletins.issue",
            "scoring.supervision",
            "reports.issue",
            # 信易贷 (issue 19, part 1)
            "financing.manage",
            "financing.lend",
            "financing.apply",
            "repair.file",
            "sharing.query",
            "sharing.statistics",
        }
    ),
    # The credit centre runs the platform day to day and maintains the catalogue (目录 is the
    # centre's responsibility), but does not manage accounts or read the audit trail: that stays
    # with the platform administrator, who audits the centre's own looks at personal data too.
    Role.CENTRE_STAFF: frozenset(
        {
            "catalog.view",
            "catalog.change",
            "subjects.view",
            "subjects.change",
            "subjects.view_person",
            "records.view",
            "checks.run",
            "scoring.view",
            "console.view",
            "news.change",
            "lists.identify",
            "lists.change",
            "measures.change",
            "commitments.assess",
            "repair.view",
            "repair.handle",
            "bulletins.view",
            "bulletins.issue",
            "scoring.supervision",
            "reports.issue",
            "financing.manage",  # 信易贷 (issue 19, part 1)
            "repair.file",
            "sharing.query",
            "sharing.statistics",
        }
    ),
    Role.DEPARTMENT_CLERK: frozenset(
        {
            "catalog.view",
            "subjects.view",
            "scoring.view",
            "records.submit",
            "records.view",
            "console.view",
            "lists.identify",
            "commitments.assess",
            "repair.view",
            "repair.review",
            "bulletins.view",
            "scoring.supervision",
            "repair.file",
            "sharing.query",
        }
    ),
    Role.DISTRICT_ADMIN: frozenset(
        {
            "catalog.view",
            "subjects.view",
            "subjects.view_person",
            "scoring.view",
            "records.view",
            "console.view",
            "repair.view",
            "bulletins.view",
            "scoring.supervision",
        }
    ),
    # A service window issues organisations' credit reports (a person's needs the centre: the
    # window clerk has no "subjects.view_person").
    Role.WINDOW_CLERK: frozenset(
        {
            "subjects.view",
            "checks.run",
            "console.view",
            "scoring.view",
            "reports.issue",
            "repair.file",
        }
    ),
    # Banks call the API (credit checks, organisations' credit reports for a loan or a tender);
    # they have no console and never see persons unmasked.
    # 信易贷 (issue 19, part 1): a bank's staff also see matched demands and, under an
    # enterprise's live authorisation, its credit profile; an enterprise account acts for its own
    # bound subject only.
    Role.BANK_USER: frozenset({"subjects.view", "checks.run", "reports.issue", "financing.lend"}),
    Role.ENTERPRISE: frozenset({"financing.apply"}),
    Role.PUBLIC: frozenset(),
}

# Roles whose rows are limited to one department / one district.
DEPARTMENT_SCOPED = frozenset({Role.DEPARTMENT_CLERK})
DISTRICT_SCOPED = frozenset({Role.DISTRICT_ADMIN})

# Roles an API key may carry. Keys never carry 平台管理员: a leaked system key must not be able to
# issue more keys or create users. The public needs no key.
API_KEY_ROLES = frozenset(
    {
        Role.CENTRE_STAFF,
        Role.DEPARTMENT_CLERK,
        Role.DISTRICT_ADMIN,
        Role.WINDOW_CLERK,
        Role.BANK_USER,
    }
)

# The Django admin's model permissions, derived from actions: action → (app label, verbs, models).
# `None` for models means every model of the app (the catalogue gains models over time). Nothing
# in the admin can delete: catalogue rows are deactivated, keys revoked, users deactivated, and the
# two trails are append-only. The subject register is deliberately absent: a person's data is seen
# in the console, where each look is logged, never in the admin.
ADMIN_PERMISSIONS: dict[str, tuple[str, frozenset[str], frozenset[str] | None]] = {
    "accounts.manage": (
        "accounts",
        frozenset({"view", "add", "change"}),
        frozenset({"user", "apikey"}),
    ),
    "accounts.view_audit": (
        "accounts",
        frozenset({"view"}),
        frozenset({"auditevent", "accesslog"}),
    ),
    "catalog.change": ("catalog", frozenset({"view", "add", "change"}), None),
    # List entries change only through the lists services (认定/移出 with history); the admin
    # shows them read-only to whoever maintains the list types.
    "lists.change": ("lists", frozenset({"view", "add", "change"}), frozenset({"listtype"})),
    # The repair rules (time limits, conditions) are catalogue-like configuration.
    "repair.handle": ("repair", frozenset({"view", "add", "change"}), frozenset({"repairrule"})),
    "measures.change": (
        "measures",
        frozenset({"view", "add", "change"}),
        frozenset({"measure", "matter"}),
    ),
    # 信易贷 (issue 19, part 1): the centre's reference data; demands, authorisations, views
    # and outcomes change only through financing.services.
    "financing.manage": (
        "financing",
        frozenset({"view", "add", "change"}),
        frozenset({"financialinstitution", "institutionmember", "creditproduct", "matchingrule"}),
    ),
}


def role_actions(role: str) -> frozenset[str]:
    return ROLE_ACTIONS.get(role, frozenset())


def role_has_admin_access(role: str) -> bool:
    """Whether the role may enter the Django admin at all (User.is_staff is derived from this)."""
    return bool(role_actions(role) & ADMIN_PERMISSIONS.keys())


def role_has_django_perm(role: str, perm: str) -> bool:
    """Whether the role grants the Django permission "app_label.verb_model" in the admin."""
    app_label, _sep, codename = perm.partition(".")
    verb, _sep, model = codename.partition("_")
    for action in role_actions(role):
        grant = ADMIN_PERMISSIONS.get(action)
        if grant is None:
            continue
        grant_app, verbs, models = grant
        if grant_app == app_label and verb in verbs and (models is None or model in models):
            return True
    return False


def role_has_module_perms(role: str, app_label: str) -> bool:
    return any(
        ADMIN_PERMISSIONS[action][0] == app_label
        for action in role_actions(role)
        if action in ADMIN_PERMISSIONS
    )


@dataclass(frozen=True)
class Principal:
    """Who is acting: a person (user) or a system (api_key), with role and scope."""

    role: str
    label: str
    user: object | None = None
    api_key: object | None = None
    department_id: int | None = None
    district_id: str | None = None

    @classmethod
    def of(cls, actor) -> Principal:
        """Principal for a User, an ApiKey, AnonymousUser or None (the public).

        An inactive user or a revoked key acts as the public: whatever let it through must not
        keep its powers."""
        # Imported here: the models import this module (User.has_perm): a cycle inside the app.
        from pubcredit.accounts.models import ApiKey

        if actor is None or not getattr(actor, "is_authenticated", True):
            return PUBLIC
        if isinstance(actor, ApiKey):
            if not actor.active:
                return PUBLIC
            return cls(
                role=actor.role,
                label=f"key:{actor.prefix}",
                api_key=actor,
                department_id=actor.department_id,
                district_id=actor.district_id,
            )
        if not actor.is_active:
            return PUBLIC
        role = Role.PLATFORM_ADMIN if actor.is_superuser else actor.role
        return cls(
            role=role,
            label=actor.get_username(),
            user=actor,
            department_id=actor.department_id,
            district_id=actor.district_id,
        )

    @classmethod
    def system(cls, label: str = "system") -> Principal:
        """The platform itself (demo loader, catalogue import, scheduled jobs, CLI commands)."""
        return cls(role=Role.PLATFORM_ADMIN, label=label)

    @property
    def actions(self) -> frozenset[str]:
        return role_actions(self.role)

    @property
    def role_name(self) -> str:
        return str(Role(self.role).label) if self.role in Role.values else self.role

    @property
    def is_department_scoped(self) -> bool:
        return self.role in DEPARTMENT_SCOPED

    @property
    def is_district_scoped(self) -> bool:
        return self.role in DISTRICT_SCOPED

    @property
    def _scope_holder(self):
        return self.user if self.user is not None else self.api_key

    @property
    def department(self):
        """The Department this principal is scoped to, or None (one query at most)."""
        holder = self._scope_holder
        return getattr(holder, "department", None) if self.department_id else None

    @property
    def district(self):
        """The district Region this principal is scoped to, or None (one query at most)."""
        holder = self._scope_holder
        return getattr(holder, "district", None) if self.district_id else None

    def can(self, action: str) -> bool:
        return action in self.actions

    def require(self, action: str) -> None:
        if not self.can(action):
            raise PermissionDenied(
                _("当前角色(%(role)s)无权执行此操作:%(action)s")
                % {"role": self.role_name, "action": ACTIONS.get(action, action)}
            )


ALL_ROWS = "*"

PUBLIC = Principal(role=Role.PUBLIC, label="public")


def restrict(queryset: QuerySet, principal: Principal, action: str) -> QuerySet:
    """The rows of `queryset` that `principal` may act on with `action`.

    A model opts into scoping with `scope_lookups = {"department": "<path to Department id>",
    "district": "<path to district Region code>"}`; the value "*" says rows of that model are not
    owned by a department (or district) and a scoped role sees all of them (e.g. the subject
    register for a 部门报送员). A scoped role on a model without the matching lookup sees nothing:
    least privilege when in doubt. A principal without the action sees nothing.
    """
    if not principal.can(action):
        return queryset.none()
    lookups = getattr(queryset.model, "scope_lookups", {})
    if principal.is_department_scoped:
        return _scoped(queryset, lookups.get("department"), principal.department_id)
    if principal.is_district_scoped:
        return _scoped(queryset, lookups.get("district"), principal.district_id)
    return queryset


def _scoped(queryset: QuerySet, path: str | None, value) -> QuerySet:
    if path == ALL_ROWS:
        return queryset
    if path is None or value is None:
        return queryset.none()
    return queryset.filter(**{path: value})


def roles_table() -> str:
    """The role × action matrix as a Markdown table (the generated part of docs/roles.md),
    always in Chinese whatever language is active."""
    with translation.override("zh-hans"):
        return _roles_table()


def _roles_table() -> str:
    roles = list(Role)
    header = "| " + _("动作") + " | " + " | ".join(str(r.label) for r in roles) + " |"
    rule = "|---|" + "|".join(":-:" for _r in roles) + "|"
    lines = [header, rule]
    for action, label in ACTIONS.items():
        marks = " | ".join("✓" if action in role_actions(r) else "" for r in roles)
        lines.append(f"| `{action}` {label} | {marks} |")
    return "\n".join(lines) + "\n"
