"""Fixtures shared by the lists and measures tests: the real catalogue, list types and measures,
subjects, and builders for entries and public penalty records."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest

from pubcredit.catalog.models import SubjectKind
from pubcredit.subjects.identifiers import uscc_check_char

_seq = itertools.count(1)


def make_uscc(n: int, prefix: str = "91") -> str:
    body = prefix + "370303" + f"{n:09d}"
    return body + uscc_check_char(body)


@pytest.fixture
def seeded(db, system):
    """Catalogue, list types and measures as shipped."""
    from pubcredit.catalog.services import import_catalogue
    from pubcredit.lists.services import import_list_types
    from pubcredit.measures import rules
    from pubcredit.measures.services import import_measures

    rules.invalidate_local()
    import_catalogue(system)
    import_list_types(system)
    import_measures(system)
    rules.invalidate_local()
    yield
    rules.invalidate_local()


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
