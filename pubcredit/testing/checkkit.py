"""Builders shared by the credit check tests: people and keys with roles, persons with real
身份证号, entries and public penalties that are refreshed into the check read model.

Fixtures are named `person` / `accounts`; import `person_fixture` / `accounts_fixture` into a
test module to use them."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest

from pubcredit.core.identifiers import ric_check_char
from pubcredit.testing.listkit import identify, make_public_penalty

_seq = itertools.count(1)

D = dt.date(2025, 6, 1)  # the day most tests check on


def make_ric(n: int, birth: str = "19850315") -> str:
    body = f"370303{birth}{n % 1000:03d}"
    return body + ric_check_char(body)


def refresh(*subjects) -> None:
    from pubcredit.measures.services import refresh_subject_flags

    refresh_subject_flags([s.pk for s in subjects])


def black(system, subject, code="BLK_JUDGMENT_DEFAULTER", **kwargs):
    kwargs.setdefault("today", D)
    entry = identify(system, subject, code, **kwargs)
    refresh(subject)
    return entry


def black_now(system, subject, code="BLK_JUDGMENT_DEFAULTER"):
    """An entry valid today (for tests that go through the API, which checks on today)."""
    from django.utils import timezone

    today = timezone.localdate()
    return black(system, subject, code, decided_on=today - dt.timedelta(days=30), today=today)


def penalty(subject, **kwargs):
    record = make_public_penalty(subject, **kwargs)
    refresh(subject)
    return record


@pytest.fixture(name="person")
def person_fixture(db, system):
    from pubcredit.catalog.models import SubjectKind
    from pubcredit.subjects.services import register_subject

    def make(name="王小明", ric=None):
        ric = ric or make_ric(next(_seq))
        subject = register_subject(system, kind=SubjectKind.PERSON, name=name, id_number=ric)
        return subject, ric

    return make


@pytest.fixture(name="accounts")
def accounts_fixture(db, system):
    """Users and API keys with the roles that matter for checks: {name: (obj, clear key)}."""
    from pubcredit.accounts.models import Role
    from pubcredit.accounts.services import create_user, issue_api_key
    from pubcredit.catalog.models import Department

    finance = Department.objects.get(code="ZB-CZJ")
    out = {}
    out["clerk"] = create_user(
        system,
        username="window1",
        role=Role.WINDOW_CLERK,
        password="window-pass-2026",
        organisation="市政务服务中心公共资源交易窗口",
    )
    out["clerk2"] = create_user(
        system,
        username="window2",
        role=Role.WINDOW_CLERK,
        password="window-pass-2026",
        organisation="市财政局窗口",
    )
    out["centre"] = create_user(
        system, username="centre1", role=Role.CENTRE_STAFF, password="centre-pass-2026"
    )
    out["submitter"] = create_user(
        system,
        username="dept1",
        role=Role.DEPARTMENT_CLERK,
        department=finance,
        password="dept-pass-2026",
    )
    out["bank"] = issue_api_key(system, name="淄博某银行信贷系统", role=Role.BANK_USER)
    out["system"] = issue_api_key(system, name="公共资源交易系统", role=Role.WINDOW_CLERK)
    out["no_checks"] = issue_api_key(
        system, name="部门报送系统", role=Role.DEPARTMENT_CLERK, department=finance
    )
    return out


def principal_of(actor):
    from pubcredit.accounts.permissions import Principal

    return Principal.of(actor)


def register_org(system, name: str):
    """An organisation registered through the service (so its name search keys are filled)."""
    from pubcredit.catalog.models import SubjectKind
    from pubcredit.subjects.services import register_subject
    from pubcredit.testing.listkit import make_uscc

    return register_subject(
        system, kind=SubjectKind.ORG, name=name, uscc=make_uscc(500_000 + next(_seq))
    )


def credit_check(department, *, measures: int, at: dt.datetime):
    """A credit check the department ran at `at` that returned `measures` punishments (0: a
    clear answer), written directly: for the statistics of checks and their feedback."""
    # Imported here, as in the other kits: a kit is imported before Django's apps are ready.
    from pubcredit.checks.models import CreditCheck
    from pubcredit.measures.models import Matter

    return CreditCheck.objects.create(
        checked_at=at,
        checked_on=at.date(),
        channel="api",
        actor_label="test",
        department=department,
        matter=Matter.objects.first(),
        query_kind="uscc",
        query_value="x",
        outcome="clear" if not measures else "punish",
        punishment_count=measures,
    )
