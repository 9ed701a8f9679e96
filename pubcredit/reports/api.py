"""Credit report API (mounted at /api/v1/reports): issue a report, read it back (JSON, PDF), and
batches of reports (a list of 统一社会信用代码 in, a zip of PDFs and index.xlsx out).

Thin: parse, call `reports.channels` / `reports.batch`, serialise. Auth: an API key or a logged-in
session whose role has "reports.issue" (平台管理员, 信用中心工作人员, 窗口核查员, 金融机构用户); a
natural person's report (`id_number`) also needs "subjects.view_person" and a `purpose` (the look
is logged). A report or batch is read back by whoever issued it and by the centre; anyone else
gets 404. Errors come in the project shape {"code", "message", "details"} (pubcredit/api.py):
an invalid or unknown 统一社会信用代码 is a 422 whose message says which.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from django.core.exceptions import ValidationError
from django.http import FileResponse
from django.utils.translation import gettext as _
from ninja import Router, Schema, Status
from pydantic import BaseModel, Field

from pubcredit.core.apitypes import ErrorOut, Id
from pubcredit.core.letters import stored_pdf_download
from pubcredit.core.ratelimit import client_ip
from pubcredit.reports import batch as report_batch
from pubcredit.reports import channels
from pubcredit.reports.models import ReportChannel

router = Router(tags=["信用报告"])

ERRORS = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut}
Kind = Literal["standard", "no_violation"]


class ReportIn(BaseModel):
    uscc: str | None = Field(None, max_length=64, description="统一社会信用代码(法人和非法人组织)")
    id_number: str | None = Field(
        None,
        max_length=64,
        description="身份证号(自然人;须有查看自然人信息的权限并填写 purpose,查看记录日志)",
    )
    kind: Kind = Field(
        "standard", description="standard 标准版 / no_violation 无违法违规记录证明版"
    )
    period_from: dt.date | None = Field(
        None, description="无违法违规记录证明版的查询期间起始日(默认截止日前 36 个月)"
    )
    period_to: dt.date | None = Field(None, description="查询期间截止日(默认今天)")
    fields: list[str] = Field(
        default_factory=list, max_length=100, description="证明领域编码(为空表示全部领域)"
    )
    purpose: str = Field("", max_length=256, description="用途或查询事由(自然人必填)")


class ReportOut(Schema):
    number: str = Field(description="报告编号")
    kind: str
    sha256: str = Field(description="PDF 文件的 SHA-256")
    verify_url: str = Field(description="核验地址(报告上印有同一地址和二维码)")
    valid_until: str = Field(description="有效期至")
    issued_at: str
    content: dict = Field(description="报告内容(与 PDF 相同):标题、主体、报告说明、各部分")


class ReportBatchIn(BaseModel):
    uscc: list[str] = Field(
        ..., min_length=1, max_length=report_batch.MAX_ROWS, description="统一社会信用代码列表"
    )
    kind: Kind = "standard"
    period_from: dt.date | None = None
    period_to: dt.date | None = None
    fields: list[str] = Field(default_factory=list, max_length=100)


class ReportBatchProblemOut(Schema):
    row: int = Field(description="行号(列表中的序号,从 1 起)")
    value: str
    message: str


class ReportBatchOut(Schema):
    id: int
    kind: str
    status: str
    status_label: str
    progress: int
    rows: int
    issued: int
    problems: list[ReportBatchProblemOut] = Field(description="未出具报告的行及原因")
    error_message: str
    zip_url: str | None = Field(description="完成后下载报告压缩包(各报告 PDF 和 index.xlsx)")


def _batch_out(request, batch) -> dict:
    url = None
    if batch.zip_file:
        url = request.build_absolute_uri(f"/api/v1/reports/batches/{batch.pk}/zip")
    return {
        "id": batch.pk,
        "kind": batch.kind,
        "status": batch.status,
        "status_label": str(batch.get_status_display()),
        "progress": batch.progress,
        "rows": batch.rows,
        "issued": batch.issued,
        "problems": [
            {"row": p["row"], "value": p["value"], "message": p["message"]} for p in batch.problems
        ],
        "error_message": batch.error_message,
        "zip_url": url,
    }


@router.post("", response={201: ReportOut, **ERRORS}, summary="出具信用报告")
def issue_report(request, body: ReportIn):
    """Issue a report now (channel 接口). Exactly one of `uscc` / `id_number`."""
    report = channels.issue_for(
        request.principal,
        channel=ReportChannel.API,
        uscc=body.uscc,
        id_number=body.id_number,
        kind=body.kind,
        period_from=body.period_from,
        period_to=body.period_to,
        fields=body.fields,
        purpose=body.purpose,
        client_address=client_ip(request),
    )
    return Status(201, channels.report_json(report))


@router.post("/batches", response={201: ReportBatchOut, **ERRORS}, summary="批量出具信用报告")
def submit_batch(request, body: ReportBatchIn):
    """At most 5,000 统一社会信用代码; invalid or repeated ones are reported by row in `problems`
    (not an error). Processed in the background: poll GET /batches/{id}, then download the zip."""
    batch = report_batch.submit_batch(
        request.principal,
        codes=body.uscc,
        kind=body.kind,
        period_from=body.period_from,
        period_to=body.period_to,
        fields=body.fields,
        client_address=client_ip(request),
    )
    return Status(201, _batch_out(request, batch))


@router.get(
    "/batches/{int:batch_id}", response={200: ReportBatchOut, **ERRORS}, summary="批量出具进度"
)
def get_batch(request, batch_id: Id):
    return Status(200, _batch_out(request, report_batch.get_batch(request.principal, batch_id)))


@router.get(
    "/batches/{int:batch_id}/zip",
    response={200: None, **ERRORS},
    summary="下载批量出具的报告压缩包",
)
def batch_zip(request, batch_id: Id):
    batch = report_batch.get_batch(request.principal, batch_id)
    if not batch.zip_file:
        raise ValidationError(_("批量出具尚未完成,压缩包还不能下载。"))
    return FileResponse(
        batch.zip_file.open("rb"),
        as_attachment=True,
        filename=report_batch.zip_filename(batch),
        content_type="application/zip",
    )


@router.get("/{number}", response={200: ReportOut, **ERRORS}, summary="已出具的信用报告(JSON)")
def get_report(request, number: str):
    return Status(200, channels.report_json(channels.get_report(request.principal, number)))


@router.get("/{number}/pdf", response={200: None, **ERRORS}, summary="下载已出具的信用报告 PDF")
def get_report_pdf(request, number: str):
    report = channels.get_report(request.principal, number)
    return stored_pdf_download(
        report.pdf, channels.pdf_filename(report), missing=_("报告文件不存在。")
    )
