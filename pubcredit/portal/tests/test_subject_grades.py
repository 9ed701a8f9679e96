# ruff: noqa: F811 (pytest fixtures imported from the kits)
"""The portal's subject page and GET /api/v1/public/subjects/{ref} show an organisation's public
credit grades (scorecards marked public) with the scorecard's name, the date and what the grades
mean; never a natural person's 个人信用积分, never a scorecard that is not public.

Expected figures by hand from pubcredit/scoring/data/scorecards/: 公共信用综合评价 base 80,
A ≥ 90, B ≥ 75, C ≥ 60; 家政服务信用评价 base 85, A ≥ 90, B ≥ 80, C ≥ 60."""

import re

import pytest

from pubcredit.testing import portalkit, scorekit
from pubcredit.testing.loadkit import make_ric, make_uscc
from pubcredit.testing.scorekit import scorecards  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db

API = "/api/v1/public"
NAME = "淄博公示评价示例有限公司"
USCC = make_uscc(631)
PERSON_ID = make_ric(632)


@pytest.fixture
def company(scorecards, system):
    portalkit.submit(system, "CF", [portalkit.penalty(1, name=NAME, uscc=USCC, fine="5")])
    scorekit.submit(
        system,
        "JZFW",
        [scorekit.housekeeping(1, name=NAME, uscc=USCC, kind="有效投诉")],
        scorekit.HOUSEKEEPING_DEPARTMENT,
    )
    scorekit.submit(
        system,
        "JZSC",
        [scorekit.construction(1, name=NAME, uscc=USCC)],
        scorekit.CONSTRUCTION_DEPARTMENT,
    )
    return portalkit.subject_of(USCC)


@pytest.fixture
def person(scorecards, system):
    from pubcredit.subjects.models import Subject
    from pubcredit.subjects.services import person_id_index

    portalkit.submit(
        system,
        "CF",
        [portalkit.penalty(2, name="赵公示", kind="自然人", id_number=PERSON_ID, fine="5")],
    )
    return Subject.objects.get(id_index=person_id_index(PERSON_ID))


def grades_section(html: str) -> str:
    found = re.search(
        r'<section class="subject-grades card" id="subject-grades">.*?</section>', html, re.S
    )
    assert found, "no grades section"
    return found.group(0)


def text(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def hide_construction():
    from pubcredit.scoring.models import Scorecard

    assert Scorecard.objects.filter(code="SECTOR_CONSTRUCTION").update(public=False) == 1


def test_the_page_shows_the_public_grades_with_their_date_and_meaning(client, company):
    from pubcredit.scoring.models import ScoreResult

    hide_construction()
    # Computed, but under a scorecard no longer public: never shown.
    assert ScoreResult.objects.filter(
        subject=company, scorecard__code="SECTOR_CONSTRUCTION", current=True
    ).exists()
    html = client.get(f"/subjects/{company.pk}/").content.decode()
    section = grades_section(html)
    items = re.findall(r'<li data-scorecard="([A-Z_]+)">(.*?)</li>', section, re.S)
    today = scorekit.today().isoformat()
    # 公共信用综合评价: 80 − 4 (一般行政处罚, 罚款 5 万元) = 76 → B.
    # 家政服务信用评价: 85 − 5 (有效投诉) − 10 (行政处罚) = 70 → C.
    assert [(code, text(body).split(" A ")[0]) for code, body in items] == [
        ("SCORE_PUBLIC", f"公共信用综合评价 B 评价日期 {today}"),
        ("SECTOR_HOUSEKEEPING", f"家政服务信用评价 C 评价日期 {today}"),
    ]
    assert 'data-grade="B"' in items[0][1] and 'data-grade="C"' in items[1][1]
    bands = re.sub(
        r"<[^>]+>", "", re.search(r'<p class="grade-bands">.*?</p>', items[0][1], re.S).group(0)
    )
    assert bands == (
        "A 优秀:90 分及以上;B 良好:75 分(含)至 90 分;C 一般:60 分(含)至 75 分;D 较差:60 分以下"
    )
    assert "建筑市场信用评价" not in html and "SECTOR_CONSTRUCTION" not in html


def test_the_api_gives_the_same_public_grades(client, company):
    hide_construction()
    body = client.get(f"{API}/subjects/{company.pk}").json()
    today = scorekit.today().isoformat()
    assert [
        (g["scorecard"], g["scorecard_name"], g["sector"], g["grade"], g["as_of"])
        for g in body["grades"]
    ] == [
        ("SCORE_PUBLIC", "公共信用综合评价", "", "B", today),
        ("SECTOR_HOUSEKEEPING", "家政服务信用评价", "housekeeping", "C", today),
    ]
    assert body["grades"][1]["bands"] == [
        {"grade": "A", "name": "优秀", "range": "90 分及以上"},
        {"grade": "B", "name": "良好", "range": "80 分(含)至 90 分"},
        {"grade": "C", "name": "一般", "range": "60 分(含)至 80 分"},
        {"grade": "D", "name": "较差", "range": "60 分以下"},
    ]


def test_a_public_sector_scorecard_is_shown(client, company):
    body = client.get(f"{API}/subjects/{company.pk}").json()
    assert [g["scorecard"] for g in body["grades"]] == [
        "SCORE_PUBLIC",
        "SECTOR_HOUSEKEEPING",
        "SECTOR_CONSTRUCTION",
    ]


def test_an_unscored_organisation_shows_no_grade(client, scorecards, make_subject):
    subject = make_subject(name="淄博无评价示例有限公司")
    html = client.get(f"/subjects/{subject.pk}/").content.decode()
    assert 'id="subject-grades"' not in html
    assert client.get(f"{API}/subjects/{subject.pk}").json()["grades"] == []


@pytest.mark.parametrize("marked_public", [False, True])
def test_a_persons_points_are_never_shown(client, person, marked_public):
    from pubcredit.accounts.models import AccessLog
    from pubcredit.publicity.public import subject_ref
    from pubcredit.scoring.models import Scorecard, ScoreResult

    # 1000 − 20 (一般违法行为的行政处罚) = 980: computed, never public.
    row = ScoreResult.objects.get(subject=person, current=True)
    assert (row.scorecard.code, float(row.score)) == ("SCORE_PERSON", 980)
    if marked_public:  # even a scorecard wrongly marked public never shows a person's points
        Scorecard.objects.filter(code="SCORE_PERSON").update(public=True)
    ref = subject_ref(person)
    html = client.get(f"/subjects/{ref}/").content.decode()
    assert "赵**" in html  # the person's page itself is shown
    assert 'id="subject-grades"' not in html and "个人信用积分" not in html and "980" not in html
    body = client.get(f"{API}/subjects/{ref}").json()
    assert body["subject"]["name"] == "赵**" and body["grades"] == []
    assert not AccessLog.objects.exists()
