"""Public portal pages. Thin: parse the request, call `portal.services` / `portal.disclosure` /
`portal.news`, render. Everything shown about subjects and records is rendered by
`publicity.public`, which masks personal data."""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlencode

from django.core.cache import cache
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _

from pubcredit.catalog.models import Department, SubjectKind
from pubcredit.core import ratelimit
from pubcredit.core.identifiers import normalize_identifier
from pubcredit.measures.models import MeasureKind
from pubcredit.portal import disclosure, joint, news, report_pages, services, statistics
from pubcredit.portal.models import ArticleSection
from pubcredit.portal.search import RESULT_CAP
from pubcredit.publicity.public import (
    RefExpired,
    district_choices,
    public_subject,
    resolve_subject_ref,
)
from pubcredit.subjects.masking import mask_code

SEARCH_QUERY_MAX_LENGTH = 100
PER_PAGE = 20
LIST_CATEGORIES = (("XK", gettext_lazy("行政许可")), ("CF", gettext_lazy("行政处罚")))
HOME_CACHE_SECONDS = 60


# --------------------------------------------------------------------------- helpers


def _page_number(request, param: str = "page") -> int:
    try:
        return max(1, min(int(request.GET.get(param, "1")), 10_000))
    except ValueError:
        return 1


def _pagination(request, page: int, total: int, per_page: int = PER_PAGE, **extra) -> dict:
    pages = max(1, -(-total // per_page))
    params = {k: v for k, v in request.GET.items() if k != "page" and v}
    params.update({k: v for k, v in extra.items() if v})

    def url(n: int) -> str:
        return "?" + urlencode({**params, "page": n})

    return {
        "page": page,
        "pages": pages,
        "total": total,
        "previous": url(page - 1) if page > 1 else "",
        "next": url(page + 1) if page < pages else "",
        "first": url(1),
        "last": url(pages),
    }


def _rate_limited(request, scope: str):
    """A 429 page when the client exceeds the public rate, else None."""
    decision = ratelimit.check(request, scope)
    if decision.allowed:
        return None
    response = render(request, "portal/ratelimited.html", status=429)
    response["Retry-After"] = str(decision.retry_after)
    return response


def _parse_date(text: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat((text or "").strip())
    except ValueError:
        return None


# --------------------------------------------------------------------------- home


def home(request):
    figures = services.headline_figures()
    by_kind = [
        {"kind": kind.value, "label": kind.label, "count": figures["by_kind"].get(kind.value, 0)}
        for kind in SubjectKind
    ]
    key = f"portal:home-lists:{get_language()}"
    lists = cache.get(key)
    if lists is None:
        lists = {
            "news": news.latest(ArticleSection.NEWS, 6),
            "notices": news.latest(ArticleSection.NOTICES, 6),
            "policies": news.latest(ArticleSection.POLICIES, 6),
            "licences": disclosure.publicity_list(category="XK", limit=6, count_cap=6).items,
            "penalties": disclosure.publicity_list(category="CF", limit=6, count_cap=6).items,
        }
        cache.set(key, lists, HOME_CACHE_SECONDS)
    return render(
        request,
        "portal/home.html",
        {"figures": {"by_kind": by_kind, "total": figures["total"]}, "lists": lists},
    )


def public_statistics(request):
    """数据统计: 双公示 records by month and by department, list entries by list type (public
    data only, cached; portal.statistics)."""
    return render(request, "portal/statistics.html", {"stats": statistics.public_statistics()})


def credit_services(request):
    """信用服务: the entry to credit commitments, credit repair, objections and progress."""
    return render(request, "portal/services.html")


# --------------------------------------------------------------------------- search


def _search_context(outcome, district: str, kind: str) -> dict:
    return {
        "outcome": outcome,
        "query": outcome.query,
        "district": district,
        "kind": kind,
        "districts": district_choices(),
        "kinds": [
            (SubjectKind.ORG.value, SubjectKind.ORG.label),
            (SubjectKind.INDIVIDUAL_BUSINESS.value, SubjectKind.INDIVIDUAL_BUSINESS.label),
        ],
        "result_cap": RESULT_CAP,
    }


def search(request):
    """The credit search. The forms post, so a 身份证号 never lands in a URL (or a server log);
    a name or USCC search is redirected to its GET address, which can be paged and bookmarked."""
    data = request.POST if request.method == "POST" else request.GET
    query = data.get("q", "").strip()[:SEARCH_QUERY_MAX_LENGTH]
    district = data.get("district", "").strip()[:6]
    kind = data.get("kind", "").strip()[:8]
    limited = _rate_limited(request, "search") if query else None
    if limited:
        return limited
    if request.method == "POST" and query and not services.is_person_query(query):
        params = {k: v for k, v in {"q": query, "district": district, "kind": kind}.items() if v}
        return redirect(reverse("portal:search") + "?" + urlencode(params))
    if request.method != "POST" and services.is_person_query(query):
        # An ID number in a URL ends up in access logs and browser history: refused, and not
        # echoed (the page's own links, e.g. the language switch's "next", use the bare path).
        request.META["QUERY_STRING"] = ""
        outcome = services.SearchOutcome(
            query=mask_code(normalize_identifier(query)),
            mode="invalid",
            message=_(
                "按身份证号码查询请在上方查询框中输入号码后点击“查询”(表单提交),"
                "号码不会出现在网址中;请勿把身份证号码写在网址里。"
            ),
        )
        return render(
            request, "portal/search.html", _search_context(outcome, district, kind), status=400
        )
    page = _page_number(request)
    outcome = services.search_subjects(
        query,
        district=district or None,
        kind=kind or None,
        offset=(page - 1) * PER_PAGE,
        limit=PER_PAGE,
    )
    context = _search_context(outcome, district, kind)
    if outcome.mode == "name" and outcome.total:
        context["pagination"] = _pagination(request, page, outcome.total)
    return render(request, "portal/search.html", context)


# --------------------------------------------------------------------------- subjects


def subject(request, ref: str):
    """A subject's credit page: tabs with only what is public today."""
    limited = _rate_limited(request, "subject")
    if limited:
        return limited
    try:
        found = resolve_subject_ref(ref)
    except RefExpired:
        return render(request, "portal/ref_expired.html", status=410)
    if found is None:
        raise Http404(_("主体不存在"))
    tab = services.TAB_BY_SLUG.get(request.GET.get("tab", "basic"), services.TABS[0])
    page = _page_number(request)
    counts = services.subject_tab_counts(found.pk)
    records = services.subject_tab_records(
        found.pk, tab, offset=(page - 1) * PER_PAGE, limit=PER_PAGE, total=counts.get(tab.slug)
    )
    view = public_subject(found, former_names=services.subject_former_names(found))
    tabs = [
        {
            "slug": t.slug,
            "label": t.label,
            "count": counts.get(t.slug),
            "current": t.slug == tab.slug,
            "url": f"?tab={t.slug}",
        }
        for t in services.TABS
    ]
    context = {
        "subject": view,
        "tabs": tabs,
        "tab": tab,
        "records": records,
        "today": disclosure.today_or(None),
        "black_lists": services.black_list_names(found.pk, count=counts.get("serious")),
        "grades": services.public_grades(found),
        "ref": ref,
        **report_pages.report_form_context(found),
    }
    if records.total > PER_PAGE:
        context["pagination"] = _pagination(request, page, records.total, tab=tab.slug)
    return render(request, "portal/subject.html", context)


# --------------------------------------------------------------------------- 双公示


def publicity(request):
    """The 双公示 lists: licences and penalties public today, latest first, by department and
    date."""
    category = request.GET.get("category", "CF")
    if category not in dict(LIST_CATEGORIES):
        category = "CF"
    department = request.GET.get("department", "").strip()[:32]
    since = _parse_date(request.GET.get("since", ""))
    page = _page_number(request)
    result = disclosure.publicity_list(
        category=category,
        department=department or None,
        since=since,
        offset=(page - 1) * PER_PAGE,
        limit=PER_PAGE,
    )
    context = {
        "records": result,
        "category": category,
        "categories": [
            {"code": code, "label": label, "current": code == category}
            for code, label in LIST_CATEGORIES
        ],
        "department": department,
        "departments": list(
            Department.objects.filter(active=True).order_by("code").values_list("code", "name")
        ),
        "since": since.isoformat() if since else "",
        "pagination": _pagination(request, page, result.total),
    }
    return render(request, "portal/publicity.html", context)


def record(request, pk: int):
    """One record of the publicity lists, if it is public today."""
    found = disclosure.public_record_detail(pk)
    if found is None:
        raise Http404(_("该信息不存在或已不在公示期内"))
    return render(request, "portal/record.html", {"record": found})


# --------------------------------------------------------------------------- 联合奖惩


def joint_overview(request):
    """联合奖惩: the red and black list types with their entries in force, and the measures."""
    list_types = joint.public_list_types()
    return render(
        request,
        "portal/joint.html",
        {
            "red": [t for t in list_types if t.kind == "red"],
            "black": [t for t in list_types if t.kind == "black"],
            "measure_counts": joint.measure_counts(),
        },
    )


def list_entries(request, code: str):
    """One red or black list: its entries in force today, newest decision first."""
    page = _page_number(request)
    found = joint.list_type_entries(code, offset=(page - 1) * PER_PAGE, limit=PER_PAGE)
    if found is None:
        raise Http404(_("该名单不存在或不予公开"))
    list_type, entries = found
    return render(
        request,
        "portal/list_entries.html",
        {
            "list_type": list_type,
            "entries": entries,
            "pagination": _pagination(request, page, entries.total),
            "nav_current": "measures",
        },
    )


def measure_catalogue(request):
    """The reward and punishment measures in force, with legal basis and what triggers them."""
    kind = request.GET.get("kind", "punishment")
    if kind not in joint.MEASURE_KINDS:
        kind = "punishment"
    return render(
        request,
        "portal/measure_catalogue.html",
        {
            "kind": kind,
            "kinds": [
                {"code": code, "label": label, "current": code == kind}
                for code, label in MeasureKind.choices
            ],
            "measures": joint.public_measures(kind),
            "nav_current": "measures",
        },
    )


# --------------------------------------------------------------------------- news


def news_section(request, section: str):
    if section not in ArticleSection.values:
        raise Http404(section)
    page = _page_number(request)
    items, total = news.published(section, offset=(page - 1) * PER_PAGE, limit=PER_PAGE)
    return render(
        request,
        "portal/news_list.html",
        {
            "section": section,
            "section_label": ArticleSection(section).label,
            "sections": [(s.value, s.label) for s in ArticleSection],
            "articles": items,
            "pagination": _pagination(request, page, total),
            "nav_current": news.NAV_NAME[section],
        },
    )


def article(request, pk: int):
    found = news.published_article(pk)
    if found is None:
        raise Http404(_("文章不存在"))
    return render(
        request,
        "portal/article.html",
        {
            "article": found,
            "section_label": ArticleSection(found.section).label,
            "section_url": reverse(f"portal:{news.NAV_NAME[found.section]}"),
            "nav_current": news.NAV_NAME[found.section],
        },
    )
