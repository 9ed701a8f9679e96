"""The aggregation statistics (归集统计) the bulletins (通报) and dashboards read.

`DepartmentMonthMetric` holds, per department × category × month, the counts that follow from
records being written: kept incrementally by the records-changed flow's `bulletins` step
(`subscribers.records_changed`), and rebuilt from the records and their history by
`metrics.rebuild_metrics` with the same numbers. The month of a written version is the month
(Asia/Shanghai) it was received; a withdrawal counts in the month it happened. The counts that
live elsewhere are computed on demand for one month, set based: a submission's rows, accepted
and rejected rows and duplicates by `statistics.metrics_for_month`; checks and their feedback,
repair and objection steps by `statistics.department_activity`. The formulas of the rates are in
`formulas`.

`RecordTally` and `ViolationTally` keep the records in force (status 有效) that the dashboards
count, by category × district × decision month and by 违法行为类型, kept by the same step of the
records flow (`tallies`) and rebuilt by `tallies.rebuild_tallies`.
"""

import datetime as dt

from django.db import models
from django.utils.translation import gettext_lazy as _

from pubcredit.core.outbox import OutboxDelivery


class DepartmentMonthMetric(models.Model):
    department = models.ForeignKey(
        "catalog.Department",
        verbose_name=_("报送部门"),
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,  # leads metric_unique
    )
    category = models.ForeignKey(
        "catalog.Category", verbose_name=_("信息类别"), on_delete=models.PROTECT, related_name="+"
    )
    district = models.ForeignKey(
        "catalog.Region",
        verbose_name=_("区县"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("区县信用中心报送时为其所在区县。"),
    )
    month = models.DateField(_("月份"), help_text=_("当月第一天。"))
    written = models.PositiveIntegerField(_("入库条数"), default=0)
    first_reports = models.PositiveIntegerField(_("首次报送条数"), default=0)
    corrections = models.PositiveIntegerField(
        _("更正条数"), default=0, help_text=_("替代了旧版本的新版本条数。")
    )
    due = models.PositiveIntegerField(
        _("应按期报送条数"), default=0, help_text=_("有报送责任且有决定日期的首次报送条数。")
    )
    on_time = models.PositiveIntegerField(_("按期报送条数"), default=0)
    late = models.PositiveIntegerField(_("超期报送条数"), default=0)
    filled = models.PositiveBigIntegerField(_("已填选填项"), default=0)
    fillable = models.PositiveBigIntegerField(_("选填项总数"), default=0)
    withdrawn = models.PositiveIntegerField(_("撤回条数"), default=0)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("部门月度归集统计")
        verbose_name_plural = _("部门月度归集统计")
        ordering = ["-month", "department", "category"]
        constraints = [
            models.UniqueConstraint(
                fields=["department", "category", "month"], name="metric_unique"
            ),
        ]
        indexes = [models.Index(fields=["month", "district"], name="metric_month_district")]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} {self.department_id} {self.category_id}"


class RankingScheme(models.Model):
    """How the bulletin ranks departments (综合得分), as data: the weight of each rate (a
    formula name of `formulas.FORMULAS` → points), the threshold under which 及时率 or 合规率
    names a department, and how many of the best are praised. Versioned by effective date: a
    bulletin uses the scheme in force on its period's last day and keeps a copy of it, so
    editing a scheme never changes an issued bulletin."""

    name = models.CharField(_("名称"), max_length=64)
    effective_from = models.DateField(_("生效日期"), unique=True)
    weights = models.JSONField(
        _("权重"),
        help_text=_('各项比率的分值,如 {"coverage": 30, "timeliness": 30, …};合计一般为 100。'),
    )
    threshold = models.DecimalField(
        _("通报阈值"),
        max_digits=4,
        decimal_places=3,
        default=0.9,
        help_text=_("及时率或合规率低于此值的单位列入通报名单(0–1)。"),
    )
    praise_count = models.PositiveSmallIntegerField(
        _("表扬名额"), default=3, help_text=_("综合得分最高的若干单位予以表扬。")
    )
    note = models.CharField(_("说明"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("通报评分规则")
        verbose_name_plural = _("通报评分规则")
        ordering = ["-effective_from"]

    def __str__(self) -> str:
        return f"{self.name}({self.effective_from:%Y-%m-%d}起)"

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        # Imported here: formulas imports nothing of the models, but keep the models light.
        from pubcredit.bulletins.formulas import BY_NAME

        if not isinstance(self.weights, dict) or not self.weights:
            raise ValidationError({"weights": _("权重应为“比率名称: 分值”的对象。")})
        unknown = sorted(set(self.weights) - set(BY_NAME))
        if unknown:
            raise ValidationError(
                {
                    "weights": _("未知的比率:%(names)s;可用:%(known)s")
                    % {"names": "、".join(unknown), "known": "、".join(BY_NAME)}
                }
            )
        for name, points in self.weights.items():
            if not isinstance(points, int | float) or points < 0:
                raise ValidationError(
                    {"weights": _("“%(name)s”的分值应为非负数。") % {"name": name}}
                )


def _bulletin_path(instance, filename: str) -> str:
    return (
        f"bulletins/{instance.period_start:%Y}/{instance.period_key}-v{instance.version}-{filename}"
    )


class Bulletin(models.Model):
    """An issued aggregation bulletin (归集情况通报). Frozen once issued: its number, date,
    content (every figure, the scheme used and the formulas, as JSON) and stored files never
    change; a recomputation is issued as a new version of the same period."""

    class Kind(models.TextChoices):
        MONTH = "month", _("月度")
        QUARTER = "quarter", _("季度")
        YEAR = "year", _("年度")

    kind = models.CharField(_("期间类型"), max_length=8, choices=Kind.choices)
    period_start = models.DateField(_("期间起始"))
    period_end = models.DateField(_("期间截止"))
    period_key = models.CharField(
        _("期间"), max_length=8, help_text=_("如 2026-11、2026Q4、2026。")
    )
    version = models.PositiveSmallIntegerField(_("版本"), default=1)
    year = models.PositiveSmallIntegerField(_("年份"))
    serial = models.PositiveIntegerField(_("年度序号"))
    number = models.CharField(_("通报编号"), max_length=64, unique=True)
    title = models.CharField(_("标题"), max_length=200)
    content = models.JSONField(_("通报内容"))
    content_sha256 = models.CharField(_("内容摘要"), max_length=64)
    issued_at = models.DateTimeField(_("发布时间"))
    issued_by = models.CharField(_("发布人"), max_length=150)
    pdf = models.FileField(_("PDF 文件"), upload_to=_bulletin_path, max_length=255)
    pdf_sha256 = models.CharField(_("PDF 摘要"), max_length=64)
    xlsx = models.FileField(_("Excel 文件"), upload_to=_bulletin_path, max_length=255)
    xlsx_sha256 = models.CharField(_("Excel 摘要"), max_length=64)

    class Meta:
        verbose_name = _("归集情况通报")
        verbose_name_plural = _("归集情况通报")
        ordering = ["-period_start", "kind", "-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "period_start", "version"], name="bulletin_period_version"
            ),
            models.UniqueConstraint(fields=["year", "serial", "version"], name="bulletin_serial"),
        ]

    def __str__(self) -> str:
        return self.number


class DutyReminder(models.Model):
    """A reporting reminder (报送提醒): a duty in force in `month` whose department had
    submitted nothing of its category in that month five working days before the month's last
    working day (`deadline`), when the month would end as a 零报送 in the bulletin. One per
    duty (department × category, whichever version of it is in force) and month; shown to the
    department's clerks in the console (read when one of them marks it), and POSTed to the
    webhooks of the department's systems (`DutyReminderDelivery`). Written by
    `reminders.send_reminders`."""

    duty = models.ForeignKey(
        "catalog.ReportingDuty",
        verbose_name=_("报送责任"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    department = models.ForeignKey(
        "catalog.Department",
        verbose_name=_("报送部门"),
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,  # leads dutyreminder_unique
    )
    category = models.ForeignKey(
        "catalog.Category", verbose_name=_("信息类别"), on_delete=models.PROTECT, related_name="+"
    )
    month = models.DateField(_("月份"), help_text=_("当月第一天。"))
    deadline = models.DateField(_("当月最后一个工作日"))
    message = models.TextField(_("提醒内容"))
    created_at = models.DateTimeField(_("提醒时间"))
    read_at = models.DateTimeField(_("已读时间"), null=True, blank=True)
    read_by = models.CharField(_("标记已读人"), max_length=150, blank=True)

    # accounts.permissions.restrict: a department sees its own, a district its centres'.
    scope_lookups = {"department": "department_id", "district": "department__district_id"}

    class Meta:
        verbose_name = _("报送提醒")
        verbose_name_plural = _("报送提醒")
        ordering = ["-month", "department", "category"]
        constraints = [
            models.UniqueConstraint(
                fields=["department", "category", "month"], name="dutyreminder_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} {self.department_id} {self.category_id}"


class DutyReminderDelivery(OutboxDelivery):
    """A reminder POSTed to one webhook of its department's systems (a `checks.CheckWebhook`
    registered through an API key of the department), by the shared outbox (`core.outbox`):
    signed, every attempt recorded, retried with backoff."""

    reminder = models.ForeignKey(
        DutyReminder,
        verbose_name=_("报送提醒"),
        on_delete=models.PROTECT,
        related_name="deliveries",
        db_index=False,  # leads dutyreminderdelivery_unique
    )
    webhook = models.ForeignKey(
        "checks.CheckWebhook",
        verbose_name=_("通知地址"),
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        verbose_name = _("报送提醒推送")
        verbose_name_plural = _("报送提醒推送")
        constraints = [
            models.UniqueConstraint(
                fields=["reminder", "webhook"], name="dutyreminderdelivery_unique"
            ),
        ]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                name="dutyreminderdelivery_due",
                condition=models.Q(status="pending"),
            )
        ]

    def __str__(self) -> str:
        return f"{self.reminder_id} → {self.url} ({self.status})"


# The month of a record without a decision date in RecordTally (a key column cannot be null:
# ON CONFLICT matches no null).
UNDATED = dt.date(1, 1, 1)


class RecordTally(models.Model):
    """Records in force (status 有效) per category × district × decision month: what the big
    screen's totals, monthly trend and district comparison add up, kept by the records flow's
    `bulletins` step with +/- deltas and rebuilt from the records by `tallies.rebuild_tallies`.

    `region`: the district (行政区划代码) of the record's subject at the time the record was
    written (loaded, corrected or relinked to its subject); empty without a subject or a
    district. A later change of a subject's district in the register is not followed until the
    next rebuild (which reads the districts as they are then). `month`: the first day of the
    decision date's month, UNDATED without a decision date."""

    category = models.ForeignKey(
        "catalog.Category",
        verbose_name=_("信息类别"),
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,  # leads recordtally_unique
    )
    region = models.CharField(_("主体所在区划"), max_length=6, blank=True)
    month = models.DateField(_("决定月份"), help_text=_("决定日期所在月第一天。"))
    n = models.IntegerField(_("有效记录数"), default=0)

    class Meta:
        verbose_name = _("有效记录计数")
        verbose_name_plural = _("有效记录计数")
        constraints = [
            models.UniqueConstraint(
                fields=["category", "region", "month"], name="recordtally_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.category_id} {self.region or '-'} {self.month:%Y-%m}: {self.n}"


class ViolationTally(models.Model):
    """Records in force per 违法行为类型 (the value of the category's field with the role
    "violation_type", e.g. 行政处罚's CF_WFXW; records without one are not counted): the big
    screen's top violation types. Kept and rebuilt with RecordTally. A value longer than
    KIND_LENGTH characters is counted under its first KIND_LENGTH."""

    KIND_LENGTH = 200

    category = models.ForeignKey(
        "catalog.Category",
        verbose_name=_("信息类别"),
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,  # leads violationtally_unique
    )
    kind = models.CharField(_("违法行为类型"), max_length=KIND_LENGTH)
    n = models.IntegerField(_("有效记录数"), default=0)

    class Meta:
        verbose_name = _("违法行为类型计数")
        verbose_name_plural = _("违法行为类型计数")
        constraints = [
            models.UniqueConstraint(fields=["category", "kind"], name="violationtally_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.category_id} {self.kind}: {self.n}"
