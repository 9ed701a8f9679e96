"""Shared fixtures and builders for the loading tests (intake's test_load_*.py, records,
publicity, portal): a department of the real catalogue (the root conftest's `catalogue`), valid
identifiers, and 行政处罚 rows as the engine hands them over."""

from __future__ import annotations

import datetime as dt
import hashlib
import random

import polars as pl
import pytest

from pubcredit.core.identifiers import USCC_CHARSET, ric_check_char, uscc_check_char
from pubcredit.holidays.services import seed_from_chinese_calendar

CF_DEPARTMENT = "ZB-SCJG"


def make_uscc(seed: int, prefix: str = "91") -> str:
    rnd = random.Random(seed)
    body = prefix + "370303" + "".join(rnd.choice(USCC_CHARSET[:10]) for _ in range(9))
    return body + uscc_check_char(body)


def make_ric(seed: int, birth: str = "19800101") -> str:
    rnd = random.Random(seed)
    body = "370303" + birth + f"{rnd.randrange(1000):03d}"
    return body + ric_check_char(body)


def cf_row(
    n: int,
    *,
    name: str | None = None,
    kind: str = "法人及非法人组织",
    uscc: str | None = "auto",
    id_number: str | None = None,
    wsh: str | None = None,
    fine: str = "0.200000",
    content: str = "罚款人民币贰仟元",
    decision: dt.date = dt.date(2024, 3, 5),
    source_uscc: str = "",
) -> dict:
    """One cleaned 行政处罚 row (cleaned values by field code)."""
    if kind == "自然人":
        uscc = None
        id_number = id_number or make_ric(n)
    elif uscc == "auto":
        uscc = make_uscc(n, "92" if kind == "个体工商户" else "91")
    return {
        "CF_XDR_MC": name or f"淄博测试{n}有限公司",
        "CF_XDR_LB": kind,
        "CF_XDR_SHXYM": uscc,
        "CF_FRDB": None if kind == "自然人" else "张三",
        "CF_XDR_ZJLX": "身份证" if kind == "自然人" else None,
        "CF_XDR_ZJHM": id_number,
        "CF_WSH": wsh or f"淄市监罚〔2024〕{n}号",
        "CF_WFXW": "违反《中华人民共和国食品安全法》",
        "CF_SY": "经营超过保质期的食品",
        "CF_YJ": "《中华人民共和国食品安全法》第一百二十四条",
        "CF_CFLB": "罚款",
        "CF_NR": content,
        "CF_NR_FK": fine,
        "CF_JDRQ": decision,
        "CF_YXQ": decision + dt.timedelta(days=365),
        "CF_CFJG": "淄博市市场监督管理局",
        "CF_CFJGDM": source_uscc,
        "CF_SJLY": "淄博市市场监督管理局",
        "CF_SJLYDM": source_uscc,
    }


def accepted_frame(rows: list[dict], *, first_row: int = 2, originals: dict | None = None):
    """The engine's accepted frame for `rows`: `__row__`, then cleaned values by field code,
    with `<code>__orig` columns for the cells given in `originals` ({row index: {code:
    text}})."""
    frame = pl.DataFrame(
        [{"__row__": first_row + i, **row} for i, row in enumerate(rows)],
        schema_overrides={"CF_JDRQ": pl.Date, "CF_YXQ": pl.Date},
        infer_schema_length=None,
    )
    frame = frame.with_columns(
        pl.col(c).cast(pl.String) for c in frame.columns if frame.schema[c] == pl.Null
    )
    if originals:
        codes = sorted({c for cells in originals.values() for c in cells})
        frame = frame.with_columns(
            pl.Series(
                f"{c}__original",
                [originals.get(i, {}).get(c) for i in range(frame.height)],
                dtype=pl.String,
            )
            for c in codes
        )
    return frame


def fake_sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


@pytest.fixture
def calendar_2026(db, system):
    """The working-day calendar of 2026 from chinese-calendar (National Day and its working
    Saturday 10 October), for deadlines counted in working days."""
    seed_from_chinese_calendar(system, years=range(2026, 2027))


@pytest.fixture
def department(catalogue):
    from pubcredit.catalog.models import Department

    return Department.objects.get(code=CF_DEPARTMENT)


@pytest.fixture
def cf(catalogue):
    from pubcredit.catalog.models import Category

    return Category.objects.get(code="CF")


@pytest.fixture
def make_submission(department, cf):
    from pubcredit.intake.models import Submission

    counter = {"n": 0}

    def make(**kwargs) -> Submission:
        counter["n"] += 1
        values = {
            "department": department,
            "category": cf,
            "channel": Submission.Channel.CLI,
            "filename": f"test-{counter['n']}.csv",
            "sha256": fake_sha(str(counter["n"])),
            "status": Submission.Status.LOADING,
        }
        values.update(kwargs)
        return Submission.objects.create(**values)

    return make


def cf_csv(rows: list[dict], *, headers: str = "names", title: str | None = None) -> bytes:
    """A 行政处罚 CSV as a department would send it: the catalogue's Chinese field names (or
    the field codes) as headers, every value as text, dates as YYYY-MM-DD, UTF-8 with BOM."""
    import csv
    import io

    from pubcredit.catalog.models import Field

    codes = list(rows[0])
    names = {}
    if headers == "names":
        names = dict(Field.objects.filter(category__code="CF").values_list("code", "name"))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    if title:
        writer.writerow([title])
    writer.writerow([names[c] if headers == "names" else c for c in codes])
    for row in rows:
        writer.writerow(
            [
                v.isoformat() if isinstance(v, dt.date) else ("" if v is None else str(v))
                for v in (row[c] for c in codes)
            ]
        )
    return ("\ufeff" + out.getvalue()).encode("utf-8")


@pytest.fixture
def media(settings, tmp_path):
    """Raw files of the test's submissions go to a temporary MEDIA_ROOT."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def clerk_of():
    """A 部门报送员 principal for a department."""
    from pubcredit.accounts.models import Role, User
    from pubcredit.accounts.permissions import Principal

    counter = {"n": 0}

    def make(department):
        counter["n"] += 1
        user = User.objects.create_user(
            f"clerk{counter['n']}", role=Role.DEPARTMENT_CLERK, department=department
        )
        return Principal.of(user)

    return make
