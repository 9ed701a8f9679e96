"""Fixtures and builders for the repair pages' tests (portal, console, browser): the shipped
catalogue, publicity and repair rules, staff with the roles that matter, and public penalties
that can be repaired today.

Fixtures are named `repair_site` / `users`; import `repair_site_fixture` / `users_fixture` into a
test module to use them (`make_subject` comes from the package's conftest).
"""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from pubcredit.testing.listkit import make_public_penalty

_seq = itertools.count(1)
PHONE = "0533-1234567"


def today() -> dt.date:
    return timezone.localdate()


@pytest.fixture(name="repair_site")
def repair_site_fixture(db, system, settings, tmp_path):
    """The shipped catalogue (so 行政处罚 is a penalty category with its fields), the publicity
    rules, the repair rules; uploads and letters under a temporary MEDIA_ROOT; empty caches
    (catalogue ids differ between test databases) and no public rate limit."""
    from django.core.cache import cache

    from pubcredit.catalog.services import import_catalogue
    from pubcredit.portal import disclosure
    from pubcredit.publicity import public
    from pubcredit.publicity.rulefile import import_rules as import_publicity_rules
    from pubcredit.repair.rules import import_rules

    settings.MEDIA_ROOT = tmp_path / "media"
    settings.PUBCREDIT_PUBLIC_RATE = "0"
    cache.clear()
    disclosure.clear_caches()
    public.clear_caches()
    import_catalogue(system)
    import_publicity_rules(system)
    import_rules(system)
    yield
    cache.clear()
    disclosure.clear_caches()
    public.clear_caches()


@pytest.fixture(name="users")
def users_fixture(repair_site, system):
    """Users by role: the credit centre, a 部门报送员 of the market regulator (the department
    that decides the test penalties), one of the finance bureau, a window clerk, a 区县管理员."""
    from pubcredit.accounts.models import Role
    from pubcredit.accounts.services import create_user
    from pubcredit.catalog.models import Department

    def user(username, role, department=None, **extra):
        return create_user(
            system,
            username=username,
            role=role,
            password="Secret-pass-2026",
            department=Department.objects.get(code=department) if department else None,
            **extra,
        )

    return {
        "centre": user("centre1", Role.CENTRE_STAFF),
        "clerk": user("scjg1", Role.DEPARTMENT_CLERK, "ZB-SCJG"),
        "other_clerk": user("czj1", Role.DEPARTMENT_CLERK, "ZB-CZJ"),
        "window": user("window1", Role.WINDOW_CLERK, organisation="市政务服务中心"),
    }


def repairable_penalty(
    subject, *, repair_from: dt.date | None = None, tier: str = "general", days_ago: int = 200
):
    """A 行政处罚 shown today whose minimum period is over (`repair_from` ≤ today by default),
    of a tier that needs no repair training."""
    from pubcredit.publicity.models import Publicity

    start = today() - dt.timedelta(days=days_ago)
    record = make_public_penalty(subject, tier=tier, start=start)
    Publicity.objects.filter(pk=record.pk).update(
        repair_from=repair_from or today() - dt.timedelta(days=10), tier=tier
    )
    return record


def pdf_file(name: str = "缴款凭证.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, b"%PDF-1.4\n% test proof\n", content_type="application/pdf")


def application_post(**overrides) -> dict:
    data = {
        "applicant_name": "王经办",
        "applicant_phone": PHONE,
        "statement": "已于上月缴清罚款并完成整改。",
        "obligations_declared": "on",
        "accept_commitment": "on",
        "material_proof": [pdf_file()],
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def apply(system, record, **overrides):
    """A repair application filed through the service (as the portal does)."""
    from pubcredit.accounts.permissions import PUBLIC
    from pubcredit.repair import services

    kwargs = {
        "applicant_name": "王经办",
        "applicant_phone": PHONE,
        "statement": "已缴清罚款并整改。",
        "obligations_declared": True,
        "materials": [("proof", pdf_file())],
        "accept_commitment": True,
    }
    kwargs.update(overrides)
    return services.apply_for_repair(PUBLIC, record, **kwargs)


def object_to(record, **overrides):
    from pubcredit.accounts.permissions import PUBLIC
    from pubcredit.repair import objections

    kwargs = {
        "target": "content",
        "reason": "处罚金额登记错误。",
        "applicant_name": "王经办",
        "applicant_phone": PHONE,
    }
    kwargs.update(overrides)
    return objections.file_objection(PUBLIC, record, **kwargs)


def principal(user):
    from pubcredit.accounts.permissions import Principal

    return Principal.of(user)


def session(system, *, days_ahead: int = 7, capacity: int = 50, title: str = "信用修复专题培训"):
    from pubcredit.catalog.models import Department
    from pubcredit.repair import training

    return training.create_session(
        system,
        title=title,
        starts_at=timezone.now() + dt.timedelta(days=days_ahead),
        place="市政务服务中心三楼报告厅",
        capacity=capacity,
        organiser=Department.objects.get(code="ZB-XYZX"),
    )
