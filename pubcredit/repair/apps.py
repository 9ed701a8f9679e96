from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RepairConfig(AppConfig):
    name = "pubcredit.repair"
    verbose_name = _("信用修复与异议")
