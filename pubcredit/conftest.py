"""Shared fixtures. Tests run against whatever DATABASE_URL names (SQLite by default; CI runs the
suite again on PostgreSQL)."""

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


def pytest_report_header(config):
    from django.conf import settings

    return f"database: {settings.DATABASES['default']['ENGINE']}"


@pytest.fixture(autouse=True)
def _immediate_tasks(settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    # Tests create many accounts; the production hasher's 10⁶ PBKDF2 rounds are not under test.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def system():
    from pubcredit.accounts.permissions import Principal

    return Principal.system("test")


@pytest.fixture
def in_ci() -> bool:
    return os.environ.get("CI") == "true"
