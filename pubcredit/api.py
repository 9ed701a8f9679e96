"""The JSON API under /api/v1/ (django-ninja). Each app contributes a router from its api.py."""

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _
from ninja import NinjaAPI

from pubcredit.accounts.api import ApiKeyAuth, SessionPrincipalAuth

api = NinjaAPI(
    title="pubcredit API",
    version="1",
    description="公共信用信息平台接口。系统调用使用 `Authorization: Bearer <key>`;工作人员使用登录会话。",
    auth=[ApiKeyAuth(), SessionPrincipalAuth()],
    urls_namespace="api",
)


def _error(request, status: int, code: str, message: str, details=None):
    return api.create_response(
        request, {"code": code, "message": message, "details": details or []}, status=status
    )


@api.exception_handler(PermissionDenied)
def permission_denied(request, exc):
    return _error(request, 403, "forbidden", str(exc) or _("无权访问"))


@api.get("/health", auth=None, tags=["平台"], summary="健康检查")
def health(request):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return {"status": "ok", "database": connection.vendor}


from pubcredit.catalog.api import router as catalog_router  # noqa: E402
from pubcredit.subjects.api import router as subjects_router  # noqa: E402

api.add_router("/catalog", catalog_router)
api.add_router("/subjects", subjects_router)
