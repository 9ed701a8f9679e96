"""Subject register API (mounted at /api/v1/subjects): search, one subject, identifier check.

Natural persons are shown masked (证件号码 first 6 + last 4, name 张*) unless the caller's role
has "subjects.view_person" AND the request gives a `purpose` (查询事由); then the clear values are
returned and every person shown is written to the access log.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema, Status
from pydantic import Field

from pubcredit.accounts.permissions import restrict
from pubcredit.core.apitypes import ErrorOut, Id
from pubcredit.core.identifiers import check_identifier, region_label
from pubcredit.subjects import crypto
from pubcredit.subjects.access import log_person_access
from pubcredit.subjects.models import Subject
from pubcredit.subjects.names import mask_person_name
from pubcredit.subjects.services import find_subject

router = Router(tags=["主体库"])

MAX_IDCHECK_VALUES = 1000


class FormerNameOut(Schema):
    name: str
    used_until: str | None


class SubjectOut(Schema):
    id: int
    kind: str
    kind_label: str
    name: str
    uscc: str | None
    org_category: str
    region: str
    region_label: str
    id_type: str
    id_masked: str
    id_number: str | None = Field(
        None, description="仅当角色可查看自然人信息且填写了 purpose 时返回"
    )
    legal_representative: str
    established_on: str | None
    former_names: list[FormerNameOut] = []


class CandidateOut(Schema):
    subject: SubjectOut
    score: float
    reason: str


class SearchOut(Schema):
    subject: SubjectOut | None
    candidates: list[CandidateOut]


class IdCheckIn(Schema):
    values: list[str]


class IdCheckOut(Schema):
    value: str
    kind: str | None
    valid: bool
    normalized: str | None
    errors: list[str]
    warnings: list[str]


def _error(status: int, code: str, message: str, details=None) -> Status:
    return Status(status, {"code": code, "message": message, "details": details or []})


def _client_address(request) -> str | None:
    return request.META.get("REMOTE_ADDR") or None


def _reveal_persons(request, purpose: str | None) -> bool:
    return bool(purpose and purpose.strip()) and request.principal.can("subjects.view_person")


def _subject_out(request, subject: Subject, *, reveal: bool, purpose: str | None, what: str):
    """Serialise a subject; a person is masked unless `reveal`, in which case the look is
    logged with its purpose."""
    name = subject.name
    id_number = None
    if subject.is_person:
        if reveal:
            log_person_access(
                request.principal,
                subject,
                purpose=purpose or "",
                what=what,
                client_address=_client_address(request),
            )
            if subject.id_cipher:
                id_number = crypto.decrypt_id(subject.id_cipher)
        else:
            name = mask_person_name(name)
    formers = []
    if not subject.is_person or reveal:
        formers = [
            FormerNameOut(
                name=f.name, used_until=f.used_until.isoformat() if f.used_until else None
            )
            for f in subject.former_names.all().order_by("-used_until", "-id")
        ]
    return SubjectOut(
        id=subject.pk,
        kind=subject.kind,
        kind_label=str(subject.get_kind_display()),
        name=name,
        uscc=subject.uscc,
        org_category=subject.org_category,
        region=subject.region,
        region_label=region_label(subject.region) if subject.region else "",
        id_type=subject.id_type,
        id_masked=subject.id_masked,
        id_number=id_number,
        legal_representative=subject.legal_representative if not subject.is_person else "",
        established_on=subject.established_on.isoformat() if subject.established_on else None,
        former_names=formers,
    )


class SearchParams(Schema):
    uscc: str | None = None
    id_number: str | None = None
    name: str | None = None
    kind: str | None = Field(None, description="org / ind / person;可用逗号分隔多个")
    limit: int = Field(10, ge=1, le=50)
    purpose: str | None = Field(None, description="查询事由;查看自然人完整信息时必填")


@router.get(
    "/search",
    response={200: SearchOut, 400: ErrorOut, 403: ErrorOut},
    summary="按统一社会信用代码、证件号码或名称查找主体",
)
def search(request, params: Query[SearchParams]):
    principal = request.principal
    principal.require("subjects.view")
    if not (params.uscc or params.id_number or params.name):
        return _error(400, "missing_query", _("请至少提供统一社会信用代码、证件号码或名称之一。"))
    kinds = [k.strip() for k in params.kind.split(",") if k.strip()] if params.kind else None
    match = find_subject(
        uscc=params.uscc,
        id_number=params.id_number,
        name=params.name,
        kinds=kinds,
        limit=params.limit,
        queryset=restrict(Subject.objects.all(), principal, "subjects.view"),
    )
    reveal = _reveal_persons(request, params.purpose)
    try:
        cache = {}

        def out(subject):
            if subject.pk not in cache:
                cache[subject.pk] = _subject_out(
                    request, subject, reveal=reveal, purpose=params.purpose, what="主体查询"
                )
            return cache[subject.pk]

        return Status(
            200,
            SearchOut(
                subject=out(match.subject) if match.subject else None,
                candidates=[
                    CandidateOut(subject=out(c.subject), score=c.score, reason=c.reason)
                    for c in match.candidates
                ],
            ),
        )
    except ValidationError as exc:
        return _error(400, "invalid", "".join(exc.messages))


@router.get(
    "/{int:subject_id}",
    response={200: SubjectOut, 403: ErrorOut, 404: ErrorOut},
    summary="主体详情",
)
def get_subject(request, subject_id: Id, purpose: str | None = None):
    principal = request.principal
    principal.require("subjects.view")
    subject = (
        restrict(Subject.objects.all(), principal, "subjects.view").filter(pk=subject_id).first()
    )
    if subject is None:
        return _error(404, "not_found", _("主体不存在或无权查看。"))
    return Status(
        200,
        _subject_out(
            request,
            subject,
            reveal=_reveal_persons(request, purpose),
            purpose=purpose,
            what="主体详情",
        ),
    )


@router.post(
    "/idcheck",
    auth=None,
    response={200: list[IdCheckOut], 400: ErrorOut},
    summary="校验统一社会信用代码或身份证号码(批量)",
)
def idcheck(request, body: IdCheckIn):
    if len(body.values) > MAX_IDCHECK_VALUES:
        return _error(
            400,
            "too_many_values",
            _("一次最多校验 %(n)d 个号码。") % {"n": MAX_IDCHECK_VALUES},
        )
    return Status(200, [check_identifier(v).as_dict() for v in body.values])
