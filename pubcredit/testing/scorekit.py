"""Builders for the credit evaluation tests (scoring) and for the apps that show grades: the
shipped scorecards imported, subjects with a known 成立日期, and rows of the catalogue categories
that feed the scorecards, pushed through intake the way a department's system does
(portalkit.submit), so the records-changed flow computes the grades."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from django.utils import timezone

from pubcredit.testing.loadkit import make_ric, make_uscc

_seq = itertools.count(500)


def today() -> dt.date:
    return timezone.localdate()


def ago(days: int) -> str:
    return (today() - dt.timedelta(days=days)).isoformat()


@pytest.fixture
def scorecards(reference, system):
    """The shipped scorecards, imported (reference data + scoring/data/scorecards)."""
    from pubcredit.scoring.scorecards import import_scorecards

    import_scorecards(system)
    return None


def _department(code: str):
    from pubcredit.catalog.models import Department

    return Department.objects.get(code=code)


def _subject_columns(prefix: str, *, name: str, uscc: str | None = None, kind="法人及非法人组织"):
    return {
        f"{prefix}_XDR_MC": name,
        f"{prefix}_XDR_LB": kind,
        f"{prefix}_XDR_SHXYM": uscc or make_uscc(next(_seq)),
    }


def _tail(prefix: str, department: str) -> dict:
    dept = _department(department)
    return {
        f"{prefix}_RDDW": dept.name,
        f"{prefix}_RDDWDM": dept.uscc,
        f"{prefix}_SJLY": dept.name,
        f"{prefix}_SJLYDM": dept.uscc,
    }


HOUSEKEEPING_DEPARTMENT = "ZB-SWJ"
CONSTRUCTION_DEPARTMENT = "ZB-ZJJ"
TAX_DEPARTMENT = "ZB-SWU"
CIVIL_DEPARTMENT = "ZB-MZJ"
WELFARE_DEPARTMENT = "ZB-XYZX"


def housekeeping(n: int, *, name: str, uscc: str, kind: str = "有效投诉", days_ago: int = 30):
    """A 家政服务信用信息 (JZFW) row."""
    return {
        **_subject_columns("JZ", name=name, uscc=uscc),
        "JZ_JLBH": f"JZ-{n}",
        "JZ_JLLX": kind,
        "JZ_NR": "服务人员未按约定时间上门",
        "JZ_JLRQ": ago(days_ago),
        **_tail("JZ", HOUSEKEEPING_DEPARTMENT),
    }


def construction(
    n: int,
    *,
    name: str,
    uscc: str,
    behaviour: str = "不良行为",
    severity: str | None = "一般",
    days_ago: int = 30,
):
    """A 建筑市场信用信息 (JZSC) row."""
    row = {
        **_subject_columns("JS", name=name, uscc=uscc),
        "JS_JLBH": f"JS-{n}",
        "JS_XWLB": behaviour,
        "JS_NR": "施工现场安全管理不到位",
        "JS_RDRQ": ago(days_ago),
        **_tail("JS", CONSTRUCTION_DEPARTMENT),
    }
    if severity:
        row["JS_BLDJ"] = severity
    return row


def tax_grade(*, name: str, uscc: str, grade: str, year: int | None = None, days_ago: int = 60):
    """A 纳税信用等级 (NSXYDJ) row."""
    return {
        **_subject_columns("NS", name=name, uscc=uscc),
        "NS_PJND": str(year or today().year - 1),
        "NS_XYDJ": grade,
        "NS_PJRQ": ago(days_ago),
        **_tail("NS", TAX_DEPARTMENT),
    }


def social_org_grade(n: int, *, name: str, uscc: str, grade: str, days_ago: int = 60):
    """A 社会组织评估等级 (SHZZPG) row."""
    return {
        **_subject_columns("PG", name=name, uscc=uscc),
        "PG_PGWH": f"淄民评〔2026〕{n}号",
        "PG_PGDJ": grade,
        "PG_PGRQ": ago(days_ago),
        **_tail("PG", CIVIL_DEPARTMENT),
    }


def welfare(
    n: int,
    *,
    name: str,
    id_number: str,
    kind: str = "志愿服务",
    hours: str | None = None,
    days_ago: int = 30,
):
    """A 志愿服务和无偿献血信息 (GYXW) row of a person."""
    row = {
        "GY_XDR_MC": name,
        "GY_XDR_LB": "自然人",
        "GY_XDR_ZJLX": "身份证",
        "GY_XDR_ZJHM": id_number,
        "GY_JLBH": f"GY-{n}",
        "GY_XWLX": kind,
        "GY_JLRQ": ago(days_ago),
        **_tail("GY", WELFARE_DEPARTMENT),
    }
    if hours is not None:
        row["GY_FWSC"] = hours
    return row


def submit(system, category: str, rows: list[dict], department: str):
    from pubcredit.testing.portalkit import submit as portal_submit

    return portal_submit(system, category, rows, department=department)


def result(subject, scorecard: str):
    """The current ScoreResult of a subject under a scorecard code (or None)."""
    from pubcredit.scoring.models import ScoreResult

    return ScoreResult.objects.filter(
        subject=subject, scorecard__code=scorecard, current=True
    ).first()


def graded(subject, scorecard: str, grade: str, score, *, current: bool = True):
    """A result written directly (not computed) under the latest version of a scorecard code:
    for the tests of what reads grades (supervision lists, statistics), not of the engine."""
    from decimal import Decimal

    from pubcredit.scoring.models import ScorecardVersion, ScoreResult

    version = (
        ScorecardVersion.objects.filter(scorecard__code=scorecard).order_by("-version").first()
    )
    return ScoreResult.objects.create(
        subject=subject,
        scorecard=version.scorecard,
        version=version,
        score=Decimal(score),
        grade=grade,
        points_grade=grade,
        as_of=today(),
        computed_at=timezone.now(),
        contributions=[],
        current=current,
    )


def sources(row) -> dict[str, list]:
    """Contributions of a result by indicator: {code: [points, …]} in stored order."""
    out: dict[str, list] = {}
    for item in row.contributions:
        out.setdefault(item["indicator"], []).append(item["points"])
    return out


__all__ = ["make_ric", "make_uscc"]
