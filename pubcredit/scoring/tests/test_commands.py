"""`pubcredit scoring (import | compute | explain)`: the command-line contract."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from pubcredit.testing import portalkit, scorekit
from pubcredit.testing.loadkit import make_ric, make_uscc

pytestmark = pytest.mark.django_db


def run(*args) -> dict | list:
    out = StringIO()
    call_command("scoring", *args, "--json", stdout=out)
    return json.loads(out.getvalue())


def test_import_is_idempotent(seeded, system):
    # 3 scorecards × 4 grades of inspection ratios; 3 departments' fields (data/supervision.json)
    first = {
        "ratios": {"created": 12, "updated": 0, "unchanged": 0},
        "fields": {"created": 3, "updated": 0, "unchanged": 0},
    }
    again = {
        "ratios": {"created": 0, "updated": 0, "unchanged": 12},
        "fields": {"created": 0, "updated": 0, "unchanged": 3},
    }
    assert run("import") == {
        "created": 4,
        "updated": 0,
        "unchanged": 0,
        "versions": 4,
        "supervision": first,
    }
    assert run("import") == {
        "created": 0,
        "updated": 0,
        "unchanged": 4,
        "versions": 0,
        "supervision": again,
    }


def test_explain_prints_the_contract(scorecards, system):
    uscc = make_uscc(501)
    portalkit.submit(
        system, "CF", [portalkit.penalty(1, name="淄博说明测试有限公司", uscc=uscc, fine="5")]
    )
    record = portalkit.subject_of(uscc)
    data = run("explain", "--uscc", uscc.lower())
    assert {
        "uscc",
        "scorecard",
        "version",
        "score",
        "grade",
        "computed_at",
        "contributions",
    } <= set(data)
    assert (data["uscc"], data["scorecard"], data["version"], data["score"], data["grade"]) == (
        uscc,
        "SCORE_PUBLIC",
        1,
        76,
        "B",
    )
    assert dt.datetime.fromisoformat(data["computed_at"]).tzinfo is not None
    from pubcredit.records.models import Record

    rid = Record.objects.get(subject=record).pk
    (line,) = data["contributions"]
    assert (line["indicator"], line["points"], line["source"]) == (
        "CF_GENERAL",
        -4,
        f"record:{rid}",
    )
    assert line["name"] == "一般行政处罚" and line["dimension"] == "守法守信"
    assert line["basis"].startswith("行政处罚信息(严重程度为一般)")
    assert "UNCONFIRMED" not in line["basis"]


def test_compute_all_and_one(scorecards, system, make_subject):
    subject = make_subject()
    data = run("compute", "--all")
    by_card = {c["scorecard"]: c for c in data["computations"]}
    assert by_card["SCORE_PUBLIC"]["subjects"] == 1 and by_card["SCORE_PUBLIC"]["created"] == 1
    assert by_card["SECTOR_HOUSEKEEPING"]["subjects"] == 0
    data = run("compute", "--uscc", subject.uscc)
    assert [(g["scorecard"], g["score"], g["grade"]) for g in data["grades"]] == [
        ("SCORE_PUBLIC", 80, "B")
    ]
    assert data["computations"][0]["created"] == 0


def test_a_person_by_id_number_is_masked_and_logged(scorecards, system):
    from pubcredit.accounts.models import AccessLog

    ric = make_ric(502)
    scorekit.submit(
        system,
        "GYXW",
        [scorekit.welfare(1, name="赵志愿", id_number=ric, hours="30")],
        scorekit.WELFARE_DEPARTMENT,
    )
    data = run("explain", "--id-number", ric, "--purpose", "测试查询")
    assert (data["name"], data["uscc"], data["score"], data["grade"]) == ("赵**", "", 1003, "A")
    assert data["identifier"].startswith("370303") and "*" in data["identifier"]
    assert ric not in json.dumps(data)
    assert AccessLog.objects.get().purpose == "测试查询"


def _broken(code: str) -> str:
    """A code whose check character is wrong."""
    return code[:-1] + ("1" if code[-1] != "1" else "2")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["explain", "--uscc", _broken(make_uscc(505))], "统一社会信用代码"),
        (["explain", "--id-number", _broken(make_ric(506))], "身份证号码无效"),
        (["compute", "--uscc", "123"], "统一社会信用代码"),
        (["explain", "--uscc", make_uscc(503), "--scorecard", "NOPE"], "没有编码为 NOPE"),
    ],
)
def test_bad_input_exits_2_with_one_line(scorecards, args, message):
    with pytest.raises(CommandError, match=message) as info:
        call_command("scoring", *args, "--json", stdout=StringIO())
    assert info.value.returncode == 2
    assert "\n" not in str(info.value)


def test_unknown_or_unevaluated_subject_exits_1(scorecards, make_subject):
    with pytest.raises(CommandError, match="主体库中没有") as info:
        call_command("scoring", "explain", "--uscc", make_uscc(504), stdout=StringIO())
    assert info.value.returncode == 1
    subject = make_subject()
    with pytest.raises(CommandError, match="尚无信用评价结果") as info:
        call_command("scoring", "explain", "--uscc", subject.uscc, stdout=StringIO())
    assert info.value.returncode == 1


def test_the_process_exits_2_with_one_line_on_stderr(tmp_path):
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'none.sqlite3'}",
        "PUBCREDIT_VAR_DIR": str(tmp_path / "var"),
    }
    proc = subprocess.run(
        [sys.executable, "-m", "pubcredit", "scoring", "explain", "--uscc", "BAD", "--json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert proc.returncode == 2
    assert proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "统一社会信用代码 BAD 无效" in lines[0]
