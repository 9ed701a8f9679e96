"""The two sector scorecards, fed by sector data (家政服务 JZFW, 建筑市场 JZSC records and their
red lists), and the subjects they cover: only those with sector data."""

from __future__ import annotations

import datetime as dt

import pytest

from pubcredit.testing import portalkit, scorekit
from pubcredit.testing.listkit import identify
from pubcredit.testing.loadkit import make_uscc
from pubcredit.testing.scorekit import result, sources

pytestmark = pytest.mark.django_db

HOUSEKEEPING = "SECTOR_HOUSEKEEPING"
CONSTRUCTION = "SECTOR_CONSTRUCTION"


def test_housekeeping_complaints_reviews_and_penalties(scorecards, system):
    uscc = make_uscc(301)
    name = "淄博安心家政服务有限公司"
    scorekit.submit(
        system,
        "JZFW",
        [
            scorekit.housekeeping(1, name=name, uscc=uscc, kind="有效投诉", days_ago=20),
            scorekit.housekeeping(2, name=name, uscc=uscc, kind="有效投诉", days_ago=40),
            scorekit.housekeeping(3, name=name, uscc=uscc, kind="服务差评", days_ago=40),
            scorekit.housekeeping(4, name=name, uscc=uscc, kind="服务好评", days_ago=5),
            scorekit.housekeeping(5, name=name, uscc=uscc, kind="有效投诉", days_ago=400),
        ],
        scorekit.HOUSEKEEPING_DEPARTMENT,
    )
    subject = portalkit.subject_of(uscc)
    row = result(subject, HOUSEKEEPING)
    # 85 − 2 × 5 (complaints in 12 months; the one 400 days old no longer counts) − 2 + 1 = 74.
    assert sources(row) == {"HK_COMPLAINT": [-5, -5], "HK_BAD_REVIEW": [-2], "HK_GOOD_REVIEW": [1]}
    assert float(row.score) == 74 and row.grade == "C"
    portalkit.submit(system, "CF", [portalkit.penalty(1, name=name, uscc=uscc, fine="5")])
    row = result(subject, HOUSEKEEPING)
    assert sources(row)["HK_PENALTY"] == [-10]
    assert float(row.score) == 64 and row.grade == "C"
    # The general evaluation is a separate result: 80 − 4 (一般 penalty) = 76.
    assert float(result(subject, "SCORE_PUBLIC").score) == 76


def test_housekeeping_red_list_alone_brings_a_subject_in(scorecards, system, make_subject):
    listed, other = make_subject(), make_subject()
    today = scorekit.today()
    identify(
        system, listed, "RED_HOUSEKEEPING", decided_on=today - dt.timedelta(days=5), today=today
    )
    from pubcredit.scoring.services import compute_subjects

    compute_subjects([listed.pk, other.pk])
    row = result(listed, HOUSEKEEPING)
    assert sources(row) == {"HK_RED": [5]}
    assert float(row.score) == 90 and row.grade == "A"
    assert result(other, HOUSEKEEPING) is None
    assert result(other, "SCORE_PUBLIC") is not None


def test_construction_behaviour_records_and_severe_downgrade(scorecards, system):
    good, bad = make_uscc(302), make_uscc(303)
    rows = [
        scorekit.construction(
            1, name="淄博建工甲公司", uscc=good, behaviour="良好行为", severity=None
        ),
        scorekit.construction(
            2, name="淄博建工甲公司", uscc=good, behaviour="良好行为", severity=None
        ),
        scorekit.construction(3, name="淄博建工甲公司", uscc=good, severity="一般", days_ago=100),
        scorekit.construction(4, name="淄博建工乙公司", uscc=bad, severity="较重", days_ago=500),
        scorekit.construction(5, name="淄博建工乙公司", uscc=bad, severity="严重", days_ago=60),
    ]
    scorekit.submit(system, "JZSC", rows, scorekit.CONSTRUCTION_DEPARTMENT)
    row = result(portalkit.subject_of(good), CONSTRUCTION)
    # 80 + 2 × 3 − 3 = 83 → B.
    assert sources(row) == {"CS_GOOD": [3, 3], "CS_BAD_GENERAL": [-3]}
    assert float(row.score) == 83 and row.grade == "B"
    row = result(portalkit.subject_of(bad), CONSTRUCTION)
    # 较重 counts 24 months (500 days ago: −6), 严重 36 months (−15): 59 → D; the severe
    # record within 12 months also caps the grade at C, which D already is below.
    assert sources(row) == {"CS_BAD_MAJOR": [-6], "CS_BAD_SEVERE": [-15], "DG_CS_SEVERE": [0]}
    assert float(row.score) == 59 and (row.points_grade, row.grade) == ("D", "D")


def test_construction_severe_record_caps_a_good_score(scorecards, system):
    uscc = make_uscc(304)
    name = "淄博建工丙公司"
    rows = [
        scorekit.construction(n, name=name, uscc=uscc, behaviour="良好行为", severity=None)
        for n in range(1, 7)
    ] + [scorekit.construction(9, name=name, uscc=uscc, severity="严重", days_ago=300)]
    scorekit.submit(system, "JZSC", rows, scorekit.CONSTRUCTION_DEPARTMENT)
    today = scorekit.today()
    subject = portalkit.subject_of(uscc)
    identify(
        system, subject, "RED_CONSTRUCTION", decided_on=today - dt.timedelta(days=5), today=today
    )
    row = result(subject, CONSTRUCTION)
    # 80 + 6 × 3 = +18 held at +15, − 15 (严重), + 5 (红榜) = 85 → B by the points; C at most.
    assert sources(row)["CS_GOOD"][-1] == -3
    assert float(row.score) == 85 and (row.points_grade, row.grade) == ("B", "C")
