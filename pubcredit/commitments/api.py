"""Commitments API (to be mounted at /api/v1/commitments): the scoped register, one commitment
with its history, and the fulfilment assessment. Thin: parse, call the services, shape.

Rows are restricted with `restrict(…, "repair.view")` (a department's clerk or key sees the
commitments its department accepted, a district its subjects'); natural persons' names are
masked and only their masked 身份证号 exists. The signer's name and telephone are never in
the API. Errors have the platform's shape {"code", "message", "details"} (pubcredit/api.py).
"""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema
from ninja.errors import HttpError
from pydantic import Field

from pubcredit.commitments import assessment, queries
from pubcredit.commitments.models import (
    BREACHES,
    Commitment,
    CommitmentSource,
    CommitmentType,
    Performance,
    PublicityType,
)
from pubcredit.core.apitypes import ErrorOut, Id, Offset
from pubcredit.subjects.masking import public_name

router = Router(tags=["信用承诺"])


class CommitmentDepartmentOut(Schema):
    code: str
    name: str


class CommitmentOut(Schema):
    code: str = Field(description="承诺编码(20 位)")
    subject_id: int
    committer_name: str = Field(description="承诺人名称(自然人脱敏)")
    committer_kind: str = Field(description="org / ind / person")
    committer_code: str = Field(description="统一社会信用代码;自然人为脱敏的身份证号")
    commitment_type: str
    reason: str
    made_on: dt.date
    valid_to: dt.date | None
    performance: str = Field(description="待认定 / 全部履行 / 部分履行 / 全部未履行")
    assessed_on: dt.date | None
    assessor: CommitmentDepartmentOut | None
    department: CommitmentDepartmentOut
    publicity_type: str
    source: str = Field(description="online 网上签署 / intake 部门归集 / window 窗口受理")
    matter: str | None = Field(description="审批替代型:所替代的审批事项编码")
    repaired_record_id: int | None = Field(description="信用修复型:申请修复的记录")
    record_id: int | None = Field(description="部门归集:来源记录")
    withdrawn: bool
    in_force: bool = Field(description="今日是否在有效期内且未违诺")


class CommitmentEventOut(Schema):
    at: dt.datetime
    actor: str
    action: str
    from_performance: str
    to_performance: str
    reason: str
    details: dict


class CommitmentDetailOut(CommitmentOut):
    content: str
    liability: str
    unfulfilled_content: str
    liability_enforced: str
    remark: str
    has_letter: bool
    allowed_transitions: list[str] = Field(description="调用者现在可以认定的履行状态")
    events: list[CommitmentEventOut]


class CommitmentPage(Schema):
    count: int
    limit: int
    offset: int
    items: list[CommitmentOut]


class ListQuery(Schema):
    subject_id: Id | None = None
    commitment_type: str | None = Field(None, description="承诺类型")
    performance: str | None = Field(
        None, description="待认定 / 全部履行 / 部分履行 / 全部未履行,或 breach(违诺)"
    )
    department: str | None = Field(None, max_length=32, description="承诺受理单位编码")
    source: str | None = Field(None, description="online / intake / window")
    publicity_type: str | None = None
    made_from: dt.date | None = Field(None, description="承诺作出日期不早于")
    made_to: dt.date | None = Field(None, description="承诺作出日期不晚于")
    in_force_on: dt.date | None = Field(None, description="在该日有效且未违诺")
    limit: int = Field(50, ge=1, le=500)
    offset: Offset = 0


class AssessmentIn(Schema):
    performance: str = Field(..., description="全部履行 / 部分履行 / 全部未履行")
    unfulfilled_content: str = Field("", max_length=4000)
    liability_enforced: str = Field("", max_length=4000)
    reason: str = Field(..., max_length=512, description="认定说明")


ERRORS = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut}


def _department(d) -> dict | None:
    return {"code": d.code, "name": d.name} if d is not None else None


def _out(c: Commitment, today: dt.date) -> dict:
    return {
        "code": c.code,
        "subject_id": c.subject_id,
        "committer_name": public_name(c.committer_name, c.committer_kind),
        "committer_kind": c.committer_kind,
        "committer_code": c.committer_code,
        "commitment_type": c.commitment_type,
        "reason": c.reason,
        "made_on": c.made_on,
        "valid_to": c.valid_to,
        "performance": c.performance,
        "assessed_on": c.assessed_on,
        "assessor": _department(c.assessor),
        "department": _department(c.department),
        "publicity_type": c.publicity_type,
        "source": c.source,
        "matter": c.matter.code if c.matter_id else None,
        "repaired_record_id": c.repaired_record_id,
        "record_id": c.record_id,
        "withdrawn": c.withdrawn_at is not None,
        "in_force": c.in_force_on(today),
    }


def _detail(request, c: Commitment) -> dict:
    principal = request.principal
    allowed = assessment.allowed_transitions(c) if assessment.can_assess(principal, c) else ()
    return {
        **_out(c, timezone.localdate()),
        "content": c.content,
        "liability": c.liability,
        "unfulfilled_content": c.unfulfilled_content,
        "liability_enforced": c.liability_enforced,
        "remark": c.remark,
        "has_letter": bool(c.letter),
        "allowed_transitions": list(allowed),
        "events": [
            {
                "at": e.at,
                "actor": e.actor,
                "action": e.action,
                "from_performance": e.from_performance,
                "to_performance": e.to_performance,
                "reason": e.reason,
                "details": e.details or {},
            }
            for e in c.events.order_by("at", "id")
        ],
    }


def _visible(request):
    return queries.visible_commitments(request.principal).select_related(
        "department", "assessor", "matter"
    )


def _one(request, code: str) -> Commitment:
    request.principal.require(queries.VIEW_ACTION)
    found = _visible(request).filter(code=code).first()
    if found is None:
        raise HttpError(404, _("信用承诺 %(code)s 不存在或无权查看。") % {"code": code})
    return found


def _invalid(field: str, value: str, allowed) -> ValidationError:
    return ValidationError(
        {
            field: [
                _("%(field)s 无效:%(value)s(可选:%(allowed)s)")
                % {"field": field, "value": value, "allowed": "、".join(allowed)}
            ]
        }
    )


@router.get("", response={200: CommitmentPage, **ERRORS}, summary="信用承诺列表")
def list_commitments(request, query: Query[ListQuery]):
    """调用者范围内的信用承诺,承诺作出日期最新在前;可按主体、类型、履行状态、受理单位、来源、
    公开类型、作出日期和“某日有效”筛选。"""
    request.principal.require(queries.VIEW_ACTION)
    qs = _visible(request)
    if query.subject_id is not None:
        qs = qs.filter(subject_id=query.subject_id)
    if query.commitment_type:
        if query.commitment_type not in CommitmentType.values:
            raise _invalid("commitment_type", query.commitment_type, CommitmentType.values)
        qs = qs.filter(commitment_type=query.commitment_type)
    if query.performance:
        if query.performance == "breach":
            qs = qs.filter(performance__in=BREACHES)
        elif query.performance in Performance.values:
            qs = qs.filter(performance=query.performance)
        else:
            raise _invalid("performance", query.performance, [*Performance.values, "breach"])
    if query.department:
        qs = qs.filter(department__code=query.department)
    if query.source:
        if query.source not in CommitmentSource.values:
            raise _invalid("source", query.source, CommitmentSource.values)
        qs = qs.filter(source=query.source)
    if query.publicity_type:
        if query.publicity_type not in PublicityType.values:
            raise _invalid("publicity_type", query.publicity_type, PublicityType.values)
        qs = qs.filter(publicity_type=query.publicity_type)
    if query.made_from:
        qs = qs.filter(made_on__gte=query.made_from)
    if query.made_to:
        qs = qs.filter(made_on__lte=query.made_to)
    if query.in_force_on:
        qs = qs.filter(queries.in_force_q(query.in_force_on))
    qs = qs.order_by("-made_on", "-id")
    today = timezone.localdate()
    rows = qs[query.offset : query.offset + query.limit]
    return {
        "count": qs.count(),
        "limit": query.limit,
        "offset": query.offset,
        "items": [_out(c, today) for c in rows],
    }


@router.get("/{code}", response={200: CommitmentDetailOut, **ERRORS}, summary="信用承诺详情")
def get_commitment(request, code: str):
    """一条信用承诺及其办理记录(签署、归集、履行状态认定和违诺后果)。"""
    return _detail(request, _one(request, code))


@router.post(
    "/{code}/assessment",
    response={200: CommitmentDetailOut, **ERRORS},
    summary="认定信用承诺履行状态",
)
def assess(request, code: str, payload: AssessmentIn):
    """承诺受理单位认定履行状态(部门报送员限本部门受理的承诺)。待认定可认定为任一状态;
    全部履行可改为部分履行或全部未履行;违诺认定不再变更。违诺的主体列入违背信用承诺重点关注
    对象名单,信用修复型承诺违诺的,原失信信息恢复公示。"""
    principal = request.principal
    principal.require(assessment.ASSESS_ACTION)
    commitment = _one(request, code)
    assessment.assess_commitment(
        principal,
        commitment,
        payload.performance,
        unfulfilled_content=payload.unfulfilled_content,
        liability_enforced=payload.liability_enforced,
        reason=payload.reason,
    )
    return _detail(request, _one(request, code))
