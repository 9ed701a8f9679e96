"""Production-safe defaults: DEBUG off unless PUBCREDIT_DEBUG=1, `check --deploy` clean under the
documented production settings (README, "Production"), Chinese error pages that show nothing of
the code or the settings, the security headers on every page."""

from __future__ import annotations

import base64
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client
from django.urls import include, path

from pubcredit.accounts.models import Role
from pubcredit.testing.factories import make_user

ROOT = Path(__file__).resolve().parents[3]


def _boom(request):
    raise RuntimeError("SECRET-INTERNAL-DETAIL from a failing view")


# This module is also the URLconf of the error-page tests: the site plus a view that raises.
urlpatterns = [path("boom/", _boom), path("", include("pubcredit.urls"))]


def _env(tmp_path, **extra: str) -> dict[str, str]:
    """A clean environment: nothing of the developer's PUBCREDIT_* or DATABASE_URL."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("PUBCREDIT_") and k != "DATABASE_URL"
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)  # set while this session's Playwright runs
    env.update(PYTHONPATH=str(ROOT), PUBCREDIT_VAR_DIR=str(tmp_path / "var"), **extra)
    return env


def _python(env, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def _debug(env) -> str:
    code = (
        "import os; os.environ['DJANGO_SETTINGS_MODULE'] = 'pubcredit.settings'\n"
        "from django.conf import settings; print(settings.DEBUG)"
    )
    result = _python(env, "-c", code)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def _production_env(tmp_path) -> dict[str, str]:
    """The settings README's "Production" section documents."""
    return _env(
        tmp_path,
        PUBCREDIT_HTTPS="1",
        PUBCREDIT_ALLOWED_HOSTS="credit.zibo.gov.cn",
        PUBCREDIT_SECRET_KEY=secrets.token_urlsafe(50),
        PUBCREDIT_FIELD_KEY=base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
        PUBCREDIT_INDEX_KEY=base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
    )


def test_debug_is_off_unless_asked_for(tmp_path):
    assert _debug(_env(tmp_path)) == "False"
    assert _debug(_env(tmp_path, PUBCREDIT_DEBUG="0")) == "False"
    assert _debug(_env(tmp_path, PUBCREDIT_DEBUG="1")) == "True"


def test_check_deploy_is_clean_with_the_production_settings(tmp_path):
    result = _python(
        _production_env(tmp_path), "-m", "pubcredit", "check", "--deploy", "--fail-level", "WARNING"
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


def test_check_deploy_names_what_is_missing_without_https(tmp_path):
    env = _production_env(tmp_path)
    del env["PUBCREDIT_HTTPS"]
    result = _python(env, "-m", "pubcredit", "check", "--deploy")
    found = result.stdout + result.stderr
    for warning in ("security.W004", "security.W008", "security.W012", "security.W016"):
        assert warning in found, warning
    assert "security.W018" not in found  # DEBUG is off by default


def test_the_production_settings(tmp_path):
    code = (
        "import os; os.environ['DJANGO_SETTINGS_MODULE'] = 'pubcredit.settings'\n"
        "from django.conf import settings as s\n"
        "print(s.SECURE_SSL_REDIRECT, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE,"
        " s.SECURE_HSTS_SECONDS, s.SESSION_COOKIE_AGE, s.SESSION_EXPIRE_AT_BROWSER_CLOSE)"
    )
    result = _python(_production_env(tmp_path), "-c", code)
    assert result.stdout.split() == ["True", "True", "True", "31536000", "1800", "True"]


@pytest.mark.django_db
@pytest.mark.urls(__name__)
def test_a_missing_page_is_a_chinese_404_without_the_url_list(settings):
    assert settings.DEBUG is False
    response = Client().get("/no-such-page/")
    assert response.status_code == 404
    text = response.content.decode()
    assert "页面不存在" in text and "返回首页" in text
    for leak in ("Traceback", "urlpatterns", "DEBUG = True", "Using the URLconf"):
        assert leak not in text, leak


@pytest.mark.django_db
@pytest.mark.urls(__name__)
def test_a_failing_view_is_a_chinese_500_without_traceback_or_settings(settings):
    response = Client(raise_request_exception=False).get("/boom/")
    assert response.status_code == 500
    text = response.content.decode()
    assert "系统繁忙" in text and "服务器处理请求时出现错误" in text
    for leak in ("Traceback", "SECRET-INTERNAL-DETAIL", "RuntimeError", "SECRET_KEY", "settings"):
        assert leak not in text, leak


@pytest.mark.django_db
def test_pages_carry_the_content_security_policy_and_the_session_cookie_is_short(client):
    response = client.get("/")
    assert response.status_code == 200
    policy = dict(
        part.strip().split(" ", 1) for part in response["Content-Security-Policy"].split(";")
    )
    assert policy["default-src"] == "'self'"
    assert policy["script-src"] == "'self'"  # no CDN, no inline script
    assert policy["style-src"] == "'self'"
    assert policy["frame-ancestors"] == "'none'"
    assert response["X-Frame-Options"] == "DENY"

    client.force_login(make_user(Role.CENTRE_STAFF))
    response = client.get("/console/")
    assert response.status_code == 200
    assert client.session.get_expiry_age() == 30 * 60
