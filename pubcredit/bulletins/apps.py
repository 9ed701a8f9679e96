from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BulletinsConfig(AppConfig):
    name = "pubcredit.bulletins"
    verbose_name = _("归集调度通报")
