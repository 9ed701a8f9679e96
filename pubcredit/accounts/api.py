"""API authentication: `Authorization: Bearer <key>` for systems, the session for people.
Both set `request.principal`. The accounts router answers "who am I" for either."""

from ninja import Router, Schema
from ninja.security import APIKeyCookie, HttpBearer

from pubcredit.accounts.permissions import Principal
from pubcredit.accounts.services import authenticate_api_key


class ApiKeyAuth(HttpBearer):
    def authenticate(self, request, token):

        key = authenticate_api_key(token)
        if key is None:
            return None
        request.principal = Principal.of(key)
        return request.principal


class SessionPrincipalAuth(APIKeyCookie):
    """A logged-in person (CSRF-checked for unsafe methods, as django-ninja does)."""

    param_name = "sessionid"

    def _get_key(self, request):
        # No session cookie, nothing to forge: a request with no key (or a bad one) is
        # unauthenticated (401), not refused for CSRF (403).
        if self.param_name not in request.COOKIES:
            return None
        return super()._get_key(request)

    def authenticate(self, request, key):
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated or not user.is_active:
            return None
        request.principal = Principal.of(user)
        return request.principal


router = Router(tags=["账号"])


class ScopeOut(Schema):
    code: str
    name: str


class MeOut(Schema):
    label: str
    role: str
    role_name: str
    department: ScopeOut | None
    district: ScopeOut | None
    actions: list[str]


@router.get("/me", response=MeOut, summary="当前调用者的角色、范围和可执行的动作")
def me(request):
    principal: Principal = request.principal
    department = principal.department
    district = principal.district
    return MeOut(
        label=principal.label,
        role=principal.role,
        role_name=principal.role_name,
        department=ScopeOut(code=department.code, name=department.name) if department else None,
        district=ScopeOut(code=district.code, name=district.name) if district else None,
        actions=sorted(principal.actions),
    )
