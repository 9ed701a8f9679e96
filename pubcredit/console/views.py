"""Staff console pages. Thin: check the principal, call a service, render."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from pubcredit.accounts.permissions import Principal
from pubcredit.console import screen as big_screen
from pubcredit.console.services import dashboard_stats
from pubcredit.console.worklist import tasks_for
from pubcredit.holidays.services import calendar_warning


@login_required
def dashboard(request):
    principal = Principal.of(request.user)
    if not principal.can("console.view"):
        raise PermissionDenied(_("您的账号没有使用工作台的权限。如需开通,请联系平台管理员。"))
    # "What to do today" first: the counts of this principal's work, each linked to its list.
    context = {
        "tasks": tasks_for(principal),
        "stats": dashboard_stats(principal),
        "can_screen": big_screen.may_view(principal),
    }
    if principal.can("catalog.change"):
        # Those who maintain the holiday table are told before it runs out.
        context["calendar_warning"] = calendar_warning()
    return render(request, "console/dashboard.html", context)


def _screen_viewer(request) -> Principal:
    principal = Principal.of(request.user)
    if not big_screen.may_view(principal):
        raise PermissionDenied(
            _("信用大数据可视化大屏展示全市数据,仅信用中心工作人员和平台管理员可以查看。")
        )
    return principal


@login_required
def screen(request):
    """信用大数据可视化: the full-screen (1920×1080) page; its script fetches `screen_data`
    every minute and draws the charts."""
    _screen_viewer(request)
    context = {"data": big_screen.screen_data(), "refresh": big_screen.CACHE_SECONDS}
    return render(request, "console/screen.html", context)


@login_required
def screen_data(request):
    _screen_viewer(request)
    response = JsonResponse(big_screen.screen_data(), json_dumps_params={"ensure_ascii": False})
    response["Cache-Control"] = "private, no-store"
    return response
