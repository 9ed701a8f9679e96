"""Fixtures and builders for the tests that push real list files through intake and drive the
console pages: the full catalogue (with the list categories' fields), list types and measures,
clerks of a department, and list CSVs written the way a department would write them."""

from __future__ import annotations

import csv
import datetime as dt
import io
import itertools

import pytest
from django.utils import timezone

from pubcredit.subjects.identifiers import ric_check_char, uscc_check_char

PASSWORD = "Xy7!correct-horse"
_seq = itertools.count(1)


def uscc(n: int, prefix: str = "91") -> str:
    body = prefix + "370303" + f"{n:09d}"
    return body + uscc_check_char(body)


def ric(n: int, birth: str = "19800101") -> str:
    body = "370303" + birth + f"{n % 1000:03d}"
    return body + ric_check_char(body)


def today() -> dt.date:
    return timezone.localdate()


@pytest.fixture(autouse=True)
def _fast_password_hasher(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def media(settings, tmp_path):
    """Raw files of submissions and uploaded documents go to a temporary MEDIA_ROOT."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def world(reference, media):
    """The shipped catalogue (fields, code lists, departments), list types and measures (the
    session's reference data)."""
    return None


def department(code: str):
    from pubcredit.catalog.models import Department

    return Department.objects.get(code=code)


def category(code: str):
    from pubcredit.catalog.models import Category

    return Category.objects.get(code=code)


def make_user(username: str, role: str, **fields):
    from pubcredit.accounts.models import User

    return User.objects.create_user(username, password=PASSWORD, role=role, **fields)


def clerk_user(department_code: str):
    from pubcredit.accounts.models import Role

    return make_user(
        f"clerk-{department_code.lower()}-{next(_seq)}",
        Role.DEPARTMENT_CLERK,
        department=department(department_code),
    )


def clerk(department_code: str):
    """A 部门报送员 principal of the department."""
    from pubcredit.accounts.permissions import Principal

    return Principal.of(clerk_user(department_code))


def org_row(n: int, department_code: str, **values) -> dict:
    """One list row (by field code) about an organisation, submitted by `department_code`."""
    dept = department(department_code)
    row = {
        "MD_XDR_MC": f"淄博名单测试{n}有限公司",
        "MD_XDR_LB": "法人及非法人组织",
        "MD_XDR_SHXYM": uscc(n),
        "MD_FRDB": "王五",
        "MD_LX": "",
        "MD_RDWSH": f"淄名单〔{today().year}〕{n}号",
        "MD_RDYJ": "《保障农民工工资支付条例》第四十八条",
        "MD_LRYY": "拖欠农民工工资数额较大",
        "MD_RDRQ": today() - dt.timedelta(days=30),
        "MD_RDBM": dept.name,
        "MD_RDBMDM": dept.uscc,
        "MD_SJLY": dept.name,
        "MD_SJLYDM": dept.uscc,
    }
    row.update(values)
    return row


def person_row(n: int, department_code: str, **values) -> dict:
    row = org_row(n, department_code, **values)
    row.update(
        {
            "MD_XDR_MC": values.get("MD_XDR_MC", "李明华"),
            "MD_XDR_LB": "自然人",
            "MD_XDR_SHXYM": "",
            "MD_FRDB": "",
            "MD_XDR_ZJLX": "身份证",
            "MD_XDR_ZJHM": values.get("MD_XDR_ZJHM", ric(n)),
        }
    )
    return row


def list_csv(category_code: str, rows: list[dict], *, headers: dict | None = None) -> bytes:
    """A list file as a department writes it: the catalogue's Chinese field names as headers
    (or the spellings given in `headers`, by field code), dates as YYYY-MM-DD, UTF-8 with BOM.
    The columns are the union of the rows' keys, in first-seen order."""
    from pubcredit.catalog.models import Field

    names = dict(Field.objects.filter(category__code=category_code).values_list("code", "name"))
    names.update(headers or {})
    codes: list[str] = []
    for row in rows:
        codes += [c for c in row if c not in codes]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([names[c] for c in codes])
    for row in rows:
        writer.writerow(
            [
                v.isoformat() if isinstance(v, dt.date) else ("" if v is None else str(v))
                for v in (row.get(c) for c in codes)
            ]
        )
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def submit(principal, category_code: str, data: bytes, *, department_code: str | None = None):
    """Submit the file through intake (processed inline) and return the finished submission."""
    from pubcredit.intake.models import Submission
    from pubcredit.intake.services import submit_file

    dept = department(department_code) if department_code else principal.department
    return submit_file(
        principal,
        department=dept,
        category=category(category_code),
        source=data,
        filename=f"{category_code.lower()}-{next(_seq)}.csv",
        channel=Submission.Channel.UPLOAD,
        background=False,
    )
