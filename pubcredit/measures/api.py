"""Measures catalogue API (/api/v1/measures/): the matters (事项) and the reward and punishment
measures with their legal basis. Read-only and public: the 清单 is published policy, not
anybody's data. Small and bounded, returned whole."""

from __future__ import annotations

import datetime as dt

from django.utils.translation import gettext as _
from ninja import Router, Schema
from ninja.errors import HttpError

from pubcredit.measures.catalogue import matters_catalogue
from pubcredit.measures.models import Matter, Measure, MeasureKind

router = Router(tags=["联合奖惩措施"])


class MatterOut(Schema):
    code: str
    name: str


class MeasureOut(Schema):
    code: str
    name: str
    kind: str
    measure_class: int | None
    incentive_category: str
    content: str
    legal_basis: str
    note: str
    departments: list[str]
    list_types: list[str]
    record_conditions: list[dict]
    matters: list[str]
    subject_kinds: list[str]
    effective_from: dt.date | None
    effective_to: dt.date | None


@router.get("/matters", response=list[MatterOut], auth=None, summary="核查事项目录")
def list_matters(request):
    """Active matters in catalogue order (the same list as `pubcredit matters --json`)."""
    return matters_catalogue()


@router.get("", response=list[MeasureOut], auth=None, summary="奖惩措施清单")
def list_measures(request, kind: str | None = None, matter: str | None = None):
    """Active measures; filter by kind (reward / punishment) or by a matter code (measures with
    no matters apply to every matter and are included)."""
    qs = Measure.objects.filter(active=True).prefetch_related(
        "departments", "list_types", "matters"
    )
    if kind:
        if kind not in MeasureKind.values:
            raise HttpError(400, _("kind 应为 reward 或 punishment。"))
        qs = qs.filter(kind=kind)
    measures = list(qs.order_by("kind", "sort_order", "code"))
    if matter:
        if not Matter.objects.filter(code=matter, active=True).exists():
            raise HttpError(404, _("未知的核查事项编码:%s") % matter)
    out = []
    for m in measures:
        matters = [x.code for x in m.matters.all()]
        if matter and matters and matter not in matters:
            continue
        out.append(
            {
                "code": m.code,
                "name": m.name,
                "kind": m.kind,
                "measure_class": m.measure_class,
                "incentive_category": m.incentive_category,
                "content": m.content,
                "legal_basis": m.legal_basis,
                "note": m.note,
                "departments": [d.name for d in m.departments.all()],
                "list_types": [t.code for t in m.list_types.all()],
                "record_conditions": m.record_conditions,
                "matters": matters,
                "subject_kinds": m.subject_kinds,
                "effective_from": m.effective_from,
                "effective_to": m.effective_to,
            }
        )
    return out
