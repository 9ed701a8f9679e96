from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CommitmentsConfig(AppConfig):
    name = "pubcredit.commitments"
    verbose_name = _("信用承诺")
