"""The one table of `core`: job leases (see pubcredit.core.jobs)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class JobLease(models.Model):
    """A long background job (an intake submission, a batch check…) that a worker process runs,
    or that waits for a worker after its previous one died.

    `kind` is the dotted path of the job's `core.jobs.JobKind`, `object_id` the primary key of
    the row the job works on. `holder` is the process token (host:pid:start) of the worker
    running it, empty while the job waits in the queue after the sweeper re-enqueued it. The
    holder's heartbeat pushes `expires_at` forward; `attempts` counts the runs since the job was
    last finished (a run that ends, well or badly, deletes the lease)."""

    kind = models.CharField(_("任务类型"), max_length=200)
    object_id = models.BigIntegerField(_("对象编号"))
    holder = models.CharField(_("执行进程"), max_length=120, blank=True)
    attempts = models.PositiveSmallIntegerField(_("执行次数"), default=0)
    task_result_id = models.CharField(_("任务记录编号"), max_length=64, blank=True)
    started_at = models.DateTimeField(_("开始时间"), null=True, blank=True)
    heartbeat_at = models.DateTimeField(_("心跳时间"), null=True, blank=True)
    expires_at = models.DateTimeField(_("租约到期时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("后台任务租约")
        verbose_name_plural = _("后台任务租约")
        constraints = [
            models.UniqueConstraint(fields=["kind", "object_id"], name="joblease_one_per_job")
        ]

    def __str__(self) -> str:
        return f"{self.kind}#{self.object_id} ({self.holder or '-'})"
