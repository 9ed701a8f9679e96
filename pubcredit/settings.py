"""Django settings for pubcredit.

Everything a deployment changes comes from the environment:
- DATABASE_URL (default: SQLite at var/pubcredit.sqlite3; production: postgres://...)
- PUBCREDIT_SECRET_KEY, PUBCREDIT_FIELD_KEY, PUBCREDIT_INDEX_KEY (generated into var/ when absent,
  which is right for a laptop and wrong for production: set them there)
- PUBCREDIT_DEBUG, PUBCREDIT_ALLOWED_HOSTS, PUBCREDIT_VAR_DIR
"""

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

DEBUG = os.environ.get("PUBCREDIT_DEBUG", "1") == "1"
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
    "django_tasks",
    "django_tasks_db",
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
    "pubcredit.repair",
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
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

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

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

# Public portal and its API: requests allowed per client address, "<requests>/<seconds>"
# ("0" = unlimited), and how many reverse proxies in front of the site may be trusted to report
# the client's address in X-Forwarded-For (0: use the connecting address).
PUBCREDIT_PUBLIC_RATE = os.environ.get("PUBCREDIT_PUBLIC_RATE", "120/60")
PUBCREDIT_TRUSTED_PROXIES = int(os.environ.get("PUBCREDIT_TRUSTED_PROXIES", "0"))
# Seconds an authenticated API key is served from the process cache (0: read it every request).
PUBCREDIT_API_KEY_CACHE_SECONDS = float(os.environ.get("PUBCREDIT_API_KEY_CACHE_SECONDS", "10"))
# Serve API-key POST /api/v1/checks through the check lane in front of Django (pubcredit.wsgi,
# pubcredit/checks/lane.py); "0" sends every request through the full stack.
PUBCREDIT_CHECK_LANE = os.environ.get("PUBCREDIT_CHECK_LANE", "1") not in ("0", "false", "")

# The city this deployment serves: shown as 信用<city> in the page header (English name for /en).
PUBCREDIT_CITY_NAME = os.environ.get("PUBCREDIT_CITY_NAME", "淄博")
PUBCREDIT_CITY_NAME_EN = os.environ.get("PUBCREDIT_CITY_NAME_EN", "Zibo")

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

# --- Untrusted files (issue 13: hostile files) -------------------------------------------------
# A department's workbook or JSON file (or a batch-check upload) is inspected, then read in a
# child process with these limits (pubcredit.core.untrusted, pubcredit.intake.engine.untrusted);
# a CSV is read in place within its cell limit. The problems of a submission beyond
# PUBCREDIT_INTAKE_MAX_STORED_ERRORS are counted per rule, not stored.
PUBCREDIT_UNTRUSTED_MEMORY_MB = int(os.environ.get("PUBCREDIT_UNTRUSTED_MEMORY_MB", "2048"))
PUBCREDIT_UNTRUSTED_SECONDS = int(os.environ.get("PUBCREDIT_UNTRUSTED_SECONDS", "300"))
PUBCREDIT_UNTRUSTED_PRELOAD = ["pubcredit.intake.engine.untrusted", "pubcredit.checks.batch"]
PUBCREDIT_INTAKE_MAX_UNZIPPED_MB = 256
PUBCREDIT_INTAKE_MAX_ZIP_RATIO = 100
PUBCREDIT_INTAKE_MAX_CELLS = 5_000_000
PUBCREDIT_INTAKE_MAX_ROWS = 500_000
PUBCREDIT_INTAKE_MAX_COLUMNS = 1024
PUBCREDIT_INTAKE_MAX_STORED_ERRORS = 10_000
PUBCREDIT_INTAKE_MAX_CSV_CELLS = 60_000_000
