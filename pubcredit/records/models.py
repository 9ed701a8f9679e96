"""Credit records (信用记录): the statements departments submit, one current row per business key
plus an immutable history of the versions it replaced.

A `Record` is the current statement for one (category, department, business key). The records
writer (`writing`, called by intake's loader and the demo) writes it in bulk with one set-based
upsert: resubmitting the same content changes nothing, changed content moves the superseded
version into `RecordVersion` and bumps `version`. Records are never deleted; a department
withdraws one (status 撤回) through `services.withdraw_record`, with an audit event. After every
write the records-changed flow (`changes`) brings what derives from records up to date.

Personal data: `data` and `original` never hold a document number in clear. Fields of type
证件号码 are stored masked (first 6 + last 4) there, and the clear values are kept AES-GCM encrypted
in `sealed` ({field code: urlsafe-base64 ciphertext}); `content_hash` uses their blind index.

Every large table here carries `subject_id` (architecture.md, scale path). The foreign keys of
these tables have no database constraint (`db_constraint=False`): a constraint costs a trigger
check per inserted row (measured: a quarter of the bulk-load time) and, on a distributed
PostgreSQL, cannot point from one distributed table to another. The one writer (records.writing)
writes only ids it resolved in the same transaction, and Django still refuses to delete a
subject, submission, category or department that records refer to (on_delete=PROTECT).
"""

from django.db import models
from django.utils.translation import gettext_lazy as _

from pubcredit.catalog.models import SubjectKind
from pubcredit.core.citus import ShardedBySubject


class RecordStatus(models.TextChoices):
    ACTIVE = "active", _("有效")
    WITHDRAWN = "withdrawn", _("已撤回")
    EXPIRED = "expired", _("已过期")


class SubjectLink(models.TextChoices):
    """How the record's subject was found."""

    USCC = "uscc", _("统一社会信用代码")
    ID_NUMBER = "id", _("证件号码")
    NAME = "name", _("名称一致")
    FUZZY = "fuzzy", _("名称相近(高置信度)")
    NEW = "new", _("新建主体")
    REVIEW = "review", _("待人工确认")
    MANUAL = "manual", _("人工确认")


class Record(ShardedBySubject):
    category = models.ForeignKey(
        "catalog.Category",
        verbose_name=_("信息类别"),
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,  # second column of record_unique_key
        db_constraint=False,
    )
    department = models.ForeignKey(
        "catalog.Department",
        verbose_name=_("报送部门"),
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,  # leads record_unique_key
        db_constraint=False,
    )
    business_key = models.CharField(
        _("业务主键"),
        max_length=512,
        help_text=_("类别的业务主键字段清洗后的值;多个字段以 “|” 连接。"),
    )
    subject = models.ForeignKey(
        "subjects.Subject",
        verbose_name=_("主体"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="records",
        db_constraint=False,
        help_text=_("仅凭名称匹配且待人工确认时为空。"),
    )
    subject_link = models.CharField(
        _("主体关联方式"), max_length=8, choices=SubjectLink.choices, default=SubjectLink.USCC
    )
    subject_name = models.CharField(_("主体名称"), max_length=200)
    subject_kind = models.CharField(
        _("主体类别"), max_length=8, choices=SubjectKind.choices, blank=True
    )
    version = models.PositiveIntegerField(_("版本"), default=1)
    content_hash = models.CharField(_("内容摘要"), max_length=32)
    data = models.JSONField(_("清洗后的数据"), default=dict)
    original = models.JSONField(
        _("原始值"),
        default=dict,
        help_text=_("报送文件中的原始单元格值,仅保存与清洗后不同的字段。"),
    )
    sealed = models.JSONField(
        _("加密字段"), null=True, blank=True, editable=False, help_text=_("证件号码等的密文。")
    )
    decision_date = models.DateField(_("决定日期"), null=True, blank=True)
    valid_from = models.DateField(_("有效期自"), null=True, blank=True)
    valid_to = models.DateField(_("有效期至"), null=True, blank=True)
    late = models.BooleanField(
        _("超期报送"), default=False, help_text=_("首次报送时距决定日期已超过 7 个工作日。")
    )
    status = models.CharField(
        _("状态"), max_length=12, choices=RecordStatus.choices, default=RecordStatus.ACTIVE
    )
    status_reason = models.CharField(_("状态变更原因"), max_length=512, blank=True)
    status_changed_at = models.DateTimeField(_("状态变更时间"), null=True, blank=True)
    submission = models.ForeignKey(
        "intake.Submission",
        verbose_name=_("报送批次"),
        on_delete=models.PROTECT,
        related_name="records",
        db_index=False,  # provenance look-ups are rare; every index slows the bulk load
        db_constraint=False,
        help_text=_("带来当前版本的报送批次。"),
    )
    source_row = models.PositiveIntegerField(_("文件行号"))
    received_at = models.DateTimeField(_("接收时间"))
    created_at = models.DateTimeField(_("创建时间"))
    updated_at = models.DateTimeField(_("更新时间"))

    scope_lookups = {"department": "department_id", "district": "subject__region"}

    class Meta:
        verbose_name = _("信用记录")
        verbose_name_plural = _("信用记录")
        constraints = [
            # ON CONFLICT (category_id, department_id, business_key) in records.writing matches
            # this index whatever its column order; department first serves scoped queries.
            models.UniqueConstraint(
                fields=["department", "category", "business_key"], name="record_unique_key"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.subject_name} {self.business_key}"

    def original_value(self, code: str):
        """The value as written in the file (the cleaned value when they did not differ)."""
        if code in self.original:
            return self.original[code]
        return self.data.get(code)


# Business keys of several fields join their cleaned values with this separator; a "|" or "\"
# inside a value is escaped with "\" so the joined key stays unambiguous. A document number
# (证件号码) in a key is replaced by its blind index. A one-field key is the value itself.
KEY_SEPARATOR = "|"


def document_number(business_key: str) -> str:
    """The first part of a record's business key: the document number (文书号) for the
    categories whose key starts with it (CF, XK)."""
    first = (business_key or "").split(KEY_SEPARATOR, 1)[0]
    return first.replace("\\", "")[:128]


class RecordVersion(ShardedBySubject):
    """A version of a record that a later submission replaced. Written once, never changed:
    together with the record's current row they form the full history."""

    record = models.ForeignKey(
        Record,
        verbose_name=_("信用记录"),
        on_delete=models.PROTECT,
        related_name="versions",
        db_index=False,  # leads recordversion_unique
        db_constraint=False,
    )
    version = models.PositiveIntegerField(_("版本"))
    content_hash = models.CharField(_("内容摘要"), max_length=32)
    data = models.JSONField(_("清洗后的数据"), default=dict)
    original = models.JSONField(_("原始值"), default=dict)
    sealed = models.JSONField(_("加密字段"), null=True, blank=True, editable=False)
    subject = models.ForeignKey(
        "subjects.Subject",
        verbose_name=_("主体"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    subject_name = models.CharField(_("主体名称"), max_length=200)
    subject_kind = models.CharField(
        _("主体类别"), max_length=8, choices=SubjectKind.choices, blank=True
    )
    submission = models.ForeignKey(
        "intake.Submission",
        verbose_name=_("报送批次"),
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    source_row = models.PositiveIntegerField(_("文件行号"))
    received_at = models.DateTimeField(_("接收时间"))
    created_at = models.DateTimeField(_("生效时间"), help_text=_("该版本写入平台的时间。"))
    superseded_at = models.DateTimeField(_("被替代时间"))

    scope_lookups = {"department": "record__department_id", "district": "record__subject__region"}

    class Meta:
        verbose_name = _("历史版本")
        verbose_name_plural = _("历史版本")
        ordering = ["record", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["record", "version"], name="recordversion_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.record_id} v{self.version}"
