"""Console pages where credit-centre staff write and publish the portal's news
(/console/news/…, routed in pubcredit/console/urls.py). Thin: every change goes through
`portal.news` (permission "news.change", audited)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from pubcredit.accounts.permissions import Principal
from pubcredit.portal import news
from pubcredit.portal.models import Article, ArticleSection

PER_PAGE = 30


def _editor(request) -> Principal:
    principal = Principal.of(request.user)
    if not (principal.can("console.view") and principal.can(news.ACTION)):
        raise PermissionDenied(_("您的账号没有发布门户新闻的权限。如需开通,请联系平台管理员。"))
    return principal


class ArticleForm(forms.Form):
    section = forms.ChoiceField(label=gettext_lazy("栏目"), choices=ArticleSection.choices)
    title = forms.CharField(label=gettext_lazy("标题"), max_length=200)
    summary = forms.CharField(
        label=gettext_lazy("摘要"),
        max_length=500,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    source = forms.CharField(label=gettext_lazy("来源"), max_length=100, required=False)
    body = forms.CharField(
        label=gettext_lazy("正文"),
        widget=forms.Textarea(attrs={"rows": 16}),
        help_text=gettext_lazy("纯文本;空一行分段。不支持 HTML。"),
    )


class WithdrawForm(forms.Form):
    reason = forms.CharField(label=gettext_lazy("撤下原因"), max_length=200)


def _apply_errors(form: forms.Form, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for name, errors in exc.message_dict.items():
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


@login_required
def news_list(request):
    _editor(request)
    section = request.GET.get("section", "")
    qs = Article.objects.order_by("-updated_at", "-id").defer("body")
    if section in ArticleSection.values:
        qs = qs.filter(section=section)
    return render(
        request,
        "portal/console/news_list.html",
        {
            "articles": qs[: PER_PAGE * 10],
            "section": section,
            "sections": ArticleSection.choices,
        },
    )


@login_required
def news_create(request):
    principal = _editor(request)
    form = ArticleForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            article = news.save_article(principal, **form.cleaned_data)
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, _("已保存为草稿。"))
            return redirect("console:news_edit", pk=article.pk)
    return render(request, "portal/console/news_form.html", {"form": form, "article": None})


@login_required
def news_edit(request, pk: int):
    principal = _editor(request)
    article = get_object_or_404(Article, pk=pk)
    initial = {f: getattr(article, f) for f in ("section", "title", "summary", "source", "body")}
    form = ArticleForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            news.save_article(principal, article, **form.cleaned_data)
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, _("已保存。"))
            return redirect("console:news_edit", pk=article.pk)
    return render(
        request,
        "portal/console/news_form.html",
        {"form": form, "article": article, "withdraw_form": WithdrawForm()},
    )


@login_required
@require_POST
def news_publish(request, pk: int):
    principal = _editor(request)
    article = get_object_or_404(Article, pk=pk)
    news.publish_article(principal, article)
    messages.success(request, _("已发布到门户。"))
    return redirect("console:news_edit", pk=pk)


@login_required
@require_POST
def news_withdraw(request, pk: int):
    principal = _editor(request)
    article = get_object_or_404(Article, pk=pk)
    form = WithdrawForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("撤下文章必须填写原因。"))
        return redirect("console:news_edit", pk=pk)
    news.withdraw_article(principal, article, reason=form.cleaned_data["reason"])
    messages.success(request, _("已从门户撤下。"))
    return redirect("console:news_edit", pk=pk)
