from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FinancingConfig(AppConfig):
    name = "pubcredit.financing"
    verbose_name = _("信易贷")
