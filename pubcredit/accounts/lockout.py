"""django-axes' hooks: the address a login comes from (AXES_CLIENT_IP_CALLABLE) and the page a
locked-out password login gets (AXES_LOCKOUT_CALLABLE): HTTP 429 and, in Chinese, how long the
lock lasts. Both login forms (/accounts/login/, /admin/login/) get it."""

from __future__ import annotations

import ipaddress
import math

from django.conf import settings
from django.shortcuts import render

from pubcredit.core.ratelimit import client_address


def client_ip(request) -> str | None:
    """The client's address as the rate limits see it (PUBCREDIT_TRUSTED_PROXIES), or None when
    that is not an IP address (a request built without one, a proxy's "unknown"): axes keeps it
    in a GenericIPAddressField, which PostgreSQL checks."""
    try:
        return str(ipaddress.ip_address(client_address(request)))
    except ValueError:
        return None


def lockout_response(request, original_response=None, credentials=None):
    minutes = math.ceil(settings.AXES_COOLOFF_TIME.total_seconds() / 60)
    context = {"failure_limit": settings.AXES_FAILURE_LIMIT, "minutes": minutes}
    return render(request, "registration/locked_out.html", context, status=429)
