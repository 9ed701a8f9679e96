"""Credit grades in credit checks (issue 17, "Uses"): the API, the CLI, batch checks and the window
page show the subject's current grade with its scorecard, version and date; 未评价 when never
evaluated; a person's 个人信用积分 only to staff allowed to see persons, and that look logged.

The grades are hand-computed from pubcredit/scoring/data/scorecards: SCORE_PUBLIC gives base 80,
−4 per 一般 penalty in the last 12 months (a 5 万元 fine is 一般), bands A ≥ 90, B ≥ 75, C ≥ 60, so
an organisation registered by its one penalty (no 成立日期: no points for age) has 76, B.
SCORE_PERSON gives base 1000, A from 960 to 1029: a person with no facts has 1000, A."""

from __future__ import annotations

import io
import json

import polars as pl
import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from pubcredit.accounts.models import AccessLog
from pubcredit.checks.models import CreditCheck
from pubcredit.testing import portalkit, scorekit
from pubcredit.testing.checkkit import (  # noqa: F401 (fixtures)
    accounts_fixture,
    person_fixture,
)
from pubcredit.testing.loadkit import make_uscc
from pubcredit.testing.scorekit import scorecards  # noqa: F401 (fixture)

pytestmark = pytest.mark.usefixtures("seeded", "scorecards")

URL = "/api/v1/checks"


def bearer(clear: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {clear}"}


def post(client, body, clear=None):
    extra = bearer(clear) if clear else {}
    return client.post(URL, json.dumps(body), content_type="application/json", **extra)


def graded_org(system, n: int, name: str):
    """An organisation registered by one 一般 penalty (fine 5 万元, 20 days ago): 76, B."""
    uscc = make_uscc(7000 + n)
    portalkit.submit(system, "CF", [portalkit.penalty(n, name=name, uscc=uscc)])
    return portalkit.subject_of(uscc)


def graded_person(person):
    from pubcredit.scoring.services import compute_subjects

    subject, ric = person(name="孙积分")
    compute_subjects([subject.pk])
    return subject, ric


# --------------------------------------------------------------------------- API


def test_the_answer_carries_the_general_grade_with_its_scorecard_and_date(system, accounts):
    from pubcredit.checks.api import CheckOut

    company = graded_org(system, 1, "淄博评价核查甲有限公司")
    client, clear = Client(), accounts["bank"][1]
    data = post(client, {"uscc": company.uscc, "matter": "FINANCING"}, clear).json()
    grade = data["grade"]
    assert {k: grade[k] for k in ("scorecard", "scorecard_name", "version", "grade")} == {
        "scorecard": "SCORE_PUBLIC",
        "scorecard_name": "公共信用综合评价",
        "version": 1,
        "grade": "B",
    }
    assert grade["score"] == 76 and grade["points_grade"] == "B" and grade["public"] is True
    assert grade["as_of"] == scorekit.today().isoformat()
    assert grade["computed_at"].startswith(scorekit.today().isoformat())
    assert data["sector_grades"] == []
    assert data["hits"]  # the penalty is public: the same check reports it
    assert CheckOut.model_validate(data).model_dump(mode="json") == data
    # Reading the check back gives the grade as it was shown.
    again = client.get(f"{URL}/{data['id']}", **bearer(clear)).json()
    assert again["grade"] == grade


def test_a_subject_never_evaluated_has_no_grade(accounts, make_subject):
    client, clear = Client(), accounts["bank"][1]
    data = post(client, {"uscc": make_subject().uscc, "matter": "FINANCING"}, clear).json()
    assert data["grade"] is None and data["sector_grades"] == []
    unknown = make_uscc(999_999)
    data = post(client, {"uscc": unknown, "matter": "FINANCING"}, clear).json()
    assert data["match"] == "not_found" and data["grade"] is None


def test_sector_grades_come_with_the_general_one(system, accounts):
    # One 有效投诉 (家政): SECTOR_HOUSEKEEPING base 85 − 5 = 80 → B (B ≥ 80).
    uscc = make_uscc(7100)
    row = scorekit.housekeeping(1, name="淄博家政核查有限公司", uscc=uscc)
    scorekit.submit(system, "JZFW", [row], scorekit.HOUSEKEEPING_DEPARTMENT)
    company = portalkit.subject_of(uscc)
    data = post(Client(), {"uscc": company.uscc, "matter": "FINANCING"}, accounts["bank"][1])
    data = data.json()
    assert data["grade"]["scorecard"] == "SCORE_PUBLIC" and data["grade"]["grade"] == "B"
    assert [(g["scorecard"], g["score"], g["grade"]) for g in data["sector_grades"]] == [
        ("SECTOR_HOUSEKEEPING", 80, "B")
    ]
    assert data["sector_grades"][0]["sector_name"] == "家政服务"


def test_the_grade_is_read_in_the_checks_one_statement(
    system, accounts, make_subject, django_assert_num_queries
):
    """Still one read and one write (and the key's revocation generation) with a grade."""
    client, clear = Client(), accounts["bank"][1]
    assert post(client, {"uscc": make_subject().uscc, "matter": "FINANCING"}, clear).status_code
    company = graded_org(system, 2, "淄博评价核查乙有限公司")
    with django_assert_num_queries(3):
        response = post(client, {"uscc": company.uscc, "matter": "FINANCING"}, clear)
    assert response.json()["grade"]["grade"] == "B"


# --------------------------------------------------------------------------- persons


@pytest.mark.parametrize("caller", ["bank", "system", "clerk"])
def test_a_persons_points_are_not_shown_to_banks_systems_and_window_clerks(
    caller, person, accounts
):
    subject, ric = graded_person(person)
    client = Client()
    if caller == "clerk":
        client.force_login(accounts["clerk"])
        response = post(client, {"id_number": ric, "matter": "FINANCING"})
    else:
        response = post(client, {"id_number": ric, "matter": "FINANCING"}, accounts[caller][1])
    data = response.json()
    assert response.status_code == 200 and data["subject"]["id"] == subject.pk
    assert data["grade"] is None and data["sector_grades"] == []
    assert "SCORE_PERSON" not in json.dumps(data)
    assert "SCORE_PERSON" not in json.dumps(CreditCheck.objects.get().result)
    assert not AccessLog.objects.exists()


def test_centre_staff_see_a_persons_points_and_the_look_is_logged(person, accounts):
    subject, ric = graded_person(person)
    client = Client()
    client.force_login(accounts["centre"])
    data = post(client, {"id_number": ric, "matter": "FINANCING"}).json()
    grade = data["grade"]
    assert (grade["scorecard"], grade["score"], grade["grade"]) == ("SCORE_PERSON", 1000, "A")
    assert grade["public"] is False
    assert ric not in json.dumps(data, ensure_ascii=False)
    look = AccessLog.objects.get()
    assert look.subject_id == subject.pk and look.actor == accounts["centre"]
    assert look.purpose == "信用核查:融资信贷"
    assert "个人信用积分" in look.what
    # The check row is logged with it, and shows what was shown.
    assert CreditCheck.objects.get().result["grade"]["score"] == 1000


def test_a_person_never_evaluated_logs_no_look(person, accounts):
    _subject, ric = person(name="周未评")
    client = Client()
    client.force_login(accounts["centre"])
    data = post(client, {"id_number": ric, "matter": "FINANCING"}).json()
    assert data["grade"] is None
    assert not AccessLog.objects.exists()


# --------------------------------------------------------------------------- CLI


def test_the_cli_prints_the_grade(system, capsys):
    from pubcredit.checks.tests.test_check_cli import cli

    company = graded_org(system, 3, "淄博评价命令行有限公司")
    code, out, err = cli(capsys, "--uscc", company.uscc, "--matter", "FINANCING")
    assert code == 0, err
    today = scorekit.today().isoformat()
    assert (
        f"[信用等级] B — 公共信用综合评价(SCORE_PUBLIC 第 1 版),得分 76,评价基准日 {today}" in out
    )
    code, out, err = cli(capsys, "--uscc", company.uscc, "--matter", "FINANCING", "--json")
    assert json.loads(out)["grade"]["grade"] == "B"


def test_the_cli_says_not_evaluated_and_never_shows_a_persons_points(make_subject, person, capsys):
    from pubcredit.checks.tests.test_check_cli import cli

    code, out, _err = cli(capsys, "--uscc", make_subject().uscc, "--matter", "FINANCING")
    assert code == 0 and "[信用等级] 未评价" in out
    _subject, ric = graded_person(person)
    code, out, _err = cli(capsys, "--id-number", ric, "--matter", "FINANCING")
    assert code == 0 and "个人信用积分不公开" in out and "1000" not in out
    assert not AccessLog.objects.exists()


# --------------------------------------------------------------------------- batch


def test_batch_results_have_the_grade_columns_read_set_based(
    system, make_subject, person, accounts, django_capture_on_commit_callbacks
):
    graded = graded_org(system, 4, "淄博评价批量甲有限公司")
    other = graded_org(system, 5, "淄博评价批量乙有限公司")
    never = make_subject(name="淄博评价批量未评有限公司")
    _somebody, ric = graded_person(person)
    csv = (
        f"统一社会信用代码,事项\n{graded.uscc},FINANCING\n{never.uscc},FINANCING\n"
        f"{ric},FINANCING\n{other.uscc},FINANCING\n"
    ).encode()
    client, clear = Client(), accounts["bank"][1]
    f = io.BytesIO(csv)
    f.name = "评价.csv"
    with (
        CaptureQueriesContext(connection) as queries,
        django_capture_on_commit_callbacks(execute=True),
    ):
        response = client.post(f"{URL}/batches", {"file": f}, **bearer(clear))
    assert response.status_code == 200, response.content
    # One query for every grade of the batch, not one per row.
    assert sum("scoring_scoreresult" in q["sql"] for q in queries.captured_queries) == 1
    batch_id = response.json()["id"]
    got = client.get(f"{URL}/batches/{batch_id}/result", **bearer(clear))
    rows = pl.read_csv(io.BytesIO(b"".join(got.streaming_content)), infer_schema_length=0)
    rows = rows.to_dicts()
    today = scorekit.today().isoformat()
    assert [r["信用等级"] for r in rows] == [
        "B",
        "未评价",
        "个人信用积分不公开,不在批量核查结果中显示",
        "B",
    ]
    assert rows[0]["信用评价"] == "公共信用综合评价(第 1 版,得分 76)"
    assert rows[0]["评价基准日"] == today and not rows[1]["评价基准日"]
    assert "1000" not in json.dumps(rows, ensure_ascii=False)
    logged = {c.subject_id: c.result for c in CreditCheck.objects.filter(batch_id=batch_id)}
    assert logged[graded.pk]["grade"]["score"] == 76 and logged[graded.pk]["sector_grades"] == []
    assert logged[never.pk]["grade"] is None
    assert all(r["grade"] is None for sid, r in logged.items() if sid not in (graded.pk, other.pk))
    assert not AccessLog.objects.exists()


# --------------------------------------------------------------------------- window page


def test_the_window_page_shows_the_grade_and_links_its_explanation(system, accounts):
    company = graded_org(system, 6, "淄博评价窗口有限公司")
    client = Client()
    client.force_login(accounts["clerk"])
    response = client.post(
        "/console/checks/", {"query": company.uscc, "matter": "FINANCING"}, follow=True
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-grade="B"' in html and "公共信用综合评价" in html
    assert scorekit.today().isoformat() in html
    link = f"/console/scoring/subjects/{company.pk}/?scorecard=SCORE_PUBLIC"
    assert f'href="{link}"' in html and "查看评价明细" in html
    explanation = client.get(link)
    assert explanation.status_code == 200
    assert "一般行政处罚" in explanation.content.decode()
    # The print sheet shows the grade without the link.
    check = CreditCheck.objects.get()
    sheet = client.get(f"/console/checks/{check.pk}/print/").content.decode()
    assert 'data-grade="B"' in sheet and link not in sheet


def test_the_window_page_says_not_evaluated_and_hides_a_persons_points(
    make_subject, person, accounts
):
    client = Client()
    client.force_login(accounts["clerk"])
    html = client.post(
        "/console/checks/", {"query": make_subject().uscc, "matter": "FINANCING"}, follow=True
    ).content.decode()
    assert "grade-none" in html and "未评价" in html and "查看评价明细" not in html
    _subject, ric = graded_person(person)
    html = client.post(
        "/console/checks/", {"query": ric, "matter": "FINANCING"}, follow=True
    ).content.decode()
    assert "个人信用积分不向社会公开,仅向有权查看自然人信息的工作人员显示" in html
    assert "data-grade" not in html and "查看评价明细" not in html


def test_a_check_logged_before_grades_shows_no_grade_section(accounts, make_subject):
    client = Client()
    client.force_login(accounts["clerk"])
    client.post("/console/checks/", {"query": make_subject().uscc, "matter": "FINANCING"})
    check = CreditCheck.objects.get()
    assert 'id="check-grade"' in client.get(f"/console/checks/{check.pk}/").content.decode()
    old = {k: v for k, v in check.result.items() if k not in ("grade", "sector_grades")}
    CreditCheck.objects.filter(pk=check.pk).update(result=old)
    html = client.get(f"/console/checks/{check.pk}/").content.decode()
    assert 'id="check-grade"' not in html and "未评价" not in html
    api = client.get(f"{URL}/{check.pk}").json()  # the API reads it with an empty grade
    assert api["grade"] is None and api["sector_grades"] == []
