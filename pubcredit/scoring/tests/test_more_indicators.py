"""The shipped indicators the scorecard tests did not yet check line by line, each on a small
hand-computed fixture through the real flow (records pushed through intake, entries identified,
commitments assessed), judged on today. The expected points, scores and grades are written from
the numbers of pubcredit/scoring/data/scorecards/*.json:

- SCORE_PUBLIC: base 80, bounds 0–100; A ≥ 90, B ≥ 75, C ≥ 60, D below; 经营异常名录 −10
  (cap 10) and at most C; 限制高消费 −15 (cap 15); 其他重点关注名单 −5 each (cap 10); 严重失信
  主体名单 −30 (cap 30) and D.
- SCORE_PERSON: base 1000; AAA ≥ 1050, AA ≥ 1030, A ≥ 960, B ≥ 850, C ≥ 600; 一般 penalty −20
  (12 months, cap 120; the 2nd and later of the same offence ×2); 信用承诺履约 +2 (cap 10);
  违背信用承诺 −20 (cap 60).
- SECTOR_CONSTRUCTION: base 80; 良好行为 +3; 拖欠农民工工资失信 −20 (cap 20); 红榜 +5; a black
  list → D. SECTOR_HOUSEKEEPING: base 85; A ≥ 90, B ≥ 80, C ≥ 60; 服务好评 +1; a black list → D.
"""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pubcredit.testing import portalkit, scorekit
from pubcredit.testing.listkit import identify
from pubcredit.testing.loadkit import make_ric, make_uscc
from pubcredit.testing.scorekit import result, sources

pytestmark = pytest.mark.django_db

PUBLIC = "SCORE_PUBLIC"
PERSON = "SCORE_PERSON"
HOUSEKEEPING = "SECTOR_HOUSEKEEPING"
CONSTRUCTION = "SECTOR_CONSTRUCTION"
FOOD = "违反《中华人民共和国食品安全法》"
TRAFFIC = "违反《中华人民共和国道路交通安全法》"


def _decided() -> dt.date:
    return scorekit.today() - dt.timedelta(days=10)


def _list(system, subject, *codes):
    for code in codes:
        identify(system, subject, code, decided_on=_decided(), today=scorekit.today())


# --------------------------------------------------------------------------- 公共信用综合评价


def test_restricted_consumption_of_an_organisation(scorecards, system, make_subject):
    subject = make_subject()
    _list(system, subject, "WATCH_CONSUMPTION_RESTRICTED")
    row = result(subject, PUBLIC)
    # 80 − 15 = 65 → C; no direct downgrade for an organisation (DG_P_RESTRICTED is a person's).
    assert sources(row) == {"LIST_RESTRICTED": [-15]}
    assert float(row.score) == 65 and (row.points_grade, row.grade) == ("C", "C")
    assert row.contributions[0]["source"].startswith("entry:")


def test_abnormal_operation_points_and_the_other_watch_lists_cap(scorecards, system, make_subject):
    abnormal, watched = make_subject(), make_subject()
    _list(system, abnormal, "WATCH_ABNORMAL_OPERATION")
    row = result(abnormal, PUBLIC)
    # 80 − 10 = 70 → C, which the C cap of DG_ABNORMAL leaves as it is.
    assert sources(row) == {"LIST_ABNORMAL": [-10], "DG_ABNORMAL": [0]}
    assert float(row.score) == 70 and row.grade == "C"
    _list(system, watched, "WATCH_ENV_YELLOW")
    assert sources(result(watched, PUBLIC)) == {"LIST_WATCH_OTHER": [-5]}
    assert float(result(watched, PUBLIC).score) == 75


def test_black_list_points_of_an_organisation(scorecards, system, make_subject):
    subject = make_subject()
    _list(system, subject, "BLK_JUDGMENT_DEFAULTER")
    row = result(subject, PUBLIC)
    # 80 − 30 = 50 → D by the points and by DG_BLACK.
    assert sources(row) == {"LIST_BLACK": [-30], "DG_BLACK": [0]}
    assert float(row.score) == 50 and (row.points_grade, row.grade) == ("D", "D")
    # A second black-list entry: −60 held at the cap of −30 (a cap line of +30).
    _list(system, subject, "BLK_WAGE_ARREARS")
    row = result(subject, PUBLIC)
    assert sorted(sources(row)["LIST_BLACK"]) == [-30, -30, 30]
    assert float(row.score) == 50 and row.grade == "D"


# --------------------------------------------------------------------------- 个人信用积分


def _person(ric: str):
    from pubcredit.subjects.models import Subject
    from pubcredit.subjects.services import person_id_index

    return Subject.objects.get(id_index=person_id_index(ric))


def _person_penalty(n, ric, *, days_ago, violation=FOOD):
    # A fine of 0.5 万元 is a 一般 penalty of a person under the publicity rules.
    row = portalkit.penalty(
        n, name="赵一般", kind="自然人", id_number=ric, days_ago=days_ago, fine="0.5"
    )
    row["CF_WFXW"] = violation
    return row


def test_general_penalties_of_a_person_and_their_repeat(scorecards, system):
    from pubcredit.publicity.models import Publicity

    ric = make_ric(401)
    portalkit.submit(system, "CF", [_person_penalty(1, ric, days_ago=60)])
    person = _person(ric)
    assert set(Publicity.objects.filter(subject=person).values_list("tier", flat=True)) == {
        "general"
    }
    row = result(person, PERSON)
    # 1000 − 20 = 980 → A.
    assert sources(row) == {"P_CF_GENERAL": [-20]}
    assert float(row.score) == 980 and row.grade == "A"
    portalkit.submit(
        system,
        "CF",
        [
            _person_penalty(2, ric, days_ago=30),  # the same offence again: −40
            _person_penalty(3, ric, days_ago=20, violation=TRAFFIC),  # another one: −20
            _person_penalty(4, ric, days_ago=400),  # outside the 12 months: nothing
        ],
    )
    row = result(person, PERSON)
    # 1000 − 20 − 40 − 20 = 920 → B. Latest first.
    assert sources(row) == {"P_CF_GENERAL": [-20, -40, -20]}
    assert float(row.score) == 920 and row.grade == "B"


def test_commitments_of_a_person_kept_and_broken(scorecards, system, make_subject):
    from pubcredit.commitments.assessment import assess_commitment
    from pubcredit.testing.commitkit import sign

    person = make_subject(kind="person", name="孙守诺")
    today = scorekit.today()
    kept = sign(person, day=today, today=today)
    broken = sign(person, day=today, today=today)
    assess_commitment(system, kept, "全部履行", reason="按期履行", today=today)
    row = result(person, PERSON)
    # 1000 + 2 = 1002 → A.
    assert sources(row) == {"P_CN_KEPT": [2]}
    assert float(row.score) == 1002 and row.grade == "A"
    assess_commitment(
        system,
        broken,
        "部分履行",
        unfulfilled_content="未按承诺期限补齐材料",
        liability_enforced="纳入重点关注",
        reason="经核查部分履行",
        today=today,
    )
    row = result(person, PERSON)
    # 1000 + 2 − 20 = 982 → A (the person's scorecard has no points for the breach's watch list).
    assert sources(row) == {"P_CN_BROKEN": [-20], "P_CN_KEPT": [2]}
    assert float(row.score) == 982 and row.grade == "A"
    assert {c["source"] for c in row.contributions} == {
        f"commitment:{kept.pk}",
        f"commitment:{broken.pk}",
    }


# --------------------------------------------------------------------------- sector scorecards


def test_construction_wage_arrears_black_list_and_red_list(scorecards, system):
    uscc = make_uscc(402)
    name = "淄博建工丁公司"
    scorekit.submit(
        system,
        "JZSC",
        [scorekit.construction(1, name=name, uscc=uscc, behaviour="良好行为", severity=None)],
        scorekit.CONSTRUCTION_DEPARTMENT,
    )
    subject = portalkit.subject_of(uscc)
    _list(system, subject, "RED_CONSTRUCTION")
    row = result(subject, CONSTRUCTION)
    # 80 + 3 + 5 = 88 → B.
    assert sources(row) == {"CS_GOOD": [3], "CS_RED": [5]}
    assert float(row.score) == 88 and row.grade == "B"
    _list(system, subject, "BLK_WAGE_ARREARS")
    row = result(subject, CONSTRUCTION)
    # 88 − 20 = 68 → C by the points; a black list → D (DG_CS_BLACK).
    assert sources(row) == {
        "CS_GOOD": [3],
        "CS_WAGE_ARREARS": [-20],
        "CS_RED": [5],
        "DG_CS_BLACK": [0],
    }
    assert float(row.score) == 68 and (row.points_grade, row.grade) == ("C", "D")


def test_housekeeping_black_list_sets_d(scorecards, system):
    uscc = make_uscc(403)
    name = "淄博暖心家政服务有限公司"
    scorekit.submit(
        system,
        "JZFW",
        [scorekit.housekeeping(1, name=name, uscc=uscc, kind="服务好评", days_ago=5)],
        scorekit.HOUSEKEEPING_DEPARTMENT,
    )
    subject = portalkit.subject_of(uscc)
    assert float(result(subject, HOUSEKEEPING).score) == 86
    _list(system, subject, "BLK_JUDGMENT_DEFAULTER")
    row = result(subject, HOUSEKEEPING)
    # The housekeeping scorecard has no points for black lists: 85 + 1 = 86 → B by the
    # points, D by DG_HK_BLACK.
    assert sources(row) == {"HK_GOOD_REVIEW": [1], "DG_HK_BLACK": [0]}
    assert float(row.score) == 86 and (row.points_grade, row.grade) == ("B", "D")


# --------------------------------------------------------------------------- properties

RED_LISTS = ["RED_CONTRACT", "RED_INTEGRITY_MODEL", "RED_LABOUR_A"]


@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    tiers=st.lists(st.sampled_from(["minor", "general", "serious"]), max_size=3),
    reds=st.permutations(RED_LISTS).flatmap(
        lambda order: st.integers(min_value=1, max_value=3).map(lambda n: order[:n])
    ),
)
def test_a_red_list_entry_never_lowers_a_stored_score(
    scorecards, system, make_subject, tiers, reds
):
    """Through the database: penalties (their tier pinned) and red-list entries, computed; then
    one red-list entry more, computed again: the score does not fall, the grade gets no worse."""
    from django.db import transaction

    from pubcredit.scoring.definition import parse_definition
    from pubcredit.scoring.models import ScorecardVersion
    from pubcredit.scoring.services import compute_subjects
    from pubcredit.testing.listkit import make_public_penalty

    class Rollback(Exception):
        pass

    version = ScorecardVersion.objects.get(scorecard__code=PUBLIC, version=1)
    defn = parse_definition(version.definition, base_points=version.base_points)
    *earlier, last = reds
    try:
        with transaction.atomic():
            subject = make_subject()
            for tier in tiers:
                make_public_penalty(subject, tier=tier, start=_decided())
            _list(system, subject, *earlier)
            compute_subjects([subject.pk])
            before = result(subject, PUBLIC)
            _list(system, subject, last)
            compute_subjects([subject.pk])
            after = result(subject, PUBLIC)
            assert after.score >= before.score
            assert defn.rank(after.grade) <= defn.rank(before.grade)
            raise Rollback
    except Rollback:
        pass
