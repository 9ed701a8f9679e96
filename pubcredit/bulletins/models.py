"""The aggregation statistics (归集统计) the bulletins (通报) and dashboards read.

`DepartmentMonthMetric` holds, per department × category × month, the counts that follow from
records being written: kept incrementally by the records-changed flow's `bulletins` step
(`subscribers.records_changed`), and rebuilt from the records and their history by
`metrics.rebuild_metrics` with the same numbers. The month of a written version is the month
(Asia/Shanghai) it was received; a withdrawal counts in the month it happened. The counts that
live elsewhere are computed on demand for one month, set based: a submission's rows, accepted
and rejected rows and duplicates by `services.metrics_for_month`; checks and their feedback,
repair and objection steps by `services.department_activity`. The formulas of the rates are in
`formulas`.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


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
