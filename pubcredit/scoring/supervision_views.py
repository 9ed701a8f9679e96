"""Console pages of 分级分类监管 (mounted under /console/supervision/, namespace "supervision"):
a department's supervision list with the summary per grade, and its xlsx download.

A 部门报送员 sees its own department's list only; the credit centre and the platform
administrator choose any department; a 区县管理员 chooses any department and sees the subjects of
its own district. Thin: `scoring.supervision` selects, counts and writes the file.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _

from pubcredit.accounts.permissions import Principal
from pubcredit.catalog.models import Department, Region
from pubcredit.scoring import supervision

ROWS_PER_PAGE = 50
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _principal(request) -> Principal:
    principal = Principal.of(request.user)
    if not (principal.can("console.view") and principal.can(supervision.ACTION)):
        raise PermissionDenied(
            _("您的账号没有查看分级分类监管名单的权限。如需开通,请联系平台管理员。")
        )
    return principal


def _selection(request, principal: Principal) -> supervision.Selection | None:
    """The selection the query string asks for (a clerk: always its own department); None when
    no department is chosen yet."""
    if principal.is_department_scoped:
        code = principal.department.code if principal.department_id else ""
    else:
        code = request.GET.get("department", "").strip()[:32]
    if not code:
        return None
    try:
        return supervision.select(
            principal,
            code,
            scorecard=request.GET.get("scorecard", "").strip()[:32] or None,
            district=request.GET.get("district", "").strip()[:12] or None,
            grades=[g[:8] for g in request.GET.getlist("grade")[:10]],
        )
    except supervision.OutOfScope:
        raise Http404(_("没有该部门或区县的监管名单。")) from None


@login_required
def supervision_list(request):
    principal = _principal(request)
    try:
        selection = _selection(request, principal)
    except ValidationError as exc:
        raise Http404(exc.messages[0]) from None
    context = {
        "selection": selection,
        "departments": None
        if principal.is_department_scoped
        else Department.objects.filter(active=True).order_by("code"),
        "districts": None
        if principal.is_district_scoped
        else Region.objects.filter(level__in=(Region.Level.COUNTY, Region.Level.ZONE))
        .filter(departments__isnull=False)
        .distinct()
        .order_by("code"),
    }
    if selection is not None:
        rows = (
            supervision.results(selection).order_by("subject_id").values_list(*supervision.COLUMNS)
        )
        page = Paginator(rows, ROWS_PER_PAGE).get_page(request.GET.get("page"))
        query = request.GET.copy()
        query.pop("page", None)
        context.update(
            {
                "summary": supervision.summary(selection),
                "page": page,
                "rows": supervision.items(selection, list(page.object_list)),
                "query": query.urlencode(),
                "scorecards": supervision.scorecard_choices(selection.field),
                "download_max": supervision.XLSX_MAX_ROWS,
                "district_name": Region.objects.filter(code=selection.district)
                .values_list("name", flat=True)
                .first()
                if selection.district
                else "",
            }
        )
    response = render(request, "scoring/supervision.html", context)
    add_never_cache_headers(response)
    return response


@login_required
def supervision_download(request):
    principal = _principal(request)
    try:
        selection = _selection(request, principal)
    except ValidationError as exc:
        raise Http404(exc.messages[0]) from None
    if selection is None:
        raise Http404(_("请先选择部门。"))
    response = HttpResponse(supervision.workbook(selection), content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="{supervision.filename(selection)}"'
    add_never_cache_headers(response)
    return response
