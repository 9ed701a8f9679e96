"""Credit repair (信用修复), objections (异议) and repair training (信用修复专题培训).

Both procedures are state machines with a deadline per stage, in working days from the holiday
calendar (pubcredit.holidays):

Repair application (`RepairApplication`), under the `RepairRule` in force on the day it is filed:

    submitted 待受理 ──accept (centre)──▶ accepted 待部门核实 ──review (deciding department)──▶
    reviewed 待决定 ──decide (centre)──▶ granted 准予修复 | denied 不予修复
    submitted ──refuse (centre)──▶ refused 不予受理
    submitted | accepted | reviewed ──withdraw (applicant)──▶ withdrawn 已撤回
    granted ──(a broken 信用修复型 commitment)──▶ revoked 已撤销

Objection (`Objection`):

    submitted 待受理 ──accept (centre: the record shows 异议处理中)──▶ verifying 核实中
    ──verify (providing department)──▶ corrected 已更正 | record_withdrawn 记录已撤回 | upheld 维持原记录
    submitted ──refuse (centre)──▶ refused 不予受理
    submitted | verifying ──withdraw (applicant)──▶ withdrawn 已撤回

A procedure never edits the record it is about: a granted repair and an objection under
verification are `publicity.PublicityMark`s, a correction is a new version submitted through
intake, a withdrawal is `records.services.withdraw_record`. Every transition writes a
`ProcedureStep` (append-only history) and an audit event.
"""

from __future__ import annotations

import datetime as dt

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from pubcredit.core.citus import ShardedBySubject


class RepairRule(models.Model):
    """The repair conditions and time limits in force for applications filed within its window
    (versioned configuration: data/repair_rules.json, editable in the admin)."""

    code = models.CharField(_("规则编码"), max_length=32, unique=True)
    name = models.CharField(_("名称"), max_length=200)
    legal_basis = models.TextField(_("依据"))
    effective_from = models.DateField(_("适用于申请日期自"))
    effective_to = models.DateField(
        _("适用于申请日期至"), null=True, blank=True, help_text=_("为空表示现行有效。")
    )
    requires_min_period = models.BooleanField(_("须届满最短公示期"), default=True)
    requires_obligations = models.BooleanField(_("须履行法定义务并提交证明材料"), default=True)
    requires_commitment = models.BooleanField(_("须作出信用修复承诺"), default=True)
    training_tiers = models.JSONField(
        _("须参加修复培训的严重程度"),
        default=list,
        blank=True,
        help_text=_("minor / general / serious 的列表;为空表示不要求培训。"),
    )
    training_valid_months = models.PositiveSmallIntegerField(_("培训结业有效期(月)"), default=12)
    deadlines = models.JSONField(
        _("办理时限(工作日)"),
        help_text=_(
            "repair_accept 受理、repair_review 部门核实、repair_decide 决定、"
            "objection_accept 异议受理、objection_verify 异议核实,单位为工作日。"
        ),
    )
    note = models.TextField(_("说明"), blank=True)

    class Meta:
        verbose_name = _("信用修复规则")
        verbose_name_plural = _("信用修复规则")
        ordering = ["effective_from"]

    def __str__(self) -> str:
        return self.name

    def days(self, stage: str) -> int:
        return int(self.deadlines[stage])

    @property
    def title(self) -> str:
        """The instrument's title without its 《》 and number, as letters cite it."""
        return self.name.strip("《》").split("》")[0]


class ProcedureStatus(models.TextChoices):
    """The states of both procedures (each uses its own subset; see the module docstring)."""

    SUBMITTED = "submitted", _("待受理")
    ACCEPTED = "accepted", _("待部门核实")
    REVIEWED = "reviewed", _("待决定")
    GRANTED = "granted", _("准予修复")
    DENIED = "denied", _("不予修复")
    REFUSED = "refused", _("不予受理")
    WITHDRAWN = "withdrawn", _("已撤回")
    REVOKED = "revoked", _("已撤销")
    VERIFYING = "verifying", _("核实中")
    CORRECTED = "corrected", _("已更正")
    RECORD_WITHDRAWN = "record_withdrawn", _("记录已撤回")
    UPHELD = "upheld", _("维持原记录")


OPEN_REPAIR = (ProcedureStatus.SUBMITTED, ProcedureStatus.ACCEPTED, ProcedureStatus.REVIEWED)
OPEN_OBJECTION = (ProcedureStatus.SUBMITTED, ProcedureStatus.VERIFYING)


class Procedure(ShardedBySubject):
    """What a repair application and an objection share: who asks about which record, the
    query code (查询码) the applicant follows it with, the state and the current stage's
    deadline."""

    query_code = models.CharField(_("查询码"), max_length=16, unique=True, editable=False)
    record = models.ForeignKey(
        "records.Record",
        verbose_name=_("信用记录"),
        on_delete=models.PROTECT,
        db_constraint=False,
        related_name="+",
    )
    subject = models.ForeignKey(
        "subjects.Subject",
        verbose_name=_("主体"),
        on_delete=models.PROTECT,
        db_constraint=False,
        related_name="+",
    )
    department = models.ForeignKey(
        "catalog.Department",
        verbose_name=_("认定部门"),
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("作出该记录的部门(谁认定、谁修复)。"),
    )
    rule = models.ForeignKey(
        RepairRule, verbose_name=_("适用规则"), on_delete=models.PROTECT, related_name="+"
    )
    applicant_name = models.CharField(_("经办人"), max_length=64)
    applicant_phone = models.CharField(_("联系电话"), max_length=32)
    status = models.CharField(
        _("状态"), max_length=16, choices=ProcedureStatus.choices, default="submitted"
    )
    stage_started_on = models.DateField(_("本环节开始日期"))
    due_on = models.DateField(_("本环节办理期限"), null=True, blank=True)
    decided_on = models.DateField(_("办结日期"), null=True, blank=True)
    result_reason = models.TextField(_("办理结果说明"), blank=True)
    created_at = models.DateTimeField(_("提交时间"))
    updated_at = models.DateTimeField(_("更新时间"))
    # Who filed it (the principal's label: "public" for the portal, a username, "key:<prefix>"
    # for another system through the API) and that system's own reference for it: a retried
    # filing with the same reference is the same procedure (issue 19, procedures API).
    filed_by = models.CharField(_("提交方"), max_length=150, blank=True, default="")
    external_id = models.CharField(_("外部系统业务编号"), max_length=64, blank=True, default="")

    scope_lookups = {"department": "department_id", "district": "subject__region"}

    class Meta:
        abstract = True

    def is_overdue(self, today: dt.date) -> bool:
        return self.due_on is not None and self.decided_on is None and today > self.due_on


class RepairApplication(Procedure):
    """An application to repair (信用修复) one penalty record."""

    statement = models.TextField(_("整改和履行义务情况说明"))
    obligations_declared = models.BooleanField(_("申请人声明已履行法定义务"), default=False)
    commitment = models.ForeignKey(
        "commitments.Commitment",
        verbose_name=_("信用修复承诺"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    eligibility = models.JSONField(_("提交时的修复条件核验"), default=list)
    department_agrees = models.BooleanField(_("部门意见:同意修复"), null=True, blank=True)
    department_opinion = models.TextField(_("部门核实意见"), blank=True)
    decision_number = models.CharField(_("决定书编号"), max_length=64, blank=True)
    decision_letter = models.FileField(
        _("信用修复决定书"), upload_to="repair/decisions/%Y/", max_length=255, blank=True
    )

    class Meta:
        verbose_name = _("信用修复申请")
        verbose_name_plural = _("信用修复申请")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["status", "due_on"], name="repairapp_status_due"),
            models.Index(fields=["record", "status"], name="repairapp_record_status"),
        ]
        constraints = [
            # One open application per record: a second one waits for the first.
            models.UniqueConstraint(
                fields=["record"],
                condition=Q(status__in=["submitted", "accepted", "reviewed"]),
                name="repairapp_one_open_per_record",
            ),
            models.UniqueConstraint(
                fields=["filed_by", "external_id"],
                condition=~Q(external_id=""),
                name="repairapp_one_per_external_id",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.query_code} {self.get_status_display()}"


class ObjectionTarget(models.TextChoices):
    CONTENT = "content", _("信息内容有误")
    PERIOD = "period", _("公示期限有误")
    REPAIR = "repair", _("对信用修复结果有异议")
    GRADE = "grade", _("对信用评价等级有异议")


class Objection(Procedure):
    """An objection (异议) against a record's content, its publicity period, a repair result or
    a credit grade (信用评价等级). An objection to a grade names the result it disputes
    (`score_result`) and the record it says is wrong; its conclusion recomputes the grade and
    keeps the result current after it (`result_after`): the grade before and after."""

    target = models.CharField(_("异议事项"), max_length=8, choices=ObjectionTarget.choices)
    reason = models.TextField(_("异议理由"))
    requested_correction = models.TextField(_("请求更正的内容"), blank=True)
    repair_application = models.ForeignKey(
        RepairApplication,
        verbose_name=_("所涉修复申请"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="objections",
    )
    score_result = models.ForeignKey(
        "scoring.ScoreResult",
        verbose_name=_("所涉信用评价结果"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("对信用评价等级提出异议时,提出异议时的评价结果(办结前的等级)。"),
    )
    result_after = models.ForeignKey(
        "scoring.ScoreResult",
        verbose_name=_("办结后信用评价结果"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("异议办结时重新计算后的评价结果(办结后的等级)。"),
    )
    record_version_at_acceptance = models.PositiveIntegerField(
        _("受理时记录版本"), null=True, blank=True
    )
    accepted_at = models.DateTimeField(_("受理时间"), null=True, blank=True)
    reply_number = models.CharField(_("告知书编号"), max_length=64, blank=True)
    reply_letter = models.FileField(
        _("异议处理结果告知书"), upload_to="repair/objections/%Y/", max_length=255, blank=True
    )

    class Meta:
        verbose_name = _("异议申请")
        verbose_name_plural = _("异议申请")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["status", "due_on"], name="objection_status_due"),
            models.Index(fields=["record", "status"], name="objection_record_status"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["record"],
                condition=Q(status__in=["submitted", "verifying"]),
                name="objection_one_open_per_record",
            ),
            models.UniqueConstraint(
                fields=["filed_by", "external_id"],
                condition=~Q(external_id=""),
                name="objection_one_per_external_id",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.query_code} {self.get_status_display()}"


def _material_path(instance: Material, filename: str) -> str:
    return f"repair/materials/{instance.uploaded_at:%Y/%m}/{instance.sha256[:16]}/{filename}"


class Material(models.Model):
    """A file an applicant uploaded (proof of fulfilment, licence copy, authorisation…)."""

    class Kind(models.TextChoices):
        PROOF = "proof", _("履行法定义务的证明材料")
        FORM = "form", _("申请表")
        LICENCE = "licence", _("营业执照或身份证明")
        AUTHORISATION = "authorisation", _("授权委托书")
        OTHER = "other", _("其他材料")

    application = models.ForeignKey(
        RepairApplication,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="materials",
    )
    objection = models.ForeignKey(
        Objection, null=True, blank=True, on_delete=models.PROTECT, related_name="materials"
    )
    kind = models.CharField(_("材料类型"), max_length=16, choices=Kind.choices)
    name = models.CharField(_("文件名"), max_length=255)
    file = models.FileField(_("文件"), upload_to=_material_path, max_length=255)
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    size = models.PositiveIntegerField(_("大小(字节)"))
    uploaded_at = models.DateTimeField(_("上传时间"))

    class Meta:
        verbose_name = _("申请材料")
        verbose_name_plural = _("申请材料")
        ordering = ["uploaded_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(application__isnull=False, objection__isnull=True)
                | Q(application__isnull=True, objection__isnull=False),
                name="material_one_owner",
            )
        ]

    def __str__(self) -> str:
        return self.name


class StepAction(models.TextChoices):
    SUBMIT = "submit", _("提交申请")
    ACCEPT = "accept", _("受理")
    REFUSE = "refuse", _("不予受理")
    REVIEW = "review", _("认定部门核实")
    DECIDE = "decide", _("作出决定")
    VERIFY = "verify", _("信息提供单位核实")
    WITHDRAW = "withdraw", _("申请人撤回")
    REVOKE = "revoke", _("撤销修复决定")


class ProcedureStep(models.Model):
    """One transition of a procedure: who moved it from which state to which, when, why, and
    whether the stage it closed was finished within its deadline. Append-only."""

    application = models.ForeignKey(
        RepairApplication, null=True, blank=True, on_delete=models.PROTECT, related_name="steps"
    )
    objection = models.ForeignKey(
        Objection, null=True, blank=True, on_delete=models.PROTECT, related_name="steps"
    )
    action = models.CharField(_("操作"), max_length=16, choices=StepAction.choices)
    from_status = models.CharField(
        _("原状态"), max_length=16, choices=ProcedureStatus.choices, blank=True
    )
    to_status = models.CharField(_("新状态"), max_length=16, choices=ProcedureStatus.choices)
    actor_label = models.CharField(_("办理人"), max_length=150)
    department = models.ForeignKey(
        "catalog.Department",
        verbose_name=_("办理部门"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    note = models.TextField(_("意见或说明"), blank=True)
    day = models.DateField(_("办理日期"))
    stage_due_on = models.DateField(_("该环节期限"), null=True, blank=True)
    late = models.BooleanField(_("超期办理"), default=False)
    at = models.DateTimeField(_("时间"))

    class Meta:
        verbose_name = _("办理记录")
        verbose_name_plural = _("办理记录")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.action}: {self.from_status or '-'} → {self.to_status}"


class TrainingSession(models.Model):
    """A repair training course session (信用修复专题培训)."""

    title = models.CharField(_("培训名称"), max_length=200)
    starts_at = models.DateTimeField(_("开始时间"))
    place = models.CharField(_("地点"), max_length=200)
    capacity = models.PositiveIntegerField(_("名额"), default=100)
    organiser = models.ForeignKey(
        "catalog.Department",
        verbose_name=_("组织单位"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    open_for_registration = models.BooleanField(_("开放报名"), default=True)
    created_at = models.DateTimeField(_("创建时间"))

    class Meta:
        verbose_name = _("修复培训场次")
        verbose_name_plural = _("修复培训场次")
        ordering = ["-starts_at"]

    def __str__(self) -> str:
        return f"{self.title} {self.starts_at:%Y-%m-%d}"


class TrainingRegistration(ShardedBySubject):
    session = models.ForeignKey(
        TrainingSession,
        verbose_name=_("培训场次"),
        on_delete=models.PROTECT,
        related_name="registrations",
    )
    subject = models.ForeignKey(
        "subjects.Subject",
        verbose_name=_("主体"),
        on_delete=models.PROTECT,
        db_constraint=False,
        related_name="+",
    )
    attendee_name = models.CharField(_("参训人"), max_length=64)
    attendee_phone = models.CharField(_("联系电话"), max_length=32)
    registered_at = models.DateTimeField(_("报名时间"))
    attended = models.BooleanField(_("已参训"), default=False)
    attendance_marked_by = models.CharField(_("考勤登记人"), max_length=150, blank=True)
    certificate_number = models.CharField(
        _("结业证明编号"), max_length=32, null=True, blank=True, unique=True
    )

    scope_lookups = {"department": "*", "district": "subject__region"}

    class Meta:
        verbose_name = _("培训报名")
        verbose_name_plural = _("培训报名")
        ordering = ["session", "registered_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["session", "subject"], name="trainingregistration_once_per_session"
            )
        ]

    def __str__(self) -> str:
        return f"{self.attendee_name} @ {self.session_id}"
