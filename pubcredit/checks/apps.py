from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ChecksConfig(AppConfig):
    """Credit checks (信用核查): the check API and CLI, the window page, batch checks, notices to
    recent checkers, feedback and statistics."""

    name = "pubcredit.checks"
    verbose_name = _("信用核查")

    def ready(self):
        # Imported in ready(): models and app modules need the app registry.
        from pubcredit.checks import notices
        from pubcredit.lists.signals import entries_published

        entries_published.connect(
            notices.on_entries_published, dispatch_uid="checks-notify-checkers"
        )
