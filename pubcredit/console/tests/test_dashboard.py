"""The console dashboard: who may see it, and what the figures count for each scope."""

import json
import re

import pytest
from django.test import Client

from pubcredit.accounts.models import Role
from pubcredit.accounts.permissions import PUBLIC, Principal
from pubcredit.catalog.models import Region, SubjectKind
from pubcredit.console.services import dashboard_stats
from pubcredit.subjects.models import Subject

pytestmark = pytest.mark.django_db

PASSWORD = "Secret-pass-1"


@pytest.fixture
def regions(empty_reference):
    city = Region.objects.create(code="370300", name="淄博市", level=Region.Level.CITY)
    return {
        "zichuan": Region.objects.create(
            code="370302", name="淄川区", level=Region.Level.COUNTY, parent=city
        ),
        "zhangdian": Region.objects.create(
            code="370303", name="张店区", level=Region.Level.COUNTY, parent=city
        ),
    }


@pytest.fixture
def subjects(regions):
    def add(kind, name, region):
        Subject.objects.create(kind=kind, name=name, name_norm=name, region=region)

    add(SubjectKind.ORG, "张店甲公司", "370303")
    add(SubjectKind.ORG, "张店乙公司", "370303")
    add(SubjectKind.INDIVIDUAL_BUSINESS, "张店某餐馆", "370303")
    add(SubjectKind.ORG, "淄川甲公司", "370302")
    add(SubjectKind.PERSON, "王五", "370302")
    add(SubjectKind.ORG, "区划未知公司", "")


def make_user(django_user_model, username, role, **extra):
    return django_user_model.objects.create_user(username, password=PASSWORD, role=role, **extra)


def logged_in(user, language="zh-CN"):
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    client.force_login(user)
    return client


def test_anonymous_is_sent_to_the_login_page(client):
    response = client.get("/console/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/console/"


@pytest.mark.parametrize("role", [Role.PUBLIC, Role.BANK_USER])
def test_roles_without_console_view_get_a_chinese_403(django_user_model, role):
    user = make_user(django_user_model, "outsider", role)
    response = logged_in(user).get("/console/")
    html = response.content.decode()
    assert response.status_code == 403
    assert "无权访问" in html
    assert "您的账号没有使用工作台的权限" in html


def test_inactive_user_cannot_use_a_stale_session(django_user_model):
    user = make_user(django_user_model, "gone", Role.CENTRE_STAFF)
    client = logged_in(user)
    user.is_active = False
    user.save()
    # Django's ModelBackend rejects inactive users, so the session no longer authenticates.
    assert client.get("/console/").status_code == 302


def test_staff_sees_the_dashboard_with_stats(django_user_model, subjects):
    user = make_user(
        django_user_model, "centre", Role.CENTRE_STAFF, first_name="小", last_name="李"
    )
    response = logged_in(user).get("/console/")
    html = response.content.decode()
    assert response.status_code == 200
    stats = response.context["stats"]
    assert stats["total"] == 6
    assert stats["scope"] is None
    assert [(d["code"], d["name"], d["total"]) for d in stats["districts"]] == [
        ("", "未填写区划", 1),
        ("370302", "淄川区", 2),
        ("370303", "张店区", 3),
    ]
    # The chart's data travels as JSON in the page, read by the static dashboard script.
    data = json.loads(
        re.search(
            r'<script id="dashboard-stats" type="application/json">(.*?)</script>', html
        ).group(1)
    )
    assert data == json.loads(json.dumps(stats))
    assert 'id="subjects-chart"' in html
    assert "/static/vendor/echarts/echarts.min.js" in html
    assert "/static/pubcredit/console-dashboard.js" in html
    # The shell: who is logged in, as which role, a logout that is a POST form, the navigation.
    assert "信用中心工作人员" in html
    assert re.search(r'<form method="post" action="/accounts/logout/">', html)
    assert 'aria-current="page">工作台首页</a>' in html
    assert "管理后台" not in html  # not a platform admin


def test_platform_admin_with_staff_flag_gets_the_admin_link(django_user_model):
    user = django_user_model.objects.create_superuser("root", password=PASSWORD)
    html = logged_in(user).get("/console/").content.decode()
    assert "平台管理员" in html
    assert '<a href="/admin/">管理后台</a>' in html
    assert "主体库中暂无可查看的主体" in html
    assert 'id="subjects-chart"' not in html


def test_district_admin_counts_only_its_district(django_user_model, regions, subjects):
    user = make_user(
        django_user_model, "zhangdian", Role.DISTRICT_ADMIN, district=regions["zhangdian"]
    )
    response = logged_in(user).get("/console/")
    stats = response.context["stats"]
    assert stats["total"] == 3
    assert stats["scope"] == "张店区"
    assert [d["code"] for d in stats["districts"]] == ["370303"]
    assert {k["code"]: k["count"] for k in stats["kinds"]} == {"org": 2, "ind": 1, "person": 0}
    assert "以下数据限于本账号所属区县:张店区。" in response.content.decode()


def test_district_admin_of_an_empty_district_sees_zero(django_user_model, regions):
    empty = Region.objects.create(code="370304", name="博山区", level=Region.Level.COUNTY)
    Subject.objects.create(kind=SubjectKind.ORG, name="甲", name_norm="甲", region="370303")
    principal = Principal.of(
        make_user(django_user_model, "boshan", Role.DISTRICT_ADMIN, district=empty)
    )
    stats = dashboard_stats(principal)
    assert stats["total"] == 0
    assert stats["districts"] == []
    assert stats["scope"] == "博山区"


def test_stats_totals_are_consistent(subjects):
    stats = dashboard_stats(Principal.system())
    assert stats["total"] == sum(d["total"] for d in stats["districts"])
    assert stats["total"] == sum(k["count"] for k in stats["kinds"])
    assert [k["code"] for k in stats["kinds"]] == ["org", "ind", "person"]
    for district in stats["districts"]:
        assert district["row"] == [district["counts"][k["code"]] for k in stats["kinds"]]


def test_stats_need_subjects_view(subjects):
    stats = dashboard_stats(PUBLIC)
    assert stats["total"] == 0
    assert [k["count"] for k in stats["kinds"]] == [0, 0, 0]


def test_dashboard_in_english(django_user_model, subjects):
    user = make_user(django_user_model, "centre", Role.CENTRE_STAFF)
    response = logged_in(user, language="en").get("/console/")
    html = response.content.decode()
    assert 'lang="en"' in html
    assert "Dashboard" in html
    assert "Legal persons and other organisations" in html
    assert "No region code" in html


def test_logout_is_a_post_and_returns_to_the_portal(django_user_model):
    user = make_user(django_user_model, "centre", Role.CENTRE_STAFF)
    client = logged_in(user)
    response = client.post("/accounts/logout/")
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert client.get("/console/").status_code == 302


def test_navigation_shows_what_the_role_may_use_and_what_exists(monkeypatch):
    from pubcredit.console import navigation

    monkeypatch.setattr(
        navigation,
        "NAV_ITEMS",
        [
            navigation.NavItem("A", "console:dashboard", "console.view", navigation.GROUP_OVERVIEW),
            navigation.NavItem("B", "console:not_built_yet", "console.view", "later"),
            navigation.NavItem(
                "C", "console:dashboard", "accounts.manage", navigation.GROUP_SYSTEM
            ),
        ],
    )

    def shown(principal):
        return [
            (group, [link.label for link in links])
            for group, links in navigation.visible_navigation(principal)
        ]

    assert shown(Principal(role=Role.WINDOW_CLERK, label="w")) == [("概览", ["A"])]
    assert shown(Principal.system()) == [("概览", ["A"]), ("系统管理", ["C"])]
    assert shown(PUBLIC) == []
