from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CatalogConfig(AppConfig):
    name = "pubcredit.catalog"
    verbose_name = _("信息目录")
