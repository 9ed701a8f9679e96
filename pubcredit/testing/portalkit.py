"""Builders for the portal tests: the real catalogue and publicity rules, and records that reach
the database the way a department's do (intake's `submit_rows`), so the portal is tested on what
the publicity rules actually made public."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from pubcredit.testing.loadkit import make_ric, make_uscc

__all__ = ["make_ric", "make_uscc"]

DEPARTMENT = "ZB-SCJG"


def today() -> dt.date:
    return timezone.localdate()


@pytest.fixture
def platform(reference):
    """The shipped catalogue, departments and publicity rules (the session's reference data)."""
    return None


def _department(code: str = DEPARTMENT):
    from pubcredit.catalog.models import Department

    return Department.objects.get(code=code)


def penalty(
    n: int,
    *,
    name: str,
    kind: str = "法人及非法人组织",
    uscc: str | None = None,
    id_number: str | None = None,
    days_ago: int = 20,
    fine: str = "5",
    types: str = "罚款",
    facts: str = "经营超过保质期的食品",
    department: str = DEPARTMENT,
) -> dict:
    """One 行政处罚 row as a department system pushes it (field codes, text values)."""
    dept = _department(department)
    decided = today() - dt.timedelta(days=days_ago)
    person = kind == "自然人"
    return {
        "CF_XDR_MC": name,
        "CF_XDR_LB": kind,
        "CF_XDR_SHXYM": None if person else (uscc or make_uscc(n)),
        "CF_FRDB": None if person else "李四",
        "CF_XDR_ZJLX": "身份证" if person else None,
        "CF_XDR_ZJHM": (id_number or make_ric(n)) if person else None,
        "CF_WSH": f"淄市监罚〔2026〕{n}号",
        "CF_WFXW": "违反《中华人民共和国食品安全法》",
        "CF_SY": facts,
        "CF_YJ": "《中华人民共和国食品安全法》第一百二十四条",
        "CF_CFLB": types,
        "CF_NR": f"罚款人民币{fine}万元",
        "CF_NR_FK": fine,
        "CF_JDRQ": decided.isoformat(),
        "CF_YXQ": (decided + dt.timedelta(days=365)).isoformat(),
        "CF_CFJG": dept.name,
        "CF_CFJGDM": dept.uscc,
        "CF_SJLY": dept.name,
        "CF_SJLYDM": dept.uscc,
    }


def licence(
    n: int,
    *,
    name: str,
    kind: str = "法人及非法人组织",
    uscc: str | None = None,
    id_number: str | None = None,
    days_ago: int = 10,
    valid_years: int = 5,
    department: str = DEPARTMENT,
) -> dict:
    """One 行政许可 row as a department system pushes it."""
    dept = _department(department)
    decided = today() - dt.timedelta(days=days_ago)
    person = kind == "自然人"
    return {
        "XK_XDR_MC": name,
        "XK_XDR_LB": kind,
        "XK_XDR_SHXYM": None if person else (uscc or make_uscc(n)),
        "XK_FRDB": None if person else "李四",
        "XK_XDR_ZJLX": "身份证" if person else None,
        "XK_XDR_ZJHM": (id_number or make_ric(n)) if person else None,
        "XK_XKWS": "食品经营许可决定书",
        "XK_WSH": f"淄市监许〔2026〕{n}号",
        "XK_XKLB": "普通",
        "XK_XKZS": "食品经营许可证",
        "XK_XKBH": f"JY137030300{n:05d}",
        "XK_NR": "食品销售经营者(预包装食品销售)",
        "XK_JDRQ": decided.isoformat(),
        "XK_YXQZ": decided.isoformat(),
        "XK_YXQZI": decided.replace(year=decided.year + valid_years).isoformat(),
        "XK_XKJG": dept.name,
        "XK_XKJGDM": dept.uscc,
        "XK_ZT": "有效",
        "XK_LYDW": dept.name,
        "XK_LYDWDM": dept.uscc,
    }


def submit(system, category: str, rows: list[dict], department: str = DEPARTMENT):
    """Push rows through intake (validated, subjects linked or created, personal data sealed,
    publicity computed) and return the submission; fails loudly if a row was rejected."""
    from pubcredit.catalog.models import Category
    from pubcredit.intake.services import submit_rows

    submission = submit_rows(
        system,
        department=_department(department),
        category=Category.objects.get(code=category),
        rows=[{k: v for k, v in row.items() if v is not None} for row in rows],
    )
    summary = submission.summary()
    assert summary["rejected"] == 0 and summary["status"] == "done", summary
    return submission


def subject_of(uscc: str):
    from pubcredit.subjects.models import Subject

    return Subject.objects.get(uscc=uscc)
