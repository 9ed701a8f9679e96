"""Reference data for the tests, loaded once per test session.

The shipped catalogue (regions, code lists, categories and fields, departments), the publicity
rules, the list types, the measures and the repair rules are what nearly every test stands on.
Importing them through the audited services costs about a second (hundreds of single-row audit
INSERTs), so the root conftest's `django_db_setup` does it once per session (per xdist worker),
right after the test database is created: `load()` runs the real imports, keeps a copy of every
row they wrote (`Snapshot`), and deletes the audit events they wrote, so that every test starts
from the tables as a fresh `setup` leaves them and an empty audit trail.

Every test then sees that data; tests in a transaction (`db`) roll back whatever they change.
Tests that flush the database afterwards (`transactional_db`, `transaction=True`,
`live_server`) get it back through `post_migrate`, which Django's flush emits: the snapshot is
bulk-inserted again with the same primary keys.

Tests of the imports themselves (counts, idempotence, audit rows, versioning) empty the tables
first, inside their own transaction: the `empty_reference` fixture or `clear()`.

Holidays are not part of it: working-day arithmetic changes with the table, and the tests that
want it seed it themselves (`seed_from_chinese_calendar`, a few milliseconds).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest


def clear_caches() -> None:
    """Forget every process-level cache built from reference rows (their ids change when the
    tables are emptied and imported again inside a test)."""
    from pubcredit.intake.engine.spec import clear_spec_cache
    from pubcredit.measures import rules
    from pubcredit.portal import disclosure
    from pubcredit.publicity import public

    clear_spec_cache()
    rules.invalidate_local()
    disclosure.clear_caches()
    public.clear_caches()


def import_all(principal) -> dict:
    """The shipped reference data through the audited services, as `pubcredit setup` does;
    returns each import's counts by name."""
    from pubcredit.catalog.services import import_catalogue
    from pubcredit.lists.services import import_list_types
    from pubcredit.measures.catalogue import import_measures
    from pubcredit.publicity.rulefile import import_rules as import_publicity_rules
    from pubcredit.repair.rules import import_rules as import_repair_rules

    clear_caches()
    counts = {
        "catalogue": import_catalogue(principal),
        "publicity": import_publicity_rules(principal),
        "list_types": import_list_types(principal),
        "measures": import_measures(principal),
        "repair": import_repair_rules(principal),
    }
    clear_caches()
    return counts


@dataclass
class Snapshot:
    """Every row of the reference tables, by model (auto-created M2M tables included)."""

    rows: dict[type, list[dict]] = field(default_factory=dict)

    @classmethod
    def take(cls, models) -> Snapshot:
        snap = cls()
        for model in models:
            names = [f.attname for f in model._meta.concrete_fields]
            snap.rows[model] = list(model._base_manager.order_by("pk").values(*names))
        return snap

    def present(self) -> bool:
        """Whether the database still holds the reference rows (one cheap query)."""
        model, rows = next(iter(self.rows.items()))
        return model._base_manager.filter(pk=rows[0][model._meta.pk.attname]).exists()

    def restore(self, using: str = "default") -> None:
        """Insert every row again, with its primary key (after a flush), and move the tables'
        sequences past those keys: a flush that reset them (`flush` run as a command does)
        would otherwise hand out the restored keys again (an INSERT fails, or an M2M add's
        ON CONFLICT DO NOTHING silently drops the row)."""
        from django.core.management.color import no_style
        from django.db import connections, transaction

        connection = connections[using]
        with transaction.atomic(using=using):
            for model, rows in self.rows.items():
                model._base_manager.using(using).bulk_create(
                    [model(**row) for row in rows], batch_size=500
                )
            statements = connection.ops.sequence_reset_sql(no_style(), list(self.rows))
            if statements:
                with connection.cursor() as cursor:
                    for sql in statements:
                        cursor.execute(sql)
        clear_caches()


def all_models() -> list[type]:
    """Every table's model (auto-created M2M tables included), in INSTALLED_APPS order."""
    from django.apps import apps

    return [
        m
        for m in apps.get_models(include_auto_created=True)
        if m._meta.managed and not m._meta.proxy
    ]


_state: dict = {"snapshot": None, "counts": None}


def load(principal) -> dict:
    """Run the imports (once per session), keep the rows of every table they filled (whatever
    app the tables live in), drop their audit events."""
    from django.core.management import call_command

    from pubcredit.accounts.models import AuditEvent
    from pubcredit.catalog.services import catalogue_loaded

    if catalogue_loaded():  # a database kept from an earlier session (--reuse-db)
        call_command("flush", verbosity=0, interactive=False, reset_sequences=False)
    models = all_models()
    before = {m: m._base_manager.count() for m in models}
    counts = import_all(principal)
    AuditEvent.objects.all().delete()
    filled = [m for m in models if m._base_manager.count() > before[m]]
    assert filled, "the reference imports wrote nothing"
    _state["snapshot"] = Snapshot.take(filled)
    _state["counts"] = counts
    return counts


def reference_models() -> list[type]:
    """The models of the tables the session's imports filled."""
    snap = _state["snapshot"]
    assert snap is not None, "reference data not loaded (django_db_setup)"
    return list(snap.rows)


def counts() -> dict:
    """The counts the session's imports returned (what a first import into an empty database
    creates)."""
    assert _state["counts"] is not None, "reference data not loaded (django_db_setup)"
    return _state["counts"]


def restore_after_flush(sender, using="default", **kwargs) -> None:
    """post_migrate receiver: after a test's flush, put the reference rows back."""
    snap = _state["snapshot"]
    if snap is not None and snap.rows and not snap.present():
        snap.restore(using)


def watch_flushes() -> None:
    """Restore the snapshot whenever a flush emits post_migrate (connected for the last app
    with models, so the contenttypes and permissions of the others are back already)."""
    from django.apps import apps
    from django.db.models.signals import post_migrate

    last = [a for a in apps.get_app_configs() if a.models_module is not None][-1]
    post_migrate.connect(
        restore_after_flush, sender=last, weak=False, dispatch_uid="pubcredit-reference-restore"
    )


def clear(*labels: str) -> None:
    """Empty the reference tables (of the apps labelled, or all of them) in one transaction: the
    database as `migrate` leaves it, for tests of the imports. Foreign keys between the tables
    are deferred, so the order of the DELETEs does not matter."""
    from django.db import connection, transaction

    models = [m for m in reference_models() if not labels or m._meta.app_label in labels]
    unknown = set(labels) - {m._meta.app_label for m in models}
    assert not unknown, f"no reference tables in {sorted(unknown)}"
    with transaction.atomic(), connection.cursor() as cursor:
        for model in models:
            cursor.execute(f"DELETE FROM {connection.ops.quote_name(model._meta.db_table)}")
    clear_caches()


# --------------------------------------------------------------------------- fixtures


@pytest.fixture
def reference(db):
    """The session's reference data (present in every test database; this names the need):
    the counts of the session's imports into the empty database, by import."""
    return counts()


@pytest.fixture
def catalogue(reference):
    """The shipped catalogue (with the publicity rules, list types, measures and repair rules);
    returns the counts of the session's catalogue import into the empty database."""
    return reference["catalogue"]


@pytest.fixture
def empty_reference(db):
    """The reference tables emptied inside the test's transaction: the database as after
    `migrate`, for tests of the imports themselves. The rollback brings the rows back."""
    clear()
