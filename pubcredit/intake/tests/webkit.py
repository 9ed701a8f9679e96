"""Fixtures and builders shared by the console (test_web_*) and API (test_api_*) tests of
intake: the real catalogue, the department the messy files (tests/messy.py) were written for,
clerks, the receipt date those files expect, and the counts and error lines they must produce."""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone as django_timezone

from pubcredit.intake.tests import messy

PASSWORD = "Xy7!correct-horse"
ZHANGDIAN = "ZD-SCJG"
PARTNER = "ZD-SCJG-ZF"
# The receipt date the messy files' expectations (late, decision in the future) are written for.
RECEIVED = dt.datetime.combine(messy.RECEIPT, dt.time(10, 0), tzinfo=ZoneInfo("Asia/Shanghai"))
# The messy CSV with one header no engine could recognise, for the clerk to fix on the screen.
UNKNOWN_HEADER = "甲栏"
FIXED_FIELD = "CF_CFJG"


class FrozenTimezone:
    """django.utils.timezone as seen by intake.services, with `now()` fixed."""

    def __init__(self, now: dt.datetime):
        self._now = now

    def now(self) -> dt.datetime:
        return self._now

    def __getattr__(self, name):
        return getattr(django_timezone, name)


@pytest.fixture(autouse=True)
def _fast_password_hasher(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def received_on_messy_date(monkeypatch):
    """Submissions are received on messy.RECEIPT (the files' late/future rows depend on it)."""
    from pubcredit.intake import services

    monkeypatch.setattr(services, "timezone", FrozenTimezone(RECEIVED))
    return RECEIVED


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def zhangdian(catalogue):
    """淄博市张店区市场监督管理局 with the USCC the messy files use as 数据来源单位, submitting
    also for the unit whose code the messy files use as a partner."""
    from pubcredit.catalog.models import Department

    partner = Department.objects.create(
        code=PARTNER,
        name="淄博市张店区市场监管综合执法大队",
        uscc=messy.PARTNER,
        level=Department.Level.DISTRICT,
    )
    department = Department.objects.create(
        code=ZHANGDIAN,
        name="淄博市张店区市场监督管理局",
        short_name="张店区市场监管局",
        uscc=messy.DEPARTMENT,
        level=Department.Level.DISTRICT,
    )
    department.submits_for.add(partner)
    return department


@pytest.fixture
def other_department(catalogue):
    from pubcredit.catalog.models import Department

    return Department.objects.get(code="ZB-SCJG")


@pytest.fixture
def cf(catalogue):
    from pubcredit.catalog.models import Category

    return Category.objects.get(code="CF")


def make_user(username: str, role: str, **fields):
    from pubcredit.accounts.models import User

    return User.objects.create_user(username, password=PASSWORD, role=role, **fields)


@pytest.fixture
def clerk(zhangdian):
    from pubcredit.accounts.models import Role

    return make_user("zd-clerk", Role.DEPARTMENT_CLERK, department=zhangdian)


@pytest.fixture
def other_clerk(other_department):
    from pubcredit.accounts.models import Role

    return make_user("sj-clerk", Role.DEPARTMENT_CLERK, department=other_department)


@pytest.fixture
def centre(catalogue):
    from pubcredit.accounts.models import Role

    return make_user("centre", Role.CENTRE_STAFF)


def messy_csv(unknown_header: bool = True) -> bytes:
    """The messy 行政处罚 CSV (UTF-8), its 处罚机关 header replaced by one nobody could map."""
    data = messy.csv_file("utf8.csv").data
    if unknown_header:
        text = data.decode("utf-8")
        assert text.count(",处罚机关,") == 1
        data = text.replace(",处罚机关,", f",{UNKNOWN_HEADER},").encode("utf-8")
    return data


def confirmed_mapping() -> dict[str, str]:
    """The mapping screen's POST for the messy CSV: every column as the clerk confirms it."""
    post = {"action": "confirm"}
    for i, (_header, code, _key) in enumerate(messy.COLUMNS):
        post[f"col-{i}"] = code or ""
    return post


def expected_counts() -> dict[str, int]:
    """The exact result of the messy CSV, received on messy.RECEIPT, into an empty register."""
    cases = list(messy.csv_file("utf8.csv").expected.values())
    rejected = sum(1 for c in cases if c.errors)
    duplicates = sum(1 for c in cases if c.duplicate_of)
    accepted = len(cases) - rejected
    return {
        "rows": len(cases),
        "accepted": accepted,
        "rejected": rejected,
        "inserted": accepted - duplicates,
        "updated": 0,
        "unchanged": 0,
        "late": sum(1 for c in cases if c.late and c.accepted),
        "duplicates": duplicates,
        "review": 0,
    }


def expected_issues() -> set[tuple[int, str, str, str]]:
    """(row as the clerk sees it, field code, rule, severity) of every error and warning."""
    out = set()
    for row, case in messy.csv_file("utf8.csv").expected.items():
        out.update((row, field, rule, "error") for field, rule in case.errors)
        out.update((row, field, rule, "warning") for field, rule in case.warnings)
    return out


def case_row(name: str) -> int:
    """The file row (as the clerk sees it) of the messy case `name`."""
    for row, case in messy.csv_file("utf8.csv").expected.items():
        if case.name == name:
            return row
    raise KeyError(name)


_SEVERITY_ROW = re.compile(
    r'<tr class="severity-(\w+)" data-row="(\d+)" data-field="([^"]*)" data-rule="([^"]*)"'
)


def issues_in_html(html: str) -> set[tuple[int, str, str, str]]:
    return {(int(r), f, rule, sev) for sev, r, f, rule in _SEVERITY_ROW.findall(html)}


_COUNT = re.compile(r'data-count="(\w+)">(\d+)<')


def counts_in_html(html: str) -> dict[str, int]:
    return {name: int(value) for name, value in _COUNT.findall(html)}


def org_row(n: int, department_uscc: str, **cells) -> dict:
    """One valid 行政处罚 row for the JSON batch API (keys: field codes), unique per n."""
    row = messy.org(n, CF_SJLYDM=department_uscc, CF_CFJGDM=department_uscc, **cells)
    row["CF_XDR_SHXYM"] = messy.org_uscc(n)
    return {k: v for k, v in row.items() if v != ""}
