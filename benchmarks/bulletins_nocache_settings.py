"""The site's settings with the "default" cache off (benchmarks/bulletins.py): every request to
the big screen's data and the portal's statistics computes its figures, as the screen's minute
refresh does once its cached copy has expired."""

from pubcredit.settings import *  # noqa: F403

CACHES = {
    **CACHES,  # noqa: F405
    "default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"},
}
