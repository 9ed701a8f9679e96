"""Aggregation (归集) API, mounted at /api/v1 (paths /submissions… and /records).

- `POST /api/v1/submissions` (multipart: file, department, category): a department's file;
  small files are processed in the request (201), large ones by the task worker (202; poll).
- `GET /api/v1/submissions` and `GET /api/v1/submissions/{id}`: status, progress and counts.
- `GET /api/v1/submissions/{id}/errors` (JSON, paginated; `?format=xlsx` for the Excel report)
  and `GET /api/v1/submissions/{id}/errors.xlsx`: the error report.
- `POST /api/v1/records`: a JSON batch of at most 10,000 rows from a department system,
  processed in the request.

Auth: a department system's key (`Authorization: Bearer …`, scoped to its department) or a
logged-in person. Writes need "records.submit", and a department-scoped caller submits only for
its own department (403 otherwise); reads need "records.view" and see only the submissions their
scope covers (404 for the rest, as for any object the caller may not see). Errors:
`{"code", "message" (Chinese), "details"}`.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Literal

from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils.translation import gettext as _
from ninja import File, Form, Query, Router, Schema, Status
from ninja.files import UploadedFile
from pydantic import Field
from pydantic import ValidationError as PydanticValidationError

from pubcredit.accounts.permissions import Principal, restrict
from pubcredit.catalog.models import Category
from pubcredit.core.apitypes import ErrorOut, Id, Offset
from pubcredit.intake import services, uploads
from pubcredit.intake.models import Submission

router = Router(tags=["数据归集"])

MAX_ERRORS_PAGE = 10_000
MAX_LIST_PAGE = 200


class RefOut(Schema):
    code: str
    name: str


class CountsOut(Schema):
    rows: int = Field(description="读取的数据行数(不含标题行、表头和空行)")
    accepted: int = Field(description="通过校验的行数(含文件内重复行)")
    rejected: int = Field(description="被拒收的行数")
    inserted: int = Field(description="新增的记录数")
    updated: int = Field(description="内容变化、生成新版本的记录数")
    unchanged: int = Field(description="内容未变化的记录数")
    late: int = Field(description="超期报送的行数(决定日期早于接收日 7 个工作日以上)")
    duplicates: int = Field(description="与文件中前面的行完全相同、已合并的行数")
    review: int = Field(description="主体待人工确认的记录数")
    errors: int = Field(description="错误条数")
    warnings: int = Field(description="警告条数")


class LinksOut(Schema):
    self: str
    errors: str
    errors_xlsx: str


class SubmissionOut(Schema):
    id: int
    department: RefOut
    category: RefOut
    channel: str
    source: Literal["local", "provincial", "national"] = Field(description="数据来源")
    filename: str
    sha256: str
    size: int
    status: Literal["received", "processing", "loading", "done", "failed"]
    status_label: str
    progress: int = Field(description="处理进度(0–100)")
    finished: bool
    received_at: dt.datetime
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
    summary: CountsOut
    extra_columns: list[str]
    mapping: list[dict] = Field(description="列映射:表头、字段编码、识别方式、匹配度")
    error_message: str = Field(description="失败原因(状态为 failed 时)")
    failure: str
    links: LinksOut


class SubmissionListOut(Schema):
    count: int
    limit: int
    offset: int
    items: list[SubmissionOut]


class RowErrorOut(Schema):
    row: int = Field(description="行号:报送员在文件中看到的行号(Excel 行号;JSON 为第几个对象)")
    field: str = Field(description="字段编码;整行的问题为空")
    field_name: str
    value: str = Field(description="原始值(证件号码脱敏)")
    rule: str
    message: str
    severity: Literal["error", "warning"]


class RuleTotalOut(Schema):
    field: str
    field_name: str
    rule: str
    severity: Literal["error", "warning"]
    count: int = Field(description="该字段该规则发现的全部条数(含未保存的)")


class ErrorsOut(Schema):
    submission: int
    count: int = Field(description="保存的错误条数(按 severity 筛选后)")
    limit: int
    offset: int
    items: list[RowErrorOut]
    total: int = Field(description="发现的错误和警告总条数(超过保存上限时多于保存的条数)")
    stored: int = Field(description="保存的错误和警告条数(上限见平台设置,默认 10,000)")
    note: str = Field(description="超过保存上限时的说明,例如“共 N 条……仅保存前 10,000 条”")
    totals: list[RuleTotalOut] = Field(description="各字段各规则的全部条数")


class RecordsIn(Schema):
    department: str | None = Field(
        None, description="报送部门编码;部门系统的密钥可省略(即密钥所属部门)"
    )
    category: str = Field(description="信息类别编码,例如 CF(行政处罚)、XK(行政许可)")
    rows: list[dict] = Field(
        description="数据行:每行一个对象,键为字段编码(如 CF_WSH)或表头名称;最多 10,000 行"
    )
    source: Literal["local", "provincial", "national"] = Field(
        "local", description="数据来源:local 本级、provincial 省级下发、national 国家下发"
    )


class SubmitForm(Schema):
    category: str = Field(description="信息类别编码,例如 CF(行政处罚)、XK(行政许可)")
    department: str | None = Field(
        None, description="报送部门编码;部门系统的密钥可省略(即密钥所属部门)"
    )
    source: Literal["local", "provincial", "national"] = Field(
        "local", description="数据来源:local 本级、provincial 省级下发、national 国家下发"
    )


class SubmissionListParams(Schema):
    status: Literal["received", "processing", "loading", "done", "failed"] | None = None
    department: str | None = Field(None, description="部门编码")
    category: str | None = Field(None, description="信息类别编码")
    limit: int = Field(50, ge=1, le=MAX_LIST_PAGE)
    offset: Offset = 0


class ErrorParams(Schema):
    format: Literal["json", "xlsx"] = Field("json", description="json(分页)或 xlsx(完整错误报告)")
    severity: Literal["error", "warning"] | None = None
    limit: int = Field(1000, ge=1, le=MAX_ERRORS_PAGE)
    offset: Offset = 0


def _error(status: int, code: str, message: str, details=None) -> Status:
    return Status(status, {"code": code, "message": message, "details": details or []})


def _out(submission: Submission) -> dict:
    counts = submission.summary()
    base = reverse("api:submission", args=[submission.pk])
    return {
        "id": submission.pk,
        "department": {"code": submission.department.code, "name": submission.department.name},
        "category": {"code": submission.category.code, "name": submission.category.name},
        "channel": submission.channel,
        "source": submission.source,
        "filename": submission.filename,
        "sha256": submission.sha256,
        "size": submission.size,
        "status": submission.status,
        "status_label": str(submission.get_status_display()),
        "progress": submission.progress,
        "finished": submission.is_finished,
        "received_at": submission.received_at,
        "started_at": submission.started_at,
        "finished_at": submission.finished_at,
        "summary": {k: counts[k] for k in CountsOut.model_fields},
        "extra_columns": [str(c) for c in submission.extra_columns or []],
        "mapping": (submission.mapping or {}).get("columns", []),
        "error_message": submission.error_message,
        "failure": submission.failure,
        "links": {
            "self": base,
            "errors": reverse("api:submission_errors", args=[submission.pk]),
            "errors_xlsx": reverse("api:submission_errors_xlsx", args=[submission.pk]),
        },
    }


def _target(principal: Principal, department_code: str | None, category_code: str):
    """(department, category) or an error Status."""
    if department_code:
        department = uploads.find_department(department_code)
        if department is None:
            return _error(
                422, "unknown_department", _("未知的部门编码:%(c)s") % {"c": department_code}
            )
    elif principal.department_id:
        department = principal.department
    else:
        return _error(422, "department_required", _("请指定报送部门(department)。"))
    category = Category.objects.filter(code=(category_code or "").strip()).first()
    if category is None:
        return _error(422, "unknown_category", _("未知的信息类别编码:%(c)s") % {"c": category_code})
    return department, category


def _refused(exc: ValidationError) -> Status:
    messages = exc.messages
    return _error(422, "submission_refused", messages[0] if messages else str(exc))


def _submitted(submission: Submission) -> Status:
    if submission.status == Submission.Status.FAILED and submission.failure == "unreadable":
        return _error(
            422,
            "unreadable_file",
            submission.error_message,
            [{"submission": submission.pk, "status": submission.status}],
        )
    return Status(201 if submission.is_finished else 202, _out(submission))


def _visible(principal: Principal):
    return restrict(Submission.objects.all(), principal, "records.view").select_related(
        "department", "category"
    )


def _find(request, submission_id: int) -> Submission | None:
    principal: Principal = request.principal
    principal.require("records.view")
    return _visible(principal).filter(pk=submission_id).first()


def _not_found() -> Status:
    return _error(404, "not_found", _("报送批次不存在或无权查看。"))


def _not_ready(submission: Submission) -> Status:
    return _error(
        409,
        "not_ready",
        _("报送批次尚未处理完成(当前状态:%(s)s),请稍后再取错误报告。")
        % {"s": submission.get_status_display()},
        [{"status": submission.status, "progress": submission.progress}],
    )


@router.post(
    "/submissions",
    response={
        201: SubmissionOut,
        202: SubmissionOut,
        401: ErrorOut,
        403: ErrorOut,
        413: ErrorOut,
        422: ErrorOut,
    },
    summary="报送数据文件",
    description=(
        "以 multipart/form-data 上传一个数据文件(xlsx、xls、csv 或 json)。"
        "较小的文件在请求内处理完毕,返回 201 和处理结果;较大的文件转入后台处理,返回 202,"
        "之后轮询 `GET /api/v1/submissions/{id}`。文件无法读取时返回 422(code=unreadable_file)。"
        "部门系统的密钥只能为本部门报送(否则 403)。"
    ),
    url_name="submissions",
)
def submit_file(request, file: File[UploadedFile], form: Form[SubmitForm]):
    principal: Principal = request.principal
    principal.require("records.submit")
    target = _target(principal, form.department, form.category)
    if isinstance(target, Status):
        return target
    department_obj, category_obj = target
    try:
        uploads.check_upload(file.name, file.size)
    except uploads.UploadRefused as exc:
        return _error(exc.status, exc.code, str(exc))
    try:
        submission = services.submit_file(
            principal,
            department=department_obj,
            category=category_obj,
            source=file,
            filename=file.name,
            channel=Submission.Channel.API,
            data_source=form.source,
        )
    except PermissionDenied:
        raise
    except ValidationError as exc:
        return _refused(exc)
    submission = Submission.objects.select_related("department", "category").get(pk=submission.pk)
    return _submitted(submission)


@router.get(
    "/submissions",
    response={200: SubmissionListOut, 401: ErrorOut, 403: ErrorOut},
    summary="报送批次列表",
    description="调用者范围内的报送批次,按接收时间倒序,可按状态、部门、类别筛选。",
)
def list_submissions(request, params: Query[SubmissionListParams]):
    principal: Principal = request.principal
    principal.require("records.view")
    rows = _visible(principal)
    if params.status:
        rows = rows.filter(status=params.status)
    if params.department:
        rows = rows.filter(department__code=params.department)
    if params.category:
        rows = rows.filter(category__code=params.category)
    total = rows.count()
    page = rows.order_by("-received_at", "-id")[params.offset : params.offset + params.limit]
    return {
        "count": total,
        "limit": params.limit,
        "offset": params.offset,
        "items": [_out(s) for s in page],
    }


@router.get(
    "/submissions/{int:submission_id}",
    response={200: SubmissionOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut},
    summary="报送批次的状态、进度和结果",
    url_name="submission",
)
def get_submission(request, submission_id: Id):
    submission = _find(request, submission_id)
    if submission is None:
        return _not_found()
    return Status(200, _out(submission))


@router.get(
    "/submissions/{int:submission_id}/errors",
    response={200: ErrorsOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut},
    summary="错误报告",
    description=(
        "被拒收行的错误和警告,按行号排序:行号(报送员在文件中看到的行号)、字段、原始值、规则、说明。"
        "JSON 分页返回(limit、offset);`format=xlsx` 返回完整的 Excel 错误报告。"
        "批次尚未处理完成时返回 409。"
    ),
    url_name="submission_errors",
)
def get_errors(request, submission_id: Id, params: Query[ErrorParams]):
    submission = _find(request, submission_id)
    if submission is None:
        return _not_found()
    if submission.status != Submission.Status.DONE:
        return _not_ready(submission)
    if params.format == "xlsx":
        return uploads.error_report_xlsx_response(submission)
    total, items = uploads.error_items(
        submission, severity=params.severity, offset=params.offset, limit=params.limit
    )
    return Status(
        200,
        {
            "submission": submission.pk,
            "count": total,
            "limit": params.limit,
            "offset": params.offset,
            "items": items,
            "total": submission.error_count + submission.warning_count,
            "stored": submission.errors_stored,
            "note": submission.errors_note,
            "totals": submission.error_totals or [],
        },
    )


@router.get(
    "/submissions/{int:submission_id}/errors.xlsx",
    response={401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut},
    summary="错误报告(Excel)",
    description="完整的错误报告 xlsx 文件:行号、字段编码、字段、原始值、规则、说明、级别。",
    url_name="submission_errors_xlsx",
    openapi_extra={
        "responses": {
            "200": {
                "description": "xlsx 文件",
                "content": {
                    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {
                        "schema": {"type": "string", "format": "binary"}
                    }
                },
            }
        }
    },
)
def get_errors_xlsx(request, submission_id: Id):
    submission = _find(request, submission_id)
    if submission is None:
        return _not_found()
    if submission.status != Submission.Status.DONE:
        return _not_ready(submission)
    return uploads.error_report_xlsx_response(submission)


@router.post(
    "/records",
    response={201: SubmissionOut, 401: ErrorOut, 403: ErrorOut, 413: ErrorOut, 422: ErrorOut},
    summary="推送一批数据(JSON)",
    description=(
        "部门系统以 JSON 推送一批数据,一次最多 10,000 行,在请求内处理完毕并返回结果(201)。"
        "超过 10,000 行返回 422(code=too_many_rows),请分批推送。被拒收的行见错误报告。"
    ),
    url_name="records",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": RecordsIn.model_json_schema()}},
        }
    },
)
def submit_records(request):
    # The body is read here rather than by django-ninja: a batch of 10,000 rows is larger than
    # Django's DATA_UPLOAD_MAX_MEMORY_SIZE, which guards form posts, not this endpoint.
    principal: Principal = request.principal
    principal.require("records.submit")
    limit = uploads.max_batch_bytes()
    too_large = _error(
        413,
        "body_too_large",
        _("请求体过大,一次推送不能超过 %(limit)s;请分批推送。")
        % {"limit": uploads.human_size(limit)},
    )
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > limit:
        return too_large
    raw = request.read(limit + 1)
    if len(raw) > limit:
        return too_large
    try:
        payload = json.loads(raw.decode("utf-8-sig") if raw else "null")
    except (UnicodeDecodeError, ValueError) as exc:
        return _error(422, "invalid_json", _("请求体不是有效的 UTF-8 JSON:%(e)s") % {"e": exc})
    if isinstance(payload, dict) and isinstance(payload.get("rows"), list):
        count = len(payload["rows"])
        if count > services.MAX_API_ROWS:
            return _error(
                422,
                "too_many_rows",
                _("一次最多推送 %(n)d 行,本次 %(m)d 行;请分批推送。")
                % {"n": services.MAX_API_ROWS, "m": count},
                [{"limit": services.MAX_API_ROWS, "rows": count}],
            )
    try:
        body = RecordsIn.model_validate(payload)
    except PydanticValidationError as exc:
        details = [
            {"loc": [str(p) for p in e.get("loc", ())], "message": e.get("msg", "")}
            for e in exc.errors()
        ]
        return _error(
            422,
            "invalid_request",
            _('请求体应为 {"department", "category", "rows": [{…}, …]}。'),
            details,
        )
    target = _target(principal, body.department, body.category)
    if isinstance(target, Status):
        return target
    department, category = target
    try:
        submission = services.submit_rows(
            principal,
            department=department,
            category=category,
            rows=body.rows,
            data_source=body.source,
        )
    except PermissionDenied:
        raise
    except ValidationError as exc:
        return _refused(exc)
    submission = Submission.objects.select_related("department", "category").get(pk=submission.pk)
    return _submitted(submission)
