"""Sharing API (mounted at /api/v1/sharing): department systems query a subject's records and
list entries with a stated purpose. Thin: parse, call pubcredit.sharing.services, serialise.

Auth: an API key or a session whose role holds "sharing.query" (部门报送员 keys, 信用中心,
平台管理员). `purpose` is required (422 code=purpose_required without it); every answered query
is logged (SharingQuery). Only shareable categories (catalogue 公开属性 公开/共享) are answered;
requested categories that are not shareable are listed in `not_shareable`. Persons are masked
unless the caller may see persons (then the look is logged in the access log too).
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema, Status
from pydantic import Field

from pubcredit.core.apitypes import ErrorOut
from pubcredit.core.ratelimit import client_address
from pubcredit.sharing import services

router = Router(tags=["信息共享"])


class ShareParams(Schema):
    purpose: str | None = Field(
        None, max_length=255, description="查询事由(必填,至少 4 个字),例如“行政许可审查”"
    )
    categories: str | None = Field(
        None,
        max_length=500,
        description="信息类别编码,逗号分隔(如 CF,XK);省略时为全部可共享类别",
    )


class SharedSubjectOut(Schema):
    id: int
    kind: str
    name: str
    uscc: str
    id_number: str = Field(description="证件号码(脱敏)")


class SharedFieldOut(Schema):
    code: str
    label: str
    value: str


class SharedRecordOut(Schema):
    id: int
    category: str
    category_name: str
    department: str
    decision_date: str | None
    source: str = Field(description="数据来源:local 本级、provincial 省级下发、national 国家下发")
    source_label: str
    fields: list[SharedFieldOut]


class SharedEntryOut(Schema):
    id: int
    list_type: str
    list_name: str
    kind: str
    subject_name: str
    identified_by: str
    document_number: str
    decided_on: str
    valid_from: str
    valid_to: str | None
    basis: str


class _AnswerBase(Schema):
    query: int = Field(description="本次查询的记录编号(共享查询日志)")
    subject: SharedSubjectOut
    categories: list[str] = Field(description="本次查询的可共享类别")
    not_shareable: list[str] = Field(description="请求了但不可共享的类别(未返回)")
    masked: bool = Field(description="自然人信息是否脱敏")
    count: int


class RecordsAnswerOut(_AnswerBase):
    items: list[SharedRecordOut]


class ListsAnswerOut(_AnswerBase):
    items: list[SharedEntryOut]


def _error(status: int, code: str, message: str) -> Status:
    return Status(status, {"code": code, "message": message, "details": []})


def _ask(request, ref: str, params: ShareParams, query):
    principal = request.principal
    principal.require("sharing.query")
    if not (params.purpose or "").strip():
        return _error(422, "purpose_required", _("共享查询必须说明查询事由(purpose)。"))
    try:
        purpose = services.clean_purpose(params.purpose)
        categories = services.parse_categories(params.categories)
    except ValidationError as exc:
        return _error(422, "invalid_request", exc.messages[0])
    subject = services.resolve_subject(principal, ref)
    if subject is None:
        return _error(404, "not_found", _("主体不存在。"))
    answer = query(
        principal,
        subject,
        purpose=purpose,
        categories=categories,
        client_address=client_address(request),
    )
    return {
        "query": answer.query.pk,
        "subject": answer.subject,
        "categories": answer.categories,
        "not_shareable": answer.not_shareable,
        "masked": answer.query.masked,
        "count": len(answer.items),
        "items": answer.items,
    }


_DESCRIPTION = (
    "{ref} 为主体编号、统一社会信用代码或身份证号码。须说明查询事由(purpose,否则 422 "
    "code=purpose_required);每次查询均记录(查询者、部门、主体、类别、事由、返回条数)。"
    "只返回可共享的信息类别(目录公开属性为“公开”或“共享”);自然人信息脱敏,"
    "有查看自然人信息权限的调用方除外(其查看另行记录)。"
)


@router.get(
    "/subjects/{ref}/records",
    response={200: RecordsAnswerOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut},
    summary="共享查询:主体的信用记录",
    description=_DESCRIPTION,
    url_name="sharing_records",
)
def shared_records(request, ref: str, params: Query[ShareParams]):
    return _ask(request, ref, params, services.query_records)


@router.get(
    "/subjects/{ref}/lists",
    response={200: ListsAnswerOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut},
    summary="共享查询:主体的名单",
    description=_DESCRIPTION,
    url_name="sharing_lists",
)
def shared_lists(request, ref: str, params: Query[ShareParams]):
    return _ask(request, ref, params, services.query_lists)
