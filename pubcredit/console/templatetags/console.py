"""Template tags for the console layout: the navigation and the acting principal's role."""

from django import template

from pubcredit.accounts.models import Role
from pubcredit.accounts.permissions import Principal
from pubcredit.console.navigation import visible_navigation

register = template.Library()


def _principal(context) -> Principal:
    request = context.get("request")
    return Principal.of(getattr(request, "user", None))


@register.inclusion_tag("console/_nav.html", takes_context=True)
def console_nav(context):
    """The left navigation for the current user, marking the current page."""
    request = context.get("request")
    match = getattr(request, "resolver_match", None)
    return {
        "groups": visible_navigation(_principal(context)),
        "current": match.view_name if match else "",
    }


@register.simple_tag(takes_context=True)
def principal_role(context) -> str:
    """The display name of the current user's effective role (superusers act as 平台管理员)."""
    role = _principal(context).role
    try:
        return str(Role(role).label)
    except ValueError:
        return role
