"""Grades decided by other authorities (纳税信用等级 by the tax bureau, 社会组织评估等级 by the
civil affairs bureau, …): shown as given, never recomputed.

They arrive through intake as records of catalogue categories that carry a field with the role
`credit_grade` (NSXYDJ, SHZZPG). `given_grades(subject_ids)` reads, per subject and category,
the latest active record in force on the day (not withdrawn or expired, 有效期至 not passed, no
granted repair): the grade exactly as the authority recorded it, with its date and record.
A scorecard may give points for such a grade (source type "given_grade"), but no scorecard
computes one.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

import polars as pl
from django.db import connection
from django.utils import timezone

from pubcredit.catalog.models import Category
from pubcredit.scoring.facts import grade_fields, latest_grades
from pubcredit.scoring.frames import SubjectFilter


@dataclass(frozen=True)
class GivenGrade:
    subject_id: int
    category: str  # catalogue category code, e.g. NSXYDJ
    category_name: str  # e.g. 纳税信用等级
    grade: str  # as given, e.g. "A", "5A"
    decided_on: dt.date | None
    valid_to: dt.date | None
    record_id: int


def given_grades(
    subject_ids: Iterable[int], *, today: dt.date | None = None
) -> dict[int, list[GivenGrade]]:
    """Subject id → the grades other authorities gave it that are in force on `today`
    (default: today in Asia/Shanghai), one per grade category, in catalogue order. One query
    per grade category."""
    ids = sorted({int(i) for i in subject_ids})
    out: dict[int, list[GivenGrade]] = {}
    if not ids:
        return out
    day = today or timezone.localdate()
    fields = grade_fields()
    if not fields:
        return out
    names = dict(Category.objects.filter(code__in=fields).values_list("code", "name"))
    order = list(
        Category.objects.filter(code__in=fields)
        .order_by("catalogue_class", "sort_order", "code")
        .values_list("code", flat=True)
    )
    with connection.cursor() as cursor, SubjectFilter(cursor, ids) as scope:
        for code in order:
            category_id, field = fields[code]
            frame = latest_grades(cursor, scope, day, category_id, field)
            for row in frame.select(
                "subject_id", "grade", "day", "valid_to", "id"
            ).iter_rows():  # one row per subject holding a grade: the answer itself
                subject_id, grade, decided, valid_to, record_id = row
                out.setdefault(subject_id, []).append(
                    GivenGrade(subject_id, code, names[code], grade, decided, valid_to, record_id)
                )
    return out


def given_grade_frame(category: str, *, today: dt.date | None = None) -> pl.DataFrame:
    """Every subject's grade of one grade category in force on `today`, as a frame
    (subject_id, grade, day, valid_to, id): for statistics and supervision lists."""
    fields = grade_fields()
    if category not in fields:
        raise ValueError(f"{category} is not a grade category")
    with connection.cursor() as cursor, SubjectFilter(cursor, None) as scope:
        return latest_grades(cursor, scope, today or timezone.localdate(), *fields[category])
