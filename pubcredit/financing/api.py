"""信易贷 API (mounted at /api/v1/financing): the public product list; an enterprise account's
demands, authorisations (授权书) and the log of who viewed its profile; an institution's matched
demands, the credit profile under a live authorisation (every call logged) and outcomes; the
centre's statistics. Thin: parse, call financing.services, shape. Who acts for which
institution or enterprise is decided by the services (PermissionDenied → 403)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated

from django.core.exceptions import PermissionDenied
from ninja import Query, Router, Schema, Status
from pydantic import Field

from pubcredit.core.apitypes import ErrorOut, Id
from pubcredit.financing import services
from pubcredit.financing.models import DataScope, OutcomeKind

router = Router(tags=["信易贷"])

Amount = Annotated[Decimal, Field(gt=0, max_digits=12, decimal_places=2)]
Rate = Annotated[Decimal, Field(ge=0, max_digits=5, decimal_places=2)]
Months = Annotated[int, Field(ge=1, le=600)]
Sector = Annotated[str, Field(pattern="^[A-T]$", description="国民经济行业门类(A–T)")]

ERRORS = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut}


class FinancingProductOut(Schema):
    id: int
    institution: str
    name: str
    amount_min: Decimal = Field(description="万元")
    amount_max: Decimal
    rate_min: Decimal = Field(description="年利率 %")
    rate_max: Decimal
    term_months: int
    guarantee: str
    target_sectors: list[str] = Field(description="适用行业门类;空表示不限")
    min_grade: str = Field(description="最低信用等级;空表示不限")


def _product(p) -> dict:
    return {
        "id": p.pk,
        "institution": p.institution.name,
        "name": p.name,
        "amount_min": p.amount_min,
        "amount_max": p.amount_max,
        "rate_min": p.rate_min,
        "rate_max": p.rate_max,
        "term_months": p.term_months,
        "guarantee": p.get_guarantee_display(),
        "target_sectors": p.sectors,
        "min_grade": p.min_grade,
    }


@router.get(
    "/products",
    auth=None,
    response=list[FinancingProductOut],
    summary="信贷产品(公开)",
)
def products(request):
    return [_product(p) for p in services.public_products()[:500]]


class DemandIn(Schema):
    amount: Amount = Field(description="融资金额(万元)")
    term_months: Months
    purpose: str = Field(min_length=1, max_length=256)
    sector: Sector


class DemandOut(Schema):
    id: int
    subject_id: int
    enterprise: str
    amount: Decimal
    term_months: int
    purpose: str
    sector: str
    status: str
    posted_at: dt.datetime


def _demand(d) -> dict:
    return {
        "id": d.pk,
        "subject_id": d.subject_id,
        "enterprise": d.subject.name,
        "amount": d.amount,
        "term_months": d.term_months,
        "purpose": d.purpose,
        "sector": d.sector,
        "status": d.status,
        "posted_at": d.posted_at,
    }


@router.post(
    "/demands",
    response={201: DemandOut, **ERRORS},
    summary="发布融资需求(企业用户)",
)
def post_demand(request, payload: DemandIn):
    demand = services.post_demand(request.principal, **payload.dict())
    return Status(201, _demand(demand))


@router.get(
    "/demands",
    response={200: list[DemandOut], **ERRORS},
    summary="融资需求:金融机构看到与本机构产品匹配的需求,企业用户看到本企业的需求",
)
def demands(request):
    principal = request.principal
    if principal.can("financing.lend"):
        rows = services.matched_demands(principal)
    elif principal.can("financing.apply"):
        rows = services.own_demands(principal).select_related("subject")
    else:
        raise PermissionDenied
    return Status(200, [_demand(d) for d in rows[:500]])


class AuthorisationIn(Schema):
    scopes: list[DataScope] = Field(min_length=1, max_length=4)
    valid_until: dt.datetime
    institution_ids: list[Id] = Field(default=[], max_length=100, description="空表示全部金融机构")


class AuthorisationOut(Schema):
    id: int
    scopes: list[str]
    all_institutions: bool
    institutions: list[str]
    valid_until: dt.datetime
    granted_at: dt.datetime
    revoked_at: dt.datetime | None
    live: bool


def _authorisation(a) -> dict:
    from django.utils import timezone

    return {
        "id": a.pk,
        "scopes": a.scopes,
        "all_institutions": a.all_institutions,
        "institutions": [i.name for i in a.institutions.all()],
        "valid_until": a.valid_until,
        "granted_at": a.granted_at,
        "revoked_at": a.revoked_at,
        "live": a.revoked_at is None and a.valid_until > timezone.now(),
    }


@router.post(
    "/authorisations",
    response={201: AuthorisationOut, **ERRORS},
    summary="授予授权书(企业用户)",
)
def grant(request, payload: AuthorisationIn):
    auth = services.grant_authorisation(
        request.principal,
        scopes=[str(s) for s in payload.scopes],
        valid_until=payload.valid_until,
        institution_ids=payload.institution_ids,
    )
    return Status(201, _authorisation(auth))


@router.get(
    "/authorisations",
    response={200: list[AuthorisationOut], **ERRORS},
    summary="本企业的授权书(企业用户)",
)
def authorisations(request):
    rows = services.own_authorisations(request.principal).prefetch_related("institutions")
    return Status(200, [_authorisation(a) for a in rows[:500]])


@router.post(
    "/authorisations/{authorisation_id}/revoke",
    response={200: AuthorisationOut, **ERRORS},
    summary="撤销授权书(企业用户;立即生效)",
)
def revoke(request, authorisation_id: Id):
    return Status(
        200, _authorisation(services.revoke_authorisation(request.principal, authorisation_id))
    )


class ProfileQuery(Schema):
    demand_id: Id | None = None


@router.get(
    "/profiles/{subject_id}",
    response={200: dict, **ERRORS},
    summary="企业信用档案(金融机构;须有有效授权,每次查看均记录并向企业展示)",
)
def profile(request, subject_id: Id, query: Query[ProfileQuery]):
    return Status(
        200, services.view_profile(request.principal, subject_id, demand_id=query.demand_id)
    )


class OutcomeIn(Schema):
    kind: OutcomeKind = Field(description="accepted 受理 / granted 放款 / rejected 拒绝")
    product_id: Id | None = None
    amount: Amount | None = None
    rate: Rate | None = None
    granted_on: dt.date | None = None
    reason: str = Field(default="", max_length=256)


class OutcomeOut(Schema):
    id: int
    demand_id: int
    institution: str
    kind: str
    amount: Decimal | None
    rate: Decimal | None
    granted_on: dt.date | None
    reason: str
    recorded_at: dt.datetime


@router.post(
    "/demands/{demand_id}/outcomes",
    response={201: OutcomeOut, **ERRORS},
    summary="登记对接结果:受理、放款(金额、利率、日期)或拒绝(理由)(金融机构)",
)
def outcome(request, demand_id: Id, payload: OutcomeIn):
    data = payload.dict()
    data["kind"] = str(data["kind"])
    row = services.record_outcome(request.principal, demand_id, **data)
    return Status(
        201,
        {
            "id": row.pk,
            "demand_id": row.demand_id,
            "institution": row.institution.name,
            "kind": row.kind,
            "amount": row.amount,
            "rate": row.rate,
            "granted_on": row.granted_on,
            "reason": row.reason,
            "recorded_at": row.recorded_at,
        },
    )


class ProfileViewOut(Schema):
    institution: str
    viewer: str
    at: dt.datetime
    scopes: list[str]
    demand_id: int | None


@router.get(
    "/views",
    response={200: list[ProfileViewOut], **ERRORS},
    summary="谁查看了本企业的信用档案(企业用户)",
)
def views(request):
    return Status(
        200,
        [
            {
                "institution": v.institution.name,
                "viewer": v.viewer_label,
                "at": v.at,
                "scopes": v.scopes,
                "demand_id": v.demand_id,
            }
            for v in services.views_of(request.principal)[:500]
        ],
    )


@router.get(
    "/statistics",
    response={200: dict, **ERRORS},
    summary="信易贷统计:需求、匹配、放款、金额、平均利率,按机构、行业、区县(信用中心)",
)
def statistics(request):
    request.principal.require("financing.manage")
    return Status(200, services.statistics())
