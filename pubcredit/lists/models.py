"""Credit lists (信用名单): red lists (守信激励), 严重失信主体名单 and 重点关注名单.

A `ListType` is catalogue data (seeded from `lists/data/list_types.json`, editable in the admin):
who issues it, on which legal basis, for how long an entry stays valid by default, which
catalogue category carries its entries when they arrive through intake.

A `ListEntry` says "subject S is on list T, decided on D, valid from F through U". It is
published when identified (认定), becomes expired when its validity ends (`expire_entries`
sweep) or removed (移出, with a reason). Every status change writes a `ListEntryEvent`; the entry
itself is never deleted. Whether an entry *hits* on a day never depends on the sweep having run:
`active_entries_q(today)` and the check read model both compare the validity dates.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from pubcredit.catalog.models import SubjectKind
from pubcredit.core.citus import ShardedBySubject


class ListKind(models.TextChoices):
    RED = "red", _("守信激励名单")
    BLACK = "black", _("严重失信主体名单")
    WATCH = "watch", _("重点关注名单")


class ListType(models.Model):
    code = models.CharField(
        _("名单编码"),
        max_length=48,
        unique=True,
        help_text=_("稳定的英文编码,例如 BLK_WAGE_ARREARS。"),
    )
    name = models.CharField(_("名单名称"), max_length=128)
    kind = models.CharField(_("名单类别"), max_length=8, choices=ListKind.choices)
    authority = models.ForeignKey(
        "catalog.Department",
        verbose_name=_("认定部门"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="list_types",
    )
    authority_name = models.CharField(
        _("认定机关"),
        max_length=255,
        blank=True,
        help_text=_("认定部门不在本市部门表中时(如上级机关、法院系统)填写名称。"),
    )
    legal_basis = models.TextField(_("认定依据(法律法规、政策文件)"))
    default_validity_months = models.PositiveSmallIntegerField(
        _("默认有效期(月)"), null=True, blank=True, help_text=_("为空表示直至移出。")
    )
    subject_kinds = models.JSONField(
        _("适用主体"),
        default=list,
        blank=True,
        help_text=_("org / ind / person 的列表;为空表示全部。"),
    )
    category = models.ForeignKey(
        "catalog.Category",
        verbose_name=_("对应信息类别"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="list_types",
        help_text=_("经归集报送的该类别记录转为本名单的名单条目。"),
    )
    record_match = models.JSONField(
        _("记录匹配条件"),
        null=True,
        blank=True,
        help_text=_(
            "同一信息类别承载多个名单时,用条件区分属于本名单的记录,例如 "
            '{"field": "MD_LX", "in": ["拖欠农民工工资失信联合惩戒对象"]};为空表示该类别的全部记录。'
        ),
    )
    effective_from = models.DateField(_("启用日期"), null=True, blank=True)
    effective_to = models.DateField(_("停用日期"), null=True, blank=True)
    active = models.BooleanField(_("启用"), default=True)
    note = models.TextField(_("备注"), blank=True, help_text=_("仅管理人员可见。"))
    needs_review = models.BooleanField(
        _("待核实"),
        default=False,
        help_text=_("随程序发布的名单类型中尚未与正式文本核对的内容(见备注);核实后取消勾选。"),
    )
    sort_order = models.PositiveIntegerField(_("排序"), default=0)

    class Meta:
        verbose_name = _("名单类型")
        verbose_name_plural = _("名单类型")
        ordering = ["kind", "sort_order", "code"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(legal_basis=""), name="listtype_requires_legal_basis"
            ),
            models.CheckConstraint(
                condition=Q(effective_to__isnull=True)
                | Q(effective_from__isnull=True)
                | Q(effective_to__gte=models.F("effective_from")),
                name="listtype_effective_order",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def authority_label(self) -> str:
        if self.authority_name:
            return self.authority_name
        return self.authority.name if self.authority_id else ""

    def accepts_kind(self, subject_kind: str) -> bool:
        return not self.subject_kinds or subject_kind in self.subject_kinds

    def in_force_on(self, day) -> bool:
        return (
            self.active
            and (self.effective_from is None or self.effective_from <= day)
            and (self.effective_to is None or day <= self.effective_to)
        )


class EntryStatus(models.TextChoices):
    PUBLISHED = "published", _("已公示")
    EXPIRED = "expired", _("已到期")
    REMOVED = "removed", _("已移出")


class EntrySource(models.TextChoices):
    CONSOLE = "console", _("工作台认定")
    INTAKE = "intake", _("归集报送")


class ListEntry(ShardedBySubject):
    """One subject on one list. Carries `subject_id` (architecture: every large table does)."""

    scope_lookups = {"department": "identified_by_id", "district": "subject__region"}

    list_type = models.ForeignKey(
        ListType, verbose_name=_("名单类型"), on_delete=models.PROTECT, related_name="entries"
    )
    subject = models.ForeignKey(
        "subjects.Subject",
        verbose_name=_("主体"),
        on_delete=models.PROTECT,
        related_name="list_entries",
        db_constraint=False,
    )
    subject_name = models.CharField(_("主体名称"), max_length=200)
    identified_by = models.ForeignKey(
        "catalog.Department",
        verbose_name=_("认定部门"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="list_entries",
    )
    basis = models.TextField(_("认定依据"))
    document_number = models.CharField(_("认定文书号"), max_length=128, blank=True)
    decided_on = models.DateField(_("认定日期"))
    valid_from = models.DateField(_("有效期自"))
    valid_to = models.DateField(
        _("有效期至"), null=True, blank=True, help_text=_("含当日;为空表示直至移出。")
    )
    status = models.CharField(
        _("状态"), max_length=12, choices=EntryStatus.choices, default=EntryStatus.PUBLISHED
    )
    status_reason = models.CharField(_("移出原因/状态说明"), max_length=512, blank=True)
    status_changed_at = models.DateTimeField(_("状态变更时间"), null=True, blank=True)
    source = models.CharField(
        _("来源"), max_length=8, choices=EntrySource.choices, default=EntrySource.CONSOLE
    )
    record = models.ForeignKey(
        "records.Record",
        verbose_name=_("来源记录"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="list_entries",
        db_constraint=False,
    )
    created_by = models.CharField(_("录入人"), max_length=150, blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("名单条目")
        verbose_name_plural = _("名单条目")
        ordering = ["-decided_on", "-id"]
        indexes = [
            models.Index(fields=["subject", "status"], name="listentry_subject_status"),
            models.Index(fields=["status", "valid_to"], name="listentry_status_valid_to"),
            models.Index(fields=["list_type", "status"], name="listentry_type_status"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["record"],
                condition=Q(record__isnull=False),
                name="listentry_one_per_record",
            ),
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gte=models.F("valid_from")),
                name="listentry_valid_order",
            ),
            models.CheckConstraint(condition=~Q(basis=""), name="listentry_requires_basis"),
        ]

    def __str__(self) -> str:
        return f"{self.subject_name} · {self.list_type_id}"

    def active_on(self, day) -> bool:
        return (
            self.status == EntryStatus.PUBLISHED
            and self.valid_from <= day
            and (self.valid_to is None or day <= self.valid_to)
        )


def _document_path(instance, filename: str) -> str:
    return f"lists/{instance.entry_id}/{filename}"


class ListEntryDocument(models.Model):
    """A document supporting an entry (认定文书, 证明材料)."""

    entry = models.ForeignKey(
        ListEntry, verbose_name=_("名单条目"), on_delete=models.PROTECT, related_name="documents"
    )
    file = models.FileField(_("文件"), upload_to=_document_path)
    name = models.CharField(_("文件名"), max_length=255)
    uploaded_at = models.DateTimeField(_("上传时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("认定材料")
        verbose_name_plural = _("认定材料")

    def __str__(self) -> str:
        return self.name


class ListEntryEvent(models.Model):
    """One change of an entry's status (creation has an empty `from_status`). Append-only."""

    entry = models.ForeignKey(
        ListEntry, verbose_name=_("名单条目"), on_delete=models.PROTECT, related_name="events"
    )
    from_status = models.CharField(
        _("原状态"), max_length=12, choices=EntryStatus.choices, blank=True
    )
    to_status = models.CharField(_("新状态"), max_length=12, choices=EntryStatus.choices)
    at = models.DateTimeField(_("时间"))
    by = models.CharField(_("操作者"), max_length=150)
    reason = models.CharField(_("原因"), max_length=512, blank=True)

    class Meta:
        verbose_name = _("名单条目变更")
        verbose_name_plural = _("名单条目变更")
        ordering = ["entry", "at", "id"]

    def __str__(self) -> str:
        return f"{self.entry_id}: {self.from_status or '-'} → {self.to_status}"


__all__ = [
    "EntrySource",
    "EntryStatus",
    "ListEntry",
    "ListEntryDocument",
    "ListEntryEvent",
    "ListKind",
    "ListType",
    "SubjectKind",
]
