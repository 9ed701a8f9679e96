from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ListsConfig(AppConfig):
    name = "pubcredit.lists"
    verbose_name = _("信用名单")
