"""What every django-ninja API of this project shares: the error shape and its exception
handlers, and the health check. `make_api` builds one: the whole site's (`pubcredit.api`) and
the check server's (`pubcredit.urls_checks`, the slim deployment of `POST /api/v1/checks`)
answer errors alike because both are built here.

Error shape (accounts engineer): {"code", "message" in Chinese, "details"}; never a stack trace,
whatever DEBUG says.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

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

# An error handler's answer: (status, body in the error shape).
Answer = tuple[int, dict]


def _error(status: int, code: str, message: str, details=None) -> Answer:
    return status, {"code": code, "message": message, "details": details or []}


def permission_denied(request, exc) -> Answer:
    return _error(403, "forbidden", str(exc) or _("无权访问"))


def unauthorized(request, exc) -> Answer:
    return _error(
        401, "unauthorized", _("未认证:请提供有效的接口密钥(Authorization: Bearer)或先登录。")
    )


_HTTP_CODES = {400: "bad_request", 403: "forbidden", 404: "not_found", 429: "throttled"}


def http_error(request, exc) -> Answer:
    message = str(exc)
    if isinstance(exc, Throttled):
        message = _("请求过于频繁,请稍后再试。")
    elif isinstance(exc, AuthorizationError):
        message = _("无权访问")
    elif exc.status_code == 400 and message.startswith("Cannot parse request body"):
        # ninja's own message for a body its parser refused (not JSON, nested too deeply…)
        message = _("请求体不是有效的 JSON(或嵌套过深)。")
    return _error(exc.status_code, _HTTP_CODES.get(exc.status_code, "http_error"), message)


def request_invalid(request, exc) -> Answer:
    details = [
        {"loc": [str(p) for p in e.get("loc", ())], "message": e.get("msg", "")} for e in exc.errors
    ]
    return _error(422, "invalid_request", _("请求参数不符合要求。"), details)


def validation_error(request, exc) -> Answer:
    if hasattr(exc, "error_dict"):
        details = [
            {"field": field, "message": str(message)}
            for field, messages in exc.message_dict.items()
            for message in messages
        ]
    else:
        details = [{"field": None, "message": str(m)} for m in exc.messages]
    message = details[0]["message"] if len(details) == 1 else _("提交的数据未通过校验。")
    return _error(422, "invalid", message, details)


def body_too_large(request, exc) -> Answer:
    return _error(
        413,
        "body_too_large",
        _("请求体过大,不能超过 %(limit)s 字节。")
        % {"limit": f"{settings.DATA_UPLOAD_MAX_MEMORY_SIZE:,}"},
    )


def malformed_multipart(request, exc) -> Answer:
    return _error(400, "bad_request", _("multipart 请求体格式不正确(缺少或错误的 boundary)。"))


def too_many_parts(request, exc) -> Answer:
    return _error(400, "bad_request", _("请求中的字段或文件过多。"))


def nested_too_deeply(request, exc) -> Answer:
    # Only input nests this deeply (a JSON body read by an endpoint itself, a dict field).
    return _error(400, "bad_request", _("请求数据嵌套过深。"))


def data_error(request, exc) -> Answer:
    # PostgreSQL's text cannot hold NUL: psycopg refuses such a value when it is sent, wherever
    # an endpoint passes a string parameter on to the database.
    if "NUL" in str(exc):
        return _error(400, "bad_request", _("请求中含有不允许的空字符(NUL)。"))
    return server_error(request, exc)


def not_found(request, exc) -> Answer:
    return _error(404, "not_found", _("请求的对象不存在。"))


def server_error(request, exc) -> Answer:
    if exc is not None:
        logging.getLogger("pubcredit.api").exception("unhandled API error on %s", request.path)
    return _error(500, "server_error", _("服务器内部错误,请稍后再试或联系平台管理员。"))


HANDLERS: list[tuple[type[Exception], Callable[..., Answer]]] = [
    (PermissionDenied, permission_denied),
    (AuthenticationError, unauthorized),
    (HttpError, http_error),
    (NinjaValidationError, request_invalid),
    (DjangoValidationError, validation_error),
    (RequestDataTooBig, body_too_large),
    (MultiPartParserError, malformed_multipart),
    (TooManyFieldsSent, too_many_parts),
    (TooManyFilesSent, too_many_parts),
    (RecursionError, nested_too_deeply),
    (DataError, data_error),
    (Http404, not_found),
    (ObjectDoesNotExist, not_found),
    (Exception, server_error),
]


class HealthOut(Schema):
    status: str
    database: str


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


def _responding(api: NinjaAPI, handler: Callable[..., Answer]):
    def respond(request, exc):
        status, body = handler(request, exc)
        return api.create_response(request, body, status=status)

    respond.__name__ = handler.__name__
    return respond


def make_api(*, auth: list, urls_namespace: str = "api", docs: bool = True) -> NinjaAPI:
    """A NinjaAPI at version 1 with the project's error handlers and `GET /health`; the caller
    adds its routers. `docs`: serve /openapi.json and /docs."""
    api = NinjaAPI(
        title="pubcredit API",
        version="1",
        description=(
            "公共信用信息平台接口。系统调用使用 `Authorization: Bearer <key>`;工作人员使用登录会话。"
        ),
        auth=auth,
        urls_namespace=urls_namespace,
        **({} if docs else {"openapi_url": None, "docs_url": None}),
    )
    for exc_class, handler in HANDLERS:
        api.add_exception_handler(exc_class, _responding(api, handler))
    api.get(
        "/health",
        auth=None,
        # The id it had when it was declared in pubcredit.api: the OpenAPI document is stable.
        operation_id="pubcredit_api_health",
        tags=["平台"],
        summary="健康检查",
        response={200: HealthOut, 503: HealthOut},
    )(health)
    return api
