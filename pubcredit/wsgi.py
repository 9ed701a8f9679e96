"""WSGI entry point: Django, with the check lane in front (pubcredit.checks.lane)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pubcredit.settings")
django_application = get_wsgi_application()

from pubcredit.checks.lane import CheckLane  # noqa: E402

application = CheckLane(django_application)
