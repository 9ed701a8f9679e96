"""Imported once by the fork server of `pubcredit.core.untrusted` (never by the web server or the
worker themselves): Django set up with the project's settings, the readers and the modules named
in PUBCREDIT_UNTRUSTED_PRELOAD loaded, so that every child forked from the server starts ready in
a few milliseconds.

A failure here must not stop the fork server: a child then sets Django up itself.
"""

import os

try:  # pragma: no cover - runs in the fork server only
    import polars  # noqa: F401
    import python_calamine  # noqa: F401

    if os.environ.get("DJANGO_SETTINGS_MODULE"):
        import importlib

        import django
        from django.conf import settings

        django.setup()
        # The modules whose functions the children run (PUBCREDIT_UNTRUSTED_PRELOAD), imported
        # once here rather than in every child.
        for name in getattr(settings, "PUBCREDIT_UNTRUSTED_PRELOAD", ()):
            importlib.import_module(name)
except Exception:  # pragma: no cover
    pass
