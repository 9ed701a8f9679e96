"""公共信用综合评价 (SCORE_PUBLIC): each shipped indicator on hand-computed fixtures, through the
real flow (records pushed through intake, entries identified, commitments assessed), judged on
today. Base 80, bounds 0–100; A ≥ 90, B ≥ 75, C ≥ 60, D below."""

from __future__ import annotations

import datetime as dt

import pytest

from pubcredit.testing import portalkit, scorekit
from pubcredit.testing.listkit import identify
from pubcredit.testing.loadkit import make_uscc
from pubcredit.testing.scorekit import result, sources

pytestmark = pytest.mark.django_db

CARD = "SCORE_PUBLIC"


def _penalties(system, uscc, *specs, name="淄博守信测试有限公司"):
    """CF rows for one organisation: specs are dicts of portalkit.penalty keywords."""
    rows = [portalkit.penalty(n, name=name, uscc=uscc, **spec) for n, spec in enumerate(specs, 1)]
    portalkit.submit(system, "CF", rows)
    return portalkit.subject_of(uscc)


def test_penalties_by_tier_fine_amount_and_cap(scorecards, system):
    # Tiers from the publicity rules: fine 0.2 万元 → 轻微, 5 → 一般, 150 → 严重 (≥ 100).
    subject = _penalties(
        system,
        make_uscc(101),
        {"fine": "0.2"},
        {"fine": "5"},
        {"fine": "6"},
        {"fine": "150"},
    )
    row = result(subject, CARD)
    # 轻微 −1; 一般 2 × −4; 严重 −10; 大额罚款: 150 万元 = 15 × 10 万 → −15, capped at −10
    # (a "cap" line of +5): 80 − 1 − 8 − 10 − 10 = 51 → D.
    assert sources(row) == {
        "CF_MINOR": [-1],
        "CF_GENERAL": [-4, -4],
        "CF_SERIOUS": [-10],
        "CF_LARGE_FINE": [-15, 5],
    }
    assert [c["source"] for c in row.contributions if c["indicator"] == "CF_LARGE_FINE"][1] == "cap"
    assert float(row.score) == 51 and row.grade == "D"


def test_suspension_reads_the_multi_value_penalty_types(scorecards, system):
    subject = _penalties(system, make_uscc(102), {"fine": "1", "types": "罚款、责令停产停业"})
    row = result(subject, CARD)
    # 一般 (罚款 1 万元 and 责令停产停业 are both 一般) −4, and 责令停产停业 −5: 71 → C.
    assert sources(row) == {"CF_GENERAL": [-4], "CF_SUSPENSION": [-5]}
    assert float(row.score) == 71 and row.grade == "C"


def test_window_counts_only_recent_penalties(scorecards, system):
    # 一般 penalties count 12 months: one 400 days old no longer does, one 300 days old does.
    subject = _penalties(
        system, make_uscc(103), {"fine": "5", "days_ago": 400}, {"fine": "5", "days_ago": 300}
    )
    row = result(subject, CARD)
    assert sources(row) == {"CF_GENERAL": [-4]}
    assert float(row.score) == 76 and row.grade == "B"


def test_registration_age_steps(scorecards, system, make_subject):
    from pubcredit.scoring.services import compute_subjects
    from pubcredit.subjects.models import Subject

    today = scorekit.today()
    ten_years = today.replace(year=today.year - 10)
    three_years = today.replace(year=today.year - 3)
    almost_three = three_years + dt.timedelta(days=1)
    made = {}
    for label, established in (
        ("ten", ten_years),
        ("three", three_years),
        ("almost", almost_three),
    ):
        subject = make_subject()
        Subject.objects.filter(pk=subject.pk).update(established_on=established)
        made[label] = subject
    compute_subjects([s.pk for s in made.values()])
    # ≥ 10 years +5; exactly 3 years today +2; one day short of 3 years: nothing.
    assert sources(result(made["ten"], CARD)) == {"REG_AGE": [5]}
    assert float(result(made["ten"], CARD).score) == 85
    assert sources(result(made["three"], CARD)) == {"REG_AGE": [2]}
    assert sources(result(made["almost"], CARD)) == {}
    assert float(result(made["almost"], CARD).score) == 80
    assert result(made["ten"], CARD).contributions[0]["source"] == f"subject:{made['ten'].pk}"


def test_red_lists_with_their_cap(scorecards, system, make_subject):
    subject = make_subject()
    today = scorekit.today()
    for code in ("RED_CONTRACT", "RED_INTEGRITY_MODEL", "RED_LABOUR_A"):
        identify(system, subject, code, decided_on=today - dt.timedelta(days=10), today=today)
    row = result(subject, CARD)
    # Three red-list entries × +5 = +15, held at +10 (a cap line of −5): 90 → A.
    assert sources(row)["LIST_RED"] == [5, 5, 5, -5]
    assert float(row.score) == 90 and row.grade == "A"


def test_watch_lists_and_the_abnormal_operation_downgrade(scorecards, system, make_subject):
    subject = make_subject()
    today = scorekit.today()
    decided = today - dt.timedelta(days=10)
    identify(system, subject, "RED_CONTRACT", decided_on=decided, today=today)
    identify(system, subject, "RED_INTEGRITY_MODEL", decided_on=decided, today=today)
    identify(system, subject, "WATCH_ABNORMAL_OPERATION", decided_on=decided, today=today)
    row = result(subject, CARD)
    # +10 red − 10 abnormal operation = 80 → B by the points, capped at C by DG_ABNORMAL.
    assert float(row.score) == 80
    assert (row.points_grade, row.grade) == ("B", "C")
    downgrade = next(c for c in row.contributions if c["indicator"] == "DG_ABNORMAL")
    assert downgrade == {
        "indicator": "DG_ABNORMAL",
        "points": 0,
        "source": downgrade["source"],
        "grade_cap": "C",
    }
    assert downgrade["source"].startswith("entry:")


def test_black_list_sets_d_whatever_the_points(scorecards, system, make_subject):
    from pubcredit.scoring.services import compute_subjects
    from pubcredit.subjects.models import Subject

    subject = make_subject()
    today = scorekit.today()
    Subject.objects.filter(pk=subject.pk).update(established_on=dt.date(2000, 1, 1))
    decided = today - dt.timedelta(days=10)
    for code in ("RED_CONTRACT", "RED_INTEGRITY_MODEL"):
        identify(system, subject, code, decided_on=decided, today=today)
    compute_subjects([subject.pk])
    assert (float(result(subject, CARD).score), result(subject, CARD).grade) == (95, "A")
    identify(system, subject, "BLK_WAGE_ARREARS", decided_on=decided, today=today)
    row = result(subject, CARD)
    # 80 + 5 (age) + 10 (red) − 30 (black) = 65 → C by the points; D by DG_BLACK.
    assert float(row.score) == 65
    assert (row.points_grade, row.grade) == ("C", "D")


def test_commitments_kept_and_broken(scorecards, system, make_subject):
    from pubcredit.commitments.assessment import assess_commitment
    from pubcredit.testing.commitkit import sign

    subject = make_subject()
    today = scorekit.today()
    kept = sign(subject, day=today, today=today)
    broken = sign(subject, day=today, today=today)
    assess_commitment(system, kept, "全部履行", reason="按期履行", today=today)
    assert sources(result(subject, CARD)) == {"CN_KEPT": [1]}
    assess_commitment(
        system,
        broken,
        "全部未履行",
        unfulfilled_content="未按承诺期限补齐材料",
        liability_enforced="撤销许可",
        reason="经核查未履行",
        today=today,
    )
    row = result(subject, CARD)
    # +1 kept, −5 broken, and the breach's watch-list entry (违背信用承诺重点关注对象) −5: 71 → C.
    assert sources(row) == {"LIST_WATCH_OTHER": [-5], "CN_KEPT": [1], "CN_BROKEN": [-5]}
    assert float(row.score) == 71 and row.grade == "C"
    assert {c["source"] for c in row.contributions if c["indicator"].startswith("CN_")} == {
        f"commitment:{kept.pk}",
        f"commitment:{broken.pk}",
    }


def test_tax_grade_is_read_as_given_latest_first(scorecards, system):
    from pubcredit.scoring.grades import given_grades

    uscc = make_uscc(104)
    name = "淄博纳税测试有限公司"
    scorekit.submit(
        system,
        "NSXYDJ",
        [scorekit.tax_grade(name=name, uscc=uscc, grade="A", year=2024, days_ago=400)],
        scorekit.TAX_DEPARTMENT,
    )
    subject = portalkit.subject_of(uscc)
    assert sources(result(subject, CARD)) == {"TAX_GRADE": [5]}
    assert result(subject, CARD).contributions[0]["value"] == "A"
    scorekit.submit(
        system,
        "NSXYDJ",
        [scorekit.tax_grade(name=name, uscc=uscc, grade="D", year=2025, days_ago=30)],
        scorekit.TAX_DEPARTMENT,
    )
    row = result(subject, CARD)
    # The latest grade (D, −10) replaces the older one: 70 → C.
    assert sources(row) == {"TAX_GRADE": [-10]}
    assert float(row.score) == 70 and row.grade == "C"
    given = given_grades([subject.pk])[subject.pk]
    assert [(g.category, g.category_name, g.grade) for g in given] == [
        ("NSXYDJ", "纳税信用等级", "D")
    ]


def test_social_organisation_grade(scorecards, system):
    uscc = make_uscc(105, "51")
    scorekit.submit(
        system,
        "SHZZPG",
        [scorekit.social_org_grade(1, name="淄博市慈善测试协会", uscc=uscc, grade="AAAA")],
        scorekit.CIVIL_DEPARTMENT,
    )
    row = result(portalkit.subject_of(uscc), CARD)
    # "AAAA" is the code list's synonym of 4A: +4 → 84, B.
    assert sources(row) == {"SOCIAL_ORG_GRADE": [4]}
    assert row.contributions[0]["value"] == "4A"
    assert float(row.score) == 84 and row.grade == "B"


def test_bounds_hold_the_score_within_0_and_100(scorecards, system, make_subject):
    from pubcredit.commitments.assessment import assess_commitment
    from pubcredit.scoring.services import compute_subjects
    from pubcredit.subjects.models import Subject
    from pubcredit.testing.commitkit import sign

    subject = make_subject()
    today = scorekit.today()
    Subject.objects.filter(pk=subject.pk).update(established_on=dt.date(2000, 1, 1))
    scorekit.submit(
        system,
        "NSXYDJ",
        [scorekit.tax_grade(name=subject.name, uscc=subject.uscc, grade="A")],
        scorekit.TAX_DEPARTMENT,
    )
    for code in ("RED_CONTRACT", "RED_INTEGRITY_MODEL"):
        identify(system, subject, code, decided_on=today - dt.timedelta(days=5), today=today)
    compute_subjects([subject.pk])
    row = result(subject, CARD)
    # 80 + 5 (age) + 5 (tax A) + 10 (red) = 100: exactly the maximum, no bounds line.
    assert float(row.score) == 100 and "_bounds" not in sources(row)
    commitment = sign(subject, day=today, today=today)
    assess_commitment(system, commitment, "全部履行", reason="按期履行", today=today)
    row = result(subject, CARD)
    # +1 more would be 101: the bounds line takes the 1 off.
    assert sources(row)["_bounds"] == [-1] and float(row.score) == 100


def test_the_explanation_names_each_source_as_a_reader_knows_it(scorecards, system):
    from pubcredit.scoring.services import explain

    uscc = make_uscc(131)
    subject = _penalties(system, uscc, {"fine": "5"})
    today = scorekit.today()
    identify(
        system,
        subject,
        "RED_CONTRACT",
        decided_on=today - dt.timedelta(days=10),
        today=today,
        document_number="淄市监认〔2026〕7号",
    )
    data = explain(subject)
    lines = {line["indicator"]: line for line in data["contributions"]}
    # The penalty: the category, the department that pushed it, its decision date (20 days
    # ago in portalkit.penalty) and the 决定书文号 of the row (n = 1), never the rest of its key.
    decided = (today - dt.timedelta(days=20)).isoformat()
    assert lines["CF_GENERAL"]["source_label"] == (
        f"行政处罚 · 淄博市市场监督管理局 · {decided} · 文书号 淄市监罚〔2026〕1号"
    )
    assert lines["LIST_RED"]["source_label"] == (
        f"守合同重信用企业 · 认定日期 {(today - dt.timedelta(days=10)).isoformat()}"
        " · 淄市监认〔2026〕7号"
    )
    # The lowest band has no floor and says so rather than printing None.
    assert data["bands"][-1]["min"] is None and data["bands"][0]["min"] == 90
