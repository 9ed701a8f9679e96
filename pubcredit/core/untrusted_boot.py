"""Imported once by the fork server of `pubcredit.core.untrusted` (never by the web server or the
worker themselves): Django set up with the project's settings and the readers loaded, so that
every child forked from the server starts ready in a few milliseconds.

A failure here must not stop the fork server: a child then sets Django up itself.
"""

import os

try:  # pragma: no cover - runs in the fork server only
    import polars  # noqa: F401
    import python_calamine  # noqa: F401

    if os.environ.get("DJANGO_SETTINGS_MODULE"):
        import django

        django.setup()
except Exception:  # pragma: no cover
    pass
