"""Template filters for public pages."""

from django import template

from pubcredit.portal.public import redact_id_numbers

register = template.Library()


@register.filter
def redact_ids(value):
    """Mask anything that looks like a valid 18-digit 身份证号 (first 6 + last 4): a safety net
    for text typed by people (news written by staff), applied before escaping."""
    return redact_id_numbers("" if value is None else str(value))
