"""信息共享 models: the log of every query a department system (or the centre) makes."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from pubcredit.core.citus import ShardedBySubject


class SharingQuery(ShardedBySubject):
    """One sharing query: who asked (user or key, and the department it belongs to), about which
    subject, for which categories, why, and how many rows it got. Written in the same
    transaction as the answer is read (pubcredit.sharing.services)."""

    class Kind(models.TextChoices):
        RECORDS = "records", _("信用记录")
        LISTS = "lists", _("名单")

    at = models.DateTimeField(_("查询时间"), default=timezone.now, db_index=True)
    kind = models.CharField(_("查询内容"), max_length=8, choices=Kind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("查询人"),
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
    actor_label = models.CharField(_("查询者"), max_length=150)
    department = models.ForeignKey(
        "catalog.Department",
        verbose_name=_("查询部门"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    subject = models.ForeignKey(
        "subjects.Subject",
        verbose_name=_("被查询主体"),
        on_delete=models.PROTECT,
        related_name="+",
        db_constraint=False,
    )
    categories = models.JSONField(_("查询的信息类别"), default=list, blank=True)
    purpose = models.CharField(_("查询事由"), max_length=255)
    rows = models.PositiveIntegerField(_("返回条数"), default=0)
    masked = models.BooleanField(_("自然人信息脱敏"), default=True)

    class Meta:
        verbose_name = _("共享查询")
        verbose_name_plural = _("共享查询")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["department", "at"], name="sharingquery_dept_at")]

    def __str__(self) -> str:
        return f"{self.actor_label} {self.at:%Y-%m-%d %H:%M}"


class SharingQueryCategory(models.Model):
    """The categories one query was answered for, one row each (statistics by category are a
    GROUP BY, not a scan of JSON)."""

    query = models.ForeignKey(
        SharingQuery, verbose_name=_("共享查询"), on_delete=models.CASCADE, related_name="lines"
    )
    category = models.ForeignKey(
        "catalog.Category", verbose_name=_("信息类别"), on_delete=models.PROTECT, related_name="+"
    )
    rows = models.PositiveIntegerField(_("返回条数"), default=0)

    class Meta:
        verbose_name = _("共享查询类别")
        verbose_name_plural = _("共享查询类别")
        constraints = [
            models.UniqueConstraint(fields=["query", "category"], name="sharingquerycat_unique")
        ]

    def __str__(self) -> str:
        return f"{self.query_id}:{self.category_id}"
