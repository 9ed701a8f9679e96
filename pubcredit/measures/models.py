"""Joint reward and punishment measures (联合奖惩措施) as data, and the check read model.

- `Matter` (事项): the business a window or a system is handling (政府采购, 行政许可审批 …).
- `Measure`: a reward or punishment with its legal basis (required: the national basic list
  allows no punishment without one, brief §5), the class of the national basic list (1/2/3) or
  the incentive category for rewards, what triggers it (list types and/or record conditions),
  the matters it applies to (none = all), and an effective window.
- `SubjectFlags`: one row per subject that has any list entry or negative record that may hit,
  with the facts' validity windows inline, so a credit check is one primary-key read and
  in-memory rules (see services.applicable_measures).

The credit check's own models (CreditCheck, CheckFeedback …) live in the separate section at the
end of this file, owned by the checks work.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Matter(models.Model):
    code = models.CharField(
        _("事项编码"),
        max_length=48,
        unique=True,
        help_text=_("稳定的英文编码,例如 GOV_PROCUREMENT。"),
    )
    name = models.CharField(_("事项名称"), max_length=128)
    description = models.TextField(_("说明"), blank=True)
    sort_order = models.PositiveIntegerField(_("排序"), default=0)
    active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("核查事项")
        verbose_name_plural = _("核查事项")
        ordering = ["sort_order", "code"]

    def __str__(self) -> str:
        return self.name


class MeasureKind(models.TextChoices):
    REWARD = "reward", _("守信激励")
    PUNISHMENT = "punishment", _("失信惩戒")


class MeasureClass(models.IntegerChoices):
    """The three classes of 《全国失信惩戒措施基础清单》 (wording [UNCONFIRMED], brief §5)."""

    RIGHTS = 1, _("第一类:公共管理机构依法依规实施的减损权益或增加义务的措施")
    MANAGEMENT = 2, _("第二类:公共管理机构根据履职需要实施的相关管理措施")
    MARKET = 3, _("第三类:公共管理机构以外的组织自主实施的措施")


class IncentiveCategory(models.TextChoices):
    FACILITATION = "facilitation", _("行政审批便利")
    SUPERVISION = "supervision", _("优化监管")
    FINANCE = "finance", _("金融支持")
    POLICY = "policy", _("财政和政策支持")
    TRADING = "trading", _("公共资源交易便利")
    HONOURS = "honours", _("表彰宣传")


class Measure(models.Model):
    code = models.CharField(
        _("措施编码"),
        max_length=48,
        unique=True,
        help_text=_("稳定的英文编码,例如 P_RESTRICT_PROCUREMENT。"),
    )
    name = models.CharField(_("措施名称"), max_length=200)
    kind = models.CharField(_("措施类别"), max_length=12, choices=MeasureKind.choices)
    measure_class = models.PositiveSmallIntegerField(
        _("惩戒措施分类"),
        choices=MeasureClass.choices,
        null=True,
        blank=True,
        help_text=_("惩戒措施必填:《全国失信惩戒措施基础清单》的三类之一。"),
    )
    incentive_category = models.CharField(
        _("激励措施分类"),
        max_length=16,
        choices=IncentiveCategory.choices,
        blank=True,
        help_text=_("激励措施必填。"),
    )
    content = models.TextField(_("措施内容"), blank=True)
    legal_basis = models.TextField(
        _("法律法规和政策依据"), help_text=_("必填:没有依据的措施不得实施。")
    )
    note = models.TextField(
        _("备注"), blank=True, help_text=_("依据待核对时写明 [UNCONFIRMED] 及待核对的内容。")
    )
    departments = models.ManyToManyField(
        "catalog.Department",
        verbose_name=_("实施部门"),
        blank=True,
        related_name="measures",
    )
    list_types = models.ManyToManyField(
        "lists.ListType",
        verbose_name=_("触发名单"),
        blank=True,
        related_name="measures",
    )
    record_conditions = models.JSONField(
        _("触发记录条件"),
        default=list,
        blank=True,
        help_text=_(
            "任一条件成立即触发,例如 "
            '[{"category": "CF", "tier_in": ["严重"]}] 或 [{"category": "CF", "publicity_state": "public"}]。'
        ),
    )
    matters = models.ManyToManyField(
        Matter,
        verbose_name=_("适用事项"),
        blank=True,
        related_name="measures",
        help_text=_("为空表示适用于全部事项。"),
    )
    subject_kinds = models.JSONField(
        _("适用主体"),
        default=list,
        blank=True,
        help_text=_("org / ind / person 的列表;为空表示全部。"),
    )
    effective_from = models.DateField(_("生效日期"), null=True, blank=True)
    effective_to = models.DateField(_("失效日期"), null=True, blank=True)
    active = models.BooleanField(_("启用"), default=True)
    sort_order = models.PositiveIntegerField(_("排序"), default=0)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("奖惩措施")
        verbose_name_plural = _("奖惩措施")
        ordering = ["kind", "sort_order", "code"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(legal_basis=""), name="measure_requires_legal_basis"
            ),
            models.CheckConstraint(
                condition=Q(kind="reward") | Q(measure_class__isnull=False),
                name="measure_punishment_has_class",
            ),
            models.CheckConstraint(
                condition=Q(effective_to__isnull=True)
                | Q(effective_from__isnull=True)
                | Q(effective_to__gte=models.F("effective_from")),
                name="measure_effective_order",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self):
        from pubcredit.measures.rules import validate_measure_fields

        validate_measure_fields(self)


class RulesVersion(models.Model):
    """A single row whose counter changes whenever a measure, matter or list type changes, so
    every process can tell that its cached rules are stale with one cheap read."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    version = models.PositiveBigIntegerField(default=0)
    changed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("措施规则版本")
        verbose_name_plural = _("措施规则版本")

    def __str__(self) -> str:
        return f"v{self.version}"


class SubjectFlags(models.Model):
    """Check read model: the subject's published list entries with their validity windows
    inline, so a check reads them with one primary-key lookup.

    `entries`: [{"id", "type" (ListType id), "from", "to" (ISO dates, to inclusive, null =
    until removed), "decided_on", "authority", "document_number"}]. An entry hits on day D when
    from ≤ D ≤ to and its list type is in force. Negative records are not copied here: the
    check reads them live from the publicity read model (one indexed query), so a repair or the
    end of publicity is seen at once. `records` is reserved (always empty). Rows are rewritten
    by `services.refresh_subject_flags` in the transaction that changes an entry; a subject
    without published entries has no row.
    """

    subject = models.OneToOneField(
        "subjects.Subject",
        verbose_name=_("主体"),
        primary_key=True,
        on_delete=models.CASCADE,
        related_name="flags",
        db_constraint=False,
    )
    subject_kind = models.CharField(_("主体类别"), max_length=8, blank=True)
    entries = models.JSONField(_("名单条目"), default=list)
    records = models.JSONField(_("失信记录"), default=list)
    refreshed_at = models.DateTimeField(_("刷新时间"))

    class Meta:
        verbose_name = _("主体核查标识")
        verbose_name_plural = _("主体核查标识")

    def __str__(self) -> str:
        return str(self.subject_id)


# ===================================================================================== checks ==
# Credit check models (CreditCheck, CheckFeedback …) are added below this line by the checks work
# (pubcredit/measures/checks.py et al.). Keep the section above for lists/measures/read model.

from django.conf import settings  # noqa: E402
from django.utils import timezone  # noqa: E402


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
        verbose_name = _("核查通知地址")
        verbose_name_plural = _("核查通知地址")

    def __str__(self) -> str:
        return self.url


class CheckNotification(models.Model):
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


def _notify_checkers_of_new_entries(sender, **kwargs):
    """lists.signals.entries_published (sent after commit) → notify recent checkers."""
    from pubcredit.measures.check_notices import on_entries_published

    on_entries_published(**kwargs)


# Connected here (the checks section) so that the checks work needs no change to apps.py.
from pubcredit.lists.signals import entries_published  # noqa: E402

entries_published.connect(_notify_checkers_of_new_entries, dispatch_uid="checks-notify-checkers")
