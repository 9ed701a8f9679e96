# ruff: noqa: F811 (pytest fixtures imported from the kits)
"""The console subject page shows the subject's credit grades (信用评价): each scorecard's current
grade, its explanation line by line, the history, and grades given by other authorities. A
natural person's 个人信用积分 only to a role with "subjects.view_person", after a 查询事由, and
every look at the points is logged.

Expected figures are computed by hand from pubcredit/scoring/data/scorecards/: 公共信用综合评价
(SCORE_PUBLIC) base 80, A ≥ 90, B ≥ 75, C ≥ 60; 家政服务信用评价 (SECTOR_HOUSEKEEPING) base 85,
A ≥ 90, B ≥ 80, C ≥ 60; 个人信用积分 (SCORE_PERSON) base 1000, A ≥ 960."""

import datetime as dt
import re

import pytest
from django.core.exceptions import PermissionDenied

from pubcredit.accounts.models import AccessLog, Role
from pubcredit.accounts.permissions import Principal
from pubcredit.testing import portalkit, scorekit
from pubcredit.testing.factories import make_world
from pubcredit.testing.loadkit import make_ric
from pubcredit.testing.scorekit import scorecards  # noqa: F401 (fixture)

ORG_NAME = "淄博信评示例有限公司"
PERSON_NAME = "李红"
PURPOSE = "行政审批信用核查"


@pytest.fixture(autouse=True)
def _fast_password_hasher(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def users(db):
    return make_world().users


@pytest.fixture
def company(scorecards, system, make_subject):
    """An organisation whose grades change three times, then gain a sector grade."""
    from pubcredit.scoring.services import compute_subjects
    from pubcredit.subjects.models import Subject

    subject = make_subject(name=ORG_NAME)
    Subject.objects.filter(pk=subject.pk).update(established_on=dt.date(2000, 1, 1))
    compute_subjects([subject.pk])  # 80 + 5 (成立满 10 年) = 85 → B
    portalkit.submit(
        system, "CF", [portalkit.penalty(1, name=ORG_NAME, uscc=subject.uscc, fine="5")]
    )  # 一般行政处罚 −4: 81 → B
    scorekit.submit(
        system,
        "NSXYDJ",
        [scorekit.tax_grade(name=ORG_NAME, uscc=subject.uscc, grade="B", days_ago=60)],
        scorekit.TAX_DEPARTMENT,
    )  # 纳税信用等级 B +2: 83 → B
    scorekit.submit(
        system,
        "JZFW",
        [scorekit.housekeeping(1, name=ORG_NAME, uscc=subject.uscc, kind="有效投诉")],
        scorekit.HOUSEKEEPING_DEPARTMENT,
    )  # 家政: 85 − 5 (有效投诉) − 10 (一般行政处罚) = 70 → C; SCORE_PUBLIC unchanged
    return subject


def page(client, user, subject, **post):
    client.force_login(user)
    url = f"/console/subjects/{subject.pk}/"
    response = client.post(url, post, REMOTE_ADDR="10.1.2.3") if post else client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def block(html: str, pattern: str) -> str:
    found = re.search(pattern, html, re.S)
    assert found, pattern
    return found.group(0)


def grades_part(html: str) -> str:
    """The grades section (it holds the explanations' own sections), up to the overview."""
    start = html.index('<section class="subject-grades" id="subject-grades">')
    end = min(
        i
        for i in (html.find('<section class="subject-section"', start), html.find("</main>", start))
        if i > 0
    )
    return html[start:end]


def cells(html: str) -> list[list[str]]:
    """The text of each body row's cells."""
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", html, re.S)
    out = []
    for row in rows:
        tds = re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
        if tds:
            out.append([" ".join(re.sub(r"<[^>]+>", " ", td).split()) for td in tds])
    return out


def test_organisation_page_shows_grades_explanation_history_and_given_grades(
    client, users, company, django_assert_max_num_queries
):
    client.force_login(users[Role.DEPARTMENT_CLERK])
    # The page without grades takes 14 queries here; the grades add 11 (the current results,
    # their scorecards, one explanation each, the history, 5 for the given grades, their
    # departments).
    with django_assert_max_num_queries(28):
        response = client.get(f"/console/subjects/{company.pk}/")
    html = response.content.decode()
    grades = grades_part(html)

    summary = cells(block(grades, r'<table class="stat-table grade-summary">.*?</table>'))
    today = scorekit.today().isoformat()
    assert summary == [
        ["公共信用综合评价", "B", "83", "第 1 版", today],
        ["家政服务信用评价", "C", "70", "第 1 版", today],
    ]

    explained = block(
        grades, r'<section class="score-explanation" id="score-SCORE_PUBLIC">.*?</section>'
    )
    lines = cells(block(explained, r'<table class="stat-table score-lines">.*?</table>'))
    assert [line[:3] for line in lines] == [
        ["", "基础分", "80"],
        ["基础信息", "成立年限", "5"],
        ["守法守信", "一般行政处罚", "-4"],
        ["履约践诺", "纳税信用等级", "2"],
    ]
    assert "满 10 年加 5 分" in explained  # the indicator's policy basis
    sector = block(
        grades, r'<section class="score-explanation" id="score-SECTOR_HOUSEKEEPING">.*?</section>'
    )
    lines = cells(block(sector, r'<table class="stat-table score-lines">.*?</table>'))
    assert [line[1:3] for line in lines] == [
        ["基础分", "85"],
        ["有效投诉", "-5"],
        ["行政处罚", "-10"],
    ]

    history = cells(block(grades, r'<table class="stat-table grade-history">.*?</table>'))
    # Latest first: the sector grade, then the three general results (85 → 81 → 83, all B).
    assert [row[1:] for row in history] == [
        ["家政服务信用评价", "第 1 版", "70", "C (当前)"],
        ["公共信用综合评价", "第 1 版", "83", "B (当前)"],
        ["公共信用综合评价", "第 1 版", "81", "B"],
        ["公共信用综合评价", "第 1 版", "85", "B"],
    ]
    assert '评价历史 <span class="count">4</span>' in grades

    given = cells(block(grades, r'<table class="stat-table given-grades">.*?</table>'))
    decided = (scorekit.today() - dt.timedelta(days=60)).isoformat()
    assert given == [["纳税信用等级", "B", decided, "—", "国家税务总局淄博市税务局"]]
    assert not AccessLog.objects.exists()  # an organisation's grades are not personal data


def test_an_unscored_organisation_says_so(client, users, scorecards, make_subject):
    subject = make_subject(name="淄博未评价示例有限公司")
    html = page(client, users[Role.WINDOW_CLERK], subject)
    assert 'id="subject-grades"' in html and "尚无信用评价结果" in html
    assert "grade-history" not in html and "given-grades" not in html


@pytest.fixture
def donor(scorecards, system):
    """A person with one blood donation: 1000 + 10 = 1010 → A."""
    from pubcredit.subjects.models import Subject
    from pubcredit.subjects.services import person_id_index

    ric = make_ric(611)
    scorekit.submit(
        system,
        "GYXW",
        [scorekit.welfare(1, name=PERSON_NAME, id_number=ric, kind="无偿献血", days_ago=30)],
        scorekit.WELFARE_DEPARTMENT,
    )
    return Subject.objects.get(id_index=person_id_index(ric))


@pytest.mark.parametrize("role", [Role.CENTRE_STAFF, Role.PLATFORM_ADMIN])
def test_a_persons_points_show_after_a_purpose_and_each_look_is_logged(client, users, donor, role):
    before = page(client, users[role], donor)
    assert 'id="subject-grades"' not in before and "1010" not in before
    assert not AccessLog.objects.exists()

    html = page(client, users[role], donor, purpose=PURPOSE)
    grades = grades_part(html)
    summary = cells(block(grades, r'<table class="stat-table grade-summary">.*?</table>'))
    assert [row[:3] for row in summary] == [["个人信用积分", "A", "1010"]]
    lines = cells(block(grades, r'<table class="stat-table score-lines">.*?</table>'))
    assert [line[:3] for line in lines] == [
        ["", "基础分", "1000"],
        ["社会责任与荣誉", "无偿献血", "10"],
    ]
    history = cells(block(grades, r'<table class="stat-table grade-history">.*?</table>'))
    assert [row[1:] for row in history] == [["个人信用积分", "第 1 版", "1010", "A (当前)"]]

    user = users[role]
    looks = {
        (g.actor, g.subject, g.purpose, g.client_address)
        for g in AccessLog.objects.filter(what__startswith="个人信用积分")
    }
    assert looks == {(user, donor, PURPOSE, "10.1.2.3")}
    assert sorted(AccessLog.objects.values_list("what", flat=True)) == sorted(
        [
            "身份证号",
            "信用记录、名单条目、信用核查和信用承诺",
            "个人信用积分及明细",
            "个人信用积分历史",
        ]
    )


@pytest.mark.parametrize("role", [Role.WINDOW_CLERK, Role.DEPARTMENT_CLERK])
def test_roles_without_the_person_permission_never_see_the_points(client, users, donor, role):
    for html in (
        page(client, users[role], donor),
        page(client, users[role], donor, purpose=PURPOSE),
    ):
        assert 'id="subject-grades"' not in html
        assert "1010" not in html and "个人信用积分" not in html
    assert not AccessLog.objects.exists()


def test_credit_grades_refuses_a_person_without_the_permission(users, donor):
    from pubcredit.console.subject_overview import credit_grades

    clerk = Principal.of(users[Role.WINDOW_CLERK])
    with pytest.raises(PermissionDenied):
        credit_grades(clerk, donor, purpose=PURPOSE)
    assert not AccessLog.objects.exists()
