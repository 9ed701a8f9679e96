"""The portal's 数据统计: 双公示 records public today, by month and by department, and the list
entries in force by list type — public data only, no person, cached. The records reach the
database through intake and their publicity through the rules, a repair and a withdrawal, as
in production (the page reads the publicity app's kept counts)."""

from __future__ import annotations

import datetime as dt

import pytest

from pubcredit.catalog.models import Department
from pubcredit.portal import statistics
from pubcredit.publicity.models import PublicityMark
from pubcredit.publicity.services import add_mark
from pubcredit.records.models import Record
from pubcredit.records.services import withdraw_record
from pubcredit.testing.listkit import identify
from pubcredit.testing.portalkit import make_ric, penalty, submit

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("seeded")]

TODAY = dt.date(2025, 6, 15)


def _penalty(n: int, decided: dt.date, **subject) -> dict:
    """A 行政处罚 row decided (and public from) `decided`: 一般 (a 5万元 fine), public for 36
    months under Order 58."""
    row = penalty(9200 + n, name=subject.pop("name", "淄博统计测试有限公司"), **subject)
    return {
        **row,
        "CF_JDRQ": decided.isoformat(),
        "CF_YXQ": (decided + dt.timedelta(days=365)).isoformat(),
    }


@pytest.fixture
def published(system, make_subject):
    """行政处罚 of 市市场监管局 (ZB-SCJG) through intake: public since 2025-03-02, 2025-05-10,
    2025-05-20 (a person's), 2024-01-05 (before the 12 months); one public since 2025-04-01 whose
    publicity a granted repair ended; one decided 2025-06-01 and withdrawn (已撤回: the rules in
    force for 2025 publish every penalty, so withdrawal is how one is not shown). One
    失信被执行人 entry in force."""
    a = make_subject()
    org = {"name": a.name, "uscc": a.uscc}
    submit(
        system,
        "CF",
        [
            _penalty(1, dt.date(2025, 3, 2), **org),
            _penalty(2, dt.date(2025, 5, 10), **org),
            _penalty(3, dt.date(2025, 5, 20), name="王小明", kind="自然人", id_number=make_ric(3)),
            _penalty(4, dt.date(2024, 1, 5), **org),
            _penalty(5, dt.date(2025, 4, 1), **org),
            _penalty(6, dt.date(2025, 6, 1), **org),
        ],
    )
    repaired = Record.objects.get(decision_date=dt.date(2025, 4, 1))
    add_mark(system, repaired, PublicityMark.Kind.REPAIRED, "信用修复已通过")
    withdraw_record(system, Record.objects.get(decision_date=dt.date(2025, 6, 1)), "决定被撤销")
    identify(system, a, "BLK_JUDGMENT_DEFAULTER", decided_on=dt.date(2025, 4, 10), today=TODAY)


def test_double_publicity_by_month_and_department(published):
    figure = statistics.double_publicity(TODAY)
    assert [c["code"] for c in figure["categories"]] == ["XK", "CF"]
    assert [c["total"] for c in figure["categories"]] == [0, 3]
    months = [r["month"] for r in figure["rows"]]
    assert (months[0], months[-1], len(months)) == ("2024-07", "2025-06", 12)
    rows = {r["month"]: r["counts"] for r in figure["rows"]}
    assert {m: c for m, c in rows.items() if any(c)} == {"2025-03": [0, 1], "2025-05": [0, 2]}
    scjg = Department.objects.get(code="ZB-SCJG").name
    assert figure["departments"] == [{"name": scjg, "counts": [0, 3], "total": 3}]


def test_list_counts_by_list_type(published):
    counts = {t["code"]: t["n"] for t in statistics.list_counts(TODAY)}
    assert counts["BLK_JUDGMENT_DEFAULTER"] == 1
    assert counts["RED_TAX_A"] == 0


def test_the_page_shows_counts_and_no_person(client, published):
    page = client.get("/statistics/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="double-month-chart"' in html and 'id="double-stats"' in html
    assert 'href="/statistics/"' in html  # in the site's navigation
    assert "王小明" not in html and "王*" not in html
    assert "style=" not in html
