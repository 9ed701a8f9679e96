"""Scorecard definitions and files: what the parser refuses (in Chinese), the drafting markers
taken out into the admin note, the digest that decides a new version."""

from __future__ import annotations

import copy
import datetime as dt
import json
import shutil

import pytest

from pubcredit.scoring.definition import (
    DefinitionError,
    card_problems,
    definition_digest,
    parse_definition,
)
from pubcredit.scoring.scorecards import DATA_DIR, ScorecardFileError, read_scorecards

MINIMAL = {
    "bands": [{"grade": "A", "name": "好", "min": 90}, {"grade": "B", "name": "差", "min": None}],
    "indicators": [
        {
            "code": "X",
            "name": "处罚",
            "dimension": "守法守信",
            "source": {"type": "records", "category": "CF"},
            "points": -1,
            "basis": "依据",
        }
    ],
}


def problems_of(definition) -> list[str]:
    with pytest.raises(DefinitionError) as info:
        parse_definition(definition, base_points=100)
    return info.value.problems


def test_a_minimal_definition_parses():
    defn = parse_definition(MINIMAL, base_points="100")
    assert defn.grades == ("A", "B") and defn.base_points == 100.0
    assert defn.describe("X") == {"name": "处罚", "dimension": "守法守信", "basis": "依据"}


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda d: d["bands"].reverse(), "min 应为 null"),
        (lambda d: d["bands"][0].update(min=None), "缺少数值"),
        (lambda d: d["indicators"][0]["source"].update(type="gossip"), "数据来源类型“gossip”无效"),
        (lambda d: d["indicators"][0]["source"].update(tiers=["huge"]), "“huge”无效"),
        (lambda d: d["indicators"][0].update(cap=-3), "封顶分值(cap)应为正数"),
        (lambda d: d["indicators"][0].update(window_months=0), "时间范围(月)"),
        (lambda d: d["indicators"][0].pop("points"), "缺少每项事实的分值"),
        (lambda d: d["indicators"].append(copy.deepcopy(d["indicators"][0])), "编码重复"),
        (
            lambda d: d["indicators"][0]["source"].update(
                condition={"field": "CF_NR_FK", "gte": "5"}
            ),
            "取值应为数字",
        ),
        (
            lambda d: d.update(
                downgrades=[
                    {
                        "code": "D1",
                        "name": "降级",
                        "grade": "Z",
                        "source": {"type": "list_entries", "list_kinds": ["black"]},
                        "basis": "依据",
                    }
                ]
            ),
            "等级“Z”不在等级划分中",
        ),
        (lambda d: d["indicators"][0].update(colour="red"), "未知的键 colour"),
    ],
)
def test_what_the_parser_refuses(change, expected):
    broken = copy.deepcopy(MINIMAL)
    change(broken)
    assert any(expected in p for p in problems_of(broken)), problems_of(broken)


def test_a_person_scorecard_may_never_be_public():
    assert card_problems({"subject_kinds": ["person"], "public": True}) == [
        "个人信用积分(适用于自然人的评价)不能向社会公开"
    ]
    assert card_problems({"subject_kinds": ["org", "ind"], "public": True}) == []


def test_the_digest_ignores_key_order_and_number_spelling():
    day = dt.date(2026, 1, 1)
    shuffled = json.loads(json.dumps(MINIMAL))
    shuffled["indicators"][0] = dict(reversed(list(shuffled["indicators"][0].items())))
    shuffled["indicators"][0]["points"] = -1.0
    assert definition_digest(MINIMAL, 100, day) == definition_digest(shuffled, "100.00", day)
    assert definition_digest(MINIMAL, 100, day) != definition_digest(MINIMAL, 101, day)
    assert definition_digest(MINIMAL, 100, day) != definition_digest(
        MINIMAL, 100, dt.date(2026, 2, 1)
    )


@pytest.mark.django_db
def test_shipped_files_are_valid_and_markers_go_to_the_note(seeded):
    rows = {r["code"]: r for r in read_scorecards()}
    assert set(rows) == {
        "SCORE_PUBLIC",
        "SCORE_PERSON",
        "SECTOR_HOUSEKEEPING",
        "SECTOR_CONSTRUCTION",
    }
    public = rows["SCORE_PUBLIC"]
    assert public["version"]["needs_review"] and public["card"]["needs_review"]
    text = json.dumps([r["version"]["definition"] for r in rows.values()], ensure_ascii=False)
    assert "UNCONFIRMED" not in text
    # Every indicator and downgrade of the shipped files is flagged for review: none is law.
    for row in rows.values():
        definition = row["version"]["definition"]
        for rule in definition["indicators"] + definition["downgrades"]:
            assert f"{rule['code']} 依据待核实" in row["version"]["note"], rule["code"]
    assert rows["SCORE_PERSON"]["card"]["public"] is False


@pytest.mark.django_db
def test_a_file_naming_an_unknown_category_or_list_is_refused(seeded, tmp_path):
    target = tmp_path / "cards"
    shutil.copytree(DATA_DIR, target)
    path = target / "SCORE_PUBLIC.json"
    raw = json.loads(path.read_text(encoding="utf-8"))
    raw["version"]["definition"]["indicators"][1]["source"]["category"] = "NOPE"
    raw["version"]["definition"]["indicators"][2]["source"]["condition"] = {
        "field": "XX_MISSING",
        "in": ["a"],
    }
    raw["version"]["definition"]["downgrades"][1]["source"]["list_types"] = ["NO_SUCH_LIST"]
    path.write_text(json.dumps(raw, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(ScorecardFileError) as info:
        read_scorecards(target)
    assert info.value.problems == [
        "SCORE_PUBLIC.json:CF_MINOR:信息类别 NOPE 不存在",
        "SCORE_PUBLIC.json:CF_GENERAL:字段 XX_MISSING 不是信息类别 CF 的字段",
        "SCORE_PUBLIC.json:DG_ABNORMAL:名单类型 NO_SUCH_LIST 不存在",
    ]
