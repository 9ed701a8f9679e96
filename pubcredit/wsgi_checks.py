"""WSGI entry point of the check server: the project with pubcredit.settings_checks (only
`POST /api/v1/checks` and the health check). `pubcredit serve_checks` runs it under granian."""

import os

from django.core.wsgi import get_wsgi_application

os.environ["DJANGO_SETTINGS_MODULE"] = "pubcredit.settings_checks"
application = get_wsgi_application()
