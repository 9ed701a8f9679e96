"""Credit evaluation (信用评价): scorecards as versioned data, and the explained results.

- `Scorecard`: what is evaluated and for whom: 公共信用综合评价 (organisations and 个体工商户),
  个人信用积分 (natural persons, never public), sector scorecards (家政服务, 建筑市场). Its
  identity and presentation (name, subject kinds, public or not, sector, description) may be
  edited; how points are given may not: that is a version.
- `ScorecardVersion`: the scoring definition in force from `effective_from` (through
  `effective_to`, when given): base points, indicators, grade bands, direct-downgrade rules
  (`definition`, parsed and checked by `scoring.definition`). A version is frozen once a result
  refers to it: the admin refuses to edit it (a change is a new version) and `save()` refuses
  to change its definition. The version in force on a day is the highest-numbered one whose
  window holds the day.
- `ScoreResult`: one evaluation of one subject under one version: score, grade, and every
  contribution ([{"indicator", "points", "source"}], plus "grade_cap" for a direct downgrade;
  the indicator's name, dimension and policy basis are read from the frozen version when
  explained, `services.explain`). Results are never updated in place: when a recomputation
  gives another score, grade, version or contribution, the current row stops being current and
  a new one is written, so earlier rows are the subject's grade history. A partial unique index
  keeps one current row per subject × scorecard.

Grades decided by other authorities (纳税信用等级, 社会组织评估等级) are not scorecards: they are
catalogue categories read as given (`scoring.grades`).
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from pubcredit.core.citus import ShardedBySubject
from pubcredit.scoring.definition import (
    DefinitionError,
    card_problems,
    definition_digest,
    parse_definition,
)

FROZEN_MESSAGE = _("该评价版本已有评价结果引用,不能修改;如需调整,请新增一个版本。")


class Scorecard(models.Model):
    code = models.CharField(
        _("评价编码"), max_length=32, unique=True, help_text=_("稳定的英文编码,例如 SCORE_PUBLIC。")
    )
    name = models.CharField(_("评价名称"), max_length=128)
    subject_kinds = models.JSONField(
        _("适用主体"), default=list, help_text=_("org / ind / person 的列表。")
    )
    public = models.BooleanField(
        _("向社会公开"),
        default=False,
        help_text=_("评价结果是否可在门户网站公开;个人信用积分从不公开。"),
    )
    sector = models.CharField(
        _("行业编码"), max_length=32, blank=True, help_text=_("行业信用评价填写;为空表示综合评价。")
    )
    sector_name = models.CharField(_("行业名称"), max_length=64, blank=True)
    description = models.TextField(_("说明"), blank=True)
    active = models.BooleanField(_("启用"), default=True)
    sort_order = models.PositiveIntegerField(_("排序"), default=0)
    note = models.TextField(_("备注"), blank=True, help_text=_("仅管理人员可见。"))
    needs_review = models.BooleanField(
        _("待核实"),
        default=False,
        help_text=_("随程序发布的评价中尚未与正式文本核对的内容(见备注);核实后取消勾选。"),
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("信用评价")
        verbose_name_plural = _("信用评价")
        ordering = ["sort_order", "code"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        problems = card_problems(
            {"subject_kinds": self.subject_kinds, "public": self.public, "code": self.code}
        )
        if problems:
            raise ValidationError(problems)


class ScorecardVersion(models.Model):
    scorecard = models.ForeignKey(
        Scorecard, verbose_name=_("信用评价"), on_delete=models.PROTECT, related_name="versions"
    )
    version = models.PositiveIntegerField(_("版本号"))
    effective_from = models.DateField(_("生效日期"))
    effective_to = models.DateField(
        _("失效日期"), null=True, blank=True, help_text=_("含当日;为空表示直至被新版本取代。")
    )
    base_points = models.DecimalField(_("基础分"), max_digits=9, decimal_places=2)
    definition = models.JSONField(
        _("评价规则"),
        help_text=_(
            "指标(indicators)、等级划分(bands)、直接降级规则(downgrades)等,格式见 "
            "pubcredit/scoring/definition.py。"
        ),
    )
    basis = models.TextField(_("政策依据"), blank=True)
    digest = models.CharField(_("规则摘要"), max_length=64, editable=False)
    source_file = models.CharField(_("来源文件"), max_length=128, blank=True, editable=False)
    note = models.TextField(_("备注"), blank=True, help_text=_("仅管理人员可见。"))
    needs_review = models.BooleanField(_("待核实"), default=False)
    in_use_since = models.DateTimeField(
        _("首次使用时间"),
        null=True,
        blank=True,
        editable=False,
        help_text=_("首个评价结果写入的时间;此后版本不可修改。"),
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("评价版本")
        verbose_name_plural = _("评价版本")
        ordering = ["scorecard", "-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["scorecard", "version"], name="scorecardversion_unique"
            ),
            models.CheckConstraint(
                condition=Q(effective_to__isnull=True)
                | Q(effective_to__gte=models.F("effective_from")),
                name="scorecardversion_effective_order",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.scorecard} v{self.version}"

    # What results depend on: frozen once any result refers to the version.
    FROZEN_FIELDS = ("scorecard_id", "version", "effective_from", "base_points", "definition")

    def save(self, *args, **kwargs):
        self._refuse_frozen_change()
        self.digest = definition_digest(self.definition, self.base_points, self.effective_from)
        super().save(*args, **kwargs)

    def clean(self) -> None:
        self._refuse_frozen_change()
        try:
            parse_definition(self.definition, base_points=self.base_points)
        except DefinitionError as exc:
            raise ValidationError({"definition": exc.problems}) from None

    def _refuse_frozen_change(self) -> None:
        if self.pk is None or not self.frozen:
            return
        stored = ScorecardVersion.objects.get(pk=self.pk)
        if any(getattr(stored, f) != getattr(self, f) for f in self.FROZEN_FIELDS):
            raise ValidationError(FROZEN_MESSAGE)

    @property
    def frozen(self) -> bool:
        """Whether a result refers to this version (the engine sets `in_use_since` in the
        transaction that writes the first one)."""
        if self.pk is None:
            return False
        return ScorecardVersion.objects.filter(pk=self.pk, in_use_since__isnull=False).exists()

    def applies_on(self, day) -> bool:
        return self.effective_from <= day and (
            self.effective_to is None or day <= self.effective_to
        )


class ScoreResult(ShardedBySubject):
    """One evaluation of a subject (see the module docstring). Written only by the engine."""

    subject = models.ForeignKey(
        "subjects.Subject",
        verbose_name=_("主体"),
        on_delete=models.PROTECT,
        related_name="+",
        db_constraint=False,  # the engine writes ids it read from the register in bulk
        db_index=False,  # leads scoreresult_subject
    )
    scorecard = models.ForeignKey(
        Scorecard, verbose_name=_("信用评价"), on_delete=models.PROTECT, related_name="+"
    )
    version = models.ForeignKey(
        ScorecardVersion,
        verbose_name=_("评价版本"),
        on_delete=models.PROTECT,
        related_name="results",
        db_index=False,  # frozen versions are marked (in_use_since), not looked up here
    )
    score = models.DecimalField(_("分值"), max_digits=9, decimal_places=2)
    grade = models.CharField(_("等级"), max_length=8)
    points_grade = models.CharField(
        _("按分值的等级"), max_length=8, help_text=_("直接降级之前按分值确定的等级。")
    )
    as_of = models.DateField(_("评价基准日"))
    computed_at = models.DateTimeField(_("计算时间"))
    contributions = models.JSONField(_("得分明细"), default=list)
    current = models.BooleanField(_("当前结果"), default=True)

    scope_lookups = {"department": "*", "district": "subject__region"}

    class Meta:
        verbose_name = _("评价结果")
        verbose_name_plural = _("评价结果")
        ordering = ["subject", "scorecard", "-computed_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["subject", "scorecard"],
                condition=Q(current=True),
                name="scoreresult_one_current",
            ),
        ]
        indexes = [
            # A subject's history (and the current row of grades_for).
            models.Index(
                fields=["subject", "scorecard", "-computed_at"], name="scoreresult_subject"
            ),
            # Supervision lists and statistics: the current grades of one scorecard.
            models.Index(
                fields=["scorecard", "grade"],
                name="scoreresult_current_grade",
                condition=Q(current=True),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.subject_id} {self.scorecard_id} {self.grade}"


# --------------------------------------------------------------------------- 分级分类监管


class InspectionRatio(models.Model):
    """分级分类监管: the share of a scorecard's subjects of one grade that 双随机 inspections
    sample, in percent (e.g. A 3, B 10, C 30, D 100), in force from `effective_from` (through
    `effective_to`, when given). Versioned by date like the scorecards: a new ratio is a new row
    with a later `effective_from`; the one in force on a day is the row of the latest start
    whose window holds the day (`scoring.supervision.ratios_in_force`). Shipped in
    `scoring/data/supervision.json`, editable in the admin (audited)."""

    scorecard = models.ForeignKey(
        Scorecard,
        verbose_name=_("信用评价"),
        on_delete=models.PROTECT,
        related_name="inspection_ratios",
    )
    grade = models.CharField(_("等级"), max_length=8)
    ratio = models.DecimalField(
        _("抽查比例(%)"),
        max_digits=5,
        decimal_places=2,
        help_text=_("双随机抽查时该等级主体的抽查比例,百分数,0–100。"),
    )
    effective_from = models.DateField(_("生效日期"))
    effective_to = models.DateField(
        _("失效日期"), null=True, blank=True, help_text=_("含当日;为空表示直至被新比例取代。")
    )
    basis = models.TextField(_("政策依据"), blank=True)
    note = models.TextField(_("备注"), blank=True, help_text=_("仅管理人员可见。"))
    needs_review = models.BooleanField(_("待核实"), default=False)
    source_file = models.CharField(_("来源文件"), max_length=128, blank=True, editable=False)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("抽查比例")
        verbose_name_plural = _("抽查比例")
        ordering = ["scorecard", "-effective_from", "grade"]
        constraints = [
            models.UniqueConstraint(
                fields=["scorecard", "grade", "effective_from"], name="inspectionratio_unique"
            ),
            models.CheckConstraint(
                condition=Q(ratio__gte=0) & Q(ratio__lte=100), name="inspectionratio_percent"
            ),
            models.CheckConstraint(
                condition=Q(effective_to__isnull=True)
                | Q(effective_to__gte=models.F("effective_from")),
                name="inspectionratio_effective_order",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.scorecard} {self.grade} {self.ratio}%"

    def clean(self) -> None:
        if not self.scorecard_id:
            return
        grades: set[str] = set()
        for version in self.scorecard.versions.all():  # a few rows
            defn = parse_definition(version.definition, base_points=version.base_points)
            grades |= set(defn.grades)
        if grades and self.grade not in grades:
            raise ValidationError(
                {
                    "grade": _("该信用评价没有 %(g)s 级(可选:%(all)s)。")
                    % {"g": self.grade, "all": "、".join(sorted(grades))}
                }
            )


class SupervisionField(models.Model):
    """A department's field (监管领域): which evaluated subjects are in its supervision list.

    Under a scorecard S, the field of department D is
    - every organisation and 个体工商户 evaluated under S, when S is one of D's `scorecards`
      (市场监管: the public scorecard, i.e. every market subject; 商务: 家政服务; 住建: 建筑市场);
    - else, when `by_reports`: the subjects evaluated under S for which D reported an active
      record or identified a published list entry (the subjects D itself has dealt with).
    A department without a row has no scorecards and `by_reports` on. Its list's default
    scorecard is the first of `scorecards`, else the general scorecard of organisations.
    Shipped in `scoring/data/supervision.json`, editable in the admin (audited)."""

    department = models.OneToOneField(
        "catalog.Department",
        verbose_name=_("部门"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    scorecards = models.JSONField(
        _("监管的信用评价"),
        default=list,
        blank=True,
        help_text=_(
            "信用评价编码的列表:该评价的全部法人和非法人组织、个体工商户均属本部门监管领域;"
            "第一个为本部门监管名单的默认评价。"
        ),
    )
    by_reports = models.BooleanField(
        _("含本部门报送的主体"),
        default=True,
        help_text=_("本部门报送过有效信用记录或认定过名单条目的主体也属本部门监管领域。"),
    )
    note = models.TextField(_("备注"), blank=True, help_text=_("仅管理人员可见。"))
    needs_review = models.BooleanField(_("待核实"), default=False)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("部门监管领域")
        verbose_name_plural = _("部门监管领域")
        ordering = ["department"]

    def __str__(self) -> str:
        return str(self.department)

    def clean(self) -> None:
        codes = self.scorecards
        if not isinstance(codes, list) or not all(isinstance(c, str) for c in codes):
            raise ValidationError({"scorecards": _("应为信用评价编码的列表。")})
        known = set(Scorecard.objects.filter(code__in=codes).values_list("code", flat=True))
        unknown = [c for c in codes if c not in known]
        if unknown:
            raise ValidationError(
                {"scorecards": _("没有这些信用评价:%(codes)s") % {"codes": ", ".join(unknown)}}
            )
