from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MeasuresConfig(AppConfig):
    name = "pubcredit.measures"
    verbose_name = _("联合奖惩措施")

    def ready(self):
        # Imported in ready(): models and app modules need the app registry.
        from pubcredit.measures import rules

        rules.connect_invalidation()
