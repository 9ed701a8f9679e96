"""The engine's arithmetic (bands, caps, repeats, bounds, downgrades) on hand-made fact frames,
its properties (hypothesis), and how results are kept: versions, history, idempotence, bulk
and incremental alike."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pubcredit.scoring.definition import parse_definition
from pubcredit.scoring.engine import score
from pubcredit.scoring.facts import FACT_SCHEMA
from pubcredit.scoring.scorecards import DATA_DIR
from pubcredit.testing import scorekit
from pubcredit.testing.listkit import identify, make_public_penalty
from pubcredit.testing.scorekit import result, sources

DAY = dt.date(2026, 6, 30)


def shipped(code: str):
    raw = json.loads((DATA_DIR / f"{code}.json").read_text(encoding="utf-8"))["version"]
    return parse_definition(raw["definition"], base_points=raw["base_points"])


def facts(*rows) -> pl.DataFrame:
    """Fact rows (subject_id, rule, points[, day, same, source_id])."""
    out = []
    for n, row in enumerate(rows, 1):
        subject, rule, points, *rest = row
        day = rest[0] if len(rest) > 0 else DAY
        same = rest[1] if len(rest) > 1 else ""
        out.append(
            {
                "subject_id": subject,
                "rule": rule,
                "day": day,
                "points": float(points),
                "source_type": "record",
                "source_id": rest[2] if len(rest) > 2 else n,
                "same": same,
                "value": None,
            }
        )
    return pl.DataFrame(out, schema=FACT_SCHEMA)


def population(*ids) -> pl.DataFrame:
    return pl.DataFrame(
        {"subject_id": list(ids), "established_on": [None] * len(ids)},
        schema={"subject_id": pl.Int64, "established_on": pl.Date},
    )


def by_subject(frame: pl.DataFrame) -> dict[int, dict]:
    return {r["subject_id"]: r for r in frame.to_dicts()}


# --------------------------------------------------------------------------- arithmetic


def test_band_edges_of_the_person_scorecard():
    defn = shipped("SCORE_PERSON")
    targets = [1050, 1049, 1030, 1029, 960, 959, 850, 849, 600, 599, 1000]
    # P_BLACK: −100 per entry, held within ±200; pad with P_RED (+30, cap 30) and P_CF_SERIOUS
    # (−50, cap 300): build each target exactly from whole facts.
    rows = []
    for sid, target in enumerate(targets, 1):
        delta = target - 1000
        if delta > 0:
            rows.append((sid, "P_RED", 30))
            rows.append((sid, "P_CN_KEPT", 2))  # any indicator: its own cap is 10
            rest = delta - 32
            if rest:
                rows.append((sid, "P_VOLUNTEER", rest))  # cap 30
        elif delta < 0:
            rows.append((sid, "P_CF_SERIOUS", max(delta, -300)))  # cap 300
            if delta < -300:
                rows.append((sid, "P_BLACK", delta + 300))  # cap 200
    results = by_subject(score(defn, population(*range(1, len(targets) + 1)), facts(*rows)))
    grades = {t: results[sid]["grade"] for sid, t in enumerate(targets, 1)}
    assert {t: results[sid]["score"] for sid, t in enumerate(targets, 1)} == {t: t for t in targets}
    assert grades == {
        1050: "AAA",
        1049: "AA",
        1030: "AA",
        1029: "A",
        1000: "A",
        960: "A",
        959: "B",
        850: "B",
        849: "C",
        600: "C",
        599: "D",
    }


def test_band_edges_of_the_public_scorecard():
    defn = shipped("SCORE_PUBLIC")
    targets = {1: 90, 2: 89, 3: 75, 4: 74, 5: 60, 6: 59}
    rows = []
    for sid, target in targets.items():
        if target > 80:
            rows.append((sid, "LIST_RED", target - 80))  # cap 10
        else:
            rows.append((sid, "CF_SERIOUS", target - 80))  # cap 30
    results = by_subject(score(defn, population(*targets), facts(*rows)))
    assert {sid: results[sid]["grade"] for sid in targets} == {
        1: "A",
        2: "B",
        3: "B",
        4: "C",
        5: "C",
        6: "D",
    }


def test_caps_repeats_bounds_and_contributions_add_up():
    defn = shipped("SCORE_PERSON")
    rows = [
        # Food safety three times (repeat ×2 from the second), traffic once; oldest first.
        (1, "P_CF_MINOR", -5, DAY - dt.timedelta(days=90), "食品", 11),
        (1, "P_CF_MINOR", -5, DAY - dt.timedelta(days=60), "食品", 12),
        (1, "P_CF_MINOR", -5, DAY - dt.timedelta(days=30), "食品", 13),
        (1, "P_CF_MINOR", -5, DAY - dt.timedelta(days=45), "交通", 14),
        # Blood donation 4 × 10, held at 30.
        *[(1, "P_BLOOD", 10, DAY - dt.timedelta(days=d), "", 20 + d) for d in (1, 2, 3, 4)],
    ]
    out = by_subject(score(defn, population(1), facts(*rows)))[1]
    lines = json.loads(out["contributions"])
    # −5 −10 −10 −5 = −30; +40 −10 = +30: 1000.
    assert out["score"] == 1000 and out["grade"] == "A"
    assert [(c["indicator"], c["points"], c["source"]) for c in lines] == [
        ("P_CF_MINOR", -10, "record:13"),
        ("P_CF_MINOR", -5, "record:14"),
        ("P_CF_MINOR", -10, "record:12"),
        ("P_CF_MINOR", -5, "record:11"),
        ("P_BLOOD", 10, "record:21"),
        ("P_BLOOD", 10, "record:22"),
        ("P_BLOOD", 10, "record:23"),
        ("P_BLOOD", 10, "record:24"),
        ("P_BLOOD", -10, "cap"),
    ]
    assert sum(c["points"] for c in lines) == out["score"] - 1000


def test_a_downgrade_overrides_the_points():
    defn = shipped("SCORE_PUBLIC")
    rows = [(1, "LIST_RED", 10), (1, "DG_ABNORMAL", 0), (2, "LIST_RED", 10), (2, "DG_BLACK", 0)]
    out = by_subject(score(defn, population(1, 2, 3), facts(*rows)))
    assert (out[1]["score"], out[1]["points_grade"], out[1]["grade"]) == (90, "A", "C")
    assert (out[2]["score"], out[2]["points_grade"], out[2]["grade"]) == (90, "A", "D")
    assert (out[3]["score"], out[3]["grade"], out[3]["contributions"]) == (80, "B", "[]")


# --------------------------------------------------------------------------- properties

PUBLIC = shipped("SCORE_PUBLIC")
PERSON = shipped("SCORE_PERSON")


def _natural_points(defn, code):
    rule = defn.by_code[code]
    if getattr(rule, "per_amount", None):
        return -abs(rule.per_amount[2])
    return getattr(rule, "points", 0.0)


def fact_lists(defn):
    codes = sorted(defn.by_code)
    one = st.tuples(
        st.sampled_from(codes),
        st.integers(min_value=0, max_value=700),  # days before DAY
        st.sampled_from(["甲", "乙", ""]),
    )
    return st.lists(one, max_size=25)


def _rows(defn, drawn, *, first_id=1):
    return [
        (1, code, _natural_points(defn, code), DAY - dt.timedelta(days=days), same, first_id + n)
        for n, (code, days, same) in enumerate(drawn)
    ]


def _score_and_rank(defn, rows):
    out = by_subject(score(defn, population(1), facts(*rows) if rows else facts()))[1]
    return out["score"], defn.rank(out["grade"])


def _negative(defn) -> list[str]:
    """Rules whose fact can only lower: negative points, or a grade cap."""
    return sorted(
        c for c, r in defn.by_code.items() if hasattr(r, "grade") or _natural_points(defn, c) < 0
    )


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_adding_a_negative_fact_never_raises_the_score_nor_the_grade(data):
    defn = data.draw(st.sampled_from([PUBLIC, PERSON]))
    rows = _rows(defn, data.draw(fact_lists(defn)))
    code = data.draw(st.sampled_from(_negative(defn)))
    days = data.draw(st.integers(min_value=0, max_value=700))
    same = data.draw(st.sampled_from(["甲", "乙", ""]))
    before = _score_and_rank(defn, rows)
    extra = (1, code, _natural_points(defn, code), DAY - dt.timedelta(days=days), same, 999)
    after = _score_and_rank(defn, [*rows, extra])
    assert after[0] <= before[0]
    assert after[1] >= before[1]  # a higher rank is a worse grade


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_adding_a_red_list_entry_never_lowers_the_score_nor_the_grade(data):
    defn, red = data.draw(st.sampled_from([(PUBLIC, "LIST_RED"), (PERSON, "P_RED")]))
    rows = _rows(defn, data.draw(fact_lists(defn)))
    before = _score_and_rank(defn, rows)
    after = _score_and_rank(defn, [*rows, (1, red, _natural_points(defn, red), DAY, "", 999)])
    assert after[0] >= before[0]
    assert after[1] <= before[1]


@pytest.mark.django_db
@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    tiers=st.lists(st.sampled_from(["minor", "general", "serious"]), max_size=4),
    extra=st.sampled_from(["minor", "general", "serious"]),
)
def test_a_negative_record_never_raises_a_stored_score(scorecards, make_subject, tiers, extra):
    """The same property through the database: penalties (their tier pinned), computed,
    then one more penalty, computed again."""
    from django.db import transaction

    from pubcredit.scoring.services import compute_subjects

    class Rollback(Exception):
        pass

    try:
        with transaction.atomic():
            subject = make_subject()
            start = scorekit.today() - dt.timedelta(days=20)
            for tier in tiers:
                make_public_penalty(subject, tier=tier, start=start)
            compute_subjects([subject.pk])
            before = result(subject, "SCORE_PUBLIC")
            make_public_penalty(subject, tier=extra, start=start)
            compute_subjects([subject.pk])
            after = result(subject, "SCORE_PUBLIC")
            assert after.score <= before.score
            assert PUBLIC.rank(after.grade) >= PUBLIC.rank(before.grade)
            raise Rollback
    except Rollback:
        pass


# --------------------------------------------------------------------------- keeping results


@pytest.fixture
def card_dir(tmp_path):
    target = tmp_path / "scorecards"
    shutil.copytree(DATA_DIR, target)
    return target


def _edit(path: Path, change) -> None:
    raw = json.loads(path.read_text(encoding="utf-8"))
    change(raw)
    path.write_text(json.dumps(raw, ensure_ascii=False), encoding="utf-8")


@pytest.mark.django_db
def test_a_new_version_keeps_the_results_of_the_old_one(seeded, system, card_dir, make_subject):
    from pubcredit.scoring.models import ScorecardVersion, ScoreResult
    from pubcredit.scoring.scorecards import import_scorecards
    from pubcredit.scoring.services import compute_all, history

    assert import_scorecards(system, card_dir)["versions"] == 4
    subject = make_subject()
    make_public_penalty(subject, tier="general", start=scorekit.today() - dt.timedelta(days=10))
    compute_all()
    v1 = result(subject, "SCORE_PUBLIC")
    assert (v1.version.version, float(v1.score), sources(v1)) == (1, 76, {"CF_GENERAL": [-4]})
    frozen = {
        r.pk: (r.version_id, r.score, r.grade, r.contributions, r.computed_at)
        for r in ScoreResult.objects.all()
    }

    def harsher(raw):
        for indicator in raw["version"]["definition"]["indicators"]:
            if indicator["code"] == "CF_GENERAL":
                indicator["points"] = -6

    _edit(card_dir / "SCORE_PUBLIC.json", harsher)
    assert import_scorecards(system, card_dir) == {
        "created": 0,
        "updated": 0,
        "unchanged": 4,
        "versions": 1,
    }
    compute_all()
    v2 = result(subject, "SCORE_PUBLIC")
    assert (v2.version.version, float(v2.score), sources(v2)) == (2, 74, {"CF_GENERAL": [-6]})
    # Every row written under version 1 is as it was; only its `current` flag moved.
    for row in ScoreResult.objects.filter(pk__in=frozen):
        assert (row.version_id, row.score, row.grade, row.contributions, row.computed_at) == (
            frozen[row.pk]
        )
    v1.refresh_from_db()
    assert v1.current is False and v1.version.version == 1
    old = ScorecardVersion.objects.get(pk=v1.version_id).definition["indicators"]
    assert next(i for i in old if i["code"] == "CF_GENERAL")["points"] == -4
    assert [(h["version"], h["score"], h["current"]) for h in history(subject, "SCORE_PUBLIC")] == [
        (2, 74, True),
        (1, 76, False),
    ]
    # Importing the same files again changes nothing.
    assert import_scorecards(system, card_dir)["versions"] == 0


@pytest.mark.django_db
def test_a_frozen_version_refuses_edits(seeded, system, card_dir, make_subject):
    from django.core.exceptions import ValidationError

    from pubcredit.scoring.admin import VersionForm
    from pubcredit.scoring.models import FROZEN_MESSAGE, ScorecardVersion
    from pubcredit.scoring.scorecards import import_scorecards
    from pubcredit.scoring.services import compute_subjects

    import_scorecards(system, card_dir)
    version = ScorecardVersion.objects.get(scorecard__code="SCORE_PUBLIC")
    assert not version.frozen
    compute_subjects([make_subject().pk])
    assert version.frozen
    data = {
        "scorecard": version.scorecard_id,
        "effective_from": version.effective_from,
        "effective_to": "",
        "base_points": "85",
        "basis": version.basis,
        "definition": json.dumps(version.definition, ensure_ascii=False),
        "note": "",
        "needs_review": "",
    }
    form = VersionForm(data=data, instance=version)
    assert not form.is_valid()
    assert str(FROZEN_MESSAGE) in str(form.errors)
    assert FROZEN_MESSAGE == "该评价版本已有评价结果引用,不能修改;如需调整,请新增一个版本。"
    # Its end date and note remain editable.
    form = VersionForm(
        data={**data, "base_points": "80", "effective_to": "2030-12-31", "note": "核定中"},
        instance=version,
    )
    assert form.is_valid(), form.errors
    version = ScorecardVersion.objects.get(pk=version.pk)
    version.base_points = 90
    with pytest.raises(ValidationError):
        version.save()


@pytest.mark.django_db
def test_results_are_written_only_when_they_change(scorecards, system, make_subject):
    from pubcredit.scoring.models import ScoreResult
    from pubcredit.scoring.services import compute_all, compute_subjects

    subjects = [make_subject() for _ in range(3)]
    today = scorekit.today()
    identify(system, subjects[0], "RED_CONTRACT", decided_on=today, today=today)
    counts = {c["scorecard"]: c for c in compute_all()}
    rows = ScoreResult.objects.count()
    again = {c["scorecard"]: c for c in compute_all()}
    assert again["SCORE_PUBLIC"]["created"] == 0
    assert again["SCORE_PUBLIC"]["unchanged"] == counts["SCORE_PUBLIC"]["subjects"]
    assert compute_subjects([s.pk for s in subjects])[0]["created"] == 0
    assert ScoreResult.objects.count() == rows
    # Bulk and incremental give the same result row.
    assert sources(result(subjects[0], "SCORE_PUBLIC")) == {"LIST_RED": [5]}


@pytest.mark.django_db
def test_grades_for_is_one_query(scorecards, system, make_subject, django_assert_num_queries):
    from pubcredit.scoring.services import compute_subjects, current_grade, grades_for

    org, person = make_subject(), make_subject(kind="person")
    compute_subjects([org.pk, person.pk])
    with django_assert_num_queries(1):
        grades = grades_for([org.pk, person.pk])
    assert {sid: (g.scorecard, g.grade, int(g.score)) for sid, g in grades.items()} == {
        org.pk: ("SCORE_PUBLIC", "B", 80),
        person.pk: ("SCORE_PERSON", "A", 1000),
    }
    grade = current_grade(org)
    assert (grade.public, grade.version, grade.as_of) == (True, 1, scorekit.today())
