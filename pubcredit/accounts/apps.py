from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "pubcredit.accounts"
    verbose_name = _("账号与审计")

    def ready(self):
        # Imported in ready(): models and app modules need the app registry.
        from django.db.models.signals import post_delete, post_save

        from pubcredit.accounts.models import ApiKey
        from pubcredit.accounts.services import api_key_changed

        # A key saved through the ORM (revoked, re-scoped, expiry changed) is re-read at once,
        # in every process (the revocation generation, see services).
        for signal in (post_save, post_delete):
            signal.connect(api_key_changed, sender=ApiKey, dispatch_uid=f"apikey-{signal}")
