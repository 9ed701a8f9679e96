"""Public portal pages. Thin: figures come from `portal.services`."""

from django.http import Http404
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _

from pubcredit.catalog.models import SubjectKind
from pubcredit.portal.services import headline_figures

# Sections of the public site that later issues build; until then each shows an
# "under construction" page so no navigation link is broken.
SECTIONS = {
    "news": _("信用动态"),
    "policies": _("政策法规"),
    "disclosure": _("信用公示"),
    "measures": _("联合奖惩"),
    "services": _("信用服务"),
}

SEARCH_QUERY_MAX_LENGTH = 100


def home(request):
    figures = headline_figures()
    by_kind = [
        {"kind": kind.value, "label": kind.label, "count": figures["by_kind"].get(kind.value, 0)}
        for kind in SubjectKind
    ]
    return render(
        request,
        "portal/home.html",
        {"figures": {"by_kind": by_kind, "total": figures["total"]}},
    )


def section(request, section: str):
    """Placeholder page for a section that is not built yet."""
    if section not in SECTIONS:
        raise Http404(section)
    return render(request, "portal/placeholder.html", {"section_title": SECTIONS[section]})


def search(request):
    """Public credit search. Placeholder: echoes the query (escaped by the template)."""
    query = request.GET.get("q", "").strip()[:SEARCH_QUERY_MAX_LENGTH]
    return render(request, "portal/search.html", {"query": query})
