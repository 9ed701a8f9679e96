"""The portal's 数据统计: 双公示 records public today, by month and by department, and the list
entries in force by list type — public data only, no person, cached."""

from __future__ import annotations

import datetime as dt

import pytest

from pubcredit.catalog.models import Department, SubjectKind
from pubcredit.portal import statistics
from pubcredit.testing.listkit import identify, make_public_penalty

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("seeded")]

TODAY = dt.date(2025, 6, 15)


@pytest.fixture
def published(system, make_subject):
    """行政处罚 of 市市场监管局 (ZB-SCJG): public since 2025-03-02, 2025-05-10, 2025-05-20 (a
    person's), 2024-01-05 (before the 12 months); one shown 2025-04-01..2025-05-01 (ended); one
    不予公示. One 失信被执行人 entry in force."""
    a = make_subject()
    person = make_subject(SubjectKind.PERSON, name="王小明")
    make_public_penalty(a, start=dt.date(2025, 3, 2))
    make_public_penalty(a, start=dt.date(2025, 5, 10))
    make_public_penalty(person, start=dt.date(2025, 5, 20))
    make_public_penalty(a, start=dt.date(2024, 1, 5))
    make_public_penalty(a, start=dt.date(2025, 4, 1), end=dt.date(2025, 5, 1))
    make_public_penalty(a, start=dt.date(2025, 6, 1), state="not_published")
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
