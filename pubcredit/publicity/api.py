"""A record's publicity over the API (/api/v1/records/{id}/…): its publicity window as the rules
derive it, and the department's own tier setting (认定严重程度), which overrides the tier rules.
Thin: the publicity services check role and scope (a department's clerk or key only for its own
department's records) and write the audit trail."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema

from pubcredit.accounts.permissions import restrict
from pubcredit.core.apitypes import Id
from pubcredit.publicity import services as publicity
from pubcredit.publicity.models import Tier
from pubcredit.records.models import Record

router = Router(tags=["信用记录"])


class PublicityOut(Schema):
    record: int
    state: str
    state_name: str
    tier: str
    tier_source: str
    start: dt.date | None
    repair_from: dt.date | None
    last_day: dt.date | None = Field(description="最后一个公示日;为空表示长期公示")


class TierIn(Schema):
    tier: str | None = Field(
        description="minor / general / serious;为空表示撤销部门认定,按规则认定"
    )
    reason: str = Field(min_length=1, max_length=512)


def _out(row) -> dict:
    return {
        "record": row.record_id,
        "state": row.state,
        "state_name": str(row.get_state_display()),
        "tier": row.tier,
        "tier_source": row.tier_source,
        "start": row.start,
        "repair_from": row.repair_from,
        "last_day": row.last_day,
    }


@router.get("/records/{record_id}/publicity", response=PublicityOut, summary="记录的公示状态")
def get_publicity(request, record_id: Id):
    request.principal.require("records.view")
    record = get_object_or_404(
        restrict(Record.objects.all(), request.principal, "records.view"), pk=record_id
    )
    row = publicity.publicity_of(record)
    if row is None:
        raise Http404(_("该记录尚未计算公示状态。"))
    return _out(row)


@router.post("/records/{record_id}/tier", response=PublicityOut, summary="认定行政处罚的严重程度")
def set_tier(request, record_id: Id, payload: TierIn):
    """The deciding department sets the tier of its penalty (轻微 / 一般 / 严重), or withdraws
    its setting with `tier: null`; the publicity window is recomputed at once."""
    if payload.tier is not None and payload.tier not in Tier.values:
        raise ValidationError({"tier": [_("严重程度只能是 minor、general 或 serious。")]})
    record = get_object_or_404(Record, pk=record_id)
    row = publicity.set_tier(request.principal, record, payload.tier, payload.reason)
    return _out(row)
