"""Builders for the commitments tests: staff of every role, subjects, signed commitments, and
the full catalogue for the intake and portal tests. Reuses the lists kit (departments,
categories, list types and measures: `seeded`) and the checks kit (persons with real 身份证号)."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest

from pubcredit.commitments.models import CommitmentType, PublicityType
from pubcredit.testing.factories import PASSWORD

_seq = itertools.count(1)

DEPARTMENT = "ZB-SCJG"
OTHER_DEPARTMENT = "ZB-STHJ"
D = dt.date(2025, 6, 1)
PHONE = "13805331234"


def department(code: str = DEPARTMENT):
    from pubcredit.catalog.models import Department

    return Department.objects.get(code=code)


def sign(subject, *, principal=None, day=D, **overrides):
    """A commitment signed online (by default a 主动型 one, accepted by 市市场监管局, made on D)."""
    from pubcredit.accounts.permissions import PUBLIC
    from pubcredit.commitments.signing import sign_commitment

    values = {
        "subject": subject,
        "commitment_type": CommitmentType.VOLUNTARY,
        "reason": "主动向社会作出诚信经营承诺",
        "content": "承诺依法诚信经营,按时履行合同义务。",
        "liability": "违反承诺的,愿意承担相应法律责任并接受失信约束。",
        "department": department(),
        "signer_name": "李经理",
        "signer_contact": PHONE,
        "publicity_type": PublicityType.PUBLIC,
        "made_on": day,
        "today": day,
    }
    values.update(overrides)
    return sign_commitment(principal or PUBLIC, **values)


@pytest.fixture
def fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def staff(db, system, fast_passwords):
    """A user of every role that matters here, as principals and users: {name: (user, principal)}.
    Names: admin, centre, clerk (市市场监管局, the accepting department), other_clerk (市生态环境局),
    district (张店区), window, bank (an API key)."""
    from pubcredit.accounts.models import Role
    from pubcredit.accounts.permissions import Principal
    from pubcredit.accounts.services import create_user, issue_api_key
    from pubcredit.catalog.models import Region

    zhangdian, _ = Region.objects.get_or_create(
        code="370303", defaults={"name": "张店区", "level": Region.Level.COUNTY}
    )
    n = next(_seq)
    users = {
        "admin": create_user(
            system, username=f"admin{n}", role=Role.PLATFORM_ADMIN, password=PASSWORD
        ),
        "centre": create_user(
            system, username=f"centre{n}", role=Role.CENTRE_STAFF, password=PASSWORD
        ),
        "clerk": create_user(
            system,
            username=f"clerk{n}",
            role=Role.DEPARTMENT_CLERK,
            department=department(),
            password=PASSWORD,
        ),
        "other_clerk": create_user(
            system,
            username=f"other{n}",
            role=Role.DEPARTMENT_CLERK,
            department=department(OTHER_DEPARTMENT),
            password=PASSWORD,
        ),
        "district": create_user(
            system,
            username=f"district{n}",
            role=Role.DISTRICT_ADMIN,
            district=zhangdian,
            password=PASSWORD,
        ),
        "window": create_user(
            system, username=f"window{n}", role=Role.WINDOW_CLERK, password=PASSWORD
        ),
    }
    out = {name: (user, Principal.of(user)) for name, user in users.items()}
    key, _clear = issue_api_key(system, name=f"某银行{n}", role=Role.BANK_USER)
    out["bank"] = (key, Principal.of(key))
    return out


@pytest.fixture
def platform_lists(reference):
    """The full shipped catalogue (fields, code lists, regions), the publicity rules, the list
    types and the measures: what intake and the portal need (the session's reference data)."""
    return None
