"""Shared fixtures. Tests run against whatever DATABASE_URL names (SQLite by default; CI runs the
suite again on PostgreSQL), in two processes (pytest-xdist, `-n 2` in pyproject's addopts), each
with a test database of its own.

Every test database holds the shipped reference data from the start (pubcredit/testing/
reference.py): the catalogue, publicity rules, list types, measures and repair rules, imported
once per session through the real services."""

import os

import pytest

# The browser fixtures are defined once, here: a session-scoped Playwright imported into two test
# modules would start twice, and the second sync start fails inside the first one's event loop.
from pubcredit.testing.browser import (  # noqa: F401 - fixtures
    browser_context,
    browser_log,
    chromium_browser,
    page,
)
from pubcredit.testing.reference import (  # noqa: F401 - fixtures
    catalogue,
    empty_reference,
    reference,
)


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """pytest-django's test database, then the reference data imported into it once (see
    pubcredit/testing/reference.py), and put back after every flush."""
    from pubcredit.accounts.permissions import Principal
    from pubcredit.testing import reference as refdata

    with django_db_blocker.unblock():
        refdata.load(Principal.system("test"))
    refdata.watch_flushes()
    yield


def pytest_report_header(config):
    from django.conf import settings

    return f"database: {settings.DATABASES['default']['ENGINE']}"


@pytest.fixture(scope="session", autouse=True)
def _worker_media(tmp_path_factory):
    """A MEDIA_ROOT per test process, for the whole session (module and class fixtures too):
    nothing is written under the checkout's var/, and two xdist workers never write the same
    file."""
    from django.test import override_settings

    media = tmp_path_factory.mktemp("media")
    with override_settings(MEDIA_ROOT=media):
        yield media


@pytest.fixture(scope="session", autouse=True)
def _worker_signing_key(tmp_path_factory):
    """The centre's signing key and certificate (core.signing) generated once per test process
    into a temporary directory, never into the checkout's var/."""
    from django.test import override_settings

    folder = tmp_path_factory.mktemp("signing")
    with override_settings(
        PUBCREDIT_SIGNING_DIR=folder, PUBCREDIT_SIGNING_KEY="", PUBCREDIT_SIGNING_CERT=""
    ):
        yield folder


@pytest.fixture(autouse=True)
def _immediate_tasks(settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    # Tests create many accounts; the production hasher's 10⁶ PBKDF2 rounds are not under test.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _default_language():
    """Every test starts in the default language (zh-hans): a test that rendered English must
    not leave the thread's active language to the next test an xdist worker runs."""
    from django.conf import settings
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture(autouse=True)
def _fresh_process_caches():
    """Process-level caches built from the database (category specs, compiled measures rules,
    catalogue maps, the holiday table) are dropped after each test: what a test changed was
    rolled back, and its cache must not outlive it."""
    yield
    from pubcredit.holidays import services as holidays
    from pubcredit.testing import reference as refdata

    refdata.clear_caches()
    holidays.clear_cache()


@pytest.fixture
def system():
    from pubcredit.accounts.permissions import Principal

    return Principal.system("test")


@pytest.fixture
def in_ci() -> bool:
    return os.environ.get("CI") == "true"
