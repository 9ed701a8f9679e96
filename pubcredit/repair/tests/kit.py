"""Fixtures for the repair and objection tests: the catalogue, list types and measures (lists
kit), the repair rules, the 2025–2027 holiday table, staff with the roles that act in the
procedures, and penalty records whose publicity window the test chooses."""

from __future__ import annotations

import datetime as dt

import pytest

from pubcredit.testing.factories import PASSWORD
from pubcredit.testing.listkit import make_public_penalty

D = dt.date(2026, 6, 1)  # a Monday: the day most tests act on


@pytest.fixture
def world(db, system):
    """The full catalogue (penalties are told apart by their fields), the publicity rules, list
    types and measures, the 2025–2027 holiday table and the repair rules."""
    from pubcredit.catalog.services import import_catalogue
    from pubcredit.holidays import services as holidays
    from pubcredit.lists.services import import_list_types
    from pubcredit.measures import rules
    from pubcredit.measures.catalogue import import_measures
    from pubcredit.publicity.rulefile import import_rules as import_publicity_rules
    from pubcredit.repair.rules import import_rules

    rules.invalidate_local()
    import_catalogue(system)
    import_publicity_rules(system)
    import_list_types(system)
    import_measures(system)
    holidays.seed_from_chinese_calendar(system, range(2025, 2028))
    import_rules(system)
    rules.invalidate_local()
    yield
    holidays.clear_cache()
    rules.invalidate_local()


@pytest.fixture
def staff(world, system):
    """{name: Principal} for the people who act in the procedures. The penalty records of
    `penalty` are decided by 市市场监管局 (ZB-SCJG), whose clerk is "dept"."""
    from pubcredit.accounts.models import Role
    from pubcredit.accounts.permissions import PUBLIC, Principal
    from pubcredit.accounts.services import create_user
    from pubcredit.catalog.models import Department

    def user(name, role, department=None):
        return Principal.of(
            create_user(system, username=name, role=role, department=department, password=PASSWORD)
        )

    return {
        "centre": user("centre1", Role.CENTRE_STAFF),
        "dept": user("scjg1", Role.DEPARTMENT_CLERK, Department.objects.get(code="ZB-SCJG")),
        "other_dept": user("czj1", Role.DEPARTMENT_CLERK, Department.objects.get(code="ZB-CZJ")),
        "window": user("window1", Role.WINDOW_CLERK),
        "district": Principal(role=Role.DISTRICT_ADMIN, label="district", district_id="370303"),
        "bank": user("bank1", Role.BANK_USER),
        "public": PUBLIC,
    }


def penalty(subject, *, tier="general", start=dt.date(2025, 10, 1), repair_from=None, end=None):
    """A public penalty of 市市场监管局 whose minimum period is over on `D` unless told."""
    from pubcredit.publicity.models import Publicity

    record = make_public_penalty(subject, tier=tier, start=start, end=end or dt.date(2026, 10, 1))
    Publicity.objects.filter(pk=record.pk).update(repair_from=repair_from or dt.date(2026, 1, 1))
    return record


class Upload:
    """An uploaded file as the services see one (name, size, chunks())."""

    def __init__(self, name: str, content: bytes = b"%PDF-1.4 proof"):
        self.name = name
        self.content = content
        self.size = len(content)

    def chunks(self):
        yield self.content


def proof(name="缴款凭证.pdf"):
    return ("proof", Upload(name))


def apply(subject_record, *, today=D, **kwargs):
    from pubcredit.accounts.permissions import PUBLIC
    from pubcredit.repair.services import apply_for_repair

    values = {
        "applicant_name": "李经办",
        "applicant_phone": "0533-1234567",
        "statement": "已缴纳罚款并完成整改。",
        "obligations_declared": True,
        "materials": [proof()],
        "accept_commitment": True,
    }
    values.update(kwargs)
    return apply_for_repair(PUBLIC, subject_record, today=today, **values)
