"""An issued credit report: frozen once written (a new request is a new report)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from pubcredit.catalog.models import SubjectKind
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


class Report(models.Model):
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
