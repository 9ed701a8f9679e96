"""Nothing is loaded from another host, and every static asset a template names exists.

Scans every template of the project (all apps, not only the portal) and our own CSS/JS, and the
rendered public, login, error and console pages.
"""

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders

from pubcredit.accounts.models import Role

PROJECT = Path(settings.BASE_DIR)
TEMPLATES = sorted(p for p in PROJECT.rglob("templates/**/*") if p.is_file())
OWN_ASSETS = sorted(
    p
    for p in (PROJECT / "static").rglob("*")
    if p.is_file() and p.suffix in {".css", ".js", ".html"} and "vendor" not in p.parts
)
VENDOR = PROJECT / "static" / "vendor"
LOCAL_HOSTS = {"127.0.0.1", "localhost", "testserver"}

# "http://host", "https://host" and protocol-relative "//host" (as used for CDNs).
URL_PATTERN = re.compile(
    r"(?i)(?:\bhttps?:)?//([a-z0-9][a-z0-9.-]*\.[a-z]{2,}|localhost|127\.0\.0\.1)"
)
STATIC_TAG = re.compile(r"""{%\s*static\s+["']([^"']+)["']\s*%}""")


def external_urls(text: str) -> list[str]:
    return [m.group(0) for m in URL_PATTERN.finditer(text) if m.group(1) not in LOCAL_HOSTS]


def test_the_url_pattern_catches_cdns():
    text = '<script src="//cdn.example.com/x.js"></script><a href="https://www.gov.cn/">'
    assert external_urls(text) == ["//cdn.example.com", "https://www.gov.cn"]
    assert external_urls('<a href="/news/">http://testserver/</a> 1 // 2') == []


def test_templates_were_found():
    names = {p.name for p in TEMPLATES}
    assert {"base.html", "home.html", "dashboard.html", "login.html", "500.html"} <= names


@pytest.mark.parametrize("path", TEMPLATES + OWN_ASSETS, ids=lambda p: str(p.relative_to(PROJECT)))
def test_no_external_url_in_templates_and_own_assets(path):
    assert external_urls(path.read_text(encoding="utf-8")) == []


def test_css_has_no_web_fonts_or_imports():
    css = (PROJECT / "static/pubcredit/site.css").read_text(encoding="utf-8")
    assert "@import" not in css
    assert "@font-face" not in css
    assert '"WenQuanYi Zen Hei"' in css and '"Noto Sans CJK SC"' in css


def test_every_static_reference_exists():
    references = {
        (path.relative_to(PROJECT), ref)
        for path in TEMPLATES
        for ref in STATIC_TAG.findall(path.read_text(encoding="utf-8"))
    }
    assert references, "no {% static %} reference found: the pattern is wrong"
    missing = [(str(path), ref) for path, ref in references if not finders.find(ref)]
    assert missing == []


def test_vendored_versions_match_the_readme():
    readme = (VENDOR / "README.md").read_text(encoding="utf-8")
    htmx_version = re.search(r"\| htmx .*? \| ([\d.]+) \|", readme).group(1)
    echarts_version = re.search(r"\| Apache ECharts .*? \| ([\d.]+) \|", readme).group(1)
    assert htmx_version.startswith("2.")
    assert echarts_version.split(".")[0] in {"5", "6"}
    htmx = (VENDOR / "htmx/htmx.min.js").read_text(encoding="utf-8")
    echarts = (VENDOR / "echarts/echarts.min.js").read_text(encoding="utf-8")
    assert f'version:"{htmx_version}"' in htmx
    assert f'version="{echarts_version}"' in echarts
    for licence in ["htmx/LICENSE", "echarts/LICENSE", "echarts/NOTICE", "echarts/LICENSE-d3"]:
        assert (VENDOR / licence).stat().st_size > 0


@pytest.fixture
def staff_client(client, django_user_model):
    user = django_user_model.objects.create_user(
        "staff", password="Secret-pass-1", role=Role.CENTRE_STAFF
    )
    client.force_login(user)
    return client


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["zh-CN", "en"])
def test_no_external_url_in_rendered_pages(staff_client, language):
    from django.test import Client

    from pubcredit.subjects.models import Subject

    Subject.objects.create(kind="org", name="淄博甲公司", name_norm="淄博甲公司", region="370303")
    anonymous = Client(HTTP_ACCEPT_LANGUAGE=language)
    pages = [
        (anonymous, "/", 200),
        (anonymous, "/search/?q=%E6%B7%84%E5%8D%9A", 200),
        (anonymous, "/news/", 200),
        (anonymous, "/accounts/login/", 200),
        (anonymous, "/missing/", 404),
        (staff_client, "/console/", 200),
    ]
    for http, url, status in pages:
        response = http.get(url, HTTP_ACCEPT_LANGUAGE=language)
        assert response.status_code == status, url
        assert external_urls(response.content.decode()) == [], url
