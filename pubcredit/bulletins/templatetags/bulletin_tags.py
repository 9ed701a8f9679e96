"""Template helpers of the bulletin pages: rates as percentages, a figure's drill-down URL."""

from urllib.parse import urlencode

from django import template
from django.urls import reverse

register = template.Library()


@register.filter
def percent(value) -> str:
    """A rate (0…1) as "85.0%", or "—" when it cannot be computed."""
    if value is None or value == "":
        return "—"
    return f"{float(value) * 100:.1f}%"


@register.filter
def get(mapping, key):
    """`mapping[key]`, or None."""
    try:
        return mapping.get(key)
    except AttributeError:
        return None


@register.simple_tag
def drill_url(period, code: str, figure: str, bulletin=None, category: str = "") -> str:
    """The rows behind `figure` of department `code` in `period` (a Period or its key), with
    the issued bulletin to compare with and the category, when given."""
    key = getattr(period, "key", period)
    url = reverse("console:bulletins:rows", args=[key, code, figure])
    query = {}
    if category:
        query["category"] = category
    if bulletin is not None:
        query["bulletin"] = bulletin.pk
    return f"{url}?{urlencode(query)}" if query else url


@register.simple_tag
def department_url(period, code: str, bulletin=None) -> str:
    """A department's page in the issued `bulletin`, or in the live `period`."""
    if bulletin is not None:
        return reverse("console:bulletins:department", args=[bulletin.pk, code])
    return reverse("console:bulletins:live_department", args=[getattr(period, "key", period), code])
