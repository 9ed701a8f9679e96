"""The information catalogue (信息目录) as data: regions, departments, code lists, categories, fields.

Everything here is loaded from the versioned files in `catalog/data/` by `pubcredit catalog import`
and may be edited in the admin; `pubcredit catalog export` writes the same files back.
"""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext as gettext_now
from django.utils.translation import gettext_lazy as _

from pubcredit.catalog import conditions
from pubcredit.catalog.headers import normalise_header, normalise_value

# Separators between several values in one cell of a multi-value code list (处罚类别).
MULTI_VALUE_SEPARATORS = re.compile(r"[;；、,，/|]+")
# "其他-<具体类型>" for code lists that allow naming another value; accepts 其它 and dash variants.
_OTHER = re.compile(r"^其[他它]\s*[-—–－:：]\s*(?P<what>\S.*)$")


class SubjectKind(models.TextChoices):
    """The three kinds of 行政相对人 in the national standards."""

    ORG = "org", _("法人及非法人组织")
    INDIVIDUAL_BUSINESS = "ind", _("个体工商户")
    PERSON = "person", _("自然人")


class Region(models.Model):
    """An administrative division (GB/T 2260) or a functional zone with a local code."""

    class Level(models.TextChoices):
        PROVINCE = "province", _("省")
        CITY = "city", _("市")
        COUNTY = "county", _("区县")
        ZONE = "zone", _("功能区")

    code = models.CharField(_("区划代码"), max_length=12, primary_key=True)
    name = models.CharField(_("名称"), max_length=64)
    level = models.CharField(_("级别"), max_length=12, choices=Level.choices)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("上级"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    valid_from = models.PositiveSmallIntegerField(_("启用年份"), null=True, blank=True)
    valid_to = models.PositiveSmallIntegerField(_("停用年份"), null=True, blank=True)
    is_gb2260 = models.BooleanField(_("国标代码"), default=True)
    name_history = models.JSONField(
        _("名称沿革"),
        default=list,
        blank=True,
        help_text=_(
            "同一代码先后使用过多个名称时的沿革,"
            '例如 [{"name": "郊区", "valid_from": 1983, "valid_to": 1992}, …];只用过一个名称时为空。'
        ),
    )

    class Meta:
        verbose_name = _("行政区划")
        verbose_name_plural = _("行政区划")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    @property
    def is_district(self) -> bool:
        """A 区县 or 功能区: the unit a district administrator's scope is."""
        return self.level in (self.Level.COUNTY, self.Level.ZONE)


class Department(models.Model):
    """A unit that produces or receives credit information: a municipal department or a
    district/county credit centre."""

    class Level(models.TextChoices):
        CITY = "city", _("市级")
        DISTRICT = "district", _("区县级")

    code = models.CharField(_("部门编码"), max_length=32, unique=True)
    name = models.CharField(_("部门名称"), max_length=128)
    short_name = models.CharField(_("简称"), max_length=64, blank=True)
    uscc = models.CharField(_("统一社会信用代码"), max_length=18, unique=True)
    level = models.CharField(_("层级"), max_length=12, choices=Level.choices)
    district = models.ForeignKey(
        Region,
        verbose_name=_("所在区县"),
        on_delete=models.PROTECT,
        related_name="departments",
        null=True,
        blank=True,
    )
    parent = models.ForeignKey(
        "self",
        verbose_name=_("上级部门"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    submits_for = models.ManyToManyField(
        "self",
        verbose_name=_("可代为报送的单位"),
        symmetrical=False,
        blank=True,
        related_name="submitted_by",
        help_text=_("本部门可以代这些单位报送数据(数据来源单位代码可为这些单位)。"),
    )
    active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("部门")
        verbose_name_plural = _("部门")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class CodeList(models.Model):
    """A code list (代码表), e.g. 处罚类别 or 证件类型."""

    code = models.CharField(_("代码表编码"), max_length=64, unique=True)
    name = models.CharField(_("名称"), max_length=128)
    description = models.TextField(_("说明"), blank=True)
    allow_other = models.BooleanField(
        _("允许“其他-”开头的值"),
        default=False,
        help_text=_("例如证件类型允许“其他-…”并写明具体类型。"),
    )
    multi_value = models.BooleanField(
        _("允许多个值"), default=False, help_text=_("例如一个处罚决定可有多个处罚类别。")
    )

    class Meta:
        verbose_name = _("代码表")
        verbose_name_plural = _("代码表")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    def value_map(self) -> dict[str, str]:
        """Normalised spelling (value, code or synonym of an active item) → canonical value.
        Uses `items.all()`, so prefetch the items (`category_spec` does) to avoid queries."""
        cached = getattr(self, "_value_map", None)
        if cached is None:
            cached = {}
            for item in self.items.all():
                if not item.active:
                    continue
                for spelling in (item.value, item.code, *item.synonyms):
                    if spelling:
                        cached.setdefault(normalise_value(spelling), item.value)
            self._value_map = cached
        return cached

    def _canonical(self, part: str) -> str | None:
        found = self.value_map().get(normalise_value(part))
        if found is not None:
            return found
        if self.allow_other:
            match = _OTHER.match(part.strip())
            if match:
                return "其他-" + match.group("what").strip()
        return None

    def normalise(self, raw) -> list[str]:
        """The canonical values of a cell: [] when empty, one value for a single-value list,
        possibly several for a multi-value list (the whole cell is matched first, then its parts
        split on ；;、,,/|). Raises ValueError with a Chinese message naming what is unknown."""
        text = "" if raw is None else str(raw).strip()
        if not text:
            return []
        whole = self._canonical(text)
        if whole is not None:
            return [whole]
        if not self.multi_value:
            raise ValueError(
                gettext_now("“%(value)s”不是代码表“%(name)s”中的值")
                % {"value": text, "name": self.name}
            )
        out: list[str] = []
        unknown: list[str] = []
        for part in MULTI_VALUE_SEPARATORS.split(text):
            if not part.strip():
                continue
            value = self._canonical(part)
            if value is None:
                unknown.append(part.strip())
            elif value not in out:
                out.append(value)
        if unknown:
            raise ValueError(
                gettext_now("“%(value)s”不是代码表“%(name)s”中的值")
                % {"value": "、".join(unknown), "name": self.name}
            )
        return out


class CodeItem(models.Model):
    codelist = models.ForeignKey(
        CodeList, verbose_name=_("代码表"), on_delete=models.CASCADE, related_name="items"
    )
    value = models.CharField(_("标准值"), max_length=128)
    code = models.CharField(_("代码"), max_length=32, blank=True)
    synonyms = models.JSONField(
        _("同义词/旧称"),
        default=list,
        blank=True,
        help_text=_("导入时映射到标准值的写法,例如 2021 年以前的处罚类别名称。"),
    )
    description = models.CharField(_("说明"), max_length=255, blank=True)
    sort_order = models.PositiveIntegerField(_("排序"), default=0)
    active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("代码项")
        verbose_name_plural = _("代码项")
        ordering = ["codelist", "sort_order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["codelist", "value"], name="codeitem_unique_value")
        ]

    def __str__(self) -> str:
        return self.value


class PublicityClass(models.TextChoices):
    PUBLIC = "public", _("公开")
    SHARED = "shared", _("共享")
    AUTHORISED = "authorised", _("授权查询")


class Category(models.Model):
    """An information category (信息类别) such as 行政许可 (XK), 行政处罚 (CF) or 信用承诺 (CN)."""

    code = models.CharField(_("类别编码"), max_length=32, unique=True)
    name = models.CharField(_("类别名称"), max_length=128)
    catalogue_class = models.PositiveSmallIntegerField(
        _("基础目录大类"), help_text=_("《全国公共信用信息基础目录》的 11 个大类之一(1–11)。")
    )
    parent = models.ForeignKey(
        "self",
        verbose_name=_("上级类别"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    subject_kinds = models.JSONField(
        _("适用主体"), default=list, help_text=_("org / ind / person 的列表。")
    )
    publicity_class = models.CharField(
        _("公开属性"), max_length=16, choices=PublicityClass.choices, default=PublicityClass.PUBLIC
    )
    business_key = models.JSONField(
        _("业务主键字段"),
        default=list,
        blank=True,
        help_text=_("在同一类别、同一部门内唯一确定一条记录的字段编码。"),
    )
    legacy_prefix = models.CharField(_("旧字段前缀"), max_length=16, blank=True)
    standard = models.CharField(_("依据标准"), max_length=255, blank=True)
    description = models.TextField(_("说明"), blank=True)
    sort_order = models.PositiveIntegerField(_("排序"), default=0)
    fields_complete = models.BooleanField(
        _("字段已完整定义"), default=False, help_text=_("大类占位的类别在字段补齐前不能接收数据。")
    )
    active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("信息类别")
        verbose_name_plural = _("信息类别")
        ordering = ["catalogue_class", "sort_order", "code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    def header_map(self) -> dict[str, Field]:
        """Normalised header spelling (code, legacy code, name or synonym) → field. Uses
        `fields.all()`, so prefetch the fields (`category_spec` does). The catalogue checks
        guarantee that no spelling belongs to two fields of one category."""
        cached = getattr(self, "_header_map", None)
        if cached is None:
            cached = {}
            for field in self.fields.all():
                for key in field.header_keys():
                    cached.setdefault(key, field)
            self._header_map = cached
        return cached

    def field_by_role(self, role: str) -> Field | None:
        """The field with the given semantic role (subject_name, decision_date, …), if any."""
        return next((f for f in self.fields.all() if f.role == role), None)


class Field(models.Model):
    """A data item of a category, with everything intake needs to map, clean and validate it."""

    class Type(models.TextChoices):
        STRING = "string", _("字符串")
        TEXT = "text", _("长文本")
        DATE = "date", _("日期")
        DECIMAL = "decimal", _("小数")
        INTEGER = "integer", _("整数")
        USCC = "uscc", _("统一社会信用代码")
        ID_NUMBER = "id_number", _("证件号码")
        CODE = "code", _("代码值")

    class Requirement(models.TextChoices):
        REQUIRED = "required", _("必填")
        CONDITIONAL = "conditional", _("条件必填")
        OPTIONAL = "optional", _("选填")

    class Disclosure(models.TextChoices):
        PUBLIC = "public", _("公开")
        MASKED = "masked", _("脱敏公开")
        HIDDEN = "hidden", _("不公开")

    category = models.ForeignKey(
        Category, verbose_name=_("信息类别"), on_delete=models.CASCADE, related_name="fields"
    )
    code = models.CharField(
        _("字段编码"), max_length=64, help_text=_("全国标准的字段代码,例如 CF_WSH。")
    )
    name = models.CharField(_("字段名称"), max_length=128)
    type = models.CharField(_("类型"), max_length=16, choices=Type.choices, default=Type.STRING)
    requirement = models.CharField(
        _("必填性"), max_length=16, choices=Requirement.choices, default=Requirement.OPTIONAL
    )
    condition = models.JSONField(
        _("条件"),
        null=True,
        blank=True,
        help_text=_(
            '条件成立时本项必填。例如 {"field": "CF_XDR_LB", "in": ["法人及非法人组织", "个体工商户"]};'
            '{"field": "CN_LXZT", "not_in": ["全部履行"]};{"field": "XK_XKBH", "filled": false};'
            '可用 {"all": [...]}、{"any": [...]} 组合。'
        ),
    )
    max_length = models.PositiveIntegerField(_("最大长度"), null=True, blank=True)
    exact_length = models.PositiveIntegerField(_("固定长度"), null=True, blank=True)
    decimal_places = models.PositiveSmallIntegerField(_("小数位数"), null=True, blank=True)
    unit = models.CharField(_("单位"), max_length=16, blank=True)
    codelist = models.ForeignKey(
        CodeList,
        verbose_name=_("代码表"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="fields",
    )
    legacy_codes = models.JSONField(_("旧字段代码"), default=list, blank=True)
    synonyms = models.JSONField(_("表头同义词"), default=list, blank=True)
    role = models.CharField(
        _("语义角色"),
        max_length=32,
        blank=True,
        help_text=_(
            "跨类别的通用含义,供归集和核查使用,例如 subject_name、subject_kind、subject_uscc、"
            "subject_id_number、decision_date、valid_from、valid_to、source_department_uscc。"
        ),
    )
    disclosure = models.CharField(
        _("公开方式"), max_length=12, choices=Disclosure.choices, default=Disclosure.PUBLIC
    )
    description = models.CharField(_("说明"), max_length=512, blank=True)
    sort_order = models.PositiveIntegerField(_("排序"), default=0)

    class Meta:
        verbose_name = _("数据项")
        verbose_name_plural = _("数据项")
        ordering = ["category", "sort_order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["category", "code"], name="field_unique_code")
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    def header_keys(self) -> list[str]:
        """The normalised spellings a column header may use for this field, without duplicates."""
        keys: list[str] = []
        for spelling in (self.code, *self.legacy_codes, self.name, *self.synonyms):
            key = normalise_header(spelling)
            if key and key not in keys:
                keys.append(key)
        return keys

    def is_required(self, values) -> bool:
        """Whether this field must be filled in a record with these (normalised) values."""
        if self.requirement == self.Requirement.REQUIRED:
            return True
        if self.requirement == self.Requirement.CONDITIONAL:
            return conditions.evaluate(self.condition, values)
        return False


class ReportingDuty(models.Model):
    """A reporting duty (报送责任): which department must report which category, through which
    channel, at what rhythm and by when. Versioned by effective date: a change of rule is a new
    row from its `effective_from`, the old row ending the day before (`effective_to`).

    Rhythms: `within` — each record within `workdays` working days of its decision date (双公示:
    7, counted on the holiday table); `monthly` — the month's records by the `monthday`-th working
    day of the following month."""

    class Channel(models.TextChoices):
        FILE = "file", _("文件")
        API = "api", _("接口")
        ANY = "any", _("文件或接口")

    class Rhythm(models.TextChoices):
        WITHIN = "within", _("决定后若干个工作日内")
        MONTHLY = "monthly", _("按月(次月第若干个工作日前)")

    department = models.ForeignKey(
        Department, verbose_name=_("报送部门"), on_delete=models.PROTECT, related_name="duties"
    )
    category = models.ForeignKey(
        Category, verbose_name=_("信息类别"), on_delete=models.PROTECT, related_name="duties"
    )
    channel = models.CharField(
        _("报送渠道"), max_length=8, choices=Channel.choices, default=Channel.ANY
    )
    rhythm = models.CharField(_("报送频次"), max_length=8, choices=Rhythm.choices)
    workdays = models.PositiveSmallIntegerField(
        _("期限(工作日)"),
        null=True,
        blank=True,
        help_text=_("“决定后若干个工作日内”时:自决定日期起的工作日数,双公示为 7。"),
    )
    monthday = models.PositiveSmallIntegerField(
        _("次月第几个工作日"),
        null=True,
        blank=True,
        help_text=_("“按月”时:当月数据须在次月第几个工作日(含)前报送。"),
    )
    effective_from = models.DateField(_("生效日期"))
    effective_to = models.DateField(_("失效日期"), null=True, blank=True)
    note = models.CharField(_("说明"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("报送责任")
        verbose_name_plural = _("报送责任")
        ordering = ["department__code", "category__code", "effective_from"]
        constraints = [
            models.UniqueConstraint(
                fields=["department", "category", "effective_from"], name="duty_unique_version"
            ),
            models.CheckConstraint(
                condition=(models.Q(rhythm="within", workdays__gte=1))
                | (models.Q(rhythm="monthly", monthday__gte=1, monthday__lte=23)),
                name="duty_rhythm_parameters",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.department} {self.category.code}"

    def clean(self) -> None:
        if self.rhythm == self.Rhythm.WITHIN and not self.workdays:
            raise ValidationError({"workdays": gettext_now("按决定日期报送的责任须填写工作日数")})
        if self.rhythm == self.Rhythm.MONTHLY and not self.monthday:
            raise ValidationError({"monthday": gettext_now("按月报送的责任须填写次月第几个工作日")})
        if self.effective_to and self.effective_to < self.effective_from:
            raise ValidationError({"effective_to": gettext_now("失效日期不能早于生效日期")})
