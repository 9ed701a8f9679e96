"""Credit commitments (信用承诺): one row per 承诺编码, its history, and the serial counters that
allocate the codes.

A `Commitment` carries the national template's items (brief §1.5): who promised (承诺人 name,
kind and code), what kind of promise (承诺类型), the reason, content and the liability accepted
for a breach, when it was made and until when it holds, who accepted it (受理单位) and how
widely it may be published (公开类型), and its fulfilment (承诺履行状态) once the accepting
department has assessed it. Until then the fulfilment is 待认定, a state of ours that the
national template does not have.

Personal data: for a natural person only the masked 身份证号 (first 6 + last 4) is stored as the
committer's code, never the clear number (a check constraint refuses an unmasked one); the
signer's name and telephone are kept for the accepting department and never published.

Every change writes a `CommitmentEvent` (append-only history) and an audit event through the
app's services (`signing`, `assessment`, and `services` for commitments arriving through intake);
nothing edits a commitment by hand.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from pubcredit.catalog.models import SubjectKind
from pubcredit.core.citus import ShardedBySubject


class CommitmentType(models.TextChoices):
    """The catalogue code list `commitment_type` (全国信用承诺信息模板)."""

    APPROVAL = "审批替代型", _("审批替代型")
    TOLERANT = "容缺受理型", _("容缺受理型")
    CERTIFICATION = "证明事项型", _("证明事项型")
    REPAIR = "信用修复型", _("信用修复型")
    SELF_DISCIPLINE = "行业自律型", _("行业自律型")
    VOLUNTARY = "主动型", _("主动型")
    OTHER = "其他", _("其他")


class Performance(models.TextChoices):
    """承诺履行状态: 待认定 (ours, before any assessment), then the three national values."""

    PENDING = "待认定", _("待认定")
    FULL = "全部履行", _("全部履行")
    PARTIAL = "部分履行", _("部分履行")
    NONE = "全部未履行", _("全部未履行")


# The national values an assessment may set, and those that are a breach (违诺).
ASSESSED = (Performance.FULL, Performance.PARTIAL, Performance.NONE)
BREACHES = (Performance.PARTIAL, Performance.NONE)


class PublicityType(models.TextChoices):
    """公开类型 (catalogue code list `publicity_type`)."""

    PUBLIC = "可向社会公开", _("可向社会公开")
    RESTRICTED = "特定范围内公开", _("特定范围内公开")
    NOT_PUBLIC = "不可公开", _("不可公开")


class CommitmentSource(models.TextChoices):
    ONLINE = "online", _("网上签署")
    INTAKE = "intake", _("部门归集")
    WINDOW = "window", _("窗口受理")


def _letter_path(instance, filename: str) -> str:
    made = instance.made_on
    return f"commitments/{made:%Y}/{made:%m}/{instance.code}.pdf"


class Commitment(ShardedBySubject):
    scope_lookups = {"department": "department_id", "district": "subject__region"}

    code = models.CharField(
        _("承诺编码"),
        max_length=20,
        unique=True,
        help_text=_("20 位:受理地 6 位行政区划代码 + 8 位日期(YYYYMMDD)+ 6 位流水号。"),
    )
    subject = models.ForeignKey(
        "subjects.Subject",
        verbose_name=_("承诺主体"),
        on_delete=models.PROTECT,
        related_name="commitments",
        db_index=False,  # leads commitment_subject_made
    )
    committer_name = models.CharField(_("承诺人名称"), max_length=200)
    committer_kind = models.CharField(_("承诺人类别"), max_length=8, choices=SubjectKind.choices)
    committer_code = models.CharField(
        _("承诺人代码"),
        max_length=32,
        blank=True,
        help_text=_("组织和个体工商户为统一社会信用代码;自然人只保存脱敏的身份证号(前 6 后 4)。"),
    )
    commitment_type = models.CharField(_("承诺类型"), max_length=16, choices=CommitmentType.choices)
    reason = models.CharField(_("承诺事由"), max_length=512)
    content = models.TextField(_("承诺内容"))
    liability = models.TextField(_("违诺责任"))
    made_on = models.DateField(_("承诺作出日期"))
    valid_to = models.DateField(
        _("承诺有效期至"), null=True, blank=True, help_text=_("含当日;为空表示长期有效。")
    )
    performance = models.CharField(
        _("承诺履行状态"),
        max_length=8,
        choices=Performance.choices,
        default=Performance.PENDING,
    )
    unfulfilled_content = models.TextField(_("未履行的承诺内容"), blank=True)
    liability_enforced = models.TextField(_("违诺责任追究内容"), blank=True)
    assessed_on = models.DateField(_("履行状态认定日期"), null=True, blank=True)
    assessor = models.ForeignKey(
        "catalog.Department",
        verbose_name=_("履行状态认定单位"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="assessed_commitments",
    )
    department = models.ForeignKey(
        "catalog.Department",
        verbose_name=_("承诺受理单位"),
        on_delete=models.PROTECT,
        related_name="commitments",
        db_index=False,  # leads commitment_department_made
    )
    publicity_type = models.CharField(
        _("公开类型"),
        max_length=16,
        choices=PublicityType.choices,
        default=PublicityType.PUBLIC,
    )
    remark = models.CharField(_("备注"), max_length=512, blank=True)
    source = models.CharField(_("来源"), max_length=8, choices=CommitmentSource.choices)
    record = models.ForeignKey(
        "records.Record",
        verbose_name=_("来源记录"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="commitments",
        db_constraint=False,
        help_text=_("经归集报送的承诺:承载它的信用承诺(CN)记录。"),
    )
    matter = models.ForeignKey(
        "measures.Matter",
        verbose_name=_("替代的审批事项"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="commitments",
        help_text=_("审批替代型承诺必填。"),
    )
    repaired_record = models.ForeignKey(
        "records.Record",
        verbose_name=_("申请修复的记录"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="repair_commitments",
        db_constraint=False,
        help_text=_("信用修复型承诺必填:违诺时该记录恢复公示。"),
    )
    signer_name = models.CharField(
        _("签署人"), max_length=50, blank=True, help_text=_("个人信息,不公开。")
    )
    signer_contact = models.CharField(
        _("签署人联系电话"), max_length=32, blank=True, help_text=_("个人信息,不公开。")
    )
    letter = models.FileField(_("信用承诺书"), upload_to=_letter_path, max_length=255, blank=True)
    letter_sha256 = models.CharField(_("承诺书 SHA-256"), max_length=64, blank=True)
    letter_token = models.CharField(
        _("承诺书下载令牌"), max_length=64, null=True, blank=True, unique=True, editable=False
    )
    withdrawn_at = models.DateTimeField(
        _("撤回时间"),
        null=True,
        blank=True,
        help_text=_("来源记录被报送部门撤回时填写;撤回的承诺不再公示,也不计入核查。"),
    )
    created_by = models.CharField(_("录入人"), max_length=150, blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("信用承诺")
        verbose_name_plural = _("信用承诺")
        ordering = ["-made_on", "-id"]
        indexes = [
            # Credit checks (commitments in force) and the portal's 信用承诺 tab.
            models.Index(fields=["subject", "made_on"], name="commitment_subject_made"),
            # The console register of a department (部门报送员) and its filters.
            models.Index(fields=["department", "made_on"], name="commitment_department_made"),
            # The console register of the credit centre, newest first.
            models.Index(fields=["made_on", "id"], name="commitment_made"),
            # The dashboard's "commitments to assess" of a department (queries.assessment_due_q).
            models.Index(
                fields=["department", "performance", "valid_to"], name="commitment_assessment_due"
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gte=models.F("made_on")),
                name="commitment_valid_order",
            ),
            models.CheckConstraint(
                condition=Q(performance__in=[v.value for v in Performance]),
                name="commitment_performance_value",
            ),
            # A breach names what was not fulfilled and the liability pursued.
            models.CheckConstraint(
                condition=Q(performance__in=[Performance.PENDING, Performance.FULL])
                | (~Q(unfulfilled_content="") & ~Q(liability_enforced="")),
                name="commitment_breach_explained",
            ),
            # Never a person's clear ID number: a person's code is masked (or absent).
            models.CheckConstraint(
                condition=~Q(committer_kind=SubjectKind.PERSON)
                | Q(committer_code="")
                | Q(committer_code__contains="*"),
                name="commitment_person_code_masked",
            ),
        ]

    def __str__(self) -> str:
        return f"{_('信用承诺')} {self.code}"

    @property
    def is_breach(self) -> bool:
        return self.performance in BREACHES

    @property
    def is_person(self) -> bool:
        return self.committer_kind == SubjectKind.PERSON

    def in_force_on(self, day) -> bool:
        return (
            self.withdrawn_at is None
            and self.made_on <= day
            and (self.valid_to is None or day <= self.valid_to)
            and not self.is_breach
        )


class CommitmentEvent(models.Model):
    """One step in a commitment's history (signed, received through intake, assessed, breach
    effects, withdrawn). Append-only: written by the services, never changed."""

    class Action(models.TextChoices):
        SIGN = "sign", _("签署")
        INTAKE = "intake", _("归集报送")
        UPDATE = "update", _("归集更新")
        ASSESS = "assess", _("认定履行状态")
        WITHDRAW = "withdraw", _("来源记录撤回")
        DEMO = "demo", _("演示数据")

    commitment = models.ForeignKey(
        Commitment, verbose_name=_("信用承诺"), on_delete=models.PROTECT, related_name="events"
    )
    at = models.DateTimeField(_("时间"))
    actor = models.CharField(_("操作者"), max_length=150)
    action = models.CharField(_("事项"), max_length=16, choices=Action.choices)
    from_performance = models.CharField(
        _("原履行状态"), max_length=8, choices=Performance.choices, blank=True
    )
    to_performance = models.CharField(
        _("新履行状态"), max_length=8, choices=Performance.choices, blank=True
    )
    reason = models.CharField(_("说明"), max_length=512, blank=True)
    details = models.JSONField(_("详情"), default=dict, blank=True)

    class Meta:
        verbose_name = _("信用承诺变更")
        verbose_name_plural = _("信用承诺变更")
        ordering = ["commitment", "at", "id"]

    def __str__(self) -> str:
        return f"{self.commitment_id}: {self.action}"


class CommitmentSerial(models.Model):
    """The last serial issued for (accepting region, day): 承诺编码 = region + YYYYMMDD + serial.
    Locked with SELECT … FOR UPDATE while a code is allocated."""

    region = models.CharField(_("行政区划代码"), max_length=12)
    day = models.DateField(_("日期"))
    last = models.PositiveIntegerField(_("已用流水号"), default=0)

    class Meta:
        verbose_name = _("承诺编码流水号")
        verbose_name_plural = _("承诺编码流水号")
        constraints = [
            models.UniqueConstraint(fields=["region", "day"], name="commitmentserial_unique")
        ]

    def __str__(self) -> str:
        return f"{self.region} {self.day:%Y%m%d} {self.last}"


class SigningRequest(models.Model):
    """A commitment signed online, waiting for the accepting department (网上签署,待受理部门确认).

    The public never creates a subject or learns whether a name matches a code: what the signer
    states is kept here as typed (the 身份证号 only as ciphertext + blind index + masked form),
    the signer is told the same thing whatever the register holds, and the accepting
    department's clerk confirms (the subject is linked or registered and the commitment signed,
    `confirmation.confirm_signing`) or rejects it (`confirmation.reject_signing`)."""

    scope_lookups = {"department": "department_id", "district": "department__district_id"}

    class Status(models.TextChoices):
        PENDING = "pending", _("待受理部门确认")
        CONFIRMED = "confirmed", _("已确认")
        REJECTED = "rejected", _("未予受理")

    token = models.CharField(_("查询令牌"), max_length=64, unique=True, editable=False)
    status = models.CharField(
        _("办理状态"), max_length=12, choices=Status.choices, default=Status.PENDING
    )
    committer_kind = models.CharField(_("承诺人类别"), max_length=8, choices=SubjectKind.choices)
    committer_name = models.CharField(_("承诺人名称(签署人填写)"), max_length=200)
    uscc = models.CharField(_("统一社会信用代码"), max_length=18, blank=True)
    id_cipher = models.BinaryField(_("身份证号密文"), null=True, blank=True, editable=False)
    id_index = models.CharField(_("身份证号索引"), max_length=64, blank=True, editable=False)
    id_masked = models.CharField(_("身份证号(脱敏)"), max_length=32, blank=True, editable=False)
    commitment_type = models.CharField(_("承诺类型"), max_length=16, choices=CommitmentType.choices)
    reason = models.CharField(_("承诺事由"), max_length=512)
    content = models.TextField(_("承诺内容"))
    liability = models.TextField(_("违诺责任"))
    made_on = models.DateField(_("承诺作出日期"))
    valid_to = models.DateField(_("承诺有效期至"), null=True, blank=True)
    publicity_type = models.CharField(
        _("公开类型"), max_length=16, choices=PublicityType.choices, default=PublicityType.PUBLIC
    )
    matter = models.ForeignKey(
        "measures.Matter",
        verbose_name=_("替代的审批事项"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    department = models.ForeignKey(
        "catalog.Department",
        verbose_name=_("承诺受理单位"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    signer_name = models.CharField(_("签署人"), max_length=50)
    signer_contact = models.CharField(_("签署人联系电话"), max_length=32)
    submitted_at = models.DateTimeField(_("提交时间"), db_index=True)
    decided_at = models.DateTimeField(_("办理时间"), null=True, blank=True)
    decided_by = models.CharField(_("办理人"), max_length=150, blank=True)
    decision_note = models.CharField(_("办理说明"), max_length=512, blank=True)
    subject = models.ForeignKey(
        "subjects.Subject",
        verbose_name=_("承诺主体"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    commitment = models.OneToOneField(
        Commitment,
        verbose_name=_("信用承诺"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="signing_request",
    )

    class Meta:
        verbose_name = _("网上签署待确认")
        verbose_name_plural = _("网上签署待确认")
        ordering = ["-submitted_at", "-id"]
        indexes = [
            models.Index(fields=["department", "status"], name="signingrequest_dept_status"),
        ]

    def __str__(self) -> str:
        return f"{_('网上签署')} #{self.pk}"

    @property
    def is_person(self) -> bool:
        return self.committer_kind == SubjectKind.PERSON
