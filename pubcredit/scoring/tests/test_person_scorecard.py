"""个人信用积分 (SCORE_PERSON): base 1000; AAA ≥ 1050, AA ≥ 1030, A ≥ 960, B ≥ 850, C ≥ 600, D
below; repeats of the same offence within the window count double; direct downgrades; never
public, and a staff look at it is logged."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied

from pubcredit.testing import portalkit, scorekit
from pubcredit.testing.listkit import identify
from pubcredit.testing.loadkit import make_ric
from pubcredit.testing.scorekit import result, sources

pytestmark = pytest.mark.django_db

CARD = "SCORE_PERSON"
FOOD = "违反《中华人民共和国食品安全法》"
TRAFFIC = "违反《中华人民共和国道路交通安全法》"


def person_of(ric: str):
    from pubcredit.subjects.models import Subject
    from pubcredit.subjects.services import person_id_index

    return Subject.objects.get(id_index=person_id_index(ric))


def _penalty(n, ric, *, days_ago, violation=FOOD, fine="0.01", types="罚款"):
    row = portalkit.penalty(
        n, name="王小明", kind="自然人", id_number=ric, days_ago=days_ago, fine=fine, types=types
    )
    row["CF_WFXW"] = violation
    if "罚款" not in types:
        row["CF_NR_FK"] = None
    return row


def test_repeats_of_the_same_offence_count_double(scorecards, system):
    ric = make_ric(201)
    portalkit.submit(
        system,
        "CF",
        [
            _penalty(1, ric, days_ago=400),  # outside the 12-month window: neither counts
            _penalty(2, ric, days_ago=100),  # nor makes the next ones repeats
            _penalty(3, ric, days_ago=70, violation=TRAFFIC),
            _penalty(4, ric, days_ago=50),
            _penalty(5, ric, days_ago=10),
        ],
    )
    row = result(person_of(ric), CARD)
    # 轻微 −5 each (fine ≤ 0.02 万元 for a person). Food safety: 100 days ago −5, then the
    # repeats 50 and 10 days ago −10 each; traffic, once: −5. Latest first.
    assert sources(row) == {"P_CF_MINOR": [-10, -10, -5, -5]}
    assert float(row.score) == 970 and row.grade == "A"


def test_volunteering_and_blood_donation(scorecards, system):
    ric = make_ric(202)
    rows = [
        scorekit.welfare(1, name="李红", id_number=ric, hours="25", days_ago=20),
        scorekit.welfare(2, name="李红", id_number=ric, hours="9", days_ago=30),
    ] + [
        scorekit.welfare(n, name="李红", id_number=ric, kind="无偿献血", days_ago=n * 30)
        for n in (3, 4, 5, 6)
    ]
    scorekit.submit(system, "GYXW", rows, scorekit.WELFARE_DEPARTMENT)
    row = result(person_of(ric), CARD)
    # 25 hours: 2 full tens → +2; 9 hours → nothing. Four donations +40, held at +30 (cap −10).
    assert sources(row) == {"P_VOLUNTEER": [2], "P_BLOOD": [10, 10, 10, 10, -10]}
    assert float(row.score) == 1032 and row.grade == "AA"


def test_red_list_person(scorecards, system, make_subject):
    person = make_subject(kind="person")
    today = scorekit.today()
    identify(
        system, person, "RED_INTEGRITY_PERSON", decided_on=today - dt.timedelta(days=3), today=today
    )
    row = result(person, CARD)
    assert sources(row) == {"P_RED": [30]}
    assert float(row.score) == 1030 and row.grade == "AA"


def test_detention_caps_the_grade_at_c(scorecards, system):
    ric = make_ric(203)
    portalkit.submit(system, "CF", [_penalty(1, ric, days_ago=30, types="行政拘留")])
    row = result(person_of(ric), CARD)
    # 行政拘留 is a 严重 penalty: −50 → 950 (B by the points); DG_P_DETENTION caps it at C.
    assert sources(row) == {"P_CF_SERIOUS": [-50], "DG_P_DETENTION": [0]}
    assert float(row.score) == 950
    assert (row.points_grade, row.grade) == ("B", "C")


def test_judgment_defaulter_is_d_and_restricted_consumption_c(scorecards, system, make_subject):
    today = scorekit.today()
    decided = today - dt.timedelta(days=30)
    defaulter, restricted = make_subject(kind="person"), make_subject(kind="person")
    identify(system, defaulter, "BLK_JUDGMENT_DEFAULTER", decided_on=decided, today=today)
    identify(system, restricted, "WATCH_CONSUMPTION_RESTRICTED", decided_on=decided, today=today)
    row = result(defaulter, CARD)
    assert sources(row) == {"P_BLACK": [-100], "DG_P_DEFAULTER": [0]}
    assert (float(row.score), row.points_grade, row.grade) == (900, "B", "D")
    row = result(restricted, CARD)
    assert sources(row) == {"DG_P_RESTRICTED": [0]}
    assert (float(row.score), row.points_grade, row.grade) == (1000, "A", "C")


def test_person_points_are_never_public_and_a_look_is_logged(scorecards, system, make_subject):
    from pubcredit.accounts.models import AccessLog
    from pubcredit.scoring.models import Scorecard
    from pubcredit.scoring.services import compute_subjects, current_grade, explain, history

    person = make_subject(kind="person", name="张三丰")
    compute_subjects([person.pk])
    assert Scorecard.objects.get(code=CARD).public is False
    assert current_grade(person).public is False
    with pytest.raises(PermissionDenied):
        explain(person)
    with pytest.raises(PermissionDenied):
        history(person)
    assert AccessLog.objects.count() == 0
    data = explain(person, principal=system, purpose="核查积分")
    assert data["name"] == "张**" and data["uscc"] == ""
    assert (data["scorecard"], data["score"], data["grade"]) == (CARD, 1000, "A")
    look = AccessLog.objects.get()
    assert (look.subject_id, look.purpose) == (person.pk, "核查积分")
