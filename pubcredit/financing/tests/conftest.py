from importlib import import_module

import pytest
from django.apps import apps

from pubcredit.testing.scorekit import scorecards  # noqa: F401 (fixtures)


@pytest.fixture(autouse=True)
def _matching_rules(db):
    """The matching rules the migration seeds: a transactional test elsewhere in the same
    worker flushes the tables (and so the migration's rows); seed them again (idempotent)."""
    import_module("pubcredit.financing.migrations.0002_matching_rules").seed(apps, None)
