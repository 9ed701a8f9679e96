"""Aggregation (归集): submissions, their row errors, saved column mappings and the name-match
review queue.

A `Submission` is one file (or JSON batch) a department sent: the raw bytes are stored untouched
with their sha256, then the intake engine (pubcredit.intake.engine) reads, maps, cleans and
validates it and `pubcredit.intake.loading` writes the accepted rows as records in one
transaction. Rejected rows come back as `RowError`s (row number as the clerk sees it in the file).
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _


def submission_upload_to(instance: Submission, filename: str) -> str:
    """submissions/YYYY/MM/<sha256[:16]>/<original name>: the raw file under MEDIA_ROOT."""
    received = instance.received_at or timezone.now()
    return f"submissions/{received:%Y/%m}/{instance.sha256[:16]}/{filename}"


# How far back the dashboard's "submissions to fix" looks (Submission.to_fix_q).
FIX_WINDOW_DAYS = 30


class Submission(models.Model):
    class Channel(models.TextChoices):
        UPLOAD = "upload", _("网页上传")
        API = "api", _("接口推送")
        CLI = "cli", _("命令行")
        FOLDER = "folder", _("目录投递")

    class Status(models.TextChoices):
        RECEIVED = "received", _("已接收")
        PROCESSING = "processing", _("校验中")
        LOADING = "loading", _("入库中")
        DONE = "done", _("已完成")
        FAILED = "failed", _("失败")

    class Source(models.TextChoices):
        """Where the data comes from (issue 19, 下发): the city's own departments, or lists and
        records handed down by the provincial or national platform."""

        LOCAL = "local", _("本级")
        PROVINCIAL = "provincial", _("省级下发")
        NATIONAL = "national", _("国家下发")

    department = models.ForeignKey(
        "catalog.Department",
        verbose_name=_("报送部门"),
        on_delete=models.PROTECT,
        related_name="submissions",
    )
    category = models.ForeignKey(
        "catalog.Category", verbose_name=_("信息类别"), on_delete=models.PROTECT, related_name="+"
    )
    channel = models.CharField(_("报送渠道"), max_length=8, choices=Channel.choices)
    source = models.CharField(
        _("数据来源"), max_length=12, choices=Source.choices, default=Source.LOCAL
    )
    filename = models.CharField(_("文件名"), max_length=255)
    raw_file = models.FileField(
        _("原始文件"), upload_to=submission_upload_to, max_length=255, editable=False
    )
    sha256 = models.CharField(_("SHA-256"), max_length=64, db_index=True, editable=False)
    size = models.BigIntegerField(_("文件大小(字节)"), default=0, editable=False)
    status = models.CharField(
        _("状态"), max_length=12, choices=Status.choices, default=Status.RECEIVED, db_index=True
    )
    progress = models.PositiveSmallIntegerField(_("进度(%)"), default=0)
    attempts = models.PositiveSmallIntegerField(_("处理次数"), default=0)
    received_at = models.DateTimeField(_("接收时间"), default=timezone.now)
    started_at = models.DateTimeField(_("开始处理时间"), null=True, blank=True)
    finished_at = models.DateTimeField(_("完成时间"), null=True, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("报送人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    api_key = models.ForeignKey(
        "accounts.ApiKey",
        verbose_name=_("接口密钥"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    submitted_by_label = models.CharField(_("报送者"), max_length=150, blank=True)

    rows = models.PositiveIntegerField(_("数据行数"), default=0)
    accepted = models.PositiveIntegerField(_("通过"), default=0)
    rejected = models.PositiveIntegerField(_("拒收"), default=0)
    inserted = models.PositiveIntegerField(_("新增"), default=0)
    updated = models.PositiveIntegerField(_("更新"), default=0)
    unchanged = models.PositiveIntegerField(_("未变化"), default=0)
    late = models.PositiveIntegerField(_("超期报送"), default=0)
    duplicates = models.PositiveIntegerField(_("文件内重复行"), default=0)
    review = models.PositiveIntegerField(_("待确认主体"), default=0)
    error_count = models.PositiveIntegerField(_("错误数"), default=0)
    warning_count = models.PositiveIntegerField(_("警告数"), default=0)
    errors_stored = models.PositiveIntegerField(
        _("保存的错误条数"),
        default=0,
        help_text=_("错误和警告超过上限时只保存前面的若干条(按行号),其余只计数。"),
    )
    error_totals = models.JSONField(
        _("各规则错误条数"),
        default=list,
        blank=True,
        help_text=_(
            '[{"field", "field_name", "rule", "severity", "count"}]:全部错误和警告按规则计数。'
        ),
    )

    mapping_override = models.JSONField(
        _("确认的列映射"),
        null=True,
        blank=True,
        help_text=_("报送员在映射页面确认的 {表头: 字段编码或空};为空时使用保存的映射和自动匹配。"),
    )
    mapping = models.JSONField(_("列映射"), default=dict, blank=True)
    extra_columns = models.JSONField(_("未使用的列"), default=list, blank=True)
    timings = models.JSONField(_("耗时(秒)"), default=dict, blank=True)
    error_message = models.TextField(_("失败原因"), blank=True)
    failure = models.CharField(
        _("失败类型"),
        max_length=12,
        blank=True,
        choices=[
            ("unreadable", _("文件无法读取")),
            ("engine", _("校验出错")),
            ("load", _("入库出错")),
        ],
    )

    scope_lookups = {"department": "department_id", "district": "department__district_id"}

    class Meta:
        verbose_name = _("报送批次")
        verbose_name_plural = _("报送批次")
        ordering = ["-received_at", "-id"]
        indexes = [
            # The dashboard's "submissions to fix" of a department (Submission.to_fix_q).
            models.Index(
                fields=["department", "status", "received_at"], name="submission_dept_status"
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.filename}"

    @classmethod
    def to_fix_q(cls, today: dt.date) -> models.Q:
        """Submissions the department must correct and send again: failed, or loaded with
        rejected rows, received in the last FIX_WINDOW_DAYS days (older ones were resubmitted or
        written off; the dashboard counts these and the list's "fix" filter shows them)."""
        since = timezone.make_aware(
            dt.datetime.combine(today - dt.timedelta(days=FIX_WINDOW_DAYS), dt.time.min)
        )
        failed = models.Q(status=cls.Status.FAILED)
        rejected = models.Q(status=cls.Status.DONE, rejected__gt=0)
        return (failed | rejected) & models.Q(received_at__gte=since)

    @property
    def errors_truncated(self) -> bool:
        return self.error_count + self.warning_count > self.errors_stored

    @property
    def errors_note(self) -> str:
        """ "共 N 条错误,仅保存前 10,000 条" when the problems were too many to keep."""
        if not self.errors_truncated:
            return ""
        return gettext(
            "共 %(total)s 条错误和警告(错误 %(errors)s 条、警告 %(warnings)s 条),"
            "仅保存前 %(stored)s 条;各规则的条数见汇总。"
        ) % {
            "total": f"{self.error_count + self.warning_count:,}",
            "errors": f"{self.error_count:,}",
            "warnings": f"{self.warning_count:,}",
            "stored": f"{self.errors_stored:,}",
        }

    @property
    def is_finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED)

    def summary(self) -> dict:
        """The result counts, as the CLI and the API report them."""
        return {
            "submission": self.pk,
            "status": self.status,
            "rows": self.rows,
            "accepted": self.accepted,
            "rejected": self.rejected,
            "inserted": self.inserted,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "late": self.late,
            "duplicates": self.duplicates,
            "review": self.review,
            "errors": self.error_count,
            "warnings": self.warning_count,
        }


class RowError(models.Model):
    """One problem with one cell (or row) of a submission: an error rejects the row, a warning
    does not. `row` is the row number as the clerk sees it in the file (Excel row number)."""

    class Severity(models.TextChoices):
        ERROR = "error", _("错误")
        WARNING = "warning", _("警告")

    submission = models.ForeignKey(
        Submission,
        verbose_name=_("报送批次"),
        on_delete=models.CASCADE,
        related_name="row_errors",
        db_index=False,  # leads rowerror_submission_row
    )
    row = models.PositiveIntegerField(_("行号"))
    field = models.CharField(_("字段编码"), max_length=64, blank=True)
    field_name = models.CharField(_("字段"), max_length=128, blank=True)
    value = models.TextField(_("原始值"), blank=True)
    rule = models.CharField(_("规则"), max_length=64)
    message = models.TextField(_("说明"))
    severity = models.CharField(
        _("级别"), max_length=8, choices=Severity.choices, default=Severity.ERROR
    )

    scope_lookups = {
        "department": "submission__department_id",
        "district": "submission__department__district_id",
    }

    class Meta:
        verbose_name = _("行错误")
        verbose_name_plural = _("行错误")
        ordering = ["submission", "row", "id"]
        indexes = [models.Index(fields=["submission", "row"], name="rowerror_submission_row")]

    def __str__(self) -> str:
        return f"{self.row} {self.field_name}: {self.message}"


class ColumnMapping(models.Model):
    """A header a department's files use, mapped to a field of a category (or to nothing: an
    extra column to ignore). Saved after each submission and offered next time."""

    department = models.ForeignKey(
        "catalog.Department",
        verbose_name=_("部门"),
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,  # leads columnmapping_unique
    )
    category = models.ForeignKey(
        "catalog.Category", verbose_name=_("信息类别"), on_delete=models.CASCADE, related_name="+"
    )
    header = models.CharField(_("表头"), max_length=255)
    field_code = models.CharField(
        _("字段编码"), max_length=64, blank=True, help_text=_("为空表示忽略该列。")
    )
    confirmed = models.BooleanField(
        _("人工确认"), default=False, help_text=_("报送员在映射页面确认或修改过。")
    )
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    scope_lookups = {"department": "department_id", "district": "department__district_id"}

    class Meta:
        verbose_name = _("列映射")
        verbose_name_plural = _("列映射")
        ordering = ["department", "category", "header"]
        constraints = [
            models.UniqueConstraint(
                fields=["department", "category", "header"], name="columnmapping_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.header} → {self.field_code or '-'}"


class MatchReview(models.Model):
    """A record whose subject came without an identifier and whose name matched no subject with
    certainty: staff confirm a candidate (or register a new subject) in the console."""

    class Status(models.TextChoices):
        OPEN = "open", _("待确认")
        RESOLVED = "resolved", _("已确认")

    record = models.ForeignKey(
        "records.Record",
        verbose_name=_("信用记录"),
        on_delete=models.PROTECT,
        related_name="match_reviews",
    )
    submission = models.ForeignKey(
        Submission, verbose_name=_("报送批次"), on_delete=models.PROTECT, related_name="+"
    )
    subject_name = models.CharField(_("主体名称"), max_length=200)
    name_norm = models.CharField(_("规范化名称"), max_length=200)
    subject_kind = models.CharField(_("主体类别"), max_length=8, blank=True)
    candidates = models.JSONField(
        _("候选主体"),
        default=list,
        blank=True,
        help_text=_('[{"subject": id, "name": …, "score": 0–100, "reason": …}],按得分降序。'),
    )
    best_score = models.FloatField(_("最高得分"), default=0)
    status = models.CharField(
        _("状态"), max_length=10, choices=Status.choices, default=Status.OPEN, db_index=True
    )
    resolved_subject = models.ForeignKey(
        "subjects.Subject",
        verbose_name=_("确认的主体"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("确认人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    resolved_at = models.DateTimeField(_("确认时间"), null=True, blank=True)
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)

    scope_lookups = {
        "department": "record__department_id",
        "district": "record__department__district_id",
    }

    class Meta:
        verbose_name = _("主体匹配待确认")
        verbose_name_plural = _("主体匹配待确认")
        ordering = ["status", "-best_score", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["record"],
                condition=models.Q(status="open"),
                name="matchreview_one_open_per_record",
            )
        ]

    def __str__(self) -> str:
        return f"{self.subject_name} ({self.best_score:.0f})"
