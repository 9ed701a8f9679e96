# ruff: noqa: F811 (pytest fixtures imported from loadkit)
"""The dashboards' kept counts through the real writers — intake's loader, corrections,
withdrawals, a review confirmed to its subject, publicity marks and the daily sweep — against
counts worked out by hand, and the rebuilds giving the same numbers."""

import datetime as dt
import json
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.db import transaction

from pubcredit.bulletins.models import RecordTally, ViolationTally
from pubcredit.bulletins.tallies import rebuild_tallies
from pubcredit.core.identifiers import ric_check_char, uscc_check_char
from pubcredit.intake import loading
from pubcredit.intake.models import MatchReview
from pubcredit.intake.services import resolve_match
from pubcredit.publicity.models import PublicityMark, PublicityTally
from pubcredit.publicity.services import add_mark, sweep_publicity
from pubcredit.publicity.tally import public_by_month, rebuild_publicity_tally
from pubcredit.records.models import Record
from pubcredit.records.services import withdraw_record
from pubcredit.subjects.models import Subject
from pubcredit.testing.loadkit import (  # noqa: F401 (fixtures)
    accepted_frame,
    calendar_2026,
    cf,
    cf_row,
    department,
    make_submission,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("calendar_2026")]
SH = ZoneInfo("Asia/Shanghai")
D = dt.date


def uscc(region: str, n: int) -> str:
    body = f"91{region}{n:09d}"
    return body + uscc_check_char(body)


def ric(region: str, n: int) -> str:
    body = f"{region}19800101{n:03d}"
    return body + ric_check_char(body)


def penalty(n: int, decided: dt.date, violation: str, **subject) -> dict:
    """A 行政处罚 row of 5万元 (一般: published for 12 months under Order 36) decided on
    `decided`; `subject`: uscc=…, or kind="自然人" with id_number=… (None: a name only)."""
    person = subject.get("kind") == "自然人"
    row = cf_row(
        n,
        name=subject.get("name") or (f"王{n}" if person else f"淄博计数{n}有限公司"),
        kind=subject.get("kind", "法人及非法人组织"),
        uscc=subject.get("uscc"),
        id_number=subject.get("id_number"),
        fine="5.000000",
        decision=decided,
    )
    if person and subject.get("id_number") is None:
        row["CF_XDR_ZJHM"] = None
    return {**row, "CF_WFXW": violation, "BZ": None, "CF_XDR_GSZC": None}


def load(make_submission, day: str, rows: list[dict]):
    received = dt.datetime.fromisoformat(f"{day}T10:00").replace(tzinfo=SH)
    submission = make_submission(received_at=received)
    with transaction.atomic():
        loading.load_accepted(submission, accepted_frame(rows))
    return submission


def record(n: int) -> Record:
    return Record.objects.get(business_key__startswith=f"淄市监罚〔2024〕{n}号")


def by_district(category) -> dict:
    return {
        (region, f"{month:%Y-%m}"): n
        for region, month, n in RecordTally.objects.filter(category=category)
        .exclude(n=0)
        .values_list("region", "month", "n")
    }


def by_violation(category) -> dict:
    return dict(
        ViolationTally.objects.filter(category=category).exclude(n=0).values_list("kind", "n")
    )


def shown(category, department) -> dict:
    return {
        f"{month:%Y-%m}": n
        for month, n in PublicityTally.objects.filter(category=category, department=department)
        .exclude(n=0)
        .values_list("month", "n")
    }


def kept() -> tuple:
    return (
        sorted(RecordTally.objects.exclude(n=0).values_list("category_id", "region", "month", "n")),
        sorted(ViolationTally.objects.exclude(n=0).values_list("category_id", "kind", "n")),
        sorted(
            PublicityTally.objects.exclude(n=0).values_list(
                "category_id", "department_id", "month", "n"
            )
        ),
    )


S1, S2 = uscc("370302", 1), uscc("370303", 2)  # 张店 is 370303, 淄川 370302
P = ric("370305", 7)  # a person of 临淄 (370305)


def test_loads_corrections_withdrawals_relinks_and_publicity_ending_then_rebuild(
    make_submission, department, cf, system
):
    # Load 1: k1 S1 1 Sep 无证经营; k2 S2 20 Aug 销售过期食品; k3 S2 3 Sep 销售过期食品; k4 a person
    # known by name only (a review: no subject yet) 5 Sep 无证经营; k5 the person P 15 Jul 虚假宣传.
    load(
        make_submission,
        "2026-09-10",
        [
            penalty(1, D(2026, 9, 1), "无证经营", uscc=S1),
            penalty(2, D(2026, 8, 20), "销售过期食品", uscc=S2),
            penalty(3, D(2026, 9, 3), "销售过期食品", uscc=S2),
            penalty(4, D(2026, 9, 5), "无证经营", kind="自然人", name="王五"),
            penalty(5, D(2026, 7, 15), "虚假宣传", kind="自然人", id_number=P),
        ],
    )
    assert by_district(cf) == {
        ("370302", "2026-09"): 1,
        ("370303", "2026-08"): 1,
        ("370303", "2026-09"): 1,
        ("", "2026-09"): 1,  # no subject yet
        ("370305", "2026-07"): 1,
    }
    assert by_violation(cf) == {"无证经营": 2, "销售过期食品": 2, "虚假宣传": 1}
    # All five public from their decision (12 months, judged today): by month of start.
    assert shown(cf, department) == {"2026-07": 1, "2026-08": 1, "2026-09": 3}

    # Load 2, a correction: k2 now decided 28 Sep, 无证经营 (it leaves August and 销售过期食品);
    # k5 sent again unchanged (nothing moves).
    load(
        make_submission,
        "2026-10-09",
        [
            penalty(2, D(2026, 9, 28), "无证经营", uscc=S2),
            penalty(5, D(2026, 7, 15), "虚假宣传", kind="自然人", id_number=P),
        ],
    )
    assert record(2).version == 2
    assert by_district(cf) == {
        ("370302", "2026-09"): 1,
        ("370303", "2026-09"): 2,
        ("", "2026-09"): 1,
        ("370305", "2026-07"): 1,
    }
    assert by_violation(cf) == {"无证经营": 3, "销售过期食品": 1, "虚假宣传": 1}
    assert shown(cf, department) == {"2026-07": 1, "2026-09": 4}

    # k3 withdrawn.
    withdraw_record(system, record(3), "决定被撤销")
    assert by_district(cf)[("370303", "2026-09")] == 1
    assert by_violation(cf) == {"无证经营": 3, "虚假宣传": 1}
    assert shown(cf, department) == {"2026-07": 1, "2026-09": 3}

    # k4's review confirmed: the person P (临淄). It leaves "no subject" for 370305.
    person = Subject.objects.get(kind="person", region="370305")
    resolve_match(system, MatchReview.objects.get(record=record(4)), person)
    assert by_district(cf) == {
        ("370302", "2026-09"): 1,
        ("370303", "2026-09"): 1,
        ("370305", "2026-07"): 1,
        ("370305", "2026-09"): 1,
    }

    # Load 3: the withdrawn k3 corrected (it stays withdrawn: counts nowhere) and a new k6 of S1,
    # decided 2 October.
    load(
        make_submission,
        "2026-10-12",
        [
            penalty(3, D(2026, 9, 4), "销售过期食品", uscc=S2),
            penalty(6, D(2026, 10, 2), "无证经营", uscc=S1),
        ],
    )
    assert record(3).version == 2 and record(3).status == "withdrawn"
    assert by_district(cf) == {
        ("370302", "2026-09"): 1,
        ("370302", "2026-10"): 1,
        ("370303", "2026-09"): 1,
        ("370305", "2026-07"): 1,
        ("370305", "2026-09"): 1,
    }
    assert by_violation(cf) == {"无证经营": 4, "虚假宣传": 1}
    assert shown(cf, department) == {"2026-07": 1, "2026-09": 3, "2026-10": 1}

    # Publicity ends: k6 repaired (a granted repair stops it); the sweep of 2 September 2027
    # ends k1 (public until 31 August 2027) and k5 (until 14 July 2027); records stay in force.
    add_mark(system, record(6), PublicityMark.Kind.REPAIRED, "信用修复已通过")
    assert shown(cf, department) == {"2026-07": 1, "2026-09": 3}
    assert sweep_publicity(D(2027, 9, 2))["ended"] == 2
    assert shown(cf, department) == {"2026-09": 2}  # k2 and k4
    assert by_violation(cf) == {"无证经营": 4, "虚假宣传": 1}

    incremental = kept()
    rebuilt = rebuild_tallies()
    assert rebuilt == {"record_tally": 5, "violation_tally": 2}
    assert rebuild_publicity_tally() == 1
    assert kept() == incremental


def test_public_today_leaves_out_windows_the_sweep_has_not_ended_or_not_begun(
    make_submission, department, cf
):
    # Public from 1 Sep (until 31 Aug 2027), from 5 Sep (until 4 Sep 2027), from 28 Sep.
    load(
        make_submission,
        "2026-10-09",
        [
            penalty(1, D(2026, 9, 1), "无证经营", uscc=S1),
            penalty(4, D(2026, 9, 5), "无证经营", uscc=S2),
            penalty(2, D(2026, 9, 28), "无证经营", uscc=S2),
        ],
    )
    september = D(2026, 9, 1)

    def public(today: dt.date) -> int:
        frame = public_by_month(today, september, [cf.pk])
        assert frame.get_column("month").unique().to_list() in ([], [september])
        return int(frame.get_column("n").sum())

    assert public(D(2026, 10, 20)) == 3
    # Asked about 2 September 2026: the 5 and 28 September windows had not begun.
    assert public(D(2026, 9, 2)) == 1
    # 3 September 2027, no sweep since: the 1 September window has ended all the same.
    assert public(D(2027, 9, 3)) == 2
    sweep_publicity(D(2027, 9, 3))
    assert shown(cf, department) == {"2026-09": 2}
    # 10 September 2027, the sweep last ran on the 3rd: the 5 September window has ended too.
    assert public(D(2027, 9, 10)) == 1


def test_a_record_counts_in_the_district_its_subject_had_when_it_was_written(make_submission, cf):
    load(make_submission, "2026-10-09", [penalty(1, D(2026, 9, 1), "无证经营", uscc=S1)])
    Subject.objects.filter(uscc=S1).update(region="370304")  # the register corrected later
    assert by_district(cf) == {("370302", "2026-09"): 1}
    # The rebuild reads the districts as they are now.
    rebuild_tallies()
    assert by_district(cf) == {("370304", "2026-09"): 1}


def test_the_rebuild_command_rebuilds_the_tallies(make_submission, department, cf):
    load(make_submission, "2026-10-09", [penalty(1, D(2026, 9, 1), "无证经营", uscc=S1)])
    RecordTally.objects.all().delete()
    ViolationTally.objects.all().delete()
    PublicityTally.objects.all().delete()
    out = StringIO()
    call_command("bulletins", "rebuild", "--tallies", stdout=out)
    assert json.loads(out.getvalue()) == {
        "record_tally": 1,
        "violation_tally": 1,
        "publicity_tally": 1,
        "subject_tally": 1,  # the company intake registered
    }
    assert by_district(cf) == {("370302", "2026-09"): 1}
    assert by_violation(cf) == {"无证经营": 1}
    assert shown(cf, department) == {"2026-09": 1}
    out = StringIO()
    call_command("bulletins", "rebuild", stdout=out)
    assert set(json.loads(out.getvalue())) == {
        "metric_rows",
        "record_tally",
        "violation_tally",
        "publicity_tally",
        "subject_tally",
    }
