"""Console pages of the aggregation bulletins (归集情况通报), under /console/bulletins/
(namespace "console:bulletins"):

- the issued bulletins, and for "bulletins.issue" the form that issues a month, a quarter or a
  year (or a new version of one: `services.issue`);
- a bulletin: its frozen content (title, number, summary, ranking with the composite score,
  named lists, districts), the formula of each rate beside it, every count a link to its rows;
  the same page live for any period (`compose` on demand, marked 实时数据,未发布);
- a department's figures in a bulletin (all its counts, per category), each a link to its rows;
- the rows behind a figure (`drilldown`), paginated, with a note when an issued bulletin's
  frozen figure differs from today's count, and as CSV;
- the stored PDF and xlsx, never cached.

Who sees what is `scope`: a 部门报送员 its own department (others: 404), a 区县管理员 its
district's departments; the files, which name every department, only those who see all.
Thin: check the principal, call compose/services/drilldown, render.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from pubcredit.accounts.permissions import Principal
from pubcredit.bulletins import drilldown as dd
from pubcredit.bulletins import rowsheet, scope, services
from pubcredit.bulletins.compose import CATEGORY_COUNTS, DEPARTMENT_COUNTS, compose
from pubcredit.bulletins.models import Bulletin, RankingScheme
from pubcredit.bulletins.periods import MONTH, Period
from pubcredit.catalog.models import Category
from pubcredit.core import letters

BULLETINS_PER_PAGE = 30
ROWS_PER_PAGE = 50
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _principal(request, action: str = scope.ACTION_VIEW) -> Principal:
    principal = Principal.of(request.user)
    if not (principal.can("console.view") and principal.can(action)):
        raise PermissionDenied(
            _("您的账号没有查看或发布归集情况通报的权限。如需开通,请联系平台管理员。")
        )
    return principal


def _period(text: str) -> Period:
    try:
        return Period.parse(text)
    except ValueError:
        raise Http404(_("期间无效。")) from None


def _private(response):
    add_never_cache_headers(response)
    return response


class IssueForm(forms.Form):
    period = forms.CharField(
        label=gettext_lazy("期间"),
        max_length=8,
        help_text=gettext_lazy("月度如 2026-11,季度如 2026Q4,年度如 2026。"),
    )
    new_version = forms.BooleanField(
        label=gettext_lazy("已发布的期间按当前数据重新计算,发布新版本"), required=False
    )

    def clean_period(self) -> Period:
        try:
            return Period.parse(self.cleaned_data["period"])
        except ValueError as exc:
            raise ValidationError(str(exc)) from None


def _list_page(request, principal: Principal, form: IssueForm | None):
    bulletins = Bulletin.objects.defer("content").order_by("-issued_at", "-pk")
    page = Paginator(bulletins, BULLETINS_PER_PAGE).get_page(request.GET.get("page"))
    today = timezone.localdate()
    return _private(
        render(
            request,
            "bulletins/list.html",
            {
                "page": page,
                "form": form,
                "can_download": scope.sees_all(principal),
                "live_period": Period.containing(MONTH, today),
                "query": "",
            },
        )
    )


@login_required
def bulletin_list(request):
    principal = _principal(request)
    form = None
    if principal.can(scope.ACTION_ISSUE):
        last_month = Period.containing(MONTH, timezone.localdate()).previous
        form = IssueForm(initial={"period": last_month.key})
    return _list_page(request, principal, form)


@login_required
@require_POST
def bulletin_issue(request):
    principal = _principal(request, scope.ACTION_ISSUE)
    form = IssueForm(request.POST)
    if form.is_valid():
        try:
            bulletin, created = services.issue(
                form.cleaned_data["period"],
                principal,
                new_version=form.cleaned_data["new_version"],
            )
        except (ValueError, RankingScheme.DoesNotExist) as exc:
            form.add_error("period", str(exc))
        else:
            if created:
                messages.success(request, _("已发布通报:%(n)s。") % {"n": bulletin.number})
            else:
                messages.info(
                    request,
                    _(
                        "该期间已发布通报 %(n)s,未重新计算;如需按当前数据重新发布,请勾选“发布新版本”。"
                    )
                    % {"n": bulletin.number},
                )
            return redirect("console:bulletins:detail", pk=bulletin.pk)
    return _list_page(request, principal, form)


def _formulas(content: dict) -> dict:
    return {f["name"]: f for f in content.get("formulas", [])}


def _bulletin_context(principal: Principal, content: dict, period: Period, bulletin) -> dict:
    versions = []
    if bulletin is not None:
        versions = Bulletin.objects.filter(kind=bulletin.kind, period_start=bulletin.period_start)
        versions = versions.only("pk", "number", "version").order_by("version")
    return {
        "content": scope.visible_content(content, principal),
        "period": period,
        "bulletin": bulletin,
        "versions": versions,
        "live": bulletin is None,
        "formulas": _formulas(content),
        "can_download": bulletin is not None and scope.sees_all(principal),
        "can_issue": principal.can(scope.ACTION_ISSUE),
    }


@login_required
def bulletin_detail(request, pk: int):
    principal = _principal(request)
    bulletin = get_object_or_404(Bulletin, pk=pk)
    context = _bulletin_context(principal, bulletin.content, services.period_of(bulletin), bulletin)
    return _private(render(request, "bulletins/bulletin.html", context))


def _live_content(request, period: Period) -> dict | None:
    try:
        return compose(period)
    except RankingScheme.DoesNotExist as exc:
        messages.error(request, str(exc))
        return None


@login_required
def live(request, period: str | None = None):
    """Any period composed now from today's statistics; the current month by default (a
    `?period=` from the page's form is taken too)."""
    principal = _principal(request)
    if period is None:
        key = Period.containing(MONTH, timezone.localdate()).key
        try:
            key = Period.parse(request.GET.get("period") or key).key
        except ValueError as exc:
            messages.error(request, str(exc))
        return redirect("console:bulletins:live", period=key)
    found = _period(period)
    content = _live_content(request, found)
    if content is None:
        return redirect("console:bulletins:list")
    context = _bulletin_context(principal, content, found, None)
    context["as_of"] = timezone.localtime()
    return _private(render(request, "bulletins/bulletin.html", context))


def _department_context(principal: Principal, content: dict, code: str) -> dict:
    """The department's row and categories, if `principal` sees the department (404 else)."""
    visible = scope.visible_content(content, principal)
    if not scope.departments(principal).filter(code=code).exists():
        raise Http404
    row = next((r for r in visible["departments"] if r["code"] == code), None)
    if row is None:
        raise Http404(_("该部门在本期通报中没有数据。"))
    figures = [(key, str(dd.LABELS[key]), row[key]) for key in DEPARTMENT_COUNTS]
    categories = [r for r in visible["categories"] if r["code"] == code]
    return {
        "content": visible,
        "row": row,
        "figures": figures,
        "categories": categories,
        "category_counts": [(key, str(dd.LABELS[key])) for key in CATEGORY_COUNTS],
        "formulas": _formulas(content),
    }


@login_required
def bulletin_department(request, pk: int, code: str):
    principal = _principal(request)
    bulletin = get_object_or_404(Bulletin, pk=pk)
    context = _department_context(principal, bulletin.content, code)
    context.update(period=services.period_of(bulletin), bulletin=bulletin, live=False)
    return _private(render(request, "bulletins/department.html", context))


@login_required
def live_department(request, period: str, code: str):
    principal = _principal(request)
    found = _period(period)
    if not scope.departments(principal).filter(code=code).exists():
        raise Http404
    content = _live_content(request, found)
    if content is None:
        return redirect("console:bulletins:list")
    context = _department_context(principal, content, code)
    context.update(period=found, bulletin=None, live=True, as_of=timezone.localtime())
    return _private(render(request, "bulletins/department.html", context))


def _frozen(bulletin: Bulletin, code: str, figure: str, category: Category | None):
    """The figure as the issued bulletin froze it (0 for a department it did not list), or
    None when the bulletin does not keep it per category."""
    content = bulletin.content
    if category is None:
        row = next((r for r in content.get("departments", []) if r["code"] == code), None)
        return 0 if row is None else row.get(figure)
    row = next(
        (
            r
            for r in content.get("categories", [])
            if r["code"] == code and r["category"] == category.code
        ),
        None,
    )
    if figure not in CATEGORY_COUNTS:
        return None
    return 0 if row is None else row.get(figure)


def _drilldown(request, principal: Principal, period: str, code: str, figure: str):
    """(drill-down, bulletin or None, frozen figure or None) for the URL, or 404: an unknown
    period, figure or category, or a department outside the principal's scope."""
    found = _period(period)
    department = get_object_or_404(scope.departments(principal), code=code)
    category = None
    if request.GET.get("category"):
        category = get_object_or_404(Category, code=request.GET["category"])
    if figure not in dd.KIND_OF:
        raise Http404
    try:
        drill = dd.drilldown(found, department, figure, category)
    except ValueError:
        raise Http404 from None
    bulletin, frozen = None, None
    if request.GET.get("bulletin", "").isdigit():
        bulletin = Bulletin.objects.filter(pk=int(request.GET["bulletin"])).first()
        if bulletin is not None and services.period_of(bulletin) == found:
            frozen = _frozen(bulletin, code, figure, category)
        else:
            bulletin = None
    return drill, bulletin, frozen


@login_required
def rows(request, period: str, code: str, figure: str):
    principal = _principal(request)
    drill, bulletin, frozen = _drilldown(request, principal, period, code, figure)
    page = Paginator(drill.rows, ROWS_PER_PAGE).get_page(request.GET.get("page"))
    current = drill.count()
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "drill": drill,
        "bulletin": bulletin,
        "current": current,
        "frozen": frozen,
        "differs": frozen is not None and frozen != current,
        "page": page,
        "header": rowsheet.header(drill.kind),
        "table": rowsheet.cells(drill.kind, page.object_list, principal),
        "query": query.urlencode(),
        "suffix": f"?{query.urlencode()}" if query else "",
    }
    return _private(render(request, "bulletins/drilldown.html", context))


@login_required
def rows_csv(request, period: str, code: str, figure: str):
    principal = _principal(request)
    drill, _bulletin, _frozen_figure = _drilldown(request, principal, period, code, figure)
    items = drill.rows if isinstance(drill.rows, list) else drill.rows.iterator(chunk_size=2000)
    response = StreamingHttpResponse(
        rowsheet.csv_lines(drill.kind, items, principal), content_type="text/csv; charset=utf-8"
    )
    suffix = f"-{drill.category.code}" if drill.category else ""
    name = f"{drill.department.code}-{drill.period.key}-{figure}{suffix}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return _private(response)


def _downloadable(request, pk: int) -> Bulletin:
    principal = _principal(request)
    if not scope.sees_all(principal):
        raise PermissionDenied(
            _("通报文件列出全部部门的数据,仅信用中心工作人员和平台管理员可以下载。")
        )
    return get_object_or_404(Bulletin, pk=pk)


def _filename(bulletin: Bulletin, extension: str) -> str:
    return f"归集情况通报-{bulletin.period_key}-v{bulletin.version}.{extension}"


@login_required
def bulletin_pdf(request, pk: int):
    bulletin = _downloadable(request, pk)
    return letters.stored_pdf_download(
        bulletin.pdf, _filename(bulletin, "pdf"), missing=_("通报的 PDF 文件已不在存储中。")
    )


@login_required
def bulletin_xlsx(request, pk: int):
    bulletin = _downloadable(request, pk)
    try:
        handle = bulletin.xlsx.open("rb")
    except FileNotFoundError:
        raise Http404(_("通报的 Excel 文件已不在存储中。")) from None
    response = FileResponse(
        handle, as_attachment=True, filename=_filename(bulletin, "xlsx"), content_type=XLSX
    )
    return _private(response)
