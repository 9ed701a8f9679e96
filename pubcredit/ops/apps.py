from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OpsConfig(AppConfig):
    """Operating the platform: `pubcredit setup` (reference data, rules, the admin account, the
    demo city), `pubcredit serve` (site, task worker and scheduler supervised together) and
    `pubcredit scheduler` with its schedule (`ops.schedule.JOBS`)."""

    name = "pubcredit.ops"
    verbose_name = _("运行维护")
