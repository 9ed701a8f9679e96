"""Fixtures shared by the lists and measures tests: the real catalogue, list types and measures,
subjects, and builders for entries and public penalty records."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest

from pubcredit.catalog.models import SubjectKind
from pubcredit.core.identifiers import uscc_check_char

_seq = itertools.count(1)


def make_uscc(n: int, prefix: str = "91") -> str:
    body = prefix + "370303" + f"{n:09d}"
    return body + uscc_check_char(body)


@pytest.fixture
def seeded(reference):
    """The shipped departments, categories, list types and measures (the session's reference
    data, pubcredit/testing/reference.py)."""
    return None


@pytest.fixture
def make_subject(db):
    from pubcredit.subjects.models import Subject

    def make(kind: str = SubjectKind.ORG, name: str | None = None):
        n = next(_seq)
        if kind == SubjectKind.PERSON:
            return Subject.objects.create(kind=kind, name=name or f"张{n}", name_norm=f"张{n}")
        prefix = "92" if kind == SubjectKind.INDIVIDUAL_BUSINESS else "91"
        name = name or f"淄博测试{n}有限公司"
        return Subject.objects.create(
            kind=kind, name=name, name_norm=name, uscc=make_uscc(n, prefix), region="370303"
        )

    return make


def list_type(code: str):
    from pubcredit.lists.models import ListType

    return ListType.objects.get(code=code)


def identify(system, subject, code: str, *, decided_on=dt.date(2025, 1, 10), **kwargs):
    from pubcredit.catalog.models import Department
    from pubcredit.lists.services import identify_entry

    lt = list_type(code)
    department = (
        kwargs.pop("department", None) or lt.authority or Department.objects.get(code="ZB-XYZX")
    )
    kwargs.setdefault("today", dt.date(2025, 6, 1))
    return identify_entry(
        system,
        list_type=lt,
        subject=subject,
        basis=kwargs.pop("basis", "依据测试文书认定"),
        decided_on=decided_on,
        department=department,
        **kwargs,
    )


def make_record(
    subject, category_code: str, *, data=None, department_code="ZB-SCJG", flow=True, **fields
):
    """A Record created through the ORM (as intake would leave it), with its submission, and
    (unless `flow` is false) the records-changed flow run on it (records.changes: publicity,
    list entry, commitment, flags) as the records services do after a write."""
    from django.utils import timezone

    from pubcredit.catalog.models import Category, Department
    from pubcredit.intake.models import Submission
    from pubcredit.records.changes import RecordsChanged, records_changed
    from pubcredit.records.models import Record

    n = next(_seq)
    category = Category.objects.get(code=category_code)
    department = Department.objects.get(code=department_code)
    submission = Submission.objects.create(
        department=department,
        category=category,
        channel="cli",
        filename=f"t{n}.csv",
        sha256=f"{n:064d}",
        status="done",
    )
    now = timezone.now()
    values = {
        "category": category,
        "department": department,
        "business_key": fields.pop("business_key", f"DOC-{n}"),
        "subject": subject,
        "subject_name": subject.name if subject else "未关联主体",
        "subject_kind": subject.kind if subject else "",
        "content_hash": f"{n:032d}",
        "data": data or {},
        "submission": submission,
        "source_row": 2,
        "received_at": now,
        "created_at": now,
        "updated_at": now,
    }
    values.update(fields)
    record = Record.objects.create(**values)
    if flow:
        records_changed(RecordsChanged.saved([record.pk]))
    return record


def make_public_penalty(
    subject, *, tier="serious", start=dt.date(2025, 1, 1), end=None, state="public", **data
):
    """A 行政处罚 record with its Publicity row (public from `start` until `end`, exclusive)."""
    from django.utils import timezone

    from pubcredit.publicity.models import Publicity

    wsh = data.pop("wsh", f"淄市监罚〔2025〕{next(_seq)}号")
    record = make_record(
        subject,
        "CF",
        data={"CF_WSH": wsh, "CF_WFXW": "销售过期食品", **data},
        business_key=f"{wsh}|{subject.uscc or ''}|",  # CF key: CF_WSH|CF_XDR_SHXYM|CF_XDR_ZJHM
        decision_date=start,
    )
    # The records flow computed its publicity from the rules; pin the window and state the
    # test wants (what refresh, sweep, repair or objection would have left).
    Publicity.objects.update_or_create(
        record=record,
        defaults={
            "subject": subject,
            "category": record.category,
            "department": record.department,
            "tier": tier,
            "start": start,
            "end": end,
            "state": state,
            "computed_at": timezone.now(),
        },
    )
    return record
