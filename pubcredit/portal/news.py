"""News on the portal (信用动态, 政策法规, 通知公告): the write path staff use in the console and
the queries the public pages and API read.

Writes need the action "news.change" (信用中心工作人员, 平台管理员), run in one transaction and
write an audit event (news.create / news.update / news.publish / news.withdraw) with before/after.
The public sees only published articles; nothing is ever deleted (an article is withdrawn).
"""

from __future__ import annotations

import datetime as dt

from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from pubcredit.accounts.audit import record_event, snapshot
from pubcredit.accounts.permissions import Principal
from pubcredit.portal.models import Article, ArticleSection

ACTION = "news.change"
# The portal navigation item under which each section is listed.
NAV_NAME = {
    ArticleSection.NEWS.value: "news",
    ArticleSection.POLICIES.value: "policies",
    ArticleSection.NOTICES.value: "notices",
}
_LIMITS = {"title": 200, "summary": 500, "source": 100}


def _clean(section: str, title: str, summary: str, body: str, source: str) -> dict:
    errors: dict[str, list[str]] = {}
    if section not in ArticleSection.values:
        errors["section"] = [_("请选择栏目。")]
    values = {
        "section": section,
        "title": " ".join((title or "").split()),
        "summary": " ".join((summary or "").split()),
        "body": (body or "").strip().replace("\r\n", "\n"),
        "source": " ".join((source or "").split()),
    }
    if not values["title"]:
        errors["title"] = [_("标题不能为空。")]
    if not values["body"]:
        errors["body"] = [_("正文不能为空。")]
    for name, limit in _LIMITS.items():
        if len(values[name]) > limit:
            errors.setdefault(name, []).append(
                _("不能超过 %(n)d 个字(现有 %(m)d 个)。") % {"n": limit, "m": len(values[name])}
            )
    if errors:
        raise ValidationError(errors)
    return values


def _changed() -> None:
    """Public pages cache the home page's lists for a minute: drop them at once."""
    cache.delete_many([f"portal:home-lists:{code}" for code in ("zh-hans", "en")])


@transaction.atomic
def save_article(
    principal: Principal,
    article: Article | None = None,
    *,
    section: str,
    title: str,
    body: str,
    summary: str = "",
    source: str = "",
) -> Article:
    """Create a draft (article None) or change an article's text. Editing a published article
    changes what the public sees at once. Raises ValidationError with Chinese messages."""
    principal.require(ACTION)
    values = _clean(section, title, summary, body, source)
    if article is None:
        article = Article.objects.create(**values, author=principal.user)
        record_event(principal, "news.create", article, after=snapshot(article))
        return article
    article = Article.objects.select_for_update().get(pk=article.pk)
    before = snapshot(article)
    for name, value in values.items():
        setattr(article, name, value)
    article.save()
    record_event(principal, "news.update", article, before=before, after=snapshot(article))
    if article.is_public:
        _changed()
    return article


@transaction.atomic
def publish_article(
    principal: Principal, article: Article, *, published_at: dt.datetime | None = None
) -> Article:
    """Publish (or re-publish a withdrawn) article; `published_at` defaults to now and is kept
    when the article was published before and none is given."""
    principal.require(ACTION)
    article = Article.objects.select_for_update().get(pk=article.pk)
    before = snapshot(article)
    article.status = Article.Status.PUBLISHED
    article.published_at = published_at or article.published_at or timezone.now()
    article.save(update_fields=["status", "published_at", "updated_at"])
    record_event(principal, "news.publish", article, before=before, after=snapshot(article))
    _changed()
    return article


@transaction.atomic
def withdraw_article(principal: Principal, article: Article, *, reason: str) -> Article:
    """Take a published article off the portal (kept, with its history); needs a reason."""
    principal.require(ACTION)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": [_("撤下文章必须填写原因。")]})
    article = Article.objects.select_for_update().get(pk=article.pk)
    before = snapshot(article)
    article.status = Article.Status.WITHDRAWN
    article.save(update_fields=["status", "updated_at"])
    record_event(
        principal, "news.withdraw", article, before=before, after=snapshot(article), reason=reason
    )
    _changed()
    return article


# --------------------------------------------------------------------------- public queries


def _public():
    return Article.objects.filter(
        status=Article.Status.PUBLISHED, published_at__lte=timezone.now()
    ).defer("body")


def latest(section: str, n: int = 6) -> list[Article]:
    return list(_public().filter(section=section).order_by("-published_at", "-id")[:n])


def published(section: str | None, *, offset: int = 0, limit: int = 20) -> tuple[list, int]:
    """(one page of published articles, newest first; their total)."""
    qs = _public()
    if section:
        qs = qs.filter(section=section)
    total = qs.count()
    return list(qs.order_by("-published_at", "-id")[offset : offset + limit]), total


def published_article(pk: int) -> Article | None:
    return (
        Article.objects.filter(
            pk=pk, status=Article.Status.PUBLISHED, published_at__lte=timezone.now()
        )
        .select_related(None)
        .first()
    )
