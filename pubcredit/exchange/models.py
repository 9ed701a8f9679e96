"""数据交换 models: the export batches (上报) and the endpoint they are pushed to.

An `ExportBatch` is one incremental export of 双公示 and list data since a watermark (`since`,
exclusive) up to `until` (inclusive): its files (csv, xlsx, json per category), their sha256,
the content digest (sha256 of the json files' digests, in name order), counts, and the
delivery to the endpoint (every attempt recorded, as core.outbox deliveries are). A batch that
the endpoint acknowledged moves the watermark: the next batch starts at its `until`.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class ExchangeEndpoint(models.Model):
    """Where batches are pushed (the provincial or national exchange platform's receiver)."""

    name = models.CharField(_("名称"), max_length=100, unique=True)
    url = models.URLField(_("接收地址"), max_length=500)
    token = models.CharField(
        _("令牌"), max_length=200, blank=True, help_text=_("以 Bearer 令牌随请求发送,并用于签名。")
    )
    active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("交换接收端")
        verbose_name_plural = _("交换接收端")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class BatchStatus(models.TextChoices):
    PENDING = "pending", _("待发送")
    SENT = "sent", _("已发送")
    ACKNOWLEDGED = "acknowledged", _("已确认")
    FAILED = "failed", _("发送失败")
    SUPERSEDED = "superseded", _("已被取代")


class ExportBatch(models.Model):
    sequence = models.PositiveIntegerField(_("批次序号"), unique=True)
    since = models.DateTimeField(_("起始水位(不含)"))
    until = models.DateTimeField(_("截止水位(含)"))
    digest = models.CharField(_("内容摘要"), max_length=64)
    records = models.PositiveIntegerField(_("记录数"), default=0)
    list_entries = models.PositiveIntegerField(_("名单条目数"), default=0)
    withdrawals = models.PositiveIntegerField(_("撤销数"), default=0)
    files = models.JSONField(_("文件"), default=dict, help_text=_("{文件名: sha256}"))
    directory = models.CharField(_("文件目录"), max_length=500, blank=True)
    status = models.CharField(
        _("状态"), max_length=16, choices=BatchStatus.choices, default=BatchStatus.PENDING
    )
    endpoint = models.ForeignKey(
        ExchangeEndpoint,
        verbose_name=_("接收端"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="batches",
    )
    attempt_count = models.PositiveSmallIntegerField(_("发送次数"), default=0)
    attempts = models.JSONField(_("发送记录"), default=list, blank=True)
    next_attempt_at = models.DateTimeField(_("下次发送时间"), null=True, blank=True)
    receipt = models.JSONField(_("回执"), null=True, blank=True)
    acknowledged_at = models.DateTimeField(_("确认时间"), null=True, blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("上报批次")
        verbose_name_plural = _("上报批次")
        ordering = ["-sequence"]

    def __str__(self) -> str:
        return self.batch_id

    @property
    def batch_id(self) -> str:
        return f"B{self.sequence:06d}"
