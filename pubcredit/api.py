"""The JSON API under /api/v1/ (django-ninja). Each app contributes a router from its api.py."""

import logging

from django.conf import settings
from django.core.exceptions import (
    ObjectDoesNotExist,
    PermissionDenied,
    RequestDataTooBig,
    TooManyFieldsSent,
    TooManyFilesSent,
)
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DatabaseError, DataError, connection
from django.http import Http404
from django.http.multipartparser import MultiPartParserError
from django.utils.translation import gettext as _
from ninja import NinjaAPI, Schema
from ninja.errors import AuthenticationError, AuthorizationError, HttpError, Throttled
from ninja.errors import ValidationError as NinjaValidationError

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


# Error shape for everything else (accounts engineer): {"code", "message" in Chinese, "details"};
# never a stack trace, whatever DEBUG says.
@api.exception_handler(AuthenticationError)
def unauthorized(request, exc):
    return _error(
        request,
        401,
        "unauthorized",
        _("未认证:请提供有效的接口密钥(Authorization: Bearer)或先登录。"),
    )


_HTTP_CODES = {400: "bad_request", 403: "forbidden", 404: "not_found", 429: "throttled"}


@api.exception_handler(HttpError)
def http_error(request, exc):
    message = str(exc)
    if isinstance(exc, Throttled):
        message = _("请求过于频繁,请稍后再试。")
    elif isinstance(exc, AuthorizationError):
        message = _("无权访问")
    elif exc.status_code == 400 and message.startswith("Cannot parse request body"):
        # ninja's own message for a body its parser refused (not JSON, nested too deeply…)
        message = _("请求体不是有效的 JSON(或嵌套过深)。")
    return _error(request, exc.status_code, _HTTP_CODES.get(exc.status_code, "http_error"), message)


@api.exception_handler(NinjaValidationError)
def request_invalid(request, exc):
    details = [
        {"loc": [str(p) for p in e.get("loc", ())], "message": e.get("msg", "")} for e in exc.errors
    ]
    return _error(request, 422, "invalid_request", _("请求参数不符合要求。"), details)


@api.exception_handler(DjangoValidationError)
def validation_error(request, exc):
    if hasattr(exc, "error_dict"):
        details = [
            {"field": field, "message": str(message)}
            for field, messages in exc.message_dict.items()
            for message in messages
        ]
    else:
        details = [{"field": None, "message": str(m)} for m in exc.messages]
    message = details[0]["message"] if len(details) == 1 else _("提交的数据未通过校验。")
    return _error(request, 422, "invalid", message, details)


@api.exception_handler(RequestDataTooBig)
def body_too_large(request, exc):
    return _error(
        request,
        413,
        "body_too_large",
        _("请求体过大,不能超过 %(limit)s 字节。")
        % {"limit": f"{settings.DATA_UPLOAD_MAX_MEMORY_SIZE:,}"},
    )


@api.exception_handler(MultiPartParserError)
def malformed_multipart(request, exc):
    return _error(
        request, 400, "bad_request", _("multipart 请求体格式不正确(缺少或错误的 boundary)。")
    )


@api.exception_handler(TooManyFieldsSent)
@api.exception_handler(TooManyFilesSent)
def too_many_parts(request, exc):
    return _error(request, 400, "bad_request", _("请求中的字段或文件过多。"))


@api.exception_handler(RecursionError)
def nested_too_deeply(request, exc):
    # Only input nests this deeply (a JSON body read by an endpoint itself, a dict field).
    return _error(request, 400, "bad_request", _("请求数据嵌套过深。"))


@api.exception_handler(DataError)
def data_error(request, exc):
    # PostgreSQL's text cannot hold NUL: psycopg refuses such a value when it is sent, wherever
    # an endpoint passes a string parameter on to the database.
    if "NUL" in str(exc):
        return _error(request, 400, "bad_request", _("请求中含有不允许的空字符(NUL)。"))
    return server_error(request, exc)


@api.exception_handler(Http404)
def not_found(request, exc):
    return _error(request, 404, "not_found", _("请求的对象不存在。"))


@api.exception_handler(ObjectDoesNotExist)
def object_not_found(request, exc):
    return not_found(request, exc)


@api.exception_handler(Exception)
def server_error(request, exc):
    logging.getLogger("pubcredit.api").exception("unhandled API error on %s", request.path)
    return _error(request, 500, "server_error", _("服务器内部错误,请稍后再试或联系平台管理员。"))


class HealthOut(Schema):
    status: str
    database: str


@api.get(
    "/health",
    auth=None,
    tags=["平台"],
    summary="健康检查",
    response={200: HealthOut, 503: HealthOut},
)
def health(request):
    """200 when the database answers; 503 (for a load balancer) when it does not."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError:
        logging.getLogger("pubcredit.api").warning("health: the database does not answer")
        # The broken connection is not reused by the next request.
        connection.close_if_unusable_or_obsolete()
        return 503, {"status": "unavailable", "database": connection.vendor}
    return {"status": "ok", "database": connection.vendor}


from pubcredit.accounts.api import router as accounts_router  # noqa: E402
from pubcredit.bulletins.reminder_api import router as reminders_router  # noqa: E402
from pubcredit.catalog.api import router as catalog_router  # noqa: E402
from pubcredit.checks.api import router as checks_router  # noqa: E402
from pubcredit.commitments.api import router as commitments_router  # noqa: E402
from pubcredit.financing.api import router as financing_router  # noqa: E402
from pubcredit.intake.api import router as intake_router  # noqa: E402
from pubcredit.lists.api import router as lists_router  # noqa: E402
from pubcredit.measures.api import router as measures_router  # noqa: E402
from pubcredit.portal.api import router as public_router  # noqa: E402
from pubcredit.publicity.api import router as publicity_router  # noqa: E402
from pubcredit.repair.api import objections_router, repairs_router  # noqa: E402
from pubcredit.reports.api import router as reports_router  # noqa: E402
from pubcredit.scoring.api import router as scoring_router  # noqa: E402
from pubcredit.sharing.api import router as sharing_router  # noqa: E402
from pubcredit.subjects.api import router as subjects_router  # noqa: E402

api.add_router("/accounts", accounts_router)
api.add_router("/catalog", catalog_router)
api.add_router("/checks", checks_router)
api.add_router("/commitments", commitments_router)
api.add_router("/financing", financing_router)
# Aggregation: /api/v1/submissions… and /api/v1/records (paths fixed by the exchange contract).
api.add_router("", intake_router)
api.add_router("", publicity_router)
api.add_router("/lists", lists_router)
api.add_router("/measures", measures_router)
api.add_router("/public", public_router)
api.add_router("/reminders", reminders_router)
api.add_router("/reports", reports_router)
api.add_router("/repairs", repairs_router)
api.add_router("/objections", objections_router)
api.add_router("/scoring", scoring_router)
api.add_router("/sharing", sharing_router)
api.add_router("/subjects", subjects_router)
