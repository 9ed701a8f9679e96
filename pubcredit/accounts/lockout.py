"""django-axes' hooks: the address a login comes from (AXES_CLIENT_IP_CALLABLE) and the page a
locked-out password login gets (AXES_LOCKOUT_CALLABLE): HTTP 429 and, in Chinese, how long the
lock lasts. Both login forms (/accounts/login/, /admin/login/) get it."""

from __future__ import annotations

import math

from django.conf import settings
from django.shortcuts import render


def lockout_response(request, original_response=None, credentials=None):
    minutes = math.ceil(settings.AXES_COOLOFF_TIME.total_seconds() / 60)
    context = {"failure_limit": settings.AXES_FAILURE_LIMIT, "minutes": minutes}
    return render(request, "registration/locked_out.html", context, status=429)
