"""What the demo loader wrote, so that it can refuse a second load and remove its own rows.

The demo subjects of one load occupy one contiguous block of primary keys (reserved with
`pubcredit.core.bulkload.reserve_ids`), so a load is identified by [first_id, last_id] without a
marker column on the subject register.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class DemoLoad(models.Model):
    seed = models.BigIntegerField(_("随机种子"))
    subjects = models.PositiveIntegerField(_("主体数"))
    first_id = models.BigIntegerField(_("起始主体编号"))
    last_id = models.BigIntegerField(_("结束主体编号"))
    former_names = models.PositiveIntegerField(_("曾用名数"), default=0)
    generator_version = models.CharField(_("生成器版本"), max_length=16)
    loaded_at = models.DateTimeField(_("加载时间"), auto_now_add=True)
    loaded_by = models.CharField(_("操作者"), max_length=150)
    seconds = models.FloatField(_("耗时(秒)"), default=0)

    class Meta:
        verbose_name = _("演示数据加载")
        verbose_name_plural = _("演示数据加载")
        ordering = ["-loaded_at", "-id"]

    def __str__(self) -> str:
        return f"演示数据 {self.subjects} 个主体(种子 {self.seed})"
