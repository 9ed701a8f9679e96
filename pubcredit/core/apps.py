from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    """Infrastructure that knows no domain app. Its one table is the job leases of
    `pubcredit.core.jobs` (which worker process runs which long background job)."""

    name = "pubcredit.core"
    verbose_name = _("基础设施")
