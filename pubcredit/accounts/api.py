"""API authentication: `Authorization: Bearer <key>` for systems, the session for people.
Both set `request.principal`."""

from ninja.security import APIKeyCookie, HttpBearer

from pubcredit.accounts.permissions import Principal


class ApiKeyAuth(HttpBearer):
    def authenticate(self, request, token):
        from pubcredit.accounts.services import authenticate_api_key

        key = authenticate_api_key(token)
        if key is None:
            return None
        request.principal = Principal.of(key)
        return request.principal


class SessionPrincipalAuth(APIKeyCookie):
    """A logged-in person (CSRF-checked for unsafe methods, as django-ninja does)."""

    param_name = "sessionid"

    def authenticate(self, request, key):
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return None
        request.principal = Principal.of(user)
        return request.principal
