"""The engine's three ways of narrowing a computation — everyone (a full computation: the facts
streamed, scored in slices, the results staged and compared in bulk), a TEMP table of ids (many
subjects), and the light path of a few subjects (IN lists, the results compared from a VALUES
list, no savepoint per scorecard) — give the same results, on one fixture whose scores were
computed by hand."""

from __future__ import annotations

import datetime as dt

import pytest

from pubcredit.testing import portalkit, scorekit
from pubcredit.testing.listkit import identify
from pubcredit.testing.loadkit import make_ric, make_uscc

pytestmark = pytest.mark.django_db

FOOD = "违反《中华人民共和国食品安全法》"


@pytest.fixture
def city(scorecards, system, make_subject):
    """Subjects with the facts of every source the scorecards read; label → subject."""
    from pubcredit.commitments.assessment import assess_commitment
    from pubcredit.subjects.models import Subject
    from pubcredit.testing.commitkit import sign

    today = scorekit.today()
    decided = today - dt.timedelta(days=10)
    out = {}
    # Penalties of every tier, a large fine held by its cap.
    uscc = make_uscc(601)
    rows = [
        portalkit.penalty(n, name="淄博路径测试一有限公司", uscc=uscc, fine=fine)
        for n, fine in enumerate(("0.2", "5", "6", "150"), 1)
    ]
    rows.append(
        portalkit.penalty(
            5, name="淄博路径测试一有限公司", uscc=uscc, fine="1", types="罚款、责令停产停业"
        )
    )
    portalkit.submit(system, "CF", rows)
    out["penalties"] = portalkit.subject_of(uscc)
    # Lists (red with its cap, a watch list and its downgrade), an old registration.
    listed = make_subject()
    Subject.objects.filter(pk=listed.pk).update(established_on=dt.date(2000, 1, 1))
    for code in ("RED_CONTRACT", "RED_INTEGRITY_MODEL", "RED_LABOUR_A", "WATCH_ABNORMAL_OPERATION"):
        identify(system, listed, code, decided_on=decided, today=today)
    out["listed"] = listed
    # Commitments kept and broken, a tax grade given.
    committed = make_subject()
    kept, broken = sign(committed, day=today, today=today), sign(committed, day=today, today=today)
    assess_commitment(system, kept, "全部履行", reason="按期履行", today=today)
    assess_commitment(
        system,
        broken,
        "全部未履行",
        unfulfilled_content="未按承诺期限补齐材料",
        liability_enforced="撤销许可",
        reason="经核查未履行",
        today=today,
    )
    scorekit.submit(
        system,
        "NSXYDJ",
        [scorekit.tax_grade(name=committed.name, uscc=committed.uscc, grade="D")],
        scorekit.TAX_DEPARTMENT,
    )
    out["committed"] = committed
    # A construction company (a sector scorecard's population) with a black-list entry.
    uscc = make_uscc(602)
    name = "淄博路径测试建设有限公司"
    scorekit.submit(
        system,
        "JZSC",
        [
            scorekit.construction(1, name=name, uscc=uscc, severity="一般"),
            scorekit.construction(2, name=name, uscc=uscc, behaviour="良好行为", severity=None),
        ],
        scorekit.CONSTRUCTION_DEPARTMENT,
    )
    out["builder"] = portalkit.subject_of(uscc)
    identify(system, out["builder"], "BLK_WAGE_ARREARS", decided_on=decided, today=today)
    # A person: the same offence twice (a repeat), a blood donation.
    ric = make_ric(601)
    portalkit.submit(
        system,
        "CF",
        [
            {
                **portalkit.penalty(
                    n, name="李路径", kind="自然人", id_number=ric, days_ago=days, fine="0.01"
                ),
                "CF_WFXW": FOOD,
            }
            for n, days in ((11, 50), (12, 10))
        ],
    )
    scorekit.submit(
        system,
        "GYXW",
        [scorekit.welfare(1, name="李路径", id_number=ric, kind="无偿献血")],
        scorekit.WELFARE_DEPARTMENT,
    )
    from pubcredit.subjects.models import Subject as S
    from pubcredit.subjects.services import person_id_index

    out["person"] = S.objects.get(id_index=person_id_index(ric))
    out["nobody"] = make_subject()  # no facts at all
    return out


def _current() -> dict:
    from pubcredit.scoring.models import ScoreResult

    return {
        (r.subject_id, r.scorecard.code): (str(r.score), r.grade, r.points_grade, r.contributions)
        for r in ScoreResult.objects.filter(current=True).select_related("scorecard")
    }


def _recompute(how: str, ids: list[int], monkeypatch) -> dict:
    """Every result computed afresh one way, then once more the same way (which must find
    nothing changed); the current results."""
    from pubcredit.scoring import engine, frames, services
    from pubcredit.scoring.models import ScoreResult

    ScoreResult.objects.all().delete()
    if how != "light":
        monkeypatch.setattr(engine, "INLINE_ROWS", 0)  # results staged in a TEMP table
    if how == "full":
        monkeypatch.setattr(engine, "KEEP_STAGE_ROWS", 0)  # analysed and dropped, as a big one
        monkeypatch.setattr(engine, "SCORE_SLICE_FACTS", 3)  # scored a few subjects at a time
        monkeypatch.setattr(engine, "STAGE_BATCH", 2)
        monkeypatch.setattr(frames, "CSV_CHUNK", 64)  # PostgreSQL's COPY text a row at a time
    if how == "staged":
        monkeypatch.setattr(frames, "IN_LIST_MAX", 0)  # subjects staged in a TEMP table

    def compute():
        if how == "full":
            return services.compute_all()
        if how == "staged":
            return services.compute_subjects(ids)
        assert len(ids) <= frames.IN_LIST_MAX
        return [c for pk in ids for c in services.compute_subjects([pk])]  # as the flow does

    first = compute()
    assert sum(c["created"] for c in first) == len(_current())
    again = compute()
    assert [c["created"] + c["retired"] for c in again] == [0] * len(again)
    monkeypatch.undo()
    return _current()


def test_the_light_path_the_staged_path_and_a_full_computation_agree(city, monkeypatch):
    ids = [s.pk for s in city.values()]
    light = _recompute("light", ids, monkeypatch)
    assert light == _recompute("staged", ids, monkeypatch)
    assert light == _recompute("full", ids, monkeypatch)

    def score(label, card):
        score, grade, points_grade, _contributions = light[(city[label].pk, card)]
        return float(score), grade, points_grade

    # Hand-computed (base 80): 轻微 −1, 一般 3 × −4, 严重 −10, 大额罚款 −15 held at −10,
    # 责令停产停业 −5: 80 − 1 − 12 − 10 − 10 − 5 = 42 → D.
    assert score("penalties", "SCORE_PUBLIC") == (42, "D", "D")
    # +5 (established 2000) + 15 red held at +10 − 10 abnormal operation = 85 → B, capped at C.
    assert score("listed", "SCORE_PUBLIC") == (85, "C", "B")
    # +1 kept − 5 broken − 5 (the breach's watch-list entry) − 10 (tax D) = 61 → C.
    assert score("committed", "SCORE_PUBLIC") == (61, "C", "C")
    # 80 − 3 (不良行为 一般) + 3 (良好行为) − 20 (wage arrears) = 60 → C, black list → D.
    assert score("builder", "SECTOR_CONSTRUCTION") == (60, "D", "C")
    # 80 − 30 (black list) = 50 → D.
    assert score("builder", "SCORE_PUBLIC") == (50, "D", "D")
    # 1000 − 5 − 10 (the repeat counts double) + 10 (blood) = 995 → A.
    assert score("person", "SCORE_PERSON") == (995, "A", "A")
    assert score("nobody", "SCORE_PUBLIC") == (80, "B", "B")
    assert (city["nobody"].pk, "SECTOR_CONSTRUCTION") not in light
