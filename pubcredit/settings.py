"""Django settings for pubcredit.

Everything a deployment changes comes from the environment:
- DATABASE_URL (default: SQLite at var/pubcredit.sqlite3; production: postgres://...)
- PUBCREDIT_SECRET_KEY, PUBCREDIT_FIELD_KEY, PUBCREDIT_INDEX_KEY (generated into var/ when absent,
  which is right for a laptop and wrong for production: set them there)
- PUBCREDIT_ALLOWED_HOSTS, PUBCREDIT_VAR_DIR
- PUBCREDIT_DEBUG=1 for a developer's laptop only (`make run` sets it): tracebacks with the
  settings, the demo staff accounts. Off unless asked for.
- PUBCREDIT_HTTPS=1 when the site is served over HTTPS (production): HSTS, secure cookies, the
  redirect to HTTPS (PUBCREDIT_HSTS_SECONDS, PUBCREDIT_HSTS_PRELOAD...). README, "Production".
- PUBCREDIT_SESSION_IDLE_MINUTES: a staff session ends after this many idle minutes (30).
"""

import datetime as dt
import os
from pathlib import Path

import dj_database_url

from pubcredit.core.keys import load_or_create_keys

BASE_DIR = Path(__file__).resolve().parent
VAR_DIR = Path(os.environ.get("PUBCREDIT_VAR_DIR", BASE_DIR.parent / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)

_keys = load_or_create_keys(VAR_DIR)
SECRET_KEY = _keys["secret_key"]
# Keys for personal data: AES-GCM encryption of 身份证号 and the HMAC blind index used to find it.
PUBCREDIT_FIELD_KEY = _keys["field_key"]
PUBCREDIT_INDEX_KEY = _keys["index_key"]


def _flag(name: str, default: str = "0") -> bool:
    return os.environ.get(name, default).strip().lower() in ("1", "true", "yes", "on")


# Off unless asked for: the public must never see a traceback with the settings.
DEBUG = _flag("PUBCREDIT_DEBUG")
ALLOWED_HOSTS = os.environ.get("PUBCREDIT_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver").split(
    ","
)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "axes",
    "csp",
    "django_tasks",
    "django_tasks_db",
    "ninja",  # Swagger UI for /api/v1/docs from its bundled static files, not a CDN
    "pubcredit.accounts",
    "pubcredit.catalog",
    "pubcredit.holidays",
    "pubcredit.subjects",
    "pubcredit.intake",
    "pubcredit.records",
    "pubcredit.publicity",
    "pubcredit.lists",
    "pubcredit.measures",
    "pubcredit.checks",
    "pubcredit.commitments",
    "pubcredit.scoring",
    "pubcredit.repair",
    "pubcredit.bulletins",
    "pubcredit.reports",
    "pubcredit.exchange",
    "pubcredit.sharing",
    "pubcredit.financing",
    "pubcredit.portal",
    "pubcredit.console",
    "pubcredit.ops",
    "pubcredit.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "pubcredit.accounts.middleware.IdleSessionMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    # Last, as django-axes asks: turns a locked-out login into the lock-out page.
    "axes.middleware.AxesMiddleware",
]
# The check server (pubcredit.settings_checks) runs a subset of these: keep them in step.

ROOT_URLCONF = "pubcredit.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "pubcredit.portal.context_processors.site",
            ],
        },
    },
]

WSGI_APPLICATION = "pubcredit.wsgi.application"

DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{VAR_DIR / 'pubcredit.sqlite3'}",
        conn_max_age=int(os.environ.get("PUBCREDIT_CONN_MAX_AGE", "60")),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL and a busy timeout let the web server and the db_worker share one SQLite file.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 30,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

# Passwords: at least 12 characters of at least 3 of the 4 kinds (upper case, lower case, digits,
# other), not like the username or the name, not a common password, not all digits.
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "pubcredit.accounts.passwords.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "pubcredit.accounts.passwords.CharacterClassesValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Password logins (/accounts/login/ and /admin/login/) are throttled by django-axes: after
# AXES_FAILURE_LIMIT failures for one username, or from one address, that username or address is
# refused (the right password too) for AXES_COOLOFF_TIME. API keys are not passwords: unaffected.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = int(os.environ.get("PUBCREDIT_LOGIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = dt.timedelta(
    minutes=int(os.environ.get("PUBCREDIT_LOGIN_COOLOFF_MINUTES", "15"))
)
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
# A success does not clear the failures: it would clear every failure from its address, for
# every username, letting someone with an account of their own guess another's without end.
AXES_RESET_ON_SUCCESS = False
# The Chinese lock-out page, HTTP 429.
AXES_LOCKOUT_CALLABLE = "pubcredit.accounts.lockout.lockout_response"
# The client's address as the rate limits see it (PUBCREDIT_TRUSTED_PROXIES, below).
AXES_CLIENT_IP_CALLABLE = "pubcredit.core.ratelimit.client_ip"

# Public portal and its API: requests allowed per client address, "<requests>/<seconds>"
# ("0" = unlimited), and how many reverse proxies in front of the site may be trusted to report
# the client's address in X-Forwarded-For (0: use the connecting address).
PUBCREDIT_PUBLIC_RATE = os.environ.get("PUBCREDIT_PUBLIC_RATE", "120/60")
PUBCREDIT_TRUSTED_PROXIES = int(os.environ.get("PUBCREDIT_TRUSTED_PROXIES", "0"))
# Seconds an authenticated API key is served from the process cache (0: read it every request).
PUBCREDIT_API_KEY_CACHE_SECONDS = float(os.environ.get("PUBCREDIT_API_KEY_CACHE_SECONDS", "10"))

# The city this deployment serves: shown as 信用<city> in the page header (English name for /en).
PUBCREDIT_CITY_NAME = os.environ.get("PUBCREDIT_CITY_NAME", "淄博")
PUBCREDIT_CITY_NAME_EN = os.environ.get("PUBCREDIT_CITY_NAME_EN", "Zibo")
# The site's public address, printed (and QR-coded) on credit reports for their verification
# page (/verify/<number>); production sets the portal's real address.
PUBCREDIT_PUBLIC_URL = os.environ.get("PUBCREDIT_PUBLIC_URL", "http://127.0.0.1:8000")
# How long an issued credit report is valid (days; printed on it, shown when verified).
PUBCREDIT_REPORT_VALID_DAYS = int(os.environ.get("PUBCREDIT_REPORT_VALID_DAYS", "30"))
# Credit reports downloaded from the portal per client address ("<requests>/<seconds>"; each draws
# a PDF, so stricter than PUBCREDIT_PUBLIC_RATE; "0" disables).
PUBCREDIT_PUBLIC_REPORT_RATE = os.environ.get("PUBCREDIT_PUBLIC_REPORT_RATE", "10/60")
# The centre's key and certificate (PEM paths) signing the reports (PAdES, pubcredit/core/
# signing.py); without them a laptop generates a self-signed pair once into var/signing/.
PUBCREDIT_SIGNING_KEY = os.environ.get("PUBCREDIT_SIGNING_KEY", "")
PUBCREDIT_SIGNING_CERT = os.environ.get("PUBCREDIT_SIGNING_CERT", "")
PUBCREDIT_SIGNING_PASSPHRASE = os.environ.get("PUBCREDIT_SIGNING_PASSPHRASE", "")
PUBCREDIT_SIGNING_CHAIN = [
    p.strip() for p in os.environ.get("PUBCREDIT_SIGNING_CHAIN", "").split(",") if p.strip()
]
PUBCREDIT_SIGNING_DIR = VAR_DIR / "signing"

# The CJK TrueType font embedded in generated PDFs (bulletins): a .ttf or .ttc path, and the face
# of a .ttc. Empty: the first installed of the well-known fonts (fonts-wqy-zenhei first; see
# pubcredit/core/pdffonts.py). Fonts with CFF outlines (.otf, Noto Sans CJK) cannot be embedded.
PUBCREDIT_PDF_FONT = os.environ.get("PUBCREDIT_PDF_FONT", "")
PUBCREDIT_PDF_FONT_INDEX = int(os.environ.get("PUBCREDIT_PDF_FONT_INDEX", "0"))

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
# Project-wide assets (site.css, vendored htmx/ECharts) live beside the project templates.
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "media/"
MEDIA_ROOT = VAR_DIR / "media"

# Staff sessions end after PUBCREDIT_SESSION_IDLE_MINUTES without a request (requests renew
# them: pubcredit.accounts.middleware) and when the browser closes.
SESSION_COOKIE_AGE = 60 * int(os.environ.get("PUBCREDIT_SESSION_IDLE_MINUTES", "30"))
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True

# HTTPS (production): PUBCREDIT_HTTPS=1 redirects HTTP to HTTPS, sends HSTS and marks the session
# and CSRF cookies secure. Behind a reverse proxy that terminates TLS (PUBCREDIT_TRUSTED_PROXIES
# > 0), the proxy's X-Forwarded-Proto says whether the request came over HTTPS.
HTTPS = _flag("PUBCREDIT_HTTPS")
SECURE_SSL_REDIRECT = HTTPS
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_HSTS_SECONDS = int(os.environ.get("PUBCREDIT_HSTS_SECONDS", "31536000")) if HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = _flag("PUBCREDIT_HSTS_INCLUDE_SUBDOMAINS", "1")
SECURE_HSTS_PRELOAD = _flag("PUBCREDIT_HSTS_PRELOAD", "1")
if HTTPS and PUBCREDIT_TRUSTED_PROXIES > 0:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# Content Security Policy (django-csp): scripts, styles, images and fonts from this site only
# (ECharts and htmx are vendored under static/), no inline script or style attribute, no
# framing, forms posting only here.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/console/"
LOGOUT_REDIRECT_URL = "/"

TASKS = {
    "default": {
        "BACKEND": os.environ.get("PUBCREDIT_TASKS_BACKEND", "django_tasks_db.DatabaseBackend"),
    }
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("PUBCREDIT_LOG_LEVEL", "WARNING")},
}

# --- Webhooks (pubcredit.core.outbound, pubcredit.checks.notices) ---------------------------
# Notification webhooks are refused, at registration and at every delivery, when their host
# resolves to a loopback, private (10/8, 172.16/12, 192.168/16, fc00::/7…), link-local,
# multicast, reserved or unspecified address. A government intranet deployment whose receiving
# systems have private addresses (10.x) sets PUBCREDIT_WEBHOOK_ALLOW_PRIVATE=1 to allow private
# ranges and loopback explicitly; link-local (169.254.169.254), multicast, reserved and
# unspecified addresses stay refused.
PUBCREDIT_WEBHOOK_ALLOW_PRIVATE = os.environ.get("PUBCREDIT_WEBHOOK_ALLOW_PRIVATE", "0") in (
    "1",
    "true",
    "yes",
)

# --- Background jobs (pubcredit.core.jobs) --------------------------------------------------
# `core` is an app for its one table, the job leases. It comes before django_tasks_db so that
# its `db_worker` (django-tasks-db's worker, hardened: see pubcredit/core/jobs.py) is the one
# `pubcredit db_worker` runs.
INSTALLED_APPS.insert(INSTALLED_APPS.index("django_tasks_db"), "pubcredit.core")
# Seconds a worker's lease on a long job lasts without a heartbeat (one every quarter of it);
# a job whose worker died is re-enqueued by the sweeper, at most PUBCREDIT_JOB_MAX_ATTEMPTS runs.
PUBCREDIT_JOB_LEASE_SECONDS = int(os.environ.get("PUBCREDIT_JOB_LEASE_SECONDS", "120"))
PUBCREDIT_JOB_MAX_ATTEMPTS = int(os.environ.get("PUBCREDIT_JOB_MAX_ATTEMPTS", "3"))
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Seconds a SQLite write waits for another process's write lock ("database is locked").
    DATABASES["default"]["OPTIONS"]["timeout"] = float(
        os.environ.get("PUBCREDIT_SQLITE_TIMEOUT", "30")
    )

# --- The shared cache ------------------------------------------------------------------------
# "shared": what every server process must see alike: the rate-limit counters
# (pubcredit.core.ratelimit) and the API-key revocation generation (accounts.services).
# PUBCREDIT_CACHE_URL (or PUBCREDIT_REDIS_URL) = redis://host:6379/0 → Django's RedisCache;
# unset → the database cache (pubcredit.core.cache, its table made by `migrate`/`setup`);
# locmem:// → one process's memory (a single-process deployment or a benchmark only).
# "default" stays each process's memory: the portal's page fragments and figures, which may
# differ between processes for their few seconds.
_cache_url = os.environ.get("PUBCREDIT_CACHE_URL") or os.environ.get("PUBCREDIT_REDIS_URL") or ""
if _cache_url.startswith(("redis://", "rediss://", "unix://")):
    _shared_cache = {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": _cache_url,
        "KEY_PREFIX": "pubcredit",
    }
elif _cache_url.startswith("locmem://"):
    _shared_cache = {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
else:
    _shared_cache = {
        "BACKEND": "pubcredit.core.cache.DatabaseCache",
        "LOCATION": "pubcredit_cache",
        "OPTIONS": {"MAX_ENTRIES": 100_000},
    }
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "shared": _shared_cache,
}
# --- Untrusted files (issue 13: hostile files) -------------------------------------------------
# A department's workbook or JSON file (or a batch-check upload) is inspected, then read in a
# child process with these limits (pubcredit.core.untrusted, pubcredit.intake.engine.untrusted);
# a CSV is read in place within its cell limit. The problems of a submission beyond
# PUBCREDIT_INTAKE_MAX_STORED_ERRORS are counted per rule, not stored.
PUBCREDIT_UNTRUSTED_MEMORY_MB = int(os.environ.get("PUBCREDIT_UNTRUSTED_MEMORY_MB", "2048"))
PUBCREDIT_UNTRUSTED_SECONDS = int(os.environ.get("PUBCREDIT_UNTRUSTED_SECONDS", "300"))
PUBCREDIT_UNTRUSTED_PRELOAD = [
    "pubcredit.intake.engine.untrusted",
    "pubcredit.checks.batch",
    # uploaded PDFs checked on the verification page (pubcredit/reports/verification.py)
    "pubcredit.reports.verification",
    "pyhanko.sign.validation",
    "pyhanko_certvalidator",
]
PUBCREDIT_INTAKE_MAX_UNZIPPED_MB = 256
PUBCREDIT_INTAKE_MAX_ZIP_RATIO = 100
PUBCREDIT_INTAKE_MAX_CELLS = 5_000_000
PUBCREDIT_INTAKE_MAX_ROWS = 500_000
PUBCREDIT_INTAKE_MAX_COLUMNS = 1024
PUBCREDIT_INTAKE_MAX_STORED_ERRORS = 10_000
PUBCREDIT_INTAKE_MAX_CSV_CELLS = 60_000_000
