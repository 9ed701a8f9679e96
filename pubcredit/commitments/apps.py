from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CommitmentsConfig(AppConfig):
    name = "pubcredit.commitments"
    verbose_name = _("信用承诺")

    def ready(self) -> None:
        from pubcredit.commitments import signals

        signals.connect()
