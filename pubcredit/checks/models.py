"""Credit checks (信用核查): each check and its answer (CreditCheck), batches of checks
(CheckBatch), the departments' feedback on the measures applied (CheckFeedback), and the
notifications sent to recent checkers when a checked subject gets a new black-list entry
(CheckWebhook, CheckNotification, WebhookDelivery).

The tables keep the names they had when these models lived in `measures` (db_table); the move to
this app changed Django's state only (migrations checks.0001 and measures.0003).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from pubcredit.core.citus import ShardedBySubject
from pubcredit.measures.models import Matter, Measure, MeasureKind


class CheckChannel(models.TextChoices):
    API = "api", _("系统接口")
    WINDOW = "window", _("窗口核查")
    BATCH = "batch", _("批量核查")
    CLI = "cli", _("命令行")


class CheckOutcome(models.TextChoices):
    PUNISH = "punish", _("适用惩戒措施")
    HITS = "hits", _("有失信信息,本事项无适用措施")
    REWARD = "reward", _("适用激励措施")
    CLEAR = "clear", _("未发现失信信息")
    NOT_FOUND = "not_found", _("未找到主体")
    CANDIDATES = "candidates", _("名称未能唯一确定主体")
    INVALID = "invalid", _("号码或事项无效")


class CheckBatch(models.Model):
    """A file of subjects checked together (批量核查): the uploaded file untouched, the job's
    progress and the results file. Processed set-based by `checks.run_batch`."""

    class Status(models.TextChoices):
        RECEIVED = "received", _("已接收")
        RUNNING = "running", _("核查中")
        DONE = "done", _("已完成")
        FAILED = "failed", _("失败")

    filename = models.CharField(_("文件名"), max_length=255)
    upload = models.FileField(_("上传文件"), upload_to="checks/batches/%Y/%m/", max_length=255)
    sha256 = models.CharField(_("SHA-256"), max_length=64, editable=False)
    matter = models.ForeignKey(
        Matter,
        verbose_name=_("默认核查事项"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("文件中没有“事项”列或该列为空时使用。"),
    )
    status = models.CharField(
        _("状态"), max_length=12, choices=Status.choices, default=Status.RECEIVED
    )
    progress = models.PositiveSmallIntegerField(_("进度(%)"), default=0)
    rows = models.PositiveIntegerField(_("行数"), default=0)
    counts = models.JSONField(_("结果统计"), default=dict, blank=True)
    timings = models.JSONField(_("耗时(秒)"), default=dict, blank=True)
    result_file = models.FileField(
        _("结果文件"), upload_to="checks/results/%Y/%m/", max_length=255, blank=True
    )
    error_message = models.TextField(_("失败原因"), blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("核查人"),
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
    actor_label = models.CharField(_("核查者"), max_length=150)
    department = models.ForeignKey(
        "catalog.Department",
        verbose_name=_("核查部门"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("提交时间"), auto_now_add=True)
    started_at = models.DateTimeField(_("开始时间"), null=True, blank=True)
    finished_at = models.DateTimeField(_("完成时间"), null=True, blank=True)

    scope_lookups = {"department": "department_id", "district": None}

    class Meta:
        db_table = "measures_checkbatch"
        verbose_name = _("批量核查")
        verbose_name_plural = _("批量核查")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"#{self.pk} {self.filename}"


class CreditCheck(models.Model):
    """One credit check (信用核查) and what it answered: who asked (a person or a system key),
    through which channel and client, for which matter, about which subject, and the result as it
    was shown (`result`: the full answer for single checks, a summary for batch rows). Written by
    `checks.run_check` / `checks.run_batch`; never changed afterwards. A large table: carries
    `subject_id` and has no database foreign key constraints on it."""

    checked_at = models.DateTimeField(_("核查时间"), db_index=True)
    checked_on = models.DateField(_("核查基准日"))
    channel = models.CharField(_("核查渠道"), max_length=8, choices=CheckChannel.choices)
    client = models.CharField(
        _("系统或窗口"), max_length=150, blank=True, help_text=_("调用系统名称或窗口名称。")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("核查人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_constraint=False,
        db_index=False,
    )
    api_key = models.ForeignKey(
        "accounts.ApiKey",
        verbose_name=_("接口密钥"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_constraint=False,
        db_index=False,
    )
    actor_label = models.CharField(_("核查者"), max_length=150)
    department = models.ForeignKey(
        "catalog.Department",
        verbose_name=_("核查部门"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_constraint=False,
        db_index=False,
    )
    matter = models.ForeignKey(
        Matter,
        verbose_name=_("核查事项"),
        on_delete=models.PROTECT,
        related_name="+",
        db_constraint=False,
        db_index=False,
    )
    query_kind = models.CharField(
        _("查询方式"),
        max_length=8,
        choices=[("uscc", _("统一社会信用代码")), ("id", _("证件号码")), ("name", _("名称"))],
    )
    query_value = models.CharField(
        _("查询内容"), max_length=200, help_text=_("证件号码只保存脱敏形式。")
    )
    subject = models.ForeignKey(
        "subjects.Subject",
        verbose_name=_("主体"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_constraint=False,
        db_index=False,  # leads creditcheck_subject_at
    )
    outcome = models.CharField(_("核查结论"), max_length=12, choices=CheckOutcome.choices)
    hit_count = models.PositiveSmallIntegerField(_("命中信息数"), default=0)
    punishment_count = models.PositiveSmallIntegerField(_("惩戒措施数"), default=0)
    reward_count = models.PositiveSmallIntegerField(_("激励措施数"), default=0)
    result = models.JSONField(_("核查结果"), default=dict)
    batch = models.ForeignKey(
        CheckBatch,
        verbose_name=_("批量核查"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="checks",
        db_constraint=False,
        db_index=False,
    )

    scope_lookups = {"department": "department_id", "district": None}

    class Meta:
        db_table = "measures_creditcheck"
        verbose_name = _("信用核查记录")
        verbose_name_plural = _("信用核查记录")
        ordering = ["-checked_at", "-id"]
        indexes = [
            # "Who checked this subject in the last 30 days" (notifications).
            models.Index(fields=["subject", "checked_at"], name="creditcheck_subject_at"),
            models.Index(fields=["department", "checked_at"], name="creditcheck_dept_at"),
            models.Index(fields=["batch"], name="creditcheck_batch"),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def number(self) -> str:
        return check_number(self.pk, self.checked_at)


def check_number(pk: int | None, checked_at) -> str:
    """The check number printed on the 核查结果 sheet: HC + local date + zero-padded id."""
    if checked_at is None:
        return f"HC{pk or 0:010d}"
    return f"HC{timezone.localtime(checked_at):%Y%m%d}{pk or 0:010d}"


class CheckFeedback(models.Model):
    """Whether a measure the check returned was actually applied (联合奖惩案例反馈): one row per
    (check, measure); a later answer replaces the earlier one and is audited."""

    credit_check = models.ForeignKey(
        CreditCheck, verbose_name=_("核查记录"), on_delete=models.PROTECT, related_name="feedback"
    )
    measure = models.ForeignKey(
        Measure, verbose_name=_("措施"), on_delete=models.PROTECT, related_name="+"
    )
    measure_kind = models.CharField(_("措施类别"), max_length=12, choices=MeasureKind.choices)
    applied = models.BooleanField(_("已实施"))
    note = models.CharField(_("说明"), max_length=512, blank=True)
    unit = models.CharField(
        _("反馈单位"),
        max_length=150,
        blank=True,
        help_text=_("部门名称;没有所属部门时为用户所在单位或系统名称。"),
    )
    department = models.ForeignKey(
        "catalog.Department",
        verbose_name=_("反馈部门"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("反馈人"),
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
    actor_label = models.CharField(_("反馈者"), max_length=150)
    at = models.DateTimeField(_("反馈时间"))

    scope_lookups = {"department": "department_id", "district": None}

    class Meta:
        db_table = "measures_checkfeedback"
        verbose_name = _("核查反馈")
        verbose_name_plural = _("核查反馈")
        ordering = ["-at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["credit_check", "measure"], name="checkfeedback_unique")
        ]

    def __str__(self) -> str:
        return f"{self.credit_check_id} {self.measure_id} {'✓' if self.applied else '✗'}"


class CheckWebhook(models.Model):
    """A system's URL for notifications (one per API key). Deliveries are POSTed as JSON with an
    `X-Pubcredit-Signature: sha256=<HMAC of the body with the secret>` header."""

    api_key = models.OneToOneField(
        "accounts.ApiKey",
        verbose_name=_("接口密钥"),
        on_delete=models.PROTECT,
        related_name="check_webhook",
    )
    url = models.URLField(_("通知地址"), max_length=500)
    secret = models.CharField(_("签名密钥"), max_length=64, editable=False)
    active = models.BooleanField(_("启用"), default=True)
    created_at = models.DateTimeField(_("登记时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        db_table = "measures_checkwebhook"
        verbose_name = _("核查通知地址")
        verbose_name_plural = _("核查通知地址")

    def __str__(self) -> str:
        return self.url


class CheckNotification(ShardedBySubject):
    """A subject that a department or system checked in the last 30 days got a new 严重失信主体
    名单 entry: one row per (entry, recipient). Shown in the console; systems with a webhook also
    get a POST (`WebhookDelivery`)."""

    entry = models.ForeignKey(
        "lists.ListEntry",
        verbose_name=_("名单条目"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    subject = models.ForeignKey(
        "subjects.Subject",
        verbose_name=_("主体"),
        on_delete=models.PROTECT,
        related_name="+",
        db_constraint=False,
    )
    recipient = models.CharField(
        _("接收方"), max_length=32, help_text=_("dept:<id>、key:<id> 或 user:<id>。")
    )
    recipient_label = models.CharField(_("接收方名称"), max_length=150)
    department = models.ForeignKey(
        "catalog.Department",
        verbose_name=_("接收部门"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    api_key = models.ForeignKey(
        "accounts.ApiKey",
        verbose_name=_("接收系统"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("接收人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    last_check = models.ForeignKey(
        CreditCheck,
        verbose_name=_("最近一次核查"),
        on_delete=models.PROTECT,
        related_name="+",
        db_constraint=False,
    )
    message = models.TextField(_("通知内容"))
    created_at = models.DateTimeField(_("通知时间"))
    read_at = models.DateTimeField(_("已读时间"), null=True, blank=True)
    read_by = models.CharField(_("阅读人"), max_length=150, blank=True)

    scope_lookups = {"department": "department_id", "district": None}

    class Meta:
        db_table = "measures_checknotification"
        verbose_name = _("核查对象变动通知")
        verbose_name_plural = _("核查对象变动通知")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["entry", "recipient"], name="checknotification_unique")
        ]

    def __str__(self) -> str:
        return f"{self.recipient_label}: {self.subject_id}"


class WebhookDelivery(models.Model):
    """Delivery of one notification to a system's webhook, with every attempt recorded in
    `attempts` ([{"at", "status_code", "error", "ms"}]). Retried with backoff until delivered or
    `MAX_ATTEMPTS` have failed."""

    class Status(models.TextChoices):
        PENDING = "pending", _("待发送")
        DELIVERED = "delivered", _("已送达")
        FAILED = "failed", _("发送失败")

    notification = models.OneToOneField(
        CheckNotification,
        verbose_name=_("通知"),
        on_delete=models.PROTECT,
        related_name="delivery",
    )
    webhook = models.ForeignKey(
        CheckWebhook, verbose_name=_("通知地址"), on_delete=models.PROTECT, related_name="+"
    )
    url = models.URLField(_("通知地址"), max_length=500)
    status = models.CharField(
        _("状态"), max_length=12, choices=Status.choices, default=Status.PENDING
    )
    attempt_count = models.PositiveSmallIntegerField(_("发送次数"), default=0)
    attempts = models.JSONField(_("发送记录"), default=list, blank=True)
    next_attempt_at = models.DateTimeField(_("下次发送时间"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("送达时间"), null=True, blank=True)

    class Meta:
        db_table = "measures_webhookdelivery"
        verbose_name = _("通知推送")
        verbose_name_plural = _("通知推送")
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                name="webhookdelivery_due",
                condition=Q(status="pending"),
            )
        ]

    def __str__(self) -> str:
        return f"{self.notification_id} → {self.url} ({self.status})"
