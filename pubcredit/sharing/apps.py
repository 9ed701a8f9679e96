from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SharingConfig(AppConfig):
    name = "pubcredit.sharing"
    verbose_name = _("信息共享")
