"""WSGI entry point of the site. API-key credit checks may be served by their own process too:
pubcredit.wsgi_checks (`pubcredit serve_checks`)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pubcredit.settings")
application = get_wsgi_application()
