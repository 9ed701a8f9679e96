"""The dashboard's credit grade statistics (分级分类监管): grades of 公共信用综合评价 by district
and grades by scorecard (sector), counted for the principal's scope, on a small fixture:

    公共信用综合评价   A  B  C  D
    张店区 370303     2  1  0  1      (and a retired D of the first A: history, not counted)
    淄川区 370302     0  1  1  0
    未填写区划         0  0  0  1
    家政服务           1  0  1  0      (sector scorecard)
    个人信用积分       a person's AAA: never counted here
"""

from __future__ import annotations

import json
import re

import pytest
from django.test import Client

from pubcredit.accounts.models import Role
from pubcredit.accounts.permissions import Principal
from pubcredit.catalog.models import SubjectKind
from pubcredit.console.services import dashboard_stats
from pubcredit.subjects.models import Subject
from pubcredit.testing.scorekit import graded, scorecards  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db


@pytest.fixture
def grades(request):
    request.getfixturevalue("scorecards")  # the shipped scorecards (scorekit)

    def org(name, region):
        return Subject.objects.create(
            kind=SubjectKind.ORG, name=name, name_norm=name, region=region
        )

    a1, a2 = org("张店甲", "370303"), org("张店乙", "370303")
    b1, d1 = org("张店丙", "370303"), org("张店丁", "370303")
    b2, c1 = org("淄川甲", "370302"), org("淄川乙", "370302")
    d2 = org("无区划", "")
    for subject, grade in ((a1, "A"), (a2, "A"), (b1, "B"), (d1, "D"), (b2, "B"), (c1, "C")):
        graded(subject, "SCORE_PUBLIC", grade, 70)
    graded(d2, "SCORE_PUBLIC", "D", 10)
    graded(a1, "SCORE_PUBLIC", "D", 10, current=False)
    graded(a2, "SECTOR_HOUSEKEEPING", "A", 95)
    graded(c1, "SECTOR_HOUSEKEEPING", "C", 65)
    person = Subject.objects.create(kind=SubjectKind.PERSON, name="王五", name_norm="王五")
    graded(person, "SCORE_PERSON", "AAA", 1100)


def _rows(items):
    return [(i["name"], i["row"], i["total"]) for i in items]


def test_grades_by_district_and_by_sector(grades):
    stats = dashboard_stats(Principal.system())["grades"]
    assert stats["district_grades"] == ["A", "B", "C", "D"]
    assert _rows(stats["districts"]) == [
        ("未填写区划", [0, 0, 0, 1], 1),
        ("淄川区", [0, 1, 1, 0], 2),
        ("张店区", [2, 1, 0, 1], 4),
    ]
    assert stats["grades"] == ["A", "B", "C", "D"]
    assert _rows(stats["sectors"]) == [
        ("公共信用综合评价", [2, 2, 1, 2], 7),
        ("家政服务", [1, 0, 1, 0], 2),
    ]
    assert stats["total"] == 7


def test_a_district_administrator_counts_its_district(grades, django_user_model):
    from pubcredit.catalog.models import Region

    user = django_user_model.objects.create_user(
        "zd",
        password="Secret-pass-1",
        role=Role.DISTRICT_ADMIN,
        district=Region.objects.get(code="370302"),
    )
    stats = dashboard_stats(Principal.of(user))["grades"]
    assert _rows(stats["districts"]) == [("淄川区", [0, 1, 1, 0], 2)]
    assert _rows(stats["sectors"]) == [
        ("公共信用综合评价", [0, 1, 1, 0], 2),
        ("家政服务", [0, 0, 1, 0], 1),
    ]


def test_the_page_shows_the_tables_and_carries_the_chart_data(grades, django_user_model):
    user = django_user_model.objects.create_user(
        "centre", password="Secret-pass-1", role=Role.CENTRE_STAFF
    )
    client = Client()
    client.force_login(user)
    html = client.get("/console/").content.decode()
    assert 'id="grades-district-chart"' in html and 'id="grades-sector-chart"' in html
    row = re.search(r'<tr data-scorecard="SECTOR_HOUSEKEEPING">(.*?)</tr>', html).group(1)
    assert re.findall(r'<td class="num">(\d+)</td>', row) == ["1", "0", "1", "0", "2"]
    data = json.loads(
        re.search(
            r'<script id="dashboard-stats" type="application/json">(.*?)</script>', html
        ).group(1)
    )
    assert data["grades"]["districts"][2]["row"] == [2, 1, 0, 1]
