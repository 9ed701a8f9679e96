# ruff: noqa: F811 (pytest fixtures imported from loadkit)
"""The bulletin's content on a hand-computed October 2026 (National Day: 1–7 October off, 8 and
10 October worked, 25 September Mid-Autumn off, 20 September worked), its numbering and versions,
and the periods it can cover."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.db import transaction

from pubcredit.bulletins.compose import compose, score
from pubcredit.bulletins.models import Bulletin, RankingScheme
from pubcredit.bulletins.periods import Period
from pubcredit.bulletins.services import issue, summary_json
from pubcredit.catalog.models import Department, ReportingDuty
from pubcredit.intake import loading
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
OCTOBER = Period.month(2026, 10)


@pytest.fixture
def october(make_submission, department, cf, settings, tmp_path):
    """Three departments keep a 行政处罚 duty (7 working days); every other duty ended in August.

    - 市场监管局 (ZB-SCJG): a file of 14 October, 5 rows, 3 accepted, 2 rejected, 1 duplicate;
      decisions 28, 29, 30 September: 8, 7 and 6 working days before receipt → 1 late;
    - 生态环境局 (ZB-STHJ): a file of 12 October, 2 rows, both accepted; decisions 29 September
      (5 working days) and 18 September (12 working days, late);
    - 城市管理局 (ZB-CSGL): nothing (零报送)."""
    settings.MEDIA_ROOT = tmp_path
    keep = {"ZB-SCJG", "ZB-STHJ", "ZB-CSGL"}
    ReportingDuty.objects.exclude(department__code__in=keep, category=cf).update(
        effective_to=dt.date(2026, 8, 31)
    )
    ReportingDuty.objects.filter(department__code__in=keep).exclude(category=cf).update(
        effective_to=dt.date(2026, 8, 31)
    )
    first = make_submission(
        received_at=dt.datetime(2026, 10, 14, 10, tzinfo=SH),
        rows=5,
        accepted=3,
        rejected=2,
        duplicates=1,
    )
    sthj = Department.objects.get(code="ZB-STHJ")
    second = make_submission(
        department=sthj, received_at=dt.datetime(2026, 10, 12, 10, tzinfo=SH), rows=2, accepted=2
    )
    with transaction.atomic():
        loading.load_accepted(
            first,
            accepted_frame([cf_row(n, decision=dt.date(2026, 9, 27 + n)) for n in (1, 2, 3)]),
        )
        loading.load_accepted(
            second,
            accepted_frame(
                [
                    cf_row(11, decision=dt.date(2026, 9, 29)),
                    cf_row(12, decision=dt.date(2026, 9, 18)),
                ]
            ),
        )


def _by_code(content):
    return {row["code"]: row for row in content["departments"]}


def test_the_october_ranking_on_hand_computed_figures(october):
    content = compose(OCTOBER)
    rows = _by_code(content)
    assert [r["code"] for r in content["departments"]] == ["ZB-STHJ", "ZB-SCJG", "ZB-CSGL"]
    scjg, sthj, csgl = rows["ZB-SCJG"], rows["ZB-STHJ"], rows["ZB-CSGL"]
    assert (scjg["submitted"], scjg["accepted"], scjg["rejected"], scjg["duplicates"]) == (
        5,
        3,
        2,
        1,
    )
    assert (scjg["due"], scjg["on_time"], scjg["late"]) == (3, 2, 1)
    assert (sthj["due"], sthj["on_time"], sthj["late"]) == (2, 1, 1)
    assert (csgl["duties"], csgl["duties_reported"], csgl["zero_report"]) == (1, 0, True)
    # Default weights: coverage 30, timeliness 30, compliance 25, completeness 15.
    # 生态环境局: 30×1 + 30×½ + 25×1 + 15×0 = 70; 市场监管局: 30 + 30×⅔ + 25×0.6 + 0 = 65;
    # 城市管理局: only its coverage (0) can be computed → 0.
    assert (sthj["score"], sthj["rank"]) == (70.0, 1)
    assert (scjg["score"], scjg["rank"]) == (65.0, 2)
    assert (csgl["score"], csgl["rank"]) == (0.0, 3)
    assert scjg["rates"]["compliance"] == pytest.approx(0.6)
    assert sthj["rates"]["timeliness"] == pytest.approx(0.5)
    assert csgl["rates"]["timeliness"] is None

    assert [(z["code"], z["category"]) for z in content["zero_reports"]] == [("ZB-CSGL", "CF")]
    assert sorted((b["code"], b["rate"]) for b in content["below_threshold"]) == [
        ("ZB-SCJG", "compliance"),
        ("ZB-SCJG", "timeliness"),
        ("ZB-STHJ", "timeliness"),
    ]
    assert [p["code"] for p in content["praised"]] == ["ZB-STHJ", "ZB-SCJG"]  # not a 零报送 unit
    (district,) = content["districts"]
    assert (district["name"], district["departments"], district["submitted"]) == ("市直部门", 3, 7)

    summary = content["summary"]
    assert (summary["totals"]["submitted"], summary["totals"]["accepted"]) == (7, 5)
    assert summary["previous"]["submitted"] == 0
    assert summary["rates"]["compliance"] == pytest.approx(5 / 7)
    assert summary["text"].startswith(
        "2026年10月份,全市3个有报送责任或报送数据的部门中,2个部门报送信用信息7条"
    )
    assert "报送信用信息7条,上月无报送;校验通过5条,合规率71.4%;" in summary["text"]
    november = compose(Period.month(2026, 11))["summary"]["text"]
    assert "0个部门报送信用信息0条,较上月减少7条(-100.0%);" in november
    assert content["title"] == "关于2026年10月份全市公共信用信息归集情况的通报"


def test_a_quarter_sums_its_months(october):
    quarter = compose(Period.parse("2026Q4"))
    rows = _by_code(quarter)
    # November and December owe the same three duties and nothing arrived: 3 months each.
    assert (rows["ZB-SCJG"]["submitted"], rows["ZB-SCJG"]["duties"]) == (5, 3)
    assert rows["ZB-SCJG"]["duties_reported"] == 1
    assert rows["ZB-CSGL"]["zero_duties"] == [
        {
            "category": "CF",
            "category_name": rows["ZB-CSGL"]["zero_duties"][0]["category_name"],
            "months": 3,
        }
    ]
    assert quarter["period"]["label"] == "2026年第四季度"


def test_weights_are_data(october):
    RankingScheme.objects.create(
        name="只看合规率", effective_from=dt.date(2026, 10, 1), weights={"compliance": 1}
    )
    rows = _by_code(compose(OCTOBER))
    assert (rows["ZB-STHJ"]["score"], rows["ZB-SCJG"]["score"]) == (100.0, 60.0)
    assert rows["ZB-CSGL"]["score"] is None and rows["ZB-CSGL"]["rank"] is None


def test_score_skips_rates_that_cannot_be_computed():
    weights = {"timeliness": 30, "compliance": 20}
    assert score({"timeliness": None, "compliance": 0.5}, weights) == 50.0
    assert score({"timeliness": 1.0, "compliance": 0.5}, weights) == 80.0
    assert score({"timeliness": None, "compliance": None}, weights) is None


def test_an_issued_bulletin_is_frozen_and_a_new_version_keeps_its_serial(
    october, system, make_submission
):
    first, created = issue(OCTOBER, system)
    assert created
    assert first.number == "信用归集通报〔2026〕1号"
    assert (first.version, first.period_key) == (1, "2026-10")
    pdf_before = first.pdf.read()

    # New data for October after the issue: a re-issue is a re-print, unchanged.
    make_submission(received_at=dt.datetime(2026, 10, 20, tzinfo=SH), rows=40, accepted=40)
    again, created = issue(OCTOBER, system)
    assert (again.pk, created) == (first.pk, False)
    again.pdf.open("rb")
    assert again.pdf.read() == pdf_before
    assert _by_code(again.content)["ZB-SCJG"]["submitted"] == 5

    second, created = issue(OCTOBER, system, new_version=True)
    assert created and second.version == 2
    assert second.number == "信用归集通报〔2026〕1号(第2版)"
    assert _by_code(second.content)["ZB-SCJG"]["submitted"] == 45
    first.refresh_from_db()
    assert _by_code(first.content)["ZB-SCJG"]["submitted"] == 5

    november, _ = issue(Period.month(2026, 11), system)
    assert november.number == "信用归集通报〔2026〕2号"
    assert Bulletin.objects.count() == 3


def test_the_command_line_contract(october, system):
    bulletin, _ = issue(OCTOBER, system)
    out = summary_json(bulletin)
    assert (out["number"], out["period"], out["version"]) == (
        "信用归集通报〔2026〕1号",
        "2026-10",
        1,
    )
    first = out["departments"][0]
    assert first == {
        "code": "ZB-STHJ",
        "name": "淄博市生态环境局",
        "submitted": 2,
        "accepted": 2,
        "rejected": 0,
        "on_time_rate": 0.5,
        "compliance_rate": 1.0,
        "zero_report": False,
        "score": 70.0,
        "rank": 1,
    }
    assert out["files"]["pdf"].endswith(".pdf") and out["files"]["xlsx"].endswith(".xlsx")


def test_a_period_not_yet_ended_is_not_issued(system):
    with pytest.raises(ValueError, match="尚未结束"):
        issue(Period.containing("month", dt.date.today()), system)


@pytest.mark.parametrize(
    ("text", "kind", "start", "end", "label"),
    [
        ("2026-11", "month", dt.date(2026, 11, 1), dt.date(2026, 11, 30), "2026年11月份"),
        ("2026Q1", "quarter", dt.date(2026, 1, 1), dt.date(2026, 3, 31), "2026年第一季度"),
        ("2024-02", "month", dt.date(2024, 2, 1), dt.date(2024, 2, 29), "2024年2月份"),
        ("2026", "year", dt.date(2026, 1, 1), dt.date(2026, 12, 31), "2026年度"),
    ],
)
def test_periods(text, kind, start, end, label):
    period = Period.parse(text)
    assert (period.kind, period.start, period.end, period.label) == (kind, start, end, label)
    assert Period.parse(period.key) == period


def test_previous_periods_cross_years():
    assert Period.parse("2026-01").previous == Period.parse("2025-12")
    assert Period.parse("2026Q1").previous == Period.parse("2025Q4")


@pytest.mark.parametrize("text", ["2026-13", "2026Q5", "26-1", "", "2026-1-1"])
def test_invalid_periods_say_so_in_chinese(text):
    with pytest.raises(ValueError, match="应为 YYYY-MM"):
        Period.parse(text)
