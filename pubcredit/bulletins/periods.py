"""The period a bulletin covers: a month, a quarter or a year (Asia/Shanghai calendar days).

`Period.parse("2026-11")`, `Period.parse("2026Q4")`, `Period.parse("2026")`; `.months` lists the
months it spans (the statistics are kept per month), `.previous` is the period of the same kind
before it (the summary's "较上期"), `.label` is the Chinese name used in titles.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

MONTH, QUARTER, YEAR = "month", "quarter", "year"
KINDS = (MONTH, QUARTER, YEAR)
_SPAN = {MONTH: 1, QUARTER: 3, YEAR: 12}
# One message per quarter, so a translation can name it its own way ("Q4 2026").
_QUARTER_LABELS = {
    1: gettext_lazy("%(year)d年第一季度"),
    2: gettext_lazy("%(year)d年第二季度"),
    3: gettext_lazy("%(year)d年第三季度"),
    4: gettext_lazy("%(year)d年第四季度"),
}


def add_months(day: dt.date, n: int) -> dt.date:
    index = day.year * 12 + day.month - 1 + n
    return dt.date(index // 12, index % 12 + 1, 1)


@dataclass(frozen=True, order=True)
class Period:
    kind: str
    start: dt.date  # first day

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown period kind {self.kind!r}")
        if self.start.day != 1 or (self.start.month - 1) % _SPAN[self.kind]:
            raise ValueError(f"{self.start} does not start a {self.kind}")

    @classmethod
    def month(cls, year: int, month: int) -> Period:
        return cls(MONTH, dt.date(year, month, 1))

    @classmethod
    def parse(cls, text: str) -> Period:
        """ "YYYY-MM", "YYYYQn" or "YYYY"; ValueError with a Chinese message otherwise."""
        text = (text or "").strip()
        if m := re.fullmatch(r"(\d{4})-(\d{1,2})", text):
            year, month = int(m[1]), int(m[2])
            if 1 <= month <= 12:
                return cls.month(year, month)
        elif m := re.fullmatch(r"(\d{4})[Qq]([1-4])", text):
            return cls(QUARTER, dt.date(int(m[1]), (int(m[2]) - 1) * 3 + 1, 1))
        elif re.fullmatch(r"\d{4}", text):
            return cls(YEAR, dt.date(int(text), 1, 1))
        raise ValueError(
            _("期间“%(text)s”无效:应为 YYYY-MM(月)、YYYYQn(季度)或 YYYY(年度)") % {"text": text}
        )

    @classmethod
    def containing(cls, kind: str, day: dt.date) -> Period:
        span = _SPAN[kind]
        return cls(kind, dt.date(day.year, (day.month - 1) // span * span + 1, 1))

    @property
    def end(self) -> dt.date:
        """The last day of the period."""
        return add_months(self.start, _SPAN[self.kind]) - dt.timedelta(days=1)

    @property
    def months(self) -> list[dt.date]:
        return [add_months(self.start, i) for i in range(_SPAN[self.kind])]

    @property
    def previous(self) -> Period:
        return Period(self.kind, add_months(self.start, -_SPAN[self.kind]))

    @property
    def key(self) -> str:
        """ "2026-11", "2026Q4" or "2026": what `parse` reads back."""
        if self.kind == MONTH:
            return f"{self.start:%Y-%m}"
        if self.kind == QUARTER:
            return f"{self.start.year}Q{(self.start.month - 1) // 3 + 1}"
        return str(self.start.year)

    @property
    def label(self) -> str:
        """ "2026年11月份", "2026年第四季度" or "2026年度"."""
        if self.kind == MONTH:
            return _("%(year)d年%(month)d月份") % {
                "year": self.start.year,
                "month": self.start.month,
            }
        if self.kind == QUARTER:
            return str(_QUARTER_LABELS[(self.start.month - 1) // 3 + 1]) % {"year": self.start.year}
        return _("%(year)d年度") % {"year": self.start.year}

    @property
    def previous_label(self) -> str:
        """How the summary names the period before: 上月, 上季度, 上年."""
        return {MONTH: _("上月"), QUARTER: _("上季度"), YEAR: _("上年")}[self.kind]

    def __str__(self) -> str:
        return self.key
