"""News: the audited write path, the console pages staff use, and what the public sees."""

import re

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from pubcredit.accounts.models import AuditEvent, Role
from pubcredit.accounts.permissions import Principal
from pubcredit.portal import news
from pubcredit.portal.models import Article

pytestmark = pytest.mark.django_db


@pytest.fixture
def editor(django_user_model):
    return django_user_model.objects.create_user(
        "editor", password="Secret-pass-1", role=Role.CENTRE_STAFF
    )


@pytest.fixture
def clerk(django_user_model):
    from pubcredit.catalog.models import Department

    department = Department.objects.create(
        code="T-1", name="测试局", uscc="11370300MB0000000X", level="city"
    )
    return django_user_model.objects.create_user(
        "clerk", password="Secret-pass-1", role=Role.DEPARTMENT_CLERK, department=department
    )


def test_save_publish_and_withdraw_are_audited(editor):
    principal = Principal.of(editor)
    article = news.save_article(
        principal, section="news", title="  信用  动态一 ", body="第一段\r\n\r\n第二段"
    )
    assert article.status == Article.Status.DRAFT and article.title == "信用 动态一"
    assert article.body == "第一段\n\n第二段" and article.author == editor
    news.save_article(principal, article, section="news", title="信用动态一(修订)", body="正文")
    news.publish_article(principal, article)
    article.refresh_from_db()
    assert article.is_public and article.published_at is not None
    first_published = article.published_at
    news.withdraw_article(principal, article, reason="内容有误")
    news.publish_article(principal, article)
    article.refresh_from_db()
    assert article.published_at == first_published  # re-publishing keeps the date
    actions = list(
        AuditEvent.objects.filter(object_id=str(article.pk))
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions == [
        "news.create",
        "news.update",
        "news.publish",
        "news.withdraw",
        "news.publish",
    ]
    update = AuditEvent.objects.get(action="news.update", object_id=str(article.pk))
    assert update.before["title"] == "信用 动态一" and update.after["title"] == "信用动态一(修订)"


def test_validation_messages_are_chinese(editor):
    principal = Principal.of(editor)
    with pytest.raises(ValidationError) as info:
        news.save_article(principal, section="nope", title="", body=" ")
    errors = info.value.message_dict
    assert errors["section"] == ["请选择栏目。"]
    assert errors["title"] == ["标题不能为空。"]
    assert errors["body"] == ["正文不能为空。"]
    article = news.save_article(principal, section="news", title="t", body="b")
    news.publish_article(principal, article)
    with pytest.raises(ValidationError):
        news.withdraw_article(principal, article, reason="  ")


def test_roles_without_news_change_cannot_write(clerk):
    with pytest.raises(PermissionDenied):
        news.save_article(Principal.of(clerk), section="news", title="t", body="b")


def test_public_pages_show_only_published_articles_escaped(client, editor):
    principal = Principal.of(editor)
    draft = news.save_article(principal, section="news", title="草稿标题", body="x")
    shown = news.save_article(
        principal,
        section="policies",
        title="《淄博市社会信用条例》<b>解读</b>",
        body="第一段<script>alert(1)</script>\n\n第二段",
        source="市发展改革委",
    )
    news.publish_article(principal, shown)
    listing = client.get("/policies/").content.decode()
    assert "《淄博市社会信用条例》&lt;b&gt;解读&lt;/b&gt;" in listing
    assert "草稿标题" not in client.get("/news/").content.decode()
    page = client.get(f"/articles/{shown.pk}/").content.decode()
    assert "<p>第一段&lt;script&gt;alert(1)&lt;/script&gt;</p>" in page
    assert "<p>第二段</p>" in page and "市发展改革委" in page
    assert 'href="/policies/" aria-current="page"' in page
    assert client.get(f"/articles/{draft.pk}/").status_code == 404
    home = client.get("/").content.decode()
    assert "《淄博市社会信用条例》" in home


def test_home_lists_follow_a_publication_at_once(client, editor):
    principal = Principal.of(editor)
    assert "新通知" not in client.get("/").content.decode()  # the home lists are now cached
    article = news.save_article(principal, section="notices", title="新通知", body="x")
    news.publish_article(principal, article)
    assert "新通知" in client.get("/").content.decode()
    news.withdraw_article(principal, article, reason="过期")
    assert "新通知" not in client.get("/").content.decode()


def test_console_news_flow(client, editor):
    client.force_login(editor)
    dashboard = client.get("/console/").content.decode()
    assert 'href="/console/news/"' in dashboard and "新闻发布" in dashboard
    response = client.post(
        "/console/news/new/",
        {"section": "news", "title": "信用动态标题", "summary": "", "source": "", "body": "正文"},
    )
    article = Article.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/console/news/{article.pk}/"
    edit = client.get(f"/console/news/{article.pk}/").content.decode()
    assert "草稿" in edit and 'id="publish"' in edit
    client.post(f"/console/news/{article.pk}/publish/")
    article.refresh_from_db()
    assert article.is_public
    assert "信用动态标题" in client.get("/news/").content.decode()
    client.post(f"/console/news/{article.pk}/withdraw/", {"reason": "重复发布"})
    article.refresh_from_db()
    assert article.status == Article.Status.WITHDRAWN
    listing = client.get("/console/news/").content.decode()
    assert re.search(r"信用动态标题</a></td>\s*<td>信用动态</td>\s*<td>已撤下</td>", listing)


def test_console_form_shows_errors(client, editor):
    client.force_login(editor)
    html = client.post(
        "/console/news/new/", {"section": "news", "title": "x" * 201, "body": ""}
    ).content.decode()
    assert "errorlist" in html
    assert not Article.objects.exists()


def test_console_news_is_refused_to_other_roles(client, clerk):
    client.force_login(clerk)
    assert client.get("/console/news/").status_code == 403
    assert "新闻发布" not in client.get("/console/").content.decode()
    assert client.post("/console/news/new/", {"section": "news"}).status_code == 403


def test_console_news_needs_login(client):
    response = client.get("/console/news/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
