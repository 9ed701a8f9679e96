"""The explanation page (scoring:explain, /console/scoring/subjects/<id>/): who may open it, its
lines and history, and a person's points only after a 查询事由, the look logged.

Hand-computed from the shipped scorecards: one 一般 penalty (5 万元) gives SCORE_PUBLIC 80 − 4 = 76,
B; a person with no facts has SCORE_PERSON's base 1000, A (960–1029)."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from pubcredit.accounts.models import AccessLog, Role
from pubcredit.scoring.services import compute_subjects
from pubcredit.subjects.models import Subject
from pubcredit.testing import portalkit
from pubcredit.testing.factories import make_regions, make_user
from pubcredit.testing.loadkit import make_uscc

pytestmark = pytest.mark.django_db


@pytest.fixture
def company(scorecards, system):
    uscc = make_uscc(8101)
    portalkit.submit(system, "CF", [portalkit.penalty(1, name="淄博评价明细有限公司", uscc=uscc)])
    subject = portalkit.subject_of(uscc)
    Subject.objects.filter(pk=subject.pk).update(region="370303")
    return subject


@pytest.fixture
def person(scorecards, system):
    from pubcredit.catalog.models import SubjectKind
    from pubcredit.subjects.services import register_subject
    from pubcredit.testing.checkkit import make_ric

    subject = register_subject(
        system, kind=SubjectKind.PERSON, name="吴明细", id_number=make_ric(801)
    )
    Subject.objects.filter(pk=subject.pk).update(region="370303")
    compute_subjects([subject.pk])
    return subject


def client_of(role: str, **fields) -> Client:
    client = Client()
    client.force_login(make_user(role, username=f"u_{role}_{len(fields)}", **fields))
    return client


def url(subject, scorecard: str | None = None) -> str:
    path = reverse("scoring:explain", kwargs={"subject_id": subject.pk})
    return f"{path}?scorecard={scorecard}" if scorecard else path


def test_the_url_is_under_the_console():
    assert url(Subject(pk=5)) == "/console/scoring/subjects/5/"


@pytest.mark.parametrize(
    "role", [Role.WINDOW_CLERK, Role.CENTRE_STAFF, Role.DEPARTMENT_CLERK, Role.PLATFORM_ADMIN]
)
def test_staff_see_an_organisations_lines_and_history(role, company, system):
    from pubcredit.catalog.models import Department

    fields = {"department": Department.objects.first()} if role == Role.DEPARTMENT_CLERK else {}
    response = client_of(role, **fields).get(url(company, "SCORE_PUBLIC"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "公共信用综合评价" in html and 'data-grade="B"' in html
    # The lines: base 80 and the 一般 penalty −4, its dimension and basis; the score 76.
    assert "一般行政处罚" in html and "守法守信" in html and "每条扣 4 分" in html
    assert '<td class="num">-4</td>' in html and '<td class="num">76</td>' in html
    assert "score-history" in html  # the grade history (one current result)
    assert not AccessLog.objects.exists()


def test_without_a_scorecard_the_general_one_is_explained(company):
    html = client_of(Role.WINDOW_CLERK).get(url(company)).content.decode()
    assert 'id="score-SCORE_PUBLIC"' in html


def test_an_unknown_scorecard_is_404_and_a_missing_result_says_not_evaluated(company):
    client = client_of(Role.WINDOW_CLERK)
    assert client.get(url(company, "NOPE")).status_code == 404
    response = client.get(url(company, "SECTOR_CONSTRUCTION"))
    assert response.status_code == 200 and 'id="not-evaluated"' in response.content.decode()


def test_roles_without_the_console_or_the_action_cannot_open_it(company):
    assert client_of(Role.BANK_USER).get(url(company)).status_code == 403
    assert client_of(Role.PUBLIC).get(url(company)).status_code == 403
    anonymous = Client().get(url(company))
    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]


def test_a_district_admin_sees_only_its_districts_subjects(company):
    regions = make_regions()
    own = client_of(Role.DISTRICT_ADMIN, district=regions.zhangdian)
    assert own.get(url(company)).status_code == 200
    other = Client()
    other.force_login(make_user(Role.DISTRICT_ADMIN, username="zichuan", district=regions.zichuan))
    assert other.get(url(company)).status_code == 404


def test_roles_without_the_person_permission_never_see_a_person(person):
    for role in (Role.WINDOW_CLERK, Role.DEPARTMENT_CLERK):
        from pubcredit.catalog.models import Department

        fields = {"department": Department.objects.first()} if role == "department_clerk" else {}
        response = client_of(role, **fields).get(url(person))
        assert response.status_code == 403
        assert "1000" not in response.content.decode()
    assert not AccessLog.objects.exists()


def test_a_persons_points_need_a_purpose_and_the_look_is_logged(person):
    client = client_of(Role.CENTRE_STAFF)
    page = client.get(url(person))
    html = page.content.decode()
    assert page.status_code == 200 and 'name="purpose"' in html
    assert "个人信用积分及明细" not in html and "score-explanation" not in html
    assert "吴**" in html and "吴明细" not in html  # masked
    assert not AccessLog.objects.exists()

    short = client.post(url(person), {"purpose": "看看"})
    assert "score-explanation" not in short.content.decode()
    assert not AccessLog.objects.exists()

    shown = client.post(url(person), {"purpose": "信用修复审核核实"})
    html = shown.content.decode()
    assert 'id="score-SCORE_PERSON"' in html and 'data-grade="A"' in html
    assert '<td class="num">1000</td>' in html
    assert "信用修复审核核实" in html
    looks = AccessLog.objects.filter(subject=person)
    # The explanation and the history, each logged with the purpose.
    assert looks.count() == 2
    assert set(looks.values_list("purpose", flat=True)) == {"信用修复审核核实"}
    assert {look.actor.role for look in looks} == {Role.CENTRE_STAFF}
