"""Staff console pages. Thin: check the principal, call a service, render."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import render
from django.utils.translation import gettext as _

from pubcredit.accounts.permissions import Principal
from pubcredit.console.services import dashboard_stats
from pubcredit.console.worklist import tasks_for
from pubcredit.holidays.services import calendar_warning


@login_required
def dashboard(request):
    principal = Principal.of(request.user)
    if not principal.can("console.view"):
        raise PermissionDenied(_("您的账号没有使用工作台的权限。如需开通,请联系平台管理员。"))
    # "What to do today" first: the counts of this principal's work, each linked to its list.
    context = {"tasks": tasks_for(principal), "stats": dashboard_stats(principal)}
    if principal.can("catalog.change"):
        # Those who maintain the holiday table are told before it runs out.
        context["calendar_warning"] = calendar_warning()
    return render(request, "console/dashboard.html", context)
