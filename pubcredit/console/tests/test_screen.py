"""信用大数据可视化: each figure of the big screen against hand-counted data written through the
real writers (the register, intake, withdrawal, the lists services), the cache, who may open
it, and the JSON endpoint the page refreshes from."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from django.core.cache import cache
from django.test import Client
from django.utils import timezone

from pubcredit.catalog.models import SubjectKind
from pubcredit.console import screen
from pubcredit.lists.models import ListEntry
from pubcredit.lists.services import remove_entry
from pubcredit.records.models import Record
from pubcredit.records.services import withdraw_record
from pubcredit.subjects.services import register_subject
from pubcredit.testing.listkit import identify, make_uscc
from pubcredit.testing.portalkit import penalty, submit

pytestmark = pytest.mark.django_db

TODAY = dt.date(2025, 6, 15)
_serial = itertools.count(9100)


def register(system, kind: str = SubjectKind.ORG):
    """A subject registered as the console and the admin do (a company of 张店区, 370303, by
    its USCC; a person by passport number, so without a district)."""
    n = next(_serial)
    if kind == SubjectKind.PERSON:
        return register_subject(
            system, kind=kind, name=f"张{n}", id_number=f"E{n:08d}", id_type="护照号"
        )
    return register_subject(system, kind=kind, name=f"淄博大屏{n}有限公司", uscc=make_uscc(n))


def _penalty(n: int, subject, decided: dt.date, violation: str = "销售过期食品") -> dict:
    row = penalty(9100 + n, name=subject.name, uscc=subject.uscc)
    return {
        **row,
        "CF_JDRQ": decided.isoformat(),
        "CF_YXQ": (decided + dt.timedelta(days=365)).isoformat(),
        "CF_WFXW": violation,
    }


@pytest.fixture
def city(system, seeded):
    """Two companies of 张店区 (370303) and a person without a region.

    行政处罚 of 市市场监管局 through intake: A 2025-03-02 销售过期食品, A 2025-05-10 销售过期食品,
    B 2025-05-20 无证经营, A 2024-01-05 销售过期食品 (before the 12 months shown), B 2025-05-25
    无证经营 then withdrawn. Lists: A black-listed 2025-04-10 (in force); B red-listed 2025-05-05,
    removed 2025-06-02.
    """
    cache.clear()
    a, b = register(system), register(system)
    register(system, SubjectKind.PERSON)
    submit(
        system,
        "CF",
        [
            _penalty(1, a, dt.date(2025, 3, 2)),
            _penalty(2, a, dt.date(2025, 5, 10)),
            _penalty(3, b, dt.date(2025, 5, 20), "无证经营"),
            _penalty(4, a, dt.date(2024, 1, 5)),
            _penalty(5, b, dt.date(2025, 5, 25), "无证经营"),
        ],
    )
    gone = Record.objects.get(subject=b, decision_date=dt.date(2025, 5, 25))
    withdraw_record(system, gone, "处罚决定被撤销")
    identify(system, a, "BLK_JUDGMENT_DEFAULTER", decided_on=dt.date(2025, 4, 10))
    red = identify(system, b, "RED_TAX_A", decided_on=dt.date(2025, 5, 5))
    remove_entry(system, red, "测试移出")
    ListEntry.objects.filter(pk=red.pk).update(
        status_changed_at=timezone.make_aware(dt.datetime(2025, 6, 2, 10))
    )
    yield a, b
    cache.clear()


def test_totals(city):
    t = screen.totals(TODAY)
    assert {s["code"]: s["count"] for s in t["subjects"]} == {"org": 2, "ind": 0, "person": 1}
    records = {r["code"]: r["count"] for r in t["records"]}
    assert records["CF"] == 4  # the withdrawn one is not counted
    assert t["records"][0]["url"].endswith("?category=" + t["records"][0]["code"])
    assert t["entries_in_force"] == 1
    assert (t["checks_today"], t["checks_month"], t["commitments"], t["repairs"]) == (0, 0, 0, 0)


def test_records_by_month_covers_the_last_twelve_months(city):
    figure = screen.records_by_month(TODAY)
    assert figure["months"][0] == "2024-07" and figure["months"][-1] == "2025-06"
    counts = dict(zip(figure["months"], figure["counts"], strict=True))
    assert {m: n for m, n in counts.items() if n} == {"2025-03": 1, "2025-05": 2}


def test_a_decision_dated_later_this_month_counts_in_this_month(city, system):
    # Changed definition: the trend is read from the kept counts by decision month, so the
    # month of the day asked about counts whole: asked about a past day, a decision later in
    # that month counts (it used to be left out). Asked about today nothing changes: intake
    # refuses decision dates after the receipt (date_future).
    b = Record.objects.get(decision_date=dt.date(2025, 5, 20)).subject
    submit(system, "CF", [_penalty(6, b, dt.date(2025, 6, 20))])
    counts = screen.records_by_month(TODAY)["counts"]
    assert counts[-1] == 1  # 2025-06


def test_districts_compare_subjects_records_and_entries(city):
    # Records count in the district their subject had when they were written (bulletins.
    # tallies); A and B were in 张店 throughout, so the figure is the same as by their district
    # now.
    rows = {d["code"]: d for d in screen.districts(TODAY)["districts"]}
    zhangdian = rows["370303"]
    assert (zhangdian["subjects"], zhangdian["records"], zhangdian["entries"]) == (2, 4, 1)
    assert zhangdian["url"] == "/console/lists/?region=370303&status=published"
    others = [d for code, d in rows.items() if code != "370303"]
    assert others and all(d["subjects"] == d["records"] == d["entries"] == 0 for d in others)


def test_top_violation_types(city):
    figure = screen.violation_types(TODAY)
    assert figure["items"] == [
        {"label": "销售过期食品", "count": 3},
        {"label": "无证经营", "count": 1},
    ]
    assert figure["url"] == "/console/intake/?category=CF"


def test_red_and_black_list_movements(city):
    figure = screen.list_movements(TODAY)
    months = figure["months"]
    by_kind = {s["kind"]: s for s in figure["series"]}
    black, red = by_kind["black"], by_kind["red"]
    assert {months[i]: n for i, n in enumerate(black["added"]) if n} == {"2025-04": 1}
    assert not any(black["removed"])
    assert {months[i]: n for i, n in enumerate(red["added"]) if n} == {"2025-05": 1}
    assert {months[i]: n for i, n in enumerate(red["removed"]) if n} == {"2025-06": 1}
    assert red["url"] == "/console/lists/?kind=red"


def test_the_figures_are_cached_for_a_minute(city, system, django_assert_num_queries):
    first = screen.screen_data(TODAY)
    register(system)
    with django_assert_num_queries(0):
        again = screen.screen_data(TODAY)
    assert again["totals"]["subjects"] == first["totals"]["subjects"]


def test_only_staff_who_see_every_row_open_the_screen(staff, city):
    for name, status in [("centre", 200), ("admin", 200), ("clerk", 403), ("district", 403)]:
        user, _principal = staff[name]
        client = Client()
        client.force_login(user)
        assert client.get("/console/screen/").status_code == status, name
        assert client.get("/console/screen/data.json").status_code == status, name
    user, _principal = staff["centre"]
    client = Client()
    client.force_login(user)
    data = client.get("/console/screen/data.json").json()
    assert set(data) >= {
        "totals",
        "records_by_month",
        "districts",
        "violation_types",
        "department_ranking",
    }
    page = client.get("/console/screen/").content.decode()
    assert 'id="chart-departments"' in page and "及时率 = " in page
    assert "style=" not in page and "<script>" not in page
