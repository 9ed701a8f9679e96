"""Settings of the check server: a slim deployment of this project that serves only
`POST /api/v1/checks` (and `GET /api/v1/health`) for systems holding an API key.

The same project, apps, models, keys and database as `pubcredit.settings` (imported whole, every
environment variable means the same), with:
- the URLconf `pubcredit.urls_checks`: an API with the check operation of
  `pubcredit.checks.api` (the same view, schema, authentication `ApiKeyAuth` and error handlers
  as the site's) and the health check, nothing else;
- only the middleware such a request uses: security headers and the HTTPS redirect, the caller's
  language (Accept-Language or the language cookie), Host validation and Content-Length, the
  X-Frame-Options and Content-Security-Policy headers. No session, CSRF, login, messages or
  django-axes: an API-key request touches none of them (a session-authenticated check goes to
  the site, `pubcredit.wsgi`, as everything else does);
- on PostgreSQL, server-side binding with psycopg's automatic prepared statements
  (`server_side_binding` and `prepare_threshold` in the default alias's OPTIONS, both
  documented by Django and psycopg): this process runs the same few statements thousands of
  times a second (the key's generation, a check's read, its log row), so PostgreSQL parses and
  plans each once per connection and then only executes it. The site keeps Django's default
  (client-side binding, nothing prepared) for its varied ORM queries.

Run it with `pubcredit serve_checks` (a granian process, pubcredit.wsgi_checks) behind the same
reverse proxy as the site, which sends it `POST /api/v1/checks` with an `Authorization: Bearer`
header (README, "Production").
"""

import os

from pubcredit.settings import *  # noqa: F403
from pubcredit.settings import DATABASES

ROOT_URLCONF = "pubcredit.urls_checks"
WSGI_APPLICATION = "pubcredit.wsgi_checks.application"

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
]

# After how many executions of the same statement on a connection psycopg prepares it (0: at the
# first; psycopg's own default is 5). Every statement this server runs repeats.
PUBCREDIT_CHECKS_PREPARE_THRESHOLD = int(os.environ.get("PUBCREDIT_CHECKS_PREPARE_THRESHOLD", "1"))

# The options a PostgreSQL alias of the check server takes (a copy: pubcredit.settings' own
# dictionaries are left as they are).
CHECKS_DATABASE_OPTIONS = {
    "server_side_binding": True,
    "prepare_threshold": PUBCREDIT_CHECKS_PREPARE_THRESHOLD,
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    _default = DATABASES["default"]
    DATABASES = {
        **DATABASES,
        "default": {
            **_default,
            "OPTIONS": {**_default.get("OPTIONS", {}), **CHECKS_DATABASE_OPTIONS},
        },
    }
