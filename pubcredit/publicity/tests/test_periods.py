"""Publicity windows per regime, tier derivation, sector minimums and overrides."""

import datetime as dt

import pytest

from pubcredit.publicity.models import PublicityState, Tier
from pubcredit.publicity.services import refresh_publicity

pytestmark = pytest.mark.django_db

D = dt.date


@pytest.mark.parametrize(
    ("decision", "regime", "general_repair", "general_end", "serious_repair", "serious_end"),
    [
        # 527号: 一般 3m/1y, 严重 6m/3y
        (
            D(2023, 4, 30),
            "NDRC-527-2019",
            D(2023, 7, 30),
            D(2024, 4, 30),
            D(2023, 10, 30),
            D(2026, 4, 30),
        ),
        # Order 58: 3m/3y for both
        (
            D(2023, 5, 1),
            "NDRC-ORDER-58",
            D(2023, 8, 1),
            D(2026, 5, 1),
            D(2023, 8, 1),
            D(2026, 5, 1),
        ),
        (
            D(2026, 3, 31),
            "NDRC-ORDER-58",
            D(2026, 6, 30),
            D(2029, 3, 31),
            D(2026, 6, 30),
            D(2029, 3, 31),
        ),
        # Order 36: 一般 3m/1y, 严重 1y/3y
        (
            D(2026, 4, 1),
            "NDRC-ORDER-36",
            D(2026, 7, 1),
            D(2027, 4, 1),
            D(2027, 4, 1),
            D(2029, 4, 1),
        ),
    ],
)
def test_regime_boundaries(
    make_record, window, decision, regime, general_repair, general_end, serious_repair, serious_end
):
    general = window(make_record(decision=decision, types=["罚款"], fine="5"))
    assert general.regime.code == regime
    assert general.tier == Tier.GENERAL
    assert general.start == decision
    assert general.repair_from == general_repair
    assert general.end == general_end
    serious = window(make_record(decision=decision, types=["吊销许可证件"], fine=None))
    assert serious.regime.code == regime
    assert serious.tier == Tier.SERIOUS
    assert serious.repair_from == serious_repair
    assert serious.end == serious_end


def test_before_the_first_regime_the_first_applies(make_record, window):
    row = window(make_record(decision=D(2018, 1, 10), fine="5"))
    assert row.regime.code == "NDRC-527-2019"
    assert row.end == D(2019, 1, 10)
    assert row.state == PublicityState.ENDED


def test_month_arithmetic_clamps_to_month_end(make_record, window):
    row = window(make_record(decision=D(2024, 2, 29), types=["吊销许可证件"], fine=None))
    assert row.end == D(2027, 2, 28)
    assert row.last_day == D(2027, 2, 27)


@pytest.mark.parametrize(
    ("types", "fine", "kind", "tier", "rule"),
    [
        (["警告"], None, "org", Tier.MINOR, "minor-types"),
        (["通报批评"], None, "org", Tier.MINOR, "minor-types"),
        (["罚款"], "0.3", "org", Tier.MINOR, "fine-simple-org"),
        (["罚款"], "0.300001", "org", Tier.GENERAL, "fine-other"),
        (["罚款"], "0.02", "person", Tier.MINOR, "fine-simple-person"),
        (["罚款"], "0.03", "person", Tier.GENERAL, "fine-other"),
        (["罚款"], None, "org", Tier.GENERAL, "fine-other"),
        (["罚款"], "100", "org", Tier.SERIOUS, "fine-very-large"),
        (["没收非法财物"], None, "org", Tier.GENERAL, "general-types"),
        (["责令关闭"], None, "org", Tier.SERIOUS, "serious-types"),
        (["限制从业"], None, "person", Tier.SERIOUS, "serious-types"),
        (["其他-责令改正"], None, "org", Tier.GENERAL, "default"),
        ([], None, "org", Tier.GENERAL, "default"),
    ],
)
def test_tier_rules(make_record, window, types, fine, kind, tier, rule):
    row = window(make_record(decision=D(2026, 5, 6), types=types, fine=fine, kind=kind))
    assert (row.tier, row.rule, row.tier_source) == (tier, rule, "rule")


def test_several_types_take_the_longest_period(make_record, window):
    # 警告 alone is 轻微 (not published under Order 36); with 吊销许可证件 the decision is 严重.
    row = window(make_record(decision=D(2026, 5, 6), types=["警告", "吊销许可证件"], fine=None))
    assert row.tier == Tier.SERIOUS
    assert row.end == D(2029, 5, 6)
    assert row.state == PublicityState.PUBLIC
    # The same when the types come as one text cell (not split by intake).
    text = window(make_record(decision=D(2026, 5, 6), types=None, CF_CFLB="警告、罚款", fine="5"))
    assert text.tier == Tier.GENERAL


def test_minor_is_not_published_under_order_36_only(make_record, window):
    minor_36 = window(make_record(decision=D(2026, 4, 1), types=["警告"], fine=None))
    assert minor_36.tier == Tier.MINOR
    assert minor_36.state == PublicityState.NOT_PUBLISHED
    minor_58 = window(make_record(decision=D(2026, 3, 31), types=["警告"], fine=None))
    assert minor_58.state == PublicityState.PUBLIC
    assert minor_58.end == D(2029, 3, 31)


def test_department_may_publish_minor_for_three_months(make_record, window):
    from pubcredit.publicity.models import PeriodRule, PublicityRegime

    PeriodRule.objects.create(
        code="36-minor-yjgl",
        regime=PublicityRegime.objects.get(code="NDRC-ORDER-36"),
        order=10,
        tier=Tier.MINOR,
        departments=["ZB-YJGL"],
        published=True,
        min_months=0,
        max_months=3,
    )
    decided = D(2026, 6, 1)
    published = window(make_record(decision=decided, types=["警告"], department="ZB-YJGL"))
    assert published.state == PublicityState.PUBLIC
    assert (published.repair_from, published.end) == (decided, D(2026, 9, 1))
    other = window(make_record(decision=decided, types=["警告"], department="ZB-SCJG"))
    assert other.state == PublicityState.NOT_PUBLISHED


@pytest.mark.parametrize(
    ("department", "extra", "sector"),
    [
        ("ZB-YJGL", {}, "work_safety"),
        ("ZB-XFZD", {}, "fire"),
        ("ZB-SCJG", {"CF_WFXW": "使用未经定期检验的电梯"}, "special_equipment"),
        ("ZB-SCJG", {"CF_YJ": "《中华人民共和国特种设备安全法》第八十四条"}, "special_equipment"),
        ("ZB-SCJG", {}, ""),
        ("ZB-JTYS", {"CF_YJ": "《中华人民共和国安全生产法》第九十九条"}, "work_safety"),
        ("ZB-GAJ", {"CF_YJ": "《中华人民共和国消防法》第六十条"}, "fire"),
    ],
)
def test_sector_minimum_under_order_58(make_record, window, department, extra, sector):
    decided = D(2024, 3, 5)
    row = window(make_record(decision=decided, fine="5", department=department, **extra))
    assert row.sector == sector
    assert row.repair_from == (D(2025, 3, 5) if sector else D(2024, 6, 5))
    assert row.end == D(2027, 3, 5)


def test_sector_follows_the_deciding_authority(make_record, window, departments):
    # Submitted by the 行政审批服务局 on behalf of 应急管理局: the 处罚机关 code decides.
    row = window(
        make_record(
            decision=D(2024, 3, 5),
            fine="5",
            department="ZB-XZSP",
            CF_CFJGDM=departments["ZB-YJGL"].uscc,
        )
    )
    assert row.sector == "work_safety"
    assert row.repair_from == D(2025, 3, 5)


def test_no_sector_minimum_under_order_36(make_record, window):
    row = window(make_record(decision=D(2026, 5, 6), fine="5", department="ZB-YJGL"))
    assert row.sector == "work_safety"
    assert (row.repair_from, row.end) == (D(2026, 8, 6), D(2027, 5, 6))


def test_refresh_is_idempotent(make_record):
    for i in range(3):
        make_record(decision=D(2025, 1, 1 + i))
    again = refresh_publicity()
    assert again["records"] == 3
    assert (again["created"], again["updated"], again["events"]) == (0, 0, 0)
    assert again["unchanged"] == 3
