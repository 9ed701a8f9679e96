"""Console page of 信息共享 statistics (mounted under /console/sharing/, namespace "sharing"):
queries by department and by category over a period, and the sharing rate. Thin: the figures
come from `sharing.services.statistics`. Needs "sharing.statistics" (信用中心, 平台管理员)."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _

from pubcredit.accounts.permissions import Principal
from pubcredit.sharing import services

DEFAULT_DAYS = 30


def _day(value: str | None, default: dt.date) -> dt.date:
    try:
        return dt.date.fromisoformat((value or "").strip()[:10])
    except ValueError:
        return default


@login_required
def statistics(request):
    principal = Principal.of(request.user)
    if not (principal.can("console.view") and principal.can("sharing.statistics")):
        raise PermissionDenied(_("您的账号没有查看信息共享统计的权限。"))
    today = timezone.localdate()
    end = _day(request.GET.get("end"), today)
    start = _day(request.GET.get("start"), end - dt.timedelta(days=DEFAULT_DAYS - 1))
    if start > end:
        start, end = end, start
    context = {
        "stats": services.statistics(start, end),
        "recent": services.recent_queries(start, end),
        "start": start,
        "end": end,
    }
    return render(request, "sharing/statistics.html", context)
