"""Credit evaluation API (/api/v1/scoring/): the 分级分类监管 list of a department, for 双随机
systems. Thin: `scoring.supervision` decides the field, the scope and the figures.

GET /api/v1/scoring/supervision?department=CODE[&scorecard=CODE][&district=370303][&grade=D]
    [&after=<subject id>][&limit=100]
answers the summary per grade (count, ratio in percent, the number to inspect) and one page of
the subjects in subject id order; `next` is the `after` of the following page (null at the end).
Who may ask: docs/roles.md ("scoring.supervision"); a department or district outside the
caller's scope (or unknown) is 404; persons are never listed.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from django.http import Http404
from ninja import Query, Router, Schema
from pydantic import Field

from pubcredit.core.apitypes import Id
from pubcredit.scoring import supervision

router = Router(tags=["信用评价"])


class SupervisionGradeOut(Schema):
    grade: str
    name: str
    count: int
    ratio: float | None
    inspect: int | None


class SupervisionSubjectOut(Schema):
    subject_id: int
    uscc: str
    name: str
    kind: str
    region: str
    region_name: str
    grade: str
    score: float
    as_of: dt.date
    ratio: float | None


class SupervisionScorecardOut(Schema):
    code: str
    name: str
    sector: str


class SupervisionOut(Schema):
    department: str
    department_name: str
    scorecard: SupervisionScorecardOut | None
    district: str | None
    as_of: dt.date
    summary: list[SupervisionGradeOut]
    count: int
    inspect: int
    items: list[SupervisionSubjectOut]
    next: int | None


def _float(value):
    return None if value is None else float(value)


class SupervisionQuery(Schema):
    department: Annotated[str, Field(max_length=32)]
    scorecard: Annotated[str | None, Field(max_length=32)] = None
    district: Annotated[str | None, Field(max_length=12)] = None
    grade: Annotated[list[Annotated[str, Field(max_length=8)]], Field(max_length=10)] = []
    after: Id | None = None
    limit: Annotated[int, Field(ge=1, le=supervision.PAGE_MAX)] = 100


@router.get("/supervision", response=SupervisionOut, summary="分级分类监管名单")
def supervision_list(request, query: Query[SupervisionQuery]):
    """The subjects in the department's field (监管领域) with their grade, score, evaluation day
    and the inspection ratio of their grade, and per grade the number to inspect
    (ceil(count × ratio / 100)). `scorecard` defaults to the department's own (e.g. 家政服务
    for 商务), else 公共信用综合评价; `grade` (repeatable) narrows the subjects, not the
    summary."""
    try:
        selection = supervision.select(
            request.principal,
            query.department,
            scorecard=query.scorecard,
            district=query.district,
            grades=query.grade,
        )
    except supervision.OutOfScope:
        raise Http404 from None
    figures = supervision.summary(selection)
    rows = supervision.page(selection, after=query.after, limit=query.limit)
    card = selection.scorecard
    return {
        "department": selection.department.code,
        "department_name": selection.department.name,
        "scorecard": (
            {"code": card.code, "name": card.name, "sector": card.sector} if card else None
        ),
        "district": selection.district,
        "as_of": selection.day,
        "summary": [{**g, "ratio": _float(g["ratio"])} for g in figures["grades"]],
        "count": figures["count"],
        "inspect": figures["inspect"],
        "items": [
            {**r, "score": float(r["score"]), "ratio": _float(r["ratio"])} for r in rows["items"]
        ],
        "next": rows["next"],
    }
