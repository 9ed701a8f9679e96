"""Template context every page needs: the city this deployment serves."""

from django.conf import settings
from django.utils.translation import get_language


def site(request):
    """`CITY_NAME`: the city's name in the current language (信用淄博 / Credit Zibo)."""
    city = getattr(settings, "PUBCREDIT_CITY_NAME", "淄博")
    if (get_language() or "").startswith("en"):
        city = getattr(settings, "PUBCREDIT_CITY_NAME_EN", "") or city
    return {"CITY_NAME": city}
