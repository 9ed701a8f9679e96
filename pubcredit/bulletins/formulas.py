"""Every rate the bulletins and dashboards show, written once: its name, Chinese label, the
formula text shown next to the figure, and how its numerator and denominator are read from a
row of `statistics.metrics_for_month` (a dict of counts)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class Formula:
    name: str
    label: str
    text: str
    numerator: Callable[[dict], int]
    denominator: Callable[[dict], int]

    def value(self, row: dict) -> float | None:
        """The rate for `row` (0…1), or None when there is nothing to divide by."""
        den = self.denominator(row)
        return None if not den else self.numerator(row) / den


def _count(name: str) -> Callable[[dict], int]:
    return lambda row: int(row.get(name) or 0)


FORMULAS: tuple[Formula, ...] = (
    Formula(
        "coverage",
        _("报送覆盖率"),
        _("报送覆盖率 = 有报送的报送责任数 ÷ 应报送的报送责任数(按月计,零报送即未报送)"),
        _count("duties_reported"),
        _count("duties"),
    ),
    Formula(
        "compliance",
        _("合规率"),
        _("合规率 = 校验通过条数 ÷ 报送条数"),
        _count("accepted"),
        _count("submitted"),
    ),
    Formula(
        "timeliness",
        _("及时率"),
        _("及时率 = 按期报送条数 ÷ 应按期报送条数(有报送责任和决定日期的首次报送)"),
        _count("on_time"),
        _count("due"),
    ),
    Formula(
        "completeness",
        _("完整率"),
        _("完整率 = 已填写的选填项数 ÷ (入库条数 × 类别选填项数)"),
        _count("filled"),
        _count("fillable"),
    ),
    Formula(
        "duplicates",
        _("重复率"),
        _("重复率 = 文件内重复行数 ÷ 报送条数"),
        _count("duplicates"),
        _count("submitted"),
    ),
    Formula(
        "corrections",
        _("更正率"),
        _("更正率 = 更正条数(替代旧版本的新版本) ÷ 入库条数"),
        _count("corrections"),
        _count("written"),
    ),
    Formula(
        "feedback",
        _("反馈率"),
        _("反馈率 = 已反馈措施实施情况的核查次数 ÷ 返回了奖惩措施的核查次数"),
        _count("feedback_given"),
        _count("feedback_due"),
    ),
    Formula(
        "repair_timeliness",
        _("修复办理及时率"),
        _("修复办理及时率 = 期限内办结的修复、异议环节数 ÷ 有期限的办结环节数"),
        _count("repair_steps_on_time"),
        _count("repair_steps"),
    ),
)

BY_NAME = {f.name: f for f in FORMULAS}


def rates(row: dict) -> dict[str, float | None]:
    """Every rate of `row`, by formula name."""
    return {f.name: f.value(row) for f in FORMULAS}
