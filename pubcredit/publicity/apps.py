from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PublicityConfig(AppConfig):
    name = "pubcredit.publicity"
    verbose_name = _("公示期")
