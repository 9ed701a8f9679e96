"""Procedures API (issue 19, part 5), mounted at /api/v1/repairs and /api/v1/objections:
another system (a 政务服务 hall system, a department's system) files a credit repair
application or an objection for an applicant, with its materials (multipart), follows its status
and deadlines, and downloads its letter once issued.

Thin: parse, check who may file (`procedures.check_filer`), call the services the portal calls
(`services.apply_for_repair`, `objections.file_objection`: same rules, deadlines in working days,
steps and audit events), serialise. The filer's own reference (`external_id`) makes a retried
filing return the procedure filed the first time (200 instead of 201) rather than a second one.

Who: filing needs "repair.file" (信用中心, 窗口; a 部门报送员 only objections to its own
department's records); reading needs "repair.view" (its scope) or "repair.file" (what it filed).
A natural person's name and identifier are masked in every answer and free text has 身份证号
redacted; the applicant's phone number is never echoed. Errors: the project shape from
pubcredit/api.py (a refused filing is a 422 naming the field, in Chinese).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from django.core.exceptions import ValidationError
from django.db.models import Prefetch
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import File, Form, Router, Schema, Status
from ninja.errors import HttpError
from ninja.files import UploadedFile
from pydantic import Field

from pubcredit.core.apitypes import ErrorOut, Id, Offset, SmallInt
from pubcredit.core.letters import stored_pdf_download
from pubcredit.records.models import Record
from pubcredit.repair import objections, procedures, services
from pubcredit.repair.models import (
    OPEN_OBJECTION,
    OPEN_REPAIR,
    Material,
    Objection,
    ObjectionTarget,
    ProcedureStatus,
    ProcedureStep,
    RepairApplication,
)
from pubcredit.scoring.models import ScoreResult
from pubcredit.subjects.masking import display_identifier, display_name, redact_id_numbers

repairs_router = Router(tags=["信用修复与异议"])
objections_router = Router(tags=["信用修复与异议"])

ERRORS = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut}
Files = File[list[UploadedFile]]


class ProcedureStepOut(Schema):
    action: str
    action_label: str
    from_status: str
    to_status: str
    day: dt.date
    stage_due_on: dt.date | None
    late: bool
    note: str


class ProcedureMaterialOut(Schema):
    kind: str
    kind_label: str
    name: str
    size: int
    sha256: str


class ProcedureLetterOut(Schema):
    number: str
    url: str


class ProcedureOut(Schema):
    id: int
    query_code: str
    external_id: str
    status: str
    status_label: str
    is_open: bool
    record_id: int
    department: str
    department_name: str
    subject_kind: str
    subject_name: str = Field(description="主体名称(自然人脱敏)")
    subject_identifier: str = Field(description="统一社会信用代码或脱敏的身份证号")
    applicant_name: str = Field(description="经办人(主体为自然人时脱敏)")
    filed_on: dt.date
    stage_started_on: dt.date
    due_on: dt.date | None = Field(description="本环节办理期限(工作日计算)")
    overdue: bool
    decided_on: dt.date | None
    result_reason: str
    materials: list[ProcedureMaterialOut]
    steps: list[ProcedureStepOut]
    letter: ProcedureLetterOut | None


class RepairOut(ProcedureOut):
    statement: str
    obligations_declared: bool
    commitment_code: str | None
    department_agrees: bool | None


class ObjectionOut(ProcedureOut):
    target: str
    target_label: str
    reason: str
    requested_correction: str
    repair_application_id: int | None
    score_result_id: int | None


class RepairListOut(Schema):
    count: int
    items: list[RepairOut]


class ObjectionListOut(Schema):
    count: int
    items: list[ObjectionOut]


# --------------------------------------------------------------------------- helpers


def _principal(request):
    return request.principal


def _require_reader(principal) -> None:
    if not (principal.can("repair.view") or principal.can("repair.file")):
        principal.require("repair.view")


def _text(value: str) -> str:
    return redact_id_numbers(value or "")


def _record(record_id: int) -> Record:
    record = Record.objects.select_related("department").filter(pk=record_id).first()
    if record is None:
        raise ValidationError({"record_id": [_("record_id 所指的信用记录不存在。")]})
    return record


def _procedure_out(proc, letter_file, letter_number: str, letter_url: str) -> dict:
    subject = proc.subject
    is_person = subject.is_person
    open_states = OPEN_REPAIR if isinstance(proc, RepairApplication) else OPEN_OBJECTION
    return {
        "id": proc.pk,
        "query_code": proc.query_code,
        "external_id": proc.external_id,
        "status": proc.status,
        "status_label": str(ProcedureStatus(proc.status).label),
        "is_open": proc.status in open_states,
        "record_id": proc.record_id,
        "department": proc.department.code,
        "department_name": proc.department.name,
        "subject_kind": subject.kind,
        "subject_name": display_name(subject),
        "subject_identifier": display_identifier(subject) or "",
        "applicant_name": display_name(_Named(proc.applicant_name, is_person)),
        "filed_on": timezone.localtime(proc.created_at).date(),
        "stage_started_on": proc.stage_started_on,
        "due_on": proc.due_on,
        "overdue": proc.is_overdue(timezone.localdate()),
        "decided_on": proc.decided_on,
        "result_reason": _text(proc.result_reason),
        "materials": [
            {
                "kind": m.kind,
                "kind_label": m.get_kind_display(),
                "name": m.name,
                "size": m.size,
                "sha256": m.sha256,
            }
            for m in proc.materials.all()
        ],
        "steps": [
            {
                "action": s.action,
                "action_label": s.get_action_display(),
                "from_status": s.from_status,
                "to_status": s.to_status,
                "day": s.day,
                "stage_due_on": s.stage_due_on,
                "late": s.late,
                "note": _text(s.note),
            }
            for s in proc.steps.all()
        ],
        "letter": {"number": letter_number, "url": letter_url} if letter_file else None,
    }


class _Named:
    """What `display_name` reads: a name and whether it is a person's."""

    def __init__(self, name: str, is_person: bool):
        self.name = name
        self.is_person = is_person


def _repair_out(app: RepairApplication) -> dict:
    return {
        **_procedure_out(
            app,
            app.decision_letter,
            app.decision_number,
            f"/api/v1/repairs/{app.pk}/letter",
        ),
        "statement": _text(app.statement),
        "obligations_declared": app.obligations_declared,
        "commitment_code": app.commitment.code if app.commitment_id else None,
        "department_agrees": app.department_agrees,
    }


def _objection_out(obj: Objection) -> dict:
    return {
        **_procedure_out(
            obj, obj.reply_letter, obj.reply_number, f"/api/v1/objections/{obj.pk}/letter"
        ),
        "target": obj.target,
        "target_label": str(ObjectionTarget(obj.target).label),
        "reason": _text(obj.reason),
        "requested_correction": _text(obj.requested_correction),
        "repair_application_id": obj.repair_application_id,
        "score_result_id": obj.score_result_id,
    }


def _followed(model, principal):
    """What `principal` follows, with what an answer shows loaded in bulk (a list page is a
    fixed number of queries, not two more per row)."""
    return (
        procedures.followed(model, principal)
        .select_related(
            "subject", "department", *(("commitment",) if model is RepairApplication else ())
        )
        .prefetch_related(
            "materials", Prefetch("steps", queryset=ProcedureStep.objects.order_by("at", "id"))
        )
    )


def _materials(groups: dict[str, list | None]) -> list[tuple[str, object]]:
    return [(kind, f) for kind, files in groups.items() for f in files or []]


def _filed(model, principal, record, external_id: str, file):
    """Call `file()` unless `principal` filed with `external_id` before: (status, procedure).
    A concurrent retry loses on the unique index and is answered with the first filing."""
    reference = procedures.checked_reference(external_id)
    earlier = procedures.filed_with_reference(model, principal, reference, record)
    if earlier is not None:
        return 200, earlier
    try:
        return 201, file()
    except ValidationError:
        earlier = procedures.filed_with_reference(model, principal, reference, record)
        if earlier is None:
            raise
        return 200, earlier


def _list(model, principal, status, external_id, limit, offset, out):
    _require_reader(principal)
    rows = _followed(model, principal).order_by("-created_at", "-id")
    if status:
        rows = rows.filter(status=status)
    if external_id:
        rows = rows.filter(external_id=external_id)
    return {"count": rows.count(), "items": [out(p) for p in rows[offset : offset + limit]]}


# --------------------------------------------------------------------------- repairs


@repairs_router.post(
    "", response={200: RepairOut, 201: RepairOut, **ERRORS}, summary="代申请人提交信用修复申请"
)
def file_repair(
    request,
    record_id: Form[Id],
    applicant_name: Form[str],
    applicant_phone: Form[str],
    statement: Form[str],
    obligations_declared: Form[bool] = False,
    accept_commitment: Form[bool] = False,
    external_id: Form[str] = "",
    material_proof: Files = None,
    material_form: Files = None,
    material_licence: Files = None,
    material_authorisation: Files = None,
    material_other: Files = None,
):
    """A repair application for the record `record_id` (multipart/form-data), under the same
    conditions as the portal's (a penalty shown today, the minimum period over, obligations
    declared with at least one proof in `material_proof`, the repair commitment accepted with
    `accept_commitment`). Materials: PDF, JPG/PNG, Word, OFD or ZIP, at most 20 MB each and 10
    in all. 201 with the application (its 查询码 and acceptance deadline); 200 with the earlier
    one when this key already filed with the same `external_id`."""
    principal = _principal(request)
    principal.require("repair.file")
    record = _record(record_id)
    procedures.check_filer(principal, record, objection=False)
    K = Material.Kind
    materials = _materials(
        {
            K.PROOF: material_proof,
            K.FORM: material_form,
            K.LICENCE: material_licence,
            K.AUTHORISATION: material_authorisation,
            K.OTHER: material_other,
        }
    )
    status, app = _filed(
        RepairApplication,
        principal,
        record,
        external_id,
        lambda: services.apply_for_repair(
            principal,
            record,
            applicant_name=applicant_name,
            applicant_phone=applicant_phone,
            statement=statement,
            obligations_declared=obligations_declared,
            materials=materials,
            accept_commitment=accept_commitment,
            external_id=external_id,
        ),
    )
    app = _followed(RepairApplication, principal).get(pk=app.pk)
    return Status(status, _repair_out(app))


@repairs_router.get("", response={200: RepairListOut, **ERRORS}, summary="信用修复申请列表")
def list_repairs(
    request,
    status: ProcedureStatus | None = None,
    external_id: Annotated[str, Field(max_length=64)] = "",
    limit: SmallInt = 50,
    offset: Offset = 0,
):
    """The applications this caller follows: those it filed and those in its "repair.view"
    scope (信用中心: all), newest first; `limit` at most 200."""
    return _list(
        RepairApplication,
        _principal(request),
        status,
        external_id,
        min(limit, 200),
        offset,
        _repair_out,
    )


@repairs_router.get(
    "/{int:repair_id}", response={200: RepairOut, **ERRORS}, summary="信用修复申请进度"
)
def get_repair(request, repair_id: Id):
    principal = _principal(request)
    _require_reader(principal)
    return _repair_out(get_object_or_404(_followed(RepairApplication, principal), pk=repair_id))


@repairs_router.get(
    "/{int:repair_id}/letter",
    response={200: None, **ERRORS},
    summary="下载信用修复决定书 PDF",
)
def repair_letter(request, repair_id: Id):
    principal = _principal(request)
    _require_reader(principal)
    app = get_object_or_404(_followed(RepairApplication, principal), pk=repair_id)
    if not app.decision_letter:
        raise HttpError(404, _("尚未出具信用修复决定书。"))
    return stored_pdf_download(
        app.decision_letter, f"{app.query_code}.pdf", missing=_("文书文件不存在。")
    )


# --------------------------------------------------------------------------- objections


@objections_router.post(
    "", response={200: ObjectionOut, 201: ObjectionOut, **ERRORS}, summary="代申请人提交异议申请"
)
def file_objection(
    request,
    record_id: Form[Id],
    target: Form[ObjectionTarget],
    reason: Form[str],
    applicant_name: Form[str],
    applicant_phone: Form[str],
    requested_correction: Form[str] = "",
    score_result_id: Form[Id | None] = None,
    external_id: Form[str] = "",
    material_proof: Files = None,
    material_other: Files = None,
):
    """An objection (异议) to the record `record_id` (multipart/form-data): its content or period
    (the record is shown today), the result of its repair, or a credit grade (`score_result_id`:
    the subject's current result). Same rules as the portal's; a 部门报送员's key files only
    objections to its own department's records. 201 with the objection; 200 with the earlier
    one when this key already filed with the same `external_id`."""
    principal = _principal(request)
    principal.require("repair.file")
    record = _record(record_id)
    procedures.check_filer(principal, record, objection=True)
    result = None
    if score_result_id is not None:
        result = ScoreResult.objects.filter(pk=score_result_id).first()
        if result is None:
            raise ValidationError(
                {"score_result_id": [_("score_result_id 所指的信用评价结果不存在。")]}
            )
    materials = _materials(
        {Material.Kind.PROOF: material_proof, Material.Kind.OTHER: material_other}
    )
    status, obj = _filed(
        Objection,
        principal,
        record,
        external_id,
        lambda: objections.file_objection(
            principal,
            record,
            target=target,
            reason=reason,
            requested_correction=requested_correction,
            applicant_name=applicant_name,
            applicant_phone=applicant_phone,
            materials=materials,
            score_result=result,
            external_id=external_id,
        ),
    )
    obj = _followed(Objection, principal).get(pk=obj.pk)
    return Status(status, _objection_out(obj))


@objections_router.get("", response={200: ObjectionListOut, **ERRORS}, summary="异议申请列表")
def list_objections(
    request,
    status: ProcedureStatus | None = None,
    external_id: Annotated[str, Field(max_length=64)] = "",
    limit: SmallInt = 50,
    offset: Offset = 0,
):
    """The objections this caller follows: those it filed and those in its "repair.view" scope
    (信用中心: all), newest first; `limit` at most 200."""
    return _list(
        Objection, _principal(request), status, external_id, min(limit, 200), offset, _objection_out
    )


@objections_router.get(
    "/{int:objection_id}", response={200: ObjectionOut, **ERRORS}, summary="异议申请进度"
)
def get_objection(request, objection_id: Id):
    principal = _principal(request)
    _require_reader(principal)
    return _objection_out(get_object_or_404(_followed(Objection, principal), pk=objection_id))


@objections_router.get(
    "/{int:objection_id}/letter",
    response={200: None, **ERRORS},
    summary="下载异议处理结果告知书 PDF",
)
def objection_letter(request, objection_id: Id):
    principal = _principal(request)
    _require_reader(principal)
    obj = get_object_or_404(_followed(Objection, principal), pk=objection_id)
    if not obj.reply_letter:
        raise HttpError(404, _("尚未出具异议处理结果告知书。"))
    return stored_pdf_download(
        obj.reply_letter, f"{obj.query_code}.pdf", missing=_("文书文件不存在。")
    )
