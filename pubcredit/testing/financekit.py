"""Builders for the 信易贷 tests (financing, the API matrix): an institution with a staff
account, an approved enterprise account bound to an organisation, a product."""

from __future__ import annotations

from decimal import Decimal
from types import SimpleNamespace

from pubcredit.accounts.models import Role
from pubcredit.accounts.permissions import Principal
from pubcredit.testing.factories import make_org, make_user, uscc

CENTRE = Principal.system("test")


def make_institution(name: str = "淄博银行", serial: int = 501, username: str = "banker"):
    from pubcredit.financing import services

    inst = services.register_institution(
        CENTRE, name=name, uscc=uscc("370300", serial, category="91")
    )
    user = make_user(Role.BANK_USER, username=username)
    services.add_member(CENTRE, inst, user=user)
    return SimpleNamespace(institution=inst, user=user, principal=Principal.of(user))


def make_enterprise(name: str = "淄博甲有限公司", serial: int = 11, username: str = "firm"):
    from pubcredit.financing import services

    subject = make_org(name, serial=serial)
    user = make_user(Role.ENTERPRISE, username=username)
    principal = Principal.of(user)
    binding = services.request_binding(principal, subject.uscc)
    services.decide_binding(CENTRE, binding.pk, approve=True)
    return SimpleNamespace(subject=subject, user=user, principal=principal)


def make_product(institution, name: str = "信易贷·税易贷", **fields):
    from pubcredit.financing import services

    values = {
        "amount_min": Decimal("10"),
        "amount_max": Decimal("300"),
        "rate_min": Decimal("3.50"),
        "rate_max": Decimal("5.00"),
        "term_months": 12,
        "target_sectors": [],
        "min_grade": "",
    }
    values.update(fields)
    return services.publish_product(CENTRE, institution, name=name, **values)
