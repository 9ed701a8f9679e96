"""Credit check API (mounted at /api/v1/checks): run a check, read it back, feed back which
measures were applied, batch checks, and a system's notification webhook.

Thin: parse, call `pubcredit.checks.services` / `check_batch` / `check_notices` / `check_feedback`,
serialise. An answer carries the subject's credit grade (`grade`, `sector_grades`: see
`checks.services` for whom a person's 个人信用积分 is shown).
Errors come in the project shape {"code", "message", "details"} from the handlers in
pubcredit/api.py (an invalid 统一社会信用代码 or an unknown matter is a 422 whose message is
the Chinese explanation). Auth: an API key (`Authorization: Bearer`) or a logged-in session; the
role needs "checks.run" (窗口核查员, 金融机构用户, 信用中心工作人员, 平台管理员).
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.http import FileResponse, HttpResponse
from django.utils.translation import gettext as _
from ninja import File, Form, Router, Schema, Status
from ninja.files import UploadedFile
from pydantic import BaseModel, Field

from pubcredit.checks import batch as check_batch
from pubcredit.checks import feedback as check_feedback
from pubcredit.checks import notices as check_notices
from pubcredit.checks import services as checks
from pubcredit.checks.answers import check_json
from pubcredit.checks.models import CheckChannel
from pubcredit.core.apitypes import ErrorOut, Id, Offset, SmallInt
from pubcredit.measures.catalogue import matters_catalogue

router = Router(tags=["信用核查"])


# A plain pydantic model, not a ninja Schema: nothing is read from ORM objects here, and
# Schema's root validator would cost on every check.
class CheckIn(BaseModel):
    uscc: str | None = Field(None, max_length=64, description="统一社会信用代码")
    id_number: str | None = Field(None, max_length=64, description="身份证号码")
    name: str | None = Field(
        None, max_length=200, description="名称(仅名称时只返回候选主体,见说明)"
    )
    matter: str = Field(..., max_length=64, description="核查事项编码(GET /api/v1/checks/matters)")
    client: str | None = Field(None, max_length=150, description="调用系统或窗口名称(可选)")


class CheckSubjectOut(Schema):
    id: int
    kind: str
    kind_label: str
    name: str
    uscc: str | None
    id_masked: str | None
    region: str
    region_name: str


class CheckCandidateOut(Schema):
    subject: CheckSubjectOut
    score: float
    reason: str


class HitOut(Schema):
    ref: str
    source: str
    kind: str
    kind_label: str
    code: str
    name: str
    authority: str
    decided_on: str | None
    valid_from: str | None
    valid_to: str | None
    document_number: str
    tier: str
    tier_label: str
    title: str


class CheckMeasureOut(Schema):
    code: str
    name: str
    kind: str
    measure_class: int | None
    class_label: str
    incentive_category: str
    incentive_category_label: str
    content: str
    legal_basis: str
    departments: list[str]
    triggered_by: list[str]


class CheckCommitmentOut(Schema):
    code: str = Field(description="承诺编码")
    commitment_type: str = Field(description="承诺类型")
    reason: str = Field(description="承诺事由")
    made_on: str = Field(description="承诺作出日期")
    valid_to: str | None = Field(description="承诺有效期至(为空表示长期)")
    department: str = Field(description="承诺受理单位")
    performance: str = Field(description="承诺履行状态(待认定 / 全部履行)")


class CheckGradeOut(Schema):
    scorecard: str = Field(description="信用评价编码,例如 SCORE_PUBLIC")
    scorecard_name: str = Field(description="信用评价名称,例如 公共信用综合评价")
    sector: str = Field(description="行业编码(综合评价为空)")
    sector_name: str = Field(description="行业名称")
    public: bool = Field(description="评价结果是否向社会公开(个人信用积分从不公开)")
    version: int = Field(description="评价版本号")
    score: float = Field(description="得分")
    grade: str = Field(description="等级")
    points_grade: str = Field(description="按得分确定的等级(直接降级之前)")
    as_of: str = Field(description="评价基准日")
    computed_at: str = Field(description="计算时间")


class CheckMatterOut(Schema):
    code: str
    name: str


class CheckOut(Schema):
    id: int
    number: str
    checked_at: str
    checked_on: str
    channel: str
    client: str
    checked_by: str
    matter: CheckMatterOut
    query: dict[str, str]
    match: str = Field(description="uscc / id_number / name_exact / candidates / not_found")
    subject: CheckSubjectOut | None
    candidates: list[CheckCandidateOut]
    hits: list[HitOut]
    punishments: list[CheckMeasureOut]
    rewards: list[CheckMeasureOut]
    withheld_rewards: list[CheckMeasureOut]
    commitments: list[CheckCommitmentOut] = Field(description="核查日在有效期内、未违诺的信用承诺")
    grade: CheckGradeOut | None = Field(
        None,
        description=(
            "主体当前的综合信用评价(组织和个体工商户为公共信用综合评价);未评价或未确定主体时为"
            "空。自然人的个人信用积分不公开,仅向有权查看自然人信息的工作人员显示并记录查看日志,"
            "其他调用方为空"
        ),
    )
    sector_grades: list[CheckGradeOut] = Field(
        default_factory=list, description="主体当前的行业信用评价(家政服务、建筑市场等)"
    )
    outcome: str
    outcome_label: str
    conclusion: str
    rules_version: int


class FeedbackItemIn(Schema):
    measure: str = Field(..., max_length=64, description="措施编码")
    applied: bool
    note: str = Field("", max_length=512)


class FeedbackIn(Schema):
    items: list[FeedbackItemIn] = Field(..., max_length=100)


class FeedbackItemOut(Schema):
    measure: str
    kind: str
    applied: bool
    note: str
    by: str
    at: str


class FeedbackOut(Schema):
    check: int
    feedback: list[FeedbackItemOut]


class WebhookIn(Schema):
    url: str = Field(..., max_length=500, description="接收通知的 http(s) 地址")


class WebhookOut(Schema):
    url: str
    active: bool
    secret: str = Field(description="签名密钥:X-Pubcredit-Signature = sha256=HMAC(密钥, 请求体)")


class BatchOut(Schema):
    id: int
    filename: str
    status: str
    status_label: str
    progress: int
    rows: int
    counts: dict
    error_message: str
    result_url: str | None


class NotificationOut(Schema):
    id: int
    subject: CheckSubjectOut
    message: str
    list_name: str
    decided_on: str
    created_at: str
    read: bool


ERRORS = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut}


def _client(request, given: str | None) -> str:
    if given:
        return given
    principal = request.principal
    if principal.api_key is not None:
        return principal.api_key.name
    user = principal.user
    return getattr(user, "organisation", "") or ""


def run_check(request, body: CheckIn):
    """Check a subject for a matter. Exactly one of `uscc`, `id_number`, `name`. A name alone
    identifies a subject only when it is the current name of exactly one organisation or
    个体工商户; otherwise candidates with scores are returned and nothing is asserted about them."""
    # Serialised once, by checks.run_check, for its log row and this answer alike: it is built
    # in exactly CheckOut's shape (the tests hold it to the schema), and validating it again
    # per request would cost as much as the check.
    return json_response(checked(request, body).body)


# The check's operation, as every API serving it declares it: this router's, and the check
# server's (`pubcredit.urls_checks`, a slim deployment serving only this operation).
RUN_CHECK = {
    "path": "",
    "methods": ["POST"],
    "view_func": run_check,
    "response": {200: CheckOut, **ERRORS},
    "summary": "信用核查",
    "url_name": "run_check",
}
router.add_api_operation(**RUN_CHECK)


def run_check_router() -> Router:
    """A router with the check's operation only (the same view, schema and errors as this
    module's router), for the check server's API."""
    only = Router(tags=["信用核查"])
    only.add_api_operation(**RUN_CHECK)
    return only


def checked(request, body: CheckIn) -> checks.CheckResult:
    """The check `body` asks for, by `request.principal`."""
    return checks.run_check(
        request.principal,
        uscc=body.uscc,
        id_number=body.id_number,
        name=body.name,
        matter=body.matter,
        channel=CheckChannel.API,
        client=_client(request, body.client),
    )


def json_response(body: bytes) -> HttpResponse:
    return HttpResponse(body, content_type="application/json; charset=utf-8")


@router.get("/matters", response={200: list[CheckMatterOut], **ERRORS}, summary="核查事项目录")
def matters(request):
    request.principal.require(checks.ACTION)
    return Status(200, matters_catalogue())


@router.get("/{int:check_id}", response={200: CheckOut, **ERRORS}, summary="核查记录")
def get_check(request, check_id: Id):
    check = checks.check_or_404(request.principal, check_id)
    return Status(200, check_json(check))


@router.post(
    "/{int:check_id}/feedback",
    response={200: FeedbackOut, **ERRORS},
    summary="反馈措施实施情况",
)
def feedback(request, check_id: Id, body: FeedbackIn):
    check = checks.check_or_404(request.principal, check_id)
    rows = check_feedback.record_feedback(
        request.principal,
        check,
        [check_feedback.FeedbackItem(i.measure, i.applied, i.note) for i in body.items],
    )
    return Status(200, {"check": check.pk, "feedback": check_feedback.feedback_json(rows)})


# --------------------------------------------------------------------------- batches


def _batch_out(request, batch) -> dict:
    url = None
    if batch.result_file:
        url = request.build_absolute_uri(f"/api/v1/checks/batches/{batch.pk}/result")
    return {
        "id": batch.pk,
        "filename": batch.filename,
        "status": batch.status,
        "status_label": str(batch.get_status_display()),
        "progress": batch.progress,
        "rows": batch.rows,
        "counts": batch.counts or {},
        "error_message": batch.error_message,
        "result_url": url,
    }


@router.post("/batches", response={200: BatchOut, **ERRORS}, summary="批量核查:上传文件")
def submit_batch(request, file: File[UploadedFile], matter: Form[str] = ""):
    """A .xlsx/.xls/.csv file of at most 100,000 rows with a code column (统一社会信用代码 or
    身份证号) or a name column, and a 事项 column or the `matter` form field. Processed in the
    background; poll GET /batches/{id} and download the results file."""
    batch = check_batch.submit_batch(
        request.principal, file, filename=file.name or "upload", matter=matter or None
    )
    return Status(200, _batch_out(request, batch))


@router.get("/batches/{int:batch_id}", response={200: BatchOut, **ERRORS}, summary="批量核查进度")
def get_batch(request, batch_id: Id):
    batch = check_batch.get_batch(request.principal, batch_id)
    return Status(200, _batch_out(request, batch))


@router.get(
    "/batches/{int:batch_id}/result",
    response={200: None, **ERRORS},
    summary="下载批量核查结果文件",
)
def batch_result(request, batch_id: Id):
    batch = check_batch.get_batch(request.principal, batch_id)
    if not batch.result_file:
        raise ValidationError(_("批量核查尚未完成,结果文件还不能下载。"))
    return FileResponse(
        batch.result_file.open("rb"),
        as_attachment=True,
        filename=check_batch.result_filename(batch),
    )


# --------------------------------------------------------------------------- notifications


@router.get(
    "/notifications",
    response={200: list[NotificationOut], **ERRORS},
    summary="核查过的主体新列入严重失信主体名单的通知",
)
def notifications(request, unread: bool = False, limit: SmallInt = 50, offset: Offset = 0):
    limit = max(1, min(limit, 200))
    offset = max(0, min(offset, 1_000_000))
    rows = check_notices.notifications_for(request.principal, unread_only=unread)
    return Status(200, [check_notices.notification_json(n) for n in rows[offset : offset + limit]])


@router.get("/webhook", response={200: WebhookOut, **ERRORS}, summary="查看本系统的通知地址")
def get_webhook(request):
    hook = check_notices.webhook_of(request.principal)
    return Status(200, {"url": hook.url, "active": hook.active, "secret": hook.secret})


@router.put("/webhook", response={200: WebhookOut, **ERRORS}, summary="登记本系统的通知地址")
def put_webhook(request, body: WebhookIn):
    """登记或更换通知地址。地址的主机名解析出的每个地址都须是公网地址:本机回环、内网、链路本地、
    组播、保留和未指定地址一律拒绝(政务内网部署可由管理员设置 PUBCREDIT_WEBHOOK_ALLOW_PRIVATE
    允许内网地址);每次推送时再次检查,不跟随重定向。"""
    hook = check_notices.register_webhook(request.principal, body.url)
    return Status(200, {"url": hook.url, "active": hook.active, "secret": hook.secret})
