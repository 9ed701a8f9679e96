from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ScoringConfig(AppConfig):
    name = "pubcredit.scoring"
    verbose_name = _("信用评价")
