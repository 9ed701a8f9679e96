from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReportsConfig(AppConfig):
    name = "pubcredit.reports"
    verbose_name = _("信用报告")
