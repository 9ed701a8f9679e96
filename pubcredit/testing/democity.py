"""A demo city loaded once for several tests that only read it.

`load_demo` writes thousands of rows; a test that loads it and then only reads (or changes things
inside its own transaction, which rolls back) can share one committed city with its neighbours:
a module- or class-scoped fixture loads it with `committed_city`, and each test still runs in a
transaction of its own on top of it. Afterwards the database is flushed back to the session's
starting point (the reference data comes back through the flush's post_migrate, see
reference.py).

Tests that load, replace or remove the demo themselves keep a city of their own, per test.
Mark a module or class that shares a city with `pytest.mark.xdist_group(...)`, so one xdist
worker loads it once.
"""

from __future__ import annotations

from contextlib import contextmanager

# What the root conftest's autouse fixtures set for every test, in force while the city loads
# (module and class fixtures run outside them). MEDIA_ROOT is the root conftest's per-process
# directory for the whole session already (`_worker_media`); the callers name it anyway.
TEST_SETTINGS = {
    "TASKS": {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}},
    "PASSWORD_HASHERS": ["django.contrib.auth.hashers.MD5PasswordHasher"],
}


def flush_to_reference(django_db_blocker) -> None:
    """Empty every table; the flush's post_migrate puts the reference data back."""
    from django.core.management import call_command

    from pubcredit.testing import reference

    with django_db_blocker.unblock():
        # As a TransactionTestCase flushes: sequences are not reset (ids stay unique across tests).
        call_command("flush", verbosity=0, interactive=False, reset_sequences=False)
    reference.clear_caches()


@contextmanager
def committed_city(django_db_blocker, build, **settings):
    """Run `build(system)` (which loads the demo, and whatever else the tests read) with the
    database unblocked, committed; yield its result; flush the database afterwards."""
    from django.test import override_settings

    from pubcredit.accounts.permissions import Principal
    from pubcredit.testing import reference

    try:
        with override_settings(**TEST_SETTINGS, **settings), django_db_blocker.unblock():
            reference.clear_caches()
            result = build(Principal.system("test"))
        yield result
    finally:
        flush_to_reference(django_db_blocker)
