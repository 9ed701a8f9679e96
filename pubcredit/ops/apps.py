from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


def create_cache_table(sender, using="default", verbosity=0, **kwargs):
    """After every `migrate` (and so in `pubcredit setup`'s flow), the database cache's table
    (settings.CACHES, pubcredit.core.cache): created when missing, otherwise nothing."""
    # Imported here: a command module, needed only when migrations have run.
    from django.core.management import call_command

    call_command("createcachetable", database=using, verbosity=0)
    unlog_cache_table(using)


def unlog_cache_table(using="default"):
    """On PostgreSQL the cache table is UNLOGGED: a counter's write then commits without waiting
    for the write-ahead log to reach disk (5 ms a request on a busy server; a cache may be lost
    in a crash, and the key cache then simply re-reads its keys)."""
    # Imported here: settings and connections are read when migrations have run.
    from django.conf import settings
    from django.db import connections

    connection = connections[using]
    if connection.vendor != "postgresql":
        return
    for alias in settings.CACHES.values():
        if alias["BACKEND"] != "pubcredit.core.cache.DatabaseCache":
            continue
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT relpersistence FROM pg_class WHERE relname = %s", [alias["LOCATION"]]
            )
            row = cursor.fetchone()
            if row and row[0] == "p":
                table = connection.ops.quote_name(alias["LOCATION"])
                cursor.execute(f"ALTER TABLE {table} SET UNLOGGED")


class OpsConfig(AppConfig):
    """Operating the platform: `pubcredit setup` (reference data, rules, the admin account, the
    demo city), `pubcredit serve` (site, task worker and scheduler supervised together) and
    `pubcredit scheduler` with its schedule (`ops.schedule.JOBS`)."""

    name = "pubcredit.ops"
    verbose_name = _("运行维护")

    def ready(self):
        # Imported in ready(): signals are connected once the app registry is ready.
        from django.apps import apps
        from django.db.models.signals import post_migrate

        # post_migrate is sent for apps with models only (ops has none): after the accounts
        # app's, whose API-key revocations the shared cache carries.
        post_migrate.connect(
            create_cache_table,
            sender=apps.get_app_config("accounts"),
            dispatch_uid="ops-cache-table",
        )
