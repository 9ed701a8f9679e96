from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PortalConfig(AppConfig):
    name = "pubcredit.portal"
    verbose_name = _("公众门户")

    def ready(self):
        # Imported in ready(): models and app modules need the app registry.
        from pubcredit.portal import signals  # noqa: F401 - connects the index receivers
