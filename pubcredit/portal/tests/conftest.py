import pytest

from pubcredit.testing.browser import (  # noqa: F401 - fixtures for test_browser.py
    browser_context,
    browser_log,
    chromium_browser,
    page,
)


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Headline figures are cached; each test starts from an empty cache."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()
