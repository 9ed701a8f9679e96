import pytest

from pubcredit.testing.listkit import make_subject, seeded  # noqa: F401 - fixtures
from pubcredit.testing.portalkit import platform  # noqa: F401 - fixture


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Headline figures, home lists and rate-limit counters live in the cache; each test starts
    from an empty cache and empty process caches (and searches check for unindexed subjects at
    once)."""
    from django.core.cache import cache

    from pubcredit.portal import disclosure, search
    from pubcredit.publicity import public

    cache.clear()
    search._CATCH_UP["at"] = 0.0
    # Process-level caches of catalogue rows: ids differ from one test database to the next.
    disclosure.clear_caches()
    public.clear_caches()
    yield
    cache.clear()
