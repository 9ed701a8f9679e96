"""The console page of the reporting reminders (报送提醒, /console/reminders/, namespace
"console:reminders"): a department's clerks see theirs and mark them read; the credit centre sees
every department's, a district administrator its district centres'. Thin: check the principal,
call `reminders`, render."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from pubcredit.accounts.permissions import Principal
from pubcredit.bulletins import reminders

PAGE_ROWS = 200


@login_required
def reminder_list(request):
    principal = Principal.of(request.user)
    if not (principal.can("console.view") and principal.can(reminders.VIEW_ACTION)):
        raise PermissionDenied(_("您的账号没有查看报送提醒的权限。"))
    if request.method == "POST":
        ids = [i for i in request.POST.getlist("ids") if i.isdigit()]
        n = reminders.mark_read(principal, ids)
        messages.success(request, _("已将 %(n)d 条报送提醒标为已读。") % {"n": n})
        return redirect("console:reminders:list")
    context = {
        "rows": reminders.reminders_for(principal)[:PAGE_ROWS],
        "can_mark": reminders.may_mark_read(principal),
        "all_departments": not principal.is_department_scoped,
    }
    return render(request, "bulletins/reminders.html", context)
