"""Publicity (公示): the rules that say how long a record is shown, and the read model that says
what is shown today.

Rules are versioned configuration (data/publicity_rules.json, editable in the admin, loaded by
`pubcredit publicity rules import`):

- `PublicityRegime`: a rule set in force for decisions dated in [effective_from, effective_to]
  (发改办财金〔2019〕527号; NDRC Order 58 from 2023-05-01; Order 36 from 2026-04-01). A record is
  judged by the regime in force on its decision date.
- `PeriodRule`: per regime, the minimum (earliest repair) and maximum (end of publicity) period of
  a tier, optionally only for some sectors or deciding departments (the sector minimum of Order 58,
  a department that publishes 轻微 penalties under Order 36). First matching row wins.
- `TierRule`: how a penalty's tier (轻微/一般/严重) follows from its 处罚类别 and fine. Each penalty
  type of a decision is judged by the first matching row; the decision takes the type with the
  longest period.
- `SectorRule`: which sector (特种设备, 安全生产, 消防…) a penalty belongs to, by deciding
  department and keywords in given fields. First matching row wins.

Facts people add later never edit the record: `TierOverride` (a department sets the tier) and
`PublicityMark` (repair / objection hooks for the repair and objection workflows).

The read model `Publicity` holds one row per record, recomputed set-based from records + rules +
facts by `services.refresh_publicity` and moved along the calendar by `services.sweep_publicity`;
every change of what is shown is kept in `PublicityEvent`.

Dates: `start` is the first public day; `end` is the first day the record is no longer public
(exclusive), so a record is public on D when start <= D < end; `end` null = open-ended (a
long-term licence). `repair_from` is the first day a repair may be applied for. Every page,
answer and file that shows a window shows its last public day (`last_public_day`: end − 1 day),
inclusive, as "公示期 start 至 last day" reads in Chinese: a licence valid through (有效期至)
2027-12-31 is shown "至 2027-12-31", and a penalty public for one year from 2026-05-10 "至
2027-05-09".
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from pubcredit.core.citus import ShardedBySubject


def last_public_day(end: dt.date | None) -> dt.date | None:
    """The last day a record is public (公示截止日期, inclusive) for a window whose `end` is the
    first day it is no longer public; None (open-ended) stays None. The one conversion the
    portal, the public API and the credit check all use."""
    return end - dt.timedelta(days=1) if end else None


class Tier(models.TextChoices):
    MINOR = "minor", _("轻微")
    GENERAL = "general", _("一般")
    SERIOUS = "serious", _("严重")


# Severity order, used to break ties between equally long periods.
TIER_RANK = {Tier.MINOR.value: 1, Tier.GENERAL.value: 2, Tier.SERIOUS.value: 3}


class PublicityState(models.TextChoices):
    PUBLIC = "public", _("公示中")
    PENDING = "pending", _("待公示")
    NOT_PUBLISHED = "not_published", _("不予公示")
    ENDED = "ended", _("公示期满")
    WITHDRAWN = "withdrawn", _("已撤回")
    EXPIRED = "expired", _("已失效")
    REPAIRED = "repaired", _("已信用修复")
    OBJECTION = "objection", _("异议处理中")


# States in which the record is shown on the portal (an objection is shown with its flag while
# it is verified, the common practice; the objection workflow may change this constant).
PUBLIC_STATES = (PublicityState.PUBLIC.value, PublicityState.OBJECTION.value)
# States the daily sweep moves along the calendar.
RUNNING_STATES = (*PUBLIC_STATES, PublicityState.PENDING.value)


class PublicityRegime(models.Model):
    """A set of publicity rules in force for decisions dated within its window."""

    code = models.CharField(_("规则编码"), max_length=32, unique=True)
    name = models.CharField(_("名称"), max_length=128)
    legal_basis = models.TextField(_("依据"), blank=True)
    description = models.TextField(_("说明"), blank=True)
    effective_from = models.DateField(_("适用于决定日期自"))
    effective_to = models.DateField(
        _("适用于决定日期至"), null=True, blank=True, help_text=_("为空表示现行有效。")
    )

    class Meta:
        verbose_name = _("公示期规则")
        verbose_name_plural = _("公示期规则")
        ordering = ["effective_from"]

    def __str__(self) -> str:
        return self.name

    def applies_to(self, day: dt.date) -> bool:
        return self.effective_from <= day and (
            self.effective_to is None or day <= self.effective_to
        )


class PublicityOption(models.Model):
    """A named setting of the publicity rules (e.g. from which 有效期至 a licence counts as
    long-term), JSON-valued."""

    key = models.CharField(_("名称"), max_length=64, unique=True)
    value = models.JSONField(_("值"))
    description = models.TextField(_("说明"), blank=True)

    class Meta:
        verbose_name = _("公示设置")
        verbose_name_plural = _("公示设置")
        ordering = ["key"]

    def __str__(self) -> str:
        return self.key


class PeriodRule(models.Model):
    """Minimum and maximum publicity period of one tier under one regime; optionally only for
    some sectors and/or deciding departments. Within a regime and tier the first matching row (by
    `order`) applies, so specific rows come before the general one."""

    code = models.CharField(_("编码"), max_length=64, unique=True)
    regime = models.ForeignKey(
        PublicityRegime,
        verbose_name=_("公示期规则"),
        on_delete=models.CASCADE,
        related_name="periods",
    )
    order = models.PositiveIntegerField(_("顺序"), default=100)
    tier = models.CharField(_("严重程度"), max_length=8, choices=Tier.choices)
    sectors = models.JSONField(
        _("限于行业"), default=list, blank=True, help_text=_("行业编码列表;为空表示不限。")
    )
    departments = models.JSONField(
        _("限于部门"),
        default=list,
        blank=True,
        help_text=_("作出决定的部门编码列表;为空表示不限。"),
    )
    published = models.BooleanField(_("予以公示"), default=True)
    min_months = models.PositiveSmallIntegerField(
        _("最短公示期(月)"), default=0, help_text=_("届满后方可申请信用修复。")
    )
    max_months = models.PositiveSmallIntegerField(
        _("最长公示期(月)"), help_text=_("届满后自动停止公示。")
    )
    description = models.TextField(_("说明"), blank=True)

    class Meta:
        verbose_name = _("公示期限")
        verbose_name_plural = _("公示期限")
        ordering = ["regime__effective_from", "order", "code"]

    def __str__(self) -> str:
        return self.code


class TierRule(models.Model):
    """One row of the tier table: a penalty type (or any), optional fine range (万元, both bounds
    inclusive), subject kinds, deciding departments, sectors and regimes →
    tier. Each penalty type of a decision takes the first matching active row by `order`."""

    code = models.CharField(_("编码"), max_length=64, unique=True)
    order = models.PositiveIntegerField(_("顺序"), default=100)
    tier = models.CharField(_("严重程度"), max_length=8, choices=Tier.choices)
    penalty_types = models.JSONField(
        _("处罚类别"), default=list, blank=True, help_text=_("为空表示任意类别(含未填写)。")
    )
    min_amount = models.DecimalField(
        _("罚款金额不低于(万元)"), max_digits=14, decimal_places=6, null=True, blank=True
    )
    max_amount = models.DecimalField(
        _("罚款金额不高于(万元)"), max_digits=14, decimal_places=6, null=True, blank=True
    )
    subject_kinds = models.JSONField(_("限于主体类别"), default=list, blank=True)
    departments = models.JSONField(_("限于部门"), default=list, blank=True)
    sectors = models.JSONField(_("限于行业"), default=list, blank=True)
    regimes = models.JSONField(_("限于公示期规则"), default=list, blank=True)
    active = models.BooleanField(_("启用"), default=True)
    description = models.TextField(_("说明"), blank=True)

    class Meta:
        verbose_name = _("严重程度认定规则")
        verbose_name_plural = _("严重程度认定规则")
        ordering = ["order", "code"]

    def __str__(self) -> str:
        return self.code


class SectorRule(models.Model):
    """A penalty belongs to `sector` when it was decided by one of `departments` (empty: any)
    and, when `keywords` are given, one of them occurs in one of `fields` (field codes; empty:
    the category's 违法行为类型). First matching active row by `order` wins."""

    code = models.CharField(_("编码"), max_length=64, unique=True)
    order = models.PositiveIntegerField(_("顺序"), default=100)
    sector = models.CharField(_("行业编码"), max_length=32)
    sector_name = models.CharField(_("行业名称"), max_length=64)
    departments = models.JSONField(_("作出决定的部门"), default=list, blank=True)
    keywords = models.JSONField(_("关键词"), default=list, blank=True)
    fields = models.JSONField(_("查找关键词的字段"), default=list, blank=True)
    active = models.BooleanField(_("启用"), default=True)
    description = models.TextField(_("说明"), blank=True)

    class Meta:
        verbose_name = _("行业认定规则")
        verbose_name_plural = _("行业认定规则")
        ordering = ["order", "code"]

    def __str__(self) -> str:
        return f"{self.code} → {self.sector_name}"


class Publicity(ShardedBySubject):
    """The publicity window and state of one record (read model, derived; never edited by hand).

    Public on day D ⇔ state in PUBLIC_STATES and start <= D and (end is null or D < end): use
    `services.is_public_q`."""

    record = models.OneToOneField(
        "records.Record",
        verbose_name=_("信用记录"),
        primary_key=True,
        on_delete=models.CASCADE,
        # Records are never deleted, and checking a deferred foreign key per row doubled the
        # cost of writing a million rows: the read model does without the database constraint.
        db_constraint=False,
        related_name="publicity",
    )
    subject = models.ForeignKey(
        "subjects.Subject",
        verbose_name=_("主体"),
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,  # a copy of the record's subject, kept current by refresh
        db_index=False,  # leads publicity_subject_state
        related_name="+",
    )
    category = models.ForeignKey(
        "catalog.Category",
        verbose_name=_("信息类别"),
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,
        related_name="+",
    )
    department = models.ForeignKey(
        "catalog.Department",
        verbose_name=_("报送部门"),
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,
        related_name="+",
    )
    tier = models.CharField(_("严重程度"), max_length=8, choices=Tier.choices, blank=True)
    tier_source = models.CharField(
        _("认定方式"),
        max_length=8,
        blank=True,
        choices=[("rule", _("按规则认定")), ("override", _("部门认定"))],
    )
    rule = models.CharField(_("适用的认定规则"), max_length=64, blank=True)
    sector = models.CharField(_("行业"), max_length=32, blank=True)
    regime = models.ForeignKey(
        PublicityRegime,
        verbose_name=_("公示期规则"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,  # in the ORM; rules import refuses to drop a regime in use
        db_constraint=False,  # no deferred check per row (see `record`)
        db_index=False,
        related_name="+",
    )
    start = models.DateField(_("公示开始日期"), null=True, blank=True)
    repair_from = models.DateField(_("可申请修复日期"), null=True, blank=True)
    end = models.DateField(
        _("公示结束日期"), null=True, blank=True, help_text=_("自该日起不再公示;为空表示长期。")
    )
    state = models.CharField(_("公示状态"), max_length=16, choices=PublicityState.choices)
    published_at = models.DateTimeField(_("开始公示时间"), null=True, blank=True)
    ended_at = models.DateTimeField(_("停止公示时间"), null=True, blank=True)
    record_version = models.PositiveIntegerField(_("记录版本"), default=1)
    computed_at = models.DateTimeField(_("计算时间"))

    scope_lookups = {"department": "department_id", "district": "subject__region"}

    class Meta:
        verbose_name = _("公示状态")
        verbose_name_plural = _("公示状态")
        indexes = [
            # Subject page: a subject's public records.
            models.Index(fields=["subject", "state"], name="publicity_subject_state"),
            # 双公示 lists, latest first: overall, by department, by category.
            models.Index(
                fields=["-start", "-record"],
                name="publicity_public_start",
                condition=Q(state__in=PUBLIC_STATES),
            ),
            models.Index(
                fields=["department", "-start", "-record"],
                name="publicity_public_dept_start",
                condition=Q(state__in=PUBLIC_STATES),
            ),
            models.Index(
                fields=["category", "-start", "-record"],
                name="publicity_public_cat_start",
                condition=Q(state__in=PUBLIC_STATES),
            ),
            # The daily sweep: running rows by end date, pending rows by start date.
            models.Index(
                fields=["end"],
                name="publicity_running_end",
                condition=Q(state__in=RUNNING_STATES),
            ),
            models.Index(
                fields=["start"],
                name="publicity_pending_start",
                condition=Q(state="pending"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.record_id} {self.get_state_display()}"

    @property
    def last_day(self) -> dt.date | None:
        """The last day the record is shown (公示截止日期), or None when open-ended."""
        return last_public_day(self.end)

    def is_public_on(self, day: dt.date) -> bool:
        return (
            self.state in PUBLIC_STATES
            and self.start is not None
            and self.start <= day
            and (self.end is None or day < self.end)
        )


class PublicityTally(models.Model):
    """Kept counts of the read model: the `Publicity` rows in a public state (PUBLIC_STATES)
    per category × department × month of their start (`month`: its first day), what the
    portal's 数据统计 (双公示 by month and department) adds up instead of scanning the read model.

    Kept with +/- deltas by the read model's writers (`tally`): a refresh (the records flow,
    tier overrides, marks, the rules) moves a row's count from its old key and state to its new
    ones, the daily sweep takes the rows it ends off. "Public today" is these counts less the
    rows still in a public state whose window no longer covers today (the sweep's due rows, or
    a start after today), read through the sweep's partial indexes: `tally.public_by_month`.
    Rebuilt from the read model by `tally.rebuild_publicity_tally`."""

    category = models.ForeignKey(
        "catalog.Category",
        verbose_name=_("信息类别"),
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,  # leads publicitytally_unique
    )
    department = models.ForeignKey(
        "catalog.Department", verbose_name=_("报送部门"), on_delete=models.PROTECT, related_name="+"
    )
    month = models.DateField(_("公示开始月份"), help_text=_("公示开始日期所在月第一天。"))
    n = models.IntegerField(_("公示中条数"), default=0)

    class Meta:
        verbose_name = _("公示计数")
        verbose_name_plural = _("公示计数")
        constraints = [
            models.UniqueConstraint(
                fields=["category", "department", "month"], name="publicitytally_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.category_id} {self.department_id} {self.month:%Y-%m}: {self.n}"


class PublicityEvent(ShardedBySubject):
    """One change of what is shown about a record (state, tier or window), written by refresh,
    the sweep or a tier override. Append-only: the history of publicity."""

    record = models.ForeignKey(
        "records.Record",
        verbose_name=_("信用记录"),
        on_delete=models.CASCADE,
        db_constraint=False,  # as Publicity.record: records are never deleted
        db_index=False,  # leads publicityevent_record
        related_name="publicity_events",
    )
    subject_id = models.BigIntegerField(_("主体"), null=True, blank=True)
    from_state = models.CharField(
        _("原状态"), max_length=16, blank=True, choices=PublicityState.choices
    )
    to_state = models.CharField(_("新状态"), max_length=16, choices=PublicityState.choices)
    tier = models.CharField(_("严重程度"), max_length=8, blank=True, choices=Tier.choices)
    start = models.DateField(_("公示开始日期"), null=True, blank=True)
    end = models.DateField(_("公示结束日期"), null=True, blank=True)
    day = models.DateField(_("生效日期"), help_text=_("按哪一天的日期计算得出。"))
    at = models.DateTimeField(_("时间"))
    reason = models.CharField(_("原因"), max_length=32)

    class Meta:
        verbose_name = _("公示变化记录")
        verbose_name_plural = _("公示变化记录")
        ordering = ["record", "at", "id"]
        indexes = [models.Index(fields=["record", "at"], name="publicityevent_record")]

    def __str__(self) -> str:
        return f"{self.record_id}: {self.from_state or '-'} → {self.to_state}"


class TierOverride(models.Model):
    """A department's explicit tier for a record (a fact with provenance). The latest row not
    revoked applies; revoked rows stay as history."""

    record = models.ForeignKey(
        "records.Record",
        verbose_name=_("信用记录"),
        on_delete=models.CASCADE,
        related_name="tier_overrides",
    )
    tier = models.CharField(_("严重程度"), max_length=8, choices=Tier.choices)
    reason = models.CharField(_("认定理由"), max_length=512)
    set_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("认定人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    set_by_label = models.CharField(_("认定人"), max_length=150)
    department = models.ForeignKey(
        "catalog.Department",
        verbose_name=_("认定部门"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("认定时间"))
    revoked_at = models.DateTimeField(_("撤销时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("严重程度认定")
        verbose_name_plural = _("严重程度认定")
        ordering = ["record", "-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["record"],
                condition=Q(revoked_at__isnull=True),
                name="tieroverride_one_current",
            )
        ]

    def __str__(self) -> str:
        return f"{self.record_id} → {self.get_tier_display()}"


class PublicityMark(models.Model):
    """A later fact that stops or flags publicity: a granted repair (终止公示) or an objection
    under verification (异议处理中). Written by the repair and objection workflows through
    `services.add_mark` / `services.lift_mark`; lifted marks stay as history."""

    class Kind(models.TextChoices):
        REPAIRED = "repaired", _("信用修复")
        OBJECTION = "objection", _("异议处理中")

    record = models.ForeignKey(
        "records.Record",
        verbose_name=_("信用记录"),
        on_delete=models.CASCADE,
        related_name="publicity_marks",
    )
    kind = models.CharField(_("类型"), max_length=12, choices=Kind.choices)
    reason = models.CharField(_("原因"), max_length=512)
    source_type = models.CharField(_("来源类型"), max_length=64, blank=True)
    source_id = models.CharField(_("来源编号"), max_length=64, blank=True)
    created_by_label = models.CharField(_("操作人"), max_length=150)
    created_at = models.DateTimeField(_("时间"))
    lifted_at = models.DateTimeField(_("解除时间"), null=True, blank=True)
    lifted_reason = models.CharField(_("解除原因"), max_length=512, blank=True)

    class Meta:
        verbose_name = _("公示标记")
        verbose_name_plural = _("公示标记")
        ordering = ["record", "-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["record", "kind"],
                condition=Q(lifted_at__isnull=True),
                name="publicitymark_one_open_per_kind",
            )
        ]

    def __str__(self) -> str:
        return f"{self.record_id} {self.get_kind_display()}"
