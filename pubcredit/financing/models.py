"""信易贷 models: institutions and their staff, credit products, enterprise accounts bound to
their subject, financing demands, authorisations (授权书), matching rules (data), profile views
(the log the enterprise reads) and loan outcomes."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from pubcredit.core.citus import ShardedBySubject

# Grades of the general scorecards, best first (the bands of every shipped scorecard are A–D):
# a product's minimum grade admits its own grade and every better one.
GRADES = ("A", "B", "C", "D")


class FinancialInstitution(models.Model):
    name = models.CharField(_("机构名称"), max_length=128, unique=True)
    uscc = models.CharField(_("统一社会信用代码"), max_length=18, unique=True)
    contact = models.CharField(_("联系人及电话"), max_length=128, blank=True)
    active = models.BooleanField(_("有效"), default=True)
    created_at = models.DateTimeField(_("登记时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("金融机构")
        verbose_name_plural = _("金融机构")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class InstitutionMember(models.Model):
    """A 金融机构用户 account (a person or a system key) acting for one institution."""

    institution = models.ForeignKey(
        FinancialInstitution,
        verbose_name=_("金融机构"),
        on_delete=models.PROTECT,
        related_name="members",
    )
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("用户"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="financing_membership",
    )
    api_key = models.OneToOneField(
        "accounts.ApiKey",
        verbose_name=_("接口密钥"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="financing_membership",
    )

    class Meta:
        verbose_name = _("金融机构人员")
        verbose_name_plural = _("金融机构人员")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(user__isnull=False, api_key__isnull=True)
                | models.Q(user__isnull=True, api_key__isnull=False),
                name="financing_member_user_xor_key",
            )
        ]

    def __str__(self) -> str:
        return f"{self.institution} · {self.user or self.api_key}"

    def clean(self):
        from django.core.exceptions import ValidationError

        holder = self.user if self.user_id else self.api_key if self.api_key_id else None
        if holder is None or (self.user_id and self.api_key_id):
            raise ValidationError(_("请选择一个用户或一个接口密钥。"))
        if holder.role != "bank_user":
            raise ValidationError(_("只有金融机构用户角色的账号或密钥可以关联金融机构。"))


class GuaranteeType(models.TextChoices):
    CREDIT = "credit", _("信用")
    GUARANTEE = "guarantee", _("保证")
    MORTGAGE = "mortgage", _("抵押")
    PLEDGE = "pledge", _("质押")


class CreditProduct(models.Model):
    institution = models.ForeignKey(
        FinancialInstitution,
        verbose_name=_("金融机构"),
        on_delete=models.PROTECT,
        related_name="products",
    )
    name = models.CharField(_("产品名称"), max_length=128)
    amount_min = models.DecimalField(_("最低额度(万元)"), max_digits=12, decimal_places=2)
    amount_max = models.DecimalField(_("最高额度(万元)"), max_digits=12, decimal_places=2)
    rate_min = models.DecimalField(_("最低年利率(%)"), max_digits=5, decimal_places=2)
    rate_max = models.DecimalField(_("最高年利率(%)"), max_digits=5, decimal_places=2)
    term_months = models.PositiveIntegerField(_("最长期限(月)"))
    guarantee = models.CharField(
        _("担保方式"), max_length=16, choices=GuaranteeType.choices, default=GuaranteeType.CREDIT
    )
    # Industry 门类 codes (GB/T 4754, one letter each) written ",C,F,"; empty = every sector.
    target_sectors = models.CharField(_("适用行业"), max_length=64, blank=True, default="")
    min_grade = models.CharField(
        _("最低信用等级"),
        max_length=1,
        blank=True,
        default="",
        choices=[(g, g) for g in GRADES],
        help_text=_("空表示不限等级(含未评价的企业)。"),
    )
    active = models.BooleanField(_("上架"), default=True)
    created_at = models.DateTimeField(_("发布时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("信贷产品")
        verbose_name_plural = _("信贷产品")
        ordering = ["institution__name", "name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(amount_min__lte=models.F("amount_max"))
                & models.Q(rate_min__lte=models.F("rate_max")),
                name="financing_product_ranges",
            )
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self):
        from django.core.exceptions import ValidationError

        codes = sorted({c.strip().upper() for c in self.target_sectors.split(",") if c.strip()})
        if any(len(c) != 1 or not "A" <= c <= "T" for c in codes):
            raise ValidationError({"target_sectors": _("适用行业须为门类代码 A–T,以逗号分隔。")})
        self.target_sectors = ("," + ",".join(codes) + ",") if codes else ""

    @property
    def sectors(self) -> list[str]:
        return [s for s in self.target_sectors.split(",") if s]


class BindingStatus(models.TextChoices):
    PENDING = "pending", _("待审核")
    APPROVED = "approved", _("已通过")
    REJECTED = "rejected", _("未通过")


class EnterpriseBinding(ShardedBySubject):
    """An 企业用户 account's claim to act for the subject with a USCC; the centre approves it
    (no SMS on an intranet). At most one approved binding per account."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("企业账号"),
        on_delete=models.CASCADE,
        related_name="enterprise_bindings",
    )
    subject = models.ForeignKey(
        "subjects.Subject", verbose_name=_("主体"), on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(
        _("状态"), max_length=16, choices=BindingStatus.choices, default=BindingStatus.PENDING
    )
    note = models.CharField(_("审核意见"), max_length=256, blank=True)
    requested_at = models.DateTimeField(_("申请时间"), auto_now_add=True)
    decided_at = models.DateTimeField(_("审核时间"), null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("审核人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("企业账号绑定")
        verbose_name_plural = _("企业账号绑定")
        constraints = [
            models.UniqueConstraint(
                fields=["user"],
                condition=models.Q(status="approved"),
                name="financing_one_approved_binding",
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} → {self.subject_id}"


class DemandStatus(models.TextChoices):
    OPEN = "open", _("对接中")
    GRANTED = "granted", _("已放款")
    CLOSED = "closed", _("已关闭")


class FinancingDemand(ShardedBySubject):
    subject = models.ForeignKey(
        "subjects.Subject", verbose_name=_("企业"), on_delete=models.PROTECT, related_name="+"
    )
    amount = models.DecimalField(_("融资金额(万元)"), max_digits=12, decimal_places=2)
    term_months = models.PositiveIntegerField(_("期限(月)"))
    purpose = models.CharField(_("用途"), max_length=256)
    sector = models.CharField(_("所属行业(门类)"), max_length=1)
    status = models.CharField(
        _("状态"), max_length=16, choices=DemandStatus.choices, default=DemandStatus.OPEN
    )
    posted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("发布人"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    posted_at = models.DateTimeField(_("发布时间"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("融资需求")
        verbose_name_plural = _("融资需求")
        ordering = ["-posted_at", "-pk"]
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="financing_demand_amount")
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.amount}"


class DataScope(models.TextChoices):
    RECORDS = "records", _("信用记录")
    LISTS = "lists", _("信用名单")
    COMMITMENTS = "commitments", _("信用承诺")
    GRADE = "grade", _("信用等级")


class Authorisation(ShardedBySubject):
    """授权书: the enterprise lets institutions (all, or those listed) see the scopes of its
    credit profile until `valid_until`; revoking takes effect at once."""

    subject = models.ForeignKey(
        "subjects.Subject", verbose_name=_("企业"), on_delete=models.PROTECT, related_name="+"
    )
    scopes = models.JSONField(_("授权数据范围"), default=list)
    all_institutions = models.BooleanField(_("全部金融机构"), default=False)
    institutions = models.ManyToManyField(
        FinancialInstitution, verbose_name=_("授权金融机构"), blank=True, related_name="+"
    )
    valid_until = models.DateTimeField(_("有效期至"))
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("授权人"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    granted_at = models.DateTimeField(_("授权时间"), auto_now_add=True)
    revoked_at = models.DateTimeField(_("撤销时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("授权书")
        verbose_name_plural = _("授权书")
        ordering = ["-granted_at", "-pk"]

    def __str__(self) -> str:
        return f"#{self.pk} {self.subject_id}"


class MatchingRule(models.Model):
    """One condition a product and a demand must meet to match; the set in force is data (the
    centre switches rules on or off). `code` names the comparison (see financing.matching)."""

    code = models.CharField(_("规则编码"), max_length=16, unique=True)
    name = models.CharField(_("规则名称"), max_length=64)
    active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("匹配规则")
        verbose_name_plural = _("匹配规则")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class ProfileView(ShardedBySubject):
    """One look by an institution at an enterprise's credit profile (the enterprise reads
    these)."""

    institution = models.ForeignKey(
        FinancialInstitution, verbose_name=_("金融机构"), on_delete=models.PROTECT, related_name="+"
    )
    viewer_label = models.CharField(_("查看人"), max_length=150)
    subject = models.ForeignKey(
        "subjects.Subject", verbose_name=_("企业"), on_delete=models.PROTECT, related_name="+"
    )
    authorisation = models.ForeignKey(
        Authorisation, verbose_name=_("依据授权书"), on_delete=models.PROTECT, related_name="views"
    )
    demand = models.ForeignKey(
        FinancingDemand,
        verbose_name=_("融资需求"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    scopes = models.JSONField(_("查看内容"), default=list)
    at = models.DateTimeField(_("查看时间"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("信用档案查看记录")
        verbose_name_plural = _("信用档案查看记录")
        ordering = ["-at", "-pk"]

    def __str__(self) -> str:
        return f"{self.viewer_label} → {self.subject_id}"


class OutcomeKind(models.TextChoices):
    ACCEPTED = "accepted", _("受理")
    GRANTED = "granted", _("放款")
    REJECTED = "rejected", _("拒绝")


class Outcome(models.Model):
    demand = models.ForeignKey(
        FinancingDemand,
        verbose_name=_("融资需求"),
        on_delete=models.PROTECT,
        related_name="outcomes",
    )
    institution = models.ForeignKey(
        FinancialInstitution, verbose_name=_("金融机构"), on_delete=models.PROTECT, related_name="+"
    )
    product = models.ForeignKey(
        CreditProduct,
        verbose_name=_("信贷产品"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    kind = models.CharField(_("结果"), max_length=16, choices=OutcomeKind.choices)
    amount = models.DecimalField(
        _("放款金额(万元)"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    rate = models.DecimalField(
        _("年利率(%)"), max_digits=5, decimal_places=2, null=True, blank=True
    )
    granted_on = models.DateField(_("放款日期"), null=True, blank=True)
    reason = models.CharField(_("拒绝理由"), max_length=256, blank=True)
    recorded_by = models.CharField(_("登记人"), max_length=150)
    recorded_at = models.DateTimeField(_("登记时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("对接结果")
        verbose_name_plural = _("对接结果")
        ordering = ["-recorded_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(kind="granted")
                | models.Q(amount__gt=0, rate__isnull=False, granted_on__isnull=False),
                name="financing_outcome_granted_has_terms",
            ),
            models.CheckConstraint(
                condition=~models.Q(kind="rejected") | ~models.Q(reason=""),
                name="financing_outcome_rejected_has_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} #{self.demand_id}"
