from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class HolidaysConfig(AppConfig):
    name = "pubcredit.holidays"
    verbose_name = _("节假日与工作日")
