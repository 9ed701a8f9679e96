"""The holiday table: only the exceptions to "Monday–Friday are working days".

Seeded from chinese-calendar (State Council 放假安排) and editable when a new year's schedule is
published: public holidays that fall on weekdays and the adjusted working weekends (调休上班).
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class CalendarException(models.Model):
    class Source(models.TextChoices):
        CHINESE_CALENDAR = "chinese_calendar", _("chinese-calendar 数据")
        MANUAL = "manual", _("人工维护")
        PROVISIONAL = "provisional", _("暂定(待国务院公布)")

    date = models.DateField(_("日期"), primary_key=True)
    is_workday = models.BooleanField(
        _("是否工作日"), help_text=_("勾选表示调休上班的周末;不勾选表示放假的工作日。")
    )
    name = models.CharField(_("节日"), max_length=32, blank=True)
    source = models.CharField(
        _("来源"), max_length=20, choices=Source.choices, default=Source.MANUAL
    )

    class Meta:
        verbose_name = _("节假日调整")
        verbose_name_plural = _("节假日调整")
        ordering = ["date"]

    def __str__(self) -> str:
        kind = _("调休上班") if self.is_workday else _("放假")
        return f"{self.date:%Y-%m-%d} {self.name} {kind}"


class CalendarYear(models.Model):
    """A year whose schedule is known; working-day arithmetic past the last known year falls back
    to the weekday rule, and callers can tell (`calendar_known_through`)."""

    year = models.PositiveSmallIntegerField(_("年份"), primary_key=True)
    note = models.CharField(_("说明"), max_length=255, blank=True)
    provisional = models.BooleanField(
        _("暂定"),
        default=False,
        help_text=_("国务院尚未公布该年放假安排,表中只有法定节日,不含调休。"),
    )

    class Meta:
        verbose_name = _("已维护年份")
        verbose_name_plural = _("已维护年份")
        ordering = ["year"]

    def __str__(self) -> str:
        return str(self.year)
