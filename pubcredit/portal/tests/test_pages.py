"""Public portal pages: language, content, navigation, the search form, error pages."""

import re

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders
from django.template.loader import render_to_string
from django.test import Client
from django.urls import reverse

from pubcredit.catalog.models import SubjectKind
from pubcredit.portal.services import headline_figures
from pubcredit.subjects.models import Subject

pytestmark = pytest.mark.django_db

NAV_SECTIONS = ["news", "notices", "policies", "disclosure", "measures", "services"]


def make_subject(kind, name, region="370303", uscc=None):
    return Subject.objects.create(kind=kind, name=name, name_norm=name, region=region, uscc=uscc)


def test_home_is_chinese_by_default(client):
    response = client.get("/")
    html = response.content.decode()
    assert response.status_code == 200
    assert 'lang="zh-hans"' in html
    assert "公共信用信息平台" in html
    assert "信用淄博" in html
    assert "<title>信用淄博</title>" in html
    for label in ["首页", "信用动态", "通知公告", "政策法规", "信用公示", "联合奖惩", "信用服务"]:
        assert f">{label}</a>" in html


def test_home_in_english_with_accept_language():
    response = Client(HTTP_ACCEPT_LANGUAGE="en").get("/")
    html = response.content.decode()
    assert response.status_code == 200
    assert 'lang="en"' in html
    assert "Zibo Public Credit Information Platform" in html
    assert "Credit Zibo" in html
    assert "信用动态" not in html


@pytest.mark.parametrize("accept", ["fr-FR,fr;q=0.9", "zh-CN,zh;q=0.9", ""])
def test_other_languages_fall_back_to_chinese(accept):
    html = Client(HTTP_ACCEPT_LANGUAGE=accept).get("/").content.decode()
    assert 'lang="zh-hans"' in html


def test_home_in_english_with_language_cookie(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    html = client.get("/", HTTP_ACCEPT_LANGUAGE="zh-CN").content.decode()
    assert 'lang="en"' in html
    assert "Credit News" in html


def test_language_switcher_sets_the_cookie(client):
    home = client.get("/").content.decode()
    assert 'action="/i18n/setlang/"' in home
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/news/"})
    assert response.status_code == 302
    assert response["Location"] == "/news/"
    assert client.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"
    assert 'lang="en"' in client.get("/news/").content.decode()
    client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/"})
    assert 'lang="zh-hans"' in client.get("/").content.decode()


def test_city_name_comes_from_settings(client, settings):
    settings.PUBCREDIT_CITY_NAME = "青岛"
    settings.PUBCREDIT_CITY_NAME_EN = "Qingdao"
    assert "信用青岛" in client.get("/").content.decode()
    assert "Credit Qingdao" in client.get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()


def test_home_shows_subject_counts_by_kind(client):
    make_subject(SubjectKind.ORG, "淄博甲有限公司", uscc="91370303MA3C4XXX01")
    make_subject(SubjectKind.ORG, "淄博乙有限公司", uscc="91370303MA3C4XXX02")
    make_subject(SubjectKind.INDIVIDUAL_BUSINESS, "张店某某餐馆", uscc="92370303MA3C4XXX03")
    html = client.get("/").content.decode()
    figures = re.findall(
        r'<span class="figure-value">([\d,]+)</span><span class="figure-label">([^<]+)</span>', html
    )
    assert figures == [
        ("2", "法人及非法人组织"),
        ("1", "个体工商户"),
        ("0", "自然人"),
        ("3", "主体总数"),
    ]


def test_headline_figures_query_once_then_cache(django_assert_num_queries):
    make_subject(SubjectKind.PERSON, "张三")
    with django_assert_num_queries(1):
        first = headline_figures()
    assert first == {"by_kind": {"org": 0, "ind": 0, "person": 1}, "total": 1}
    make_subject(SubjectKind.PERSON, "李四")
    with django_assert_num_queries(0):
        assert headline_figures() == first  # served from the cache for a few minutes
    assert headline_figures(use_cache=False)["total"] == 2


def test_every_link_on_the_home_page_works(client):
    html = client.get("/").content.decode()
    links = set(re.findall(r'href="(/[^"]*)"', html))
    assert {"/", "/accounts/login/", *(f"/{s}/" for s in NAV_SECTIONS)} <= links
    for link in links:
        if link.startswith("/static/"):  # the test client does not serve static files
            assert finders.find(link.removeprefix("/static/")), link
        else:
            assert client.get(link).status_code == 200, link


def test_credit_services_lead_to_commitments_repair_and_progress(client):
    html = client.get(reverse("portal:services")).content.decode()
    for name in ("portal:commitments:sign", "portal:repair:index", "portal:repair:progress"):
        assert f'href="{reverse(name)}"' in html
    assert "本栏目正在建设中" not in html


@pytest.mark.parametrize(
    "section", ["news", "notices", "policies", "disclosure", "measures", "services"]
)
def test_built_sections_are_current_in_the_navigation(client, section):
    html = client.get(reverse(f"portal:{section}")).content.decode()
    assert f'href="/{section}/" aria-current="page"' in html
    assert "本栏目正在建设中" not in html


def test_search_echoes_the_query_escaped(client):
    response = client.get("/search/", {"q": '  <script>alert("x")</script>淄博  '})
    html = response.content.decode()
    assert response.status_code == 200
    assert 'value="&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;淄博"' in html
    assert "<script>alert" not in html


def test_search_query_is_cut_to_100_characters(client):
    html = client.get("/search/", {"q": "淄" * 300}).content.decode()
    echoed = re.search(
        r'id="search-q" type="search" name="q" maxlength="100" value="([^"]*)"', html
    )
    assert echoed.group(1) == "淄" * 100


def test_search_without_query_shows_the_form_only(client):
    html = client.get("/search/").content.decode()
    assert 'name="q"' in html
    assert "search-summary" not in html and "search-message" not in html


def test_home_search_form_posts_with_a_csrf_token(client):
    html = client.get("/").content.decode()
    form = re.search(r'<form class="search-box"[^>]*>', html).group(0)
    assert 'method="post"' in form and 'action="/search/"' in form
    assert 'name="csrfmiddlewaretoken"' in html


def test_login_page_is_chinese_and_matches_the_site(client):
    html = client.get("/accounts/login/").content.decode()
    assert "工作人员登录" in html
    assert "信用淄博" in html
    assert 'name="username"' in html and 'name="password"' in html


def test_login_with_a_wrong_password_says_so_in_chinese(client, django_user_model):
    django_user_model.objects.create_user("clerk", password="correct-horse-9")
    response = client.post("/accounts/login/", {"username": "clerk", "password": "wrong"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "密码" in html and 'role="alert"' in html


def test_404_page_is_chinese(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert "页面不存在" in response.content.decode()


def test_500_page_renders_without_a_request():
    html = render_to_string("500.html")
    assert "系统繁忙" in html
    assert 'lang="zh-hans"' in html


@pytest.mark.urls("pubcredit.portal.tests.error_urls")
def test_server_error_uses_the_chinese_500_page():
    response = Client(raise_request_exception=False).get("/boom/")
    assert response.status_code == 500
    assert "系统繁忙" in response.content.decode()
