"""An issued credit report: frozen once written (a new request is a new report)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from pubcredit.catalog.models import SubjectKind
from pubcredit.core.citus import ShardedBySubject
from pubcredit.subjects.models import Subject


class ReportKind(models.TextChoices):
    STANDARD = "standard", _("公共信用信息报告")
    NO_VIOLATION = "no_violation", _("公共信用信息报告(无违法违规记录证明版)")


class ReportChannel(models.TextChoices):
    PORTAL = "portal", _("门户网站")
    API = "api", _("接口")
    WINDOW = "window", _("窗口/工作台")
    CLI = "cli", _("命令行")
    BATCH = "batch", _("批量")


def _report_path(report: Report, filename: str) -> str:
    day = report.issued_at
    return f"reports/{day:%Y}/{day:%m}/{report.number}.pdf"


class Report(ShardedBySubject):
    number = models.CharField(_("报告编号"), max_length=32, unique=True)
    kind = models.CharField(_("报告类型"), max_length=16, choices=ReportKind.choices)
    subject = models.ForeignKey(
        Subject, on_delete=models.PROTECT, related_name="credit_reports", verbose_name=_("主体")
    )
    subject_kind = models.CharField(_("主体类别"), max_length=8, choices=SubjectKind.choices)
    subject_name = models.CharField(
        _("主体名称"), max_length=200, help_text=_("自然人为脱敏后的姓名。")
    )
    identifier = models.CharField(
        _("主体标识"),
        max_length=32,
        help_text=_("统一社会信用代码;自然人为脱敏后的身份证号。"),
    )
    issued_at = models.DateTimeField(_("出具时间"))
    data_as_of = models.DateTimeField(_("信息截止时间"))
    valid_until = models.DateField(_("有效期至"))
    period_from = models.DateField(_("查询期间自"), null=True, blank=True)
    period_to = models.DateField(_("查询期间至"), null=True, blank=True)
    fields = models.JSONField(
        _("证明领域"), default=list, blank=True, help_text=_("无违法违规记录证明版所涉领域的编码。")
    )
    content = models.JSONField(_("报告内容"), default=dict)
    content_sha256 = models.CharField(
        _("信息摘要"),
        max_length=64,
        help_text=_("出具时主体公共信用信息(报告各部分)的摘要,用于核验出具后信息是否变化。"),
    )
    pdf = models.FileField(_("PDF 文件"), upload_to=_report_path, max_length=255)
    pdf_sha256 = models.CharField(_("PDF 摘要"), max_length=64)
    channel = models.CharField(_("渠道"), max_length=16, choices=ReportChannel.choices)
    requested_by = models.CharField(_("申请人/系统"), max_length=150, blank=True)
    purpose = models.CharField(_("用途/查询事由"), max_length=256, blank=True)
    client_address = models.GenericIPAddressField(_("来源地址"), null=True, blank=True)
    batch = models.ForeignKey(
        "reports.ReportBatch",
        verbose_name=_("批量出具批次"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="reports",
    )

    class Meta:
        verbose_name = _("信用报告")
        verbose_name_plural = _("信用报告")
        ordering = ["-issued_at", "-id"]
        indexes = [models.Index(fields=["subject", "-issued_at"], name="report_subject_idx")]

    def __str__(self) -> str:
        return f"{self.number} {self.subject_name}"


class NoViolationField(models.Model):
    """One field (领域) of the 无违法违规记录证明版 (信用代证): the authorities whose certificates
    of "no violations" the report replaces, and which of their public records count as
    violations. Data, shipped in data/noviolation_fields.json (modelled on Shandong's 2023
    scheme), imported by `pubcredit reports import`, edited in the admin with an audit event.

    A public record of a subject counts in the field when its category is listed in `counts`
    ({"category": "CF", "tiers": [...], "condition": {...}}: the tiers of the publicity rules it
    must have — 轻微 is the 简易程序 boundary — and an optional catalogue condition on its
    fields), and it was decided by one of `departments` (by the 处罚机关 code, else the
    submitting department) or belongs to one of `sectors` (publicity's sector rules). An entry
    on one of `list_types` (严重失信主体名单) counts whoever identified it."""

    code = models.CharField(
        _("领域编码"), max_length=32, unique=True, help_text=_("稳定的英文编码,例如 market。")
    )
    name = models.CharField(_("领域名称"), max_length=64)
    departments = models.JSONField(
        _("出证部门"), default=list, blank=True, help_text=_("部门编码列表(信息目录的部门表)。")
    )
    sectors = models.JSONField(
        _("行业"),
        default=list,
        blank=True,
        help_text=_("公示期规则的行业编码列表:属于这些行业的处罚也计入本领域(如 fire 消防)。"),
    )
    counts = models.JSONField(
        _("计入的信息类别和条件"),
        default=list,
        blank=True,
        help_text=_(
            '列表,每项如 {"category": "CF", "tiers": ["general", "serious"]}:'
            "类别编码;tiers 为计入的严重程度(不含 minor 即不计警告、通报批评和可适用简易程序的"
            "小额罚款),为空表示不限;可加 condition(信息目录的条件语法)。"
        ),
    )
    list_types = models.JSONField(
        _("计入的名单类型"),
        default=list,
        blank=True,
        help_text=_("名单类型编码列表(严重失信主体名单),列入即计入本领域。"),
    )
    sort_order = models.PositiveIntegerField(_("排序"), default=0)
    effective_from = models.DateField(_("启用日期"), null=True, blank=True)
    effective_to = models.DateField(_("停用日期"), null=True, blank=True)
    policy_basis = models.TextField(_("政策依据"), blank=True)
    active = models.BooleanField(_("启用"), default=True)
    needs_review = models.BooleanField(
        _("待核实"),
        default=False,
        help_text=_("随程序发布的领域中尚未与正式文本核对的内容(见备注);核实后取消勾选。"),
    )
    note = models.TextField(_("备注"), blank=True, help_text=_("仅管理人员可见。"))

    class Meta:
        verbose_name = _("无违法违规记录证明领域")
        verbose_name_plural = _("无违法违规记录证明领域")
        ordering = ["sort_order", "code"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(effective_to__isnull=True)
                | models.Q(effective_from__isnull=True)
                | models.Q(effective_to__gte=models.F("effective_from")),
                name="noviolationfield_effective_order",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def in_force_on(self, day) -> bool:
        return (
            self.active
            and (self.effective_from is None or self.effective_from <= day)
            and (self.effective_to is None or day <= self.effective_to)
        )

    def clean(self) -> None:
        # Imported here: noviolation imports this module.
        from django.core.exceptions import ValidationError

        from pubcredit.reports.noviolation import field_problems

        problems = field_problems(
            {
                "code": self.code,
                "name": self.name,
                "departments": self.departments,
                "sectors": self.sectors,
                "counts": self.counts,
                "list_types": self.list_types,
            }
        )
        if problems:
            raise ValidationError(problems)


class ReportBatch(models.Model):
    """Reports issued together (批量出具, e.g. for a tender's bidders): the list of 统一社会信用代码
    as given (a file or the API's list), the rows refused with a Chinese message each, the job's
    progress and the output (a zip of the PDFs and index.xlsx). Run by `reports.batch`."""

    class Status(models.TextChoices):
        RECEIVED = "received", _("已接收")
        RUNNING = "running", _("出具中")
        DONE = "done", _("已完成")
        FAILED = "failed", _("失败")

    kind = models.CharField(
        _("报告类型"), max_length=16, choices=ReportKind.choices, default=ReportKind.STANDARD
    )
    period_from = models.DateField(_("查询期间自"), null=True, blank=True)
    period_to = models.DateField(_("查询期间至"), null=True, blank=True)
    fields = models.JSONField(_("证明领域"), default=list, blank=True)
    filename = models.CharField(_("文件名"), max_length=255, blank=True)
    items = models.JSONField(
        _("待出具"), default=list, blank=True, help_text=_("[[行号, 统一社会信用代码], …]")
    )
    problems = models.JSONField(
        _("未出具的行"), default=list, blank=True, help_text=_("[{row, value, message}, …]")
    )
    rows = models.PositiveIntegerField(_("行数"), default=0)
    issued = models.PositiveIntegerField(_("已出具"), default=0)
    status = models.CharField(
        _("状态"), max_length=12, choices=Status.choices, default=Status.RECEIVED
    )
    progress = models.PositiveSmallIntegerField(_("进度(%)"), default=0)
    timings = models.JSONField(_("耗时(秒)"), default=dict, blank=True)
    zip_file = models.FileField(
        _("报告压缩包"), upload_to="reports/batches/%Y/%m/", max_length=255, blank=True
    )
    error_message = models.TextField(_("失败原因"), blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("申请人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    api_key = models.ForeignKey(
        "accounts.ApiKey",
        verbose_name=_("接口密钥"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    actor_label = models.CharField(_("申请人/系统"), max_length=150)
    client_address = models.GenericIPAddressField(_("来源地址"), null=True, blank=True)
    created_at = models.DateTimeField(_("提交时间"), auto_now_add=True)
    started_at = models.DateTimeField(_("开始时间"), null=True, blank=True)
    finished_at = models.DateTimeField(_("完成时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("批量出具信用报告")
        verbose_name_plural = _("批量出具信用报告")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.pk} {self.filename or self.actor_label}"
