"""Joint reward and punishment measures (联合奖惩措施) as data, and the check read model.

- `Matter` (事项): the business a window or a system is handling (政府采购, 行政许可审批 …).
- `Measure`: a reward or punishment with its legal basis (required: the national basic list
  allows no punishment without one, brief §5), the class of the national basic list (1/2/3) or
  the incentive category for rewards, what triggers it (list types and/or record conditions),
  the matters it applies to (none = all), and an effective window.
- `SubjectFlags`: one row per subject that has any list entry or negative record that may hit,
  with the facts' validity windows inline, so a credit check is one primary-key read and
  in-memory rules (see applicability.applicable_measures).

The credit check's own models (CreditCheck, CheckFeedback …) live in the separate section at the
end of this file, owned by the checks work.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from pubcredit.core.citus import ShardedBySubject

# The rules engine imports these models only inside its functions, so this is no cycle.
from pubcredit.measures.rules import validate_measure_fields


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
        _("备注"), blank=True, help_text=_("仅管理人员可见。依据或内容待核实时写明待核实的内容。")
    )
    needs_review = models.BooleanField(
        _("待核实"),
        default=False,
        help_text=_(
            "随程序发布的清单中尚未与正式文本核对的措施(待核实的内容见备注);"
            "内容或依据待核实的措施导入时不启用,核实后取消勾选并启用。"
        ),
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


class SubjectFlags(ShardedBySubject):
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
