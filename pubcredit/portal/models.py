"""The public portal's own tables: the name-search read model and the news articles.

Name search (see `pubcredit.portal.search`) must find any substring of two or more characters
of an organisation's name among a million subjects in a few milliseconds. A PostgreSQL trigram
index cannot serve a two-character Chinese substring, so the portal keeps its own inverted index
of character bigrams:

- `SearchEntry`: one row per searchable subject (organisations and 个体工商户; natural persons are
  never searchable by name). `doc` is the subject's position in the ranking order (shortest name
  first), assigned when the index is built, so every posting list read in `doc` order is already
  ranked and a page of results is an index range scan.
- `NameGram`: the postings, one row per (bigram, doc), with the subject's district and kind
  copied in so filters need no join. Primary key (gram, doc): a posting list is one index range.
- `GramStat`: how many docs each bigram has, to start a multi-gram query from its rarest gram.
- `SearchIndexState`: the watermark of the incremental refresh.

These tables hold subject ids as plain integers, not foreign keys: they are a derived read model
that `rebuild_search_index` can throw away and rebuild, and they must not stop the register from
removing subjects (the demo loader's `--replace` refuses when another table refers to them).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from pubcredit.core.citus import ShardedBySubject


class SearchEntry(ShardedBySubject):
    doc = models.IntegerField(_("排序位置"), primary_key=True)
    subject_id = models.BigIntegerField(_("主体"), unique=True)
    kind = models.CharField(_("主体类别"), max_length=8)
    region = models.CharField(_("行政区划代码"), max_length=6, blank=True)
    # The normalised current name, then former names, joined with "|" (which normalize_name
    # removes, so no query can match across two names).
    text = models.TextField(_("检索文本"))

    class Meta:
        verbose_name = _("名称检索条目")
        verbose_name_plural = _("名称检索条目")

    def __str__(self) -> str:
        return f"{self.doc}: {self.text}"


class NameGram(models.Model):
    pk = models.CompositePrimaryKey("gram", "doc")
    # Two characters packed into one integer: ord(a) << 21 | ord(b) (search.encode_gram).
    gram = models.BigIntegerField(_("二元字符"))
    doc = models.IntegerField(_("排序位置"))
    kind = models.CharField(_("主体类别"), max_length=8)
    region = models.CharField(_("行政区划代码"), max_length=6, blank=True)

    class Meta:
        verbose_name = _("名称二元索引")
        verbose_name_plural = _("名称二元索引")
        indexes = [
            # A district filter reads its own ordered range; kind rides along (PostgreSQL).
            models.Index(fields=["gram", "region", "doc"], include=["kind"], name="namegram_region")
        ]

    def __str__(self) -> str:
        # Imported here: search imports these models: a cycle inside the app.
        from pubcredit.portal.search import decode_gram

        return f"{decode_gram(self.gram)} {self.doc}"


class GramStat(models.Model):
    gram = models.BigIntegerField(_("二元字符"), primary_key=True)
    df = models.IntegerField(_("包含该二元字符的主体数"))

    class Meta:
        verbose_name = _("二元字符频次")
        verbose_name_plural = _("二元字符频次")

    def __str__(self) -> str:
        # Imported here: search imports these models: a cycle inside the app.
        from pubcredit.portal.search import decode_gram

        return f"{decode_gram(self.gram)} {self.df}"


class SearchIndexState(models.Model):
    """One row (id 1): how far the incremental refresh has come."""

    max_subject_id = models.BigIntegerField(_("已索引的最大主体编号"), default=0)
    next_doc = models.IntegerField(_("下一个排序位置"), default=1)
    refreshed_at = models.DateTimeField(_("刷新时间"), null=True, blank=True)
    rebuilt_at = models.DateTimeField(_("重建时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("检索索引状态")
        verbose_name_plural = _("检索索引状态")

    def __str__(self) -> str:
        return f"≤{self.max_subject_id} @ {self.refreshed_at}"


# --------------------------------------------------------------------------- news


class ArticleSection(models.TextChoices):
    NEWS = "news", _("信用动态")
    POLICIES = "policies", _("政策法规")
    NOTICES = "notices", _("通知公告")


class Article(models.Model):
    """A news item on the portal, written and published by credit-centre staff in the console.
    The body is plain text (paragraphs separated by blank lines): nothing staff type is ever
    rendered as HTML."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("草稿")
        PUBLISHED = "published", _("已发布")
        WITHDRAWN = "withdrawn", _("已撤下")

    section = models.CharField(_("栏目"), max_length=16, choices=ArticleSection.choices)
    title = models.CharField(_("标题"), max_length=200)
    summary = models.CharField(_("摘要"), max_length=500, blank=True)
    body = models.TextField(_("正文"))
    source = models.CharField(_("来源"), max_length=100, blank=True)
    status = models.CharField(
        _("状态"), max_length=12, choices=Status.choices, default=Status.DRAFT
    )
    published_at = models.DateTimeField(_("发布时间"), null=True, blank=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("编辑"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("新闻")
        verbose_name_plural = _("新闻")
        indexes = [
            models.Index(fields=["status", "section", "-published_at"], name="article_listing")
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_public(self) -> bool:
        return self.status == self.Status.PUBLISHED and self.published_at is not None
