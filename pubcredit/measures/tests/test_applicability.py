"""The applicability engine: list type × matter → measures (a table written out by hand, and
explicit cells), validity boundaries, removed / expired / repaired facts never hit, rewards
withheld by a black-list hit, record conditions, the read model and the rules cache."""

import datetime as dt
import json

import pytest

from pubcredit.lists import services as lists
from pubcredit.lists.models import ListType
from pubcredit.measures import rules
from pubcredit.measures.models import Matter, Measure, RulesVersion, SubjectFlags
from pubcredit.measures.services import (
    UnknownMatter,
    applicable_measures,
    applicable_measures_many,
    rebuild_subject_flags,
    refresh_subject_flags,
)
from pubcredit.testing.listkit import identify, make_public_penalty

pytestmark = pytest.mark.django_db

DECIDED = dt.date(2025, 1, 10)
D = dt.date(2025, 3, 1)
# The matters in the seed, in its order.
MATTERS = [
    "GOV_PROCUREMENT",
    "BIDDING",
    "ADMIN_LICENSING",
    "MARKET_ACCESS",
    "QUALIFICATION",
    "FISCAL_FUNDS",
    "GOV_FUNDED_PROJECTS",
    "PREFERENTIAL_POLICIES",
    "HONOURS",
    "CIVIL_SERVICE_HIRING",
    "LAND_TRANSFER",
    "FINANCING",
    "ROUTINE_SUPERVISION",
    "TAX_SERVICES",
    "CUSTOMS_CLEARANCE",
    "EXIT_ENTRY",
    "HIGH_CONSUMPTION",
]


def codes(measures) -> set[str]:
    return {m.code for m in measures}


# --------------------------------------------------------------------------- the matrix

# What one entry on a list gives, matter by matter, written out from the 联合奖惩 measures (the
# seed's list types × matters × subject kinds). A list type's row: the kind of subject put on
# the list, the measures that apply whatever the matter (a measure naming no matter), and the
# further measures of each matter; a matter not named gives nothing more.

# A red list of organisations: 容缺受理, 绿色通道, 优先办理, 告知承诺, 信用贷款, 减少检查频次,
# 评优评先优先, 财政资金优先, 免交保证金 (and 宣传推介 in every matter).
RED_ORG = {
    "GOV_PROCUREMENT": {"R_DEPOSIT_WAIVER"},
    "BIDDING": {"R_DEPOSIT_WAIVER"},
    "ADMIN_LICENSING": {
        "R_TOLERANT_ACCEPTANCE",
        "R_GREEN_CHANNEL",
        "R_PRIORITY_HANDLING",
        "R_NOTIFY_COMMITMENT",
    },
    "MARKET_ACCESS": {"R_TOLERANT_ACCEPTANCE", "R_PRIORITY_HANDLING", "R_NOTIFY_COMMITMENT"},
    "QUALIFICATION": {"R_TOLERANT_ACCEPTANCE", "R_PRIORITY_HANDLING", "R_NOTIFY_COMMITMENT"},
    "FISCAL_FUNDS": {"R_GREEN_CHANNEL", "R_FISCAL_PRIORITY"},
    "GOV_FUNDED_PROJECTS": {"R_GREEN_CHANNEL", "R_FISCAL_PRIORITY"},
    "PREFERENTIAL_POLICIES": {"R_FISCAL_PRIORITY"},
    "HONOURS": {"R_HONOURS_PRIORITY"},
    "FINANCING": {"R_CREDIT_LOAN"},
    "ROUTINE_SUPERVISION": {"R_REDUCED_INSPECTION"},
    "EXIT_ENTRY": {"R_GREEN_CHANNEL"},
}

# A black list: 限制采购, 限制投标, 不适用告知承诺, 限制财政资金, 限制评优, 提高融资成本, 重点监管
# (and 行业惩戒 in every matter); some lists add 限制准入, 限制许可 or 限制土地出让.
BLACK = {
    "GOV_PROCUREMENT": {"P_RESTRICT_PROCUREMENT"},
    "BIDDING": {"P_RESTRICT_BIDDING"},
    "ADMIN_LICENSING": {"P_NO_NOTIFY_COMMITMENT"},
    "MARKET_ACCESS": {"P_NO_NOTIFY_COMMITMENT"},
    "QUALIFICATION": {"P_NO_NOTIFY_COMMITMENT"},
    "FISCAL_FUNDS": {"P_RESTRICT_FISCAL_FUNDS"},
    "GOV_FUNDED_PROJECTS": {"P_RESTRICT_FISCAL_FUNDS"},
    "PREFERENTIAL_POLICIES": {"P_RESTRICT_FISCAL_FUNDS"},
    "HONOURS": {"P_RESTRICT_HONOURS"},
    "FINANCING": {"P_FINANCIAL_RISK_PRICING"},
    "ROUTINE_SUPERVISION": {"P_KEY_SUPERVISION"},
}
# 食品药品、安全生产、生态环境: entry to the market and licences are restricted too.
BLACK_MARKET = {
    **BLACK,
    "ADMIN_LICENSING": {"P_RESTRICT_LICENSING", "P_NO_NOTIFY_COMMITMENT"},
    "MARKET_ACCESS": {"P_RESTRICT_MARKET_ACCESS", "P_NO_NOTIFY_COMMITMENT"},
    "QUALIFICATION": {
        "P_RESTRICT_MARKET_ACCESS",
        "P_RESTRICT_LICENSING",
        "P_NO_NOTIFY_COMMITMENT",
    },
}
# 重点关注: 不适用告知承诺 and 重点监管.
WATCH_COMMITMENTS = {
    "ADMIN_LICENSING": {"P_NO_NOTIFY_COMMITMENT"},
    "MARKET_ACCESS": {"P_NO_NOTIFY_COMMITMENT"},
    "QUALIFICATION": {"P_NO_NOTIFY_COMMITMENT"},
    "ROUTINE_SUPERVISION": {"P_KEY_SUPERVISION"},
}

PROMOTION = {"R_PUBLIC_PROMOTION"}
DISCIPLINE = {"P_INDUSTRY_DISCIPLINE"}

# list type: (subject kind, measures in every matter, {matter: further measures})
MATRIX: dict[str, tuple[str, set[str], dict[str, set[str]]]] = {
    "RED_TAX_A": ("org", PROMOTION, {**RED_ORG, "TAX_SERVICES": {"R_TAX_FACILITATION"}}),
    "RED_FOOD_SD": ("org", PROMOTION, RED_ORG),
    "RED_HOUDAO_LUSHANG": ("org", PROMOTION, RED_ORG),
    "RED_INTEGRITY_MODEL": ("org", PROMOTION, RED_ORG),
    "RED_CONTRACT": ("org", PROMOTION, RED_ORG),
    "RED_LABOUR_A": ("org", PROMOTION, RED_ORG),
    "RED_CUSTOMS_AEO": (
        "org",
        PROMOTION,
        {**RED_ORG, "CUSTOMS_CLEARANCE": {"R_CUSTOMS_FACILITATION"}},
    ),
    "RED_CONSTRUCTION": ("org", PROMOTION, RED_ORG),
    "RED_SOCIAL_ORG_3A": (
        "org",
        PROMOTION,
        {
            **RED_ORG,
            "GOV_PROCUREMENT": {"R_DEPOSIT_WAIVER", "R_SOCIAL_ORG_PRIORITY"},
            "FISCAL_FUNDS": {"R_GREEN_CHANNEL", "R_FISCAL_PRIORITY", "R_SOCIAL_ORG_PRIORITY"},
        },
    ),
    "RED_ENV_GREEN": ("org", PROMOTION, RED_ORG),
    "RED_HOUSEKEEPING": ("org", PROMOTION, RED_ORG),
    # A person on the red list: no loans, inspections, fiscal priority or deposit waivers (those
    # are for businesses), but priority in civil service hiring.
    "RED_INTEGRITY_PERSON": (
        "person",
        PROMOTION,
        {
            "ADMIN_LICENSING": {
                "R_TOLERANT_ACCEPTANCE",
                "R_GREEN_CHANNEL",
                "R_PRIORITY_HANDLING",
                "R_NOTIFY_COMMITMENT",
            },
            "MARKET_ACCESS": {
                "R_TOLERANT_ACCEPTANCE",
                "R_PRIORITY_HANDLING",
                "R_NOTIFY_COMMITMENT",
            },
            "QUALIFICATION": {
                "R_TOLERANT_ACCEPTANCE",
                "R_PRIORITY_HANDLING",
                "R_NOTIFY_COMMITMENT",
            },
            "FISCAL_FUNDS": {"R_GREEN_CHANNEL"},
            "GOV_FUNDED_PROJECTS": {"R_GREEN_CHANNEL"},
            "HONOURS": {"R_HONOURS_PRIORITY"},
            "CIVIL_SERVICE_HIRING": {"R_HIRING_PRIORITY"},
            "EXIT_ENTRY": {"R_GREEN_CHANNEL"},
        },
    ),
    # 失信被执行人 (an organisation: 限制任职 and 限制出境 are for persons): also 限制土地出让 and
    # 限制高消费.
    "BLK_JUDGMENT_DEFAULTER": (
        "org",
        DISCIPLINE,
        {
            **BLACK,
            "LAND_TRANSFER": {"P_RESTRICT_LAND"},
            "HIGH_CONSUMPTION": {"P_RESTRICT_HIGH_CONSUMPTION"},
        },
    ),
    # 拖欠农民工工资: also 限制许可 (not 限制准入).
    "BLK_WAGE_ARREARS": (
        "org",
        DISCIPLINE,
        {
            **BLACK,
            "ADMIN_LICENSING": {"P_RESTRICT_LICENSING", "P_NO_NOTIFY_COMMITMENT"},
            "QUALIFICATION": {"P_RESTRICT_LICENSING", "P_NO_NOTIFY_COMMITMENT"},
        },
    ),
    "BLK_FOOD_DRUG": ("org", DISCIPLINE, BLACK_MARKET),
    "BLK_WORK_SAFETY": ("org", DISCIPLINE, BLACK_MARKET),
    # 重大税收违法 (an organisation: 限制出境 is for persons): also 限制土地出让.
    "BLK_TAX_MAJOR": ("org", DISCIPLINE, {**BLACK, "LAND_TRANSFER": {"P_RESTRICT_LAND"}}),
    "BLK_ENVIRONMENT": ("org", DISCIPLINE, BLACK_MARKET),
    "BLK_PROCUREMENT": ("org", DISCIPLINE, BLACK),
    "WATCH_ABNORMAL_OPERATION": ("org", set(), WATCH_COMMITMENTS),
    # 限制消费: 限制高消费, 限制评优, 提高融资成本.
    "WATCH_CONSUMPTION_RESTRICTED": (
        "org",
        set(),
        {
            "HONOURS": {"P_RESTRICT_HONOURS"},
            "FINANCING": {"P_FINANCIAL_RISK_PRICING"},
            "HIGH_CONSUMPTION": {"P_RESTRICT_HIGH_CONSUMPTION"},
        },
    ),
    "WATCH_ENV_YELLOW": ("org", set(), {"ROUTINE_SUPERVISION": {"P_KEY_SUPERVISION"}}),
    "WCH_COMMITMENT_BREACH": ("org", set(), WATCH_COMMITMENTS),
}


def test_matrix_covers_every_list_type_and_matter(seeded):
    assert set(MATRIX) == set(ListType.objects.values_list("code", flat=True))
    assert set(MATTERS) == set(Matter.objects.values_list("code", flat=True))
    for _kind, _every, cells in MATRIX.values():
        assert set(cells) <= set(MATTERS)


@pytest.mark.parametrize("list_code", list(MATRIX))
def test_matrix_list_type_by_matter(seeded, make_subject, system, list_code):
    kind, every, cells = MATRIX[list_code]
    subject = make_subject(kind)
    identify(system, subject, list_code, decided_on=DECIDED)
    for matter in MATTERS:
        result = applicable_measures(subject.pk, matter, D)
        expected = every | cells.get(matter, set())
        rewards = {c for c in expected if c.startswith("R_")}
        punishments = {c for c in expected if c.startswith("P_")}
        assert (codes(result.rewards), codes(result.punishments)) == (rewards, punishments), (
            list_code,
            matter,
        )
        assert [h.code for h in result.hits] == [list_code]
        for m in (*result.rewards, *result.punishments):
            assert m.legal_basis.strip()
            assert m.triggered_by and m.triggered_by[0].startswith("entry:")
            assert (m.measure_class in (1, 2, 3)) == (m.kind == "punishment")


EXPLICIT = [
    # (list type, subject kind, matter, rewards, punishments)
    (
        "BLK_JUDGMENT_DEFAULTER",
        "org",
        "GOV_PROCUREMENT",
        set(),
        {"P_RESTRICT_PROCUREMENT", "P_INDUSTRY_DISCIPLINE"},
    ),
    (
        "BLK_JUDGMENT_DEFAULTER",
        "person",
        "MARKET_ACCESS",
        set(),
        {"P_RESTRICT_OFFICE", "P_NO_NOTIFY_COMMITMENT", "P_INDUSTRY_DISCIPLINE"},
    ),
    # 限制任职 applies to persons only.
    (
        "BLK_JUDGMENT_DEFAULTER",
        "org",
        "MARKET_ACCESS",
        set(),
        {"P_NO_NOTIFY_COMMITMENT", "P_INDUSTRY_DISCIPLINE"},
    ),
    (
        "BLK_JUDGMENT_DEFAULTER",
        "person",
        "HIGH_CONSUMPTION",
        set(),
        {"P_RESTRICT_HIGH_CONSUMPTION", "P_INDUSTRY_DISCIPLINE"},
    ),
    (
        "BLK_TAX_MAJOR",
        "person",
        "EXIT_ENTRY",
        set(),
        {"P_RESTRICT_EXIT", "P_INDUSTRY_DISCIPLINE"},
    ),
    (
        "BLK_WAGE_ARREARS",
        "org",
        "ADMIN_LICENSING",
        set(),
        {"P_RESTRICT_LICENSING", "P_NO_NOTIFY_COMMITMENT", "P_INDUSTRY_DISCIPLINE"},
    ),
    ("WATCH_ABNORMAL_OPERATION", "org", "ROUTINE_SUPERVISION", set(), {"P_KEY_SUPERVISION"}),
    ("WATCH_ABNORMAL_OPERATION", "org", "HONOURS", set(), set()),
    ("RED_TAX_A", "org", "TAX_SERVICES", {"R_TAX_FACILITATION", "R_PUBLIC_PROMOTION"}, set()),
    ("RED_TAX_A", "org", "GOV_PROCUREMENT", {"R_DEPOSIT_WAIVER", "R_PUBLIC_PROMOTION"}, set()),
    (
        "RED_TAX_A",
        "org",
        "ADMIN_LICENSING",
        {
            "R_TOLERANT_ACCEPTANCE",
            "R_GREEN_CHANNEL",
            "R_PRIORITY_HANDLING",
            "R_NOTIFY_COMMITMENT",
            "R_PUBLIC_PROMOTION",
        },
        set(),
    ),
    (
        "RED_CUSTOMS_AEO",
        "org",
        "CUSTOMS_CLEARANCE",
        {"R_CUSTOMS_FACILITATION", "R_PUBLIC_PROMOTION"},
        set(),
    ),
    (
        "RED_INTEGRITY_PERSON",
        "person",
        "CIVIL_SERVICE_HIRING",
        {"R_HIRING_PRIORITY", "R_PUBLIC_PROMOTION"},
        set(),
    ),
    ("RED_INTEGRITY_PERSON", "person", "FINANCING", {"R_PUBLIC_PROMOTION"}, set()),
]


@pytest.mark.parametrize(("list_code", "kind", "matter", "rewards", "punishments"), EXPLICIT)
def test_matrix_explicit_cells(
    seeded, make_subject, system, list_code, kind, matter, rewards, punishments
):
    subject = make_subject(kind)
    identify(system, subject, list_code, decided_on=DECIDED)
    result = applicable_measures(subject.pk, matter, D)
    assert codes(result.rewards) == rewards
    assert codes(result.punishments) == punishments


def test_seed_weighs_rewards_like_punishments(seeded):
    rewards = Measure.objects.filter(kind="reward").count()
    punishments = Measure.objects.filter(kind="punishment").count()
    assert rewards >= 12 and punishments >= 12 and abs(rewards - punishments) <= 3
    assert set(
        Measure.objects.filter(kind="punishment").values_list("measure_class", flat=True)
    ) == {1, 2, 3}
    # Every list type triggers at least one measure.
    assert not ListType.objects.filter(measures__isnull=True).exists()


def test_no_matter_means_every_matter(seeded, make_subject, system):
    subject = make_subject()
    identify(system, subject, "BLK_PROCUREMENT", decided_on=DECIDED)
    every = applicable_measures(subject.pk, None, D)
    union = set()
    for matter in MATTERS:
        union |= codes(applicable_measures(subject.pk, matter, D).punishments)
    assert codes(every.punishments) == union
    assert every.matter_code is None


def test_clean_subject_and_unknown_matter(seeded, make_subject):
    subject = make_subject()
    result = applicable_measures(subject.pk, "GOV_PROCUREMENT", D)
    assert (result.hits, result.rewards, result.punishments) == ((), (), ())
    assert result.matter_name == "政府采购"
    with pytest.raises(UnknownMatter, match="NOPE"):
        applicable_measures(subject.pk, "NOPE", D)
    Matter.objects.filter(code="BIDDING").update(active=False)
    rules.invalidate_local()
    with pytest.raises(UnknownMatter):
        applicable_measures(subject.pk, "BIDDING", D)


# --------------------------------------------------------------------------- validity


def test_valid_through_day_d_hits_on_d_not_on_d_plus_1(seeded, make_subject, system):
    subject = make_subject()
    last = dt.date(2025, 6, 30)
    identify(
        system,
        subject,
        "BLK_WORK_SAFETY",
        decided_on=DECIDED,
        valid_from=dt.date(2025, 2, 1),
        valid_to=last,
    )

    def hit(day):
        return bool(applicable_measures(subject.pk, "BIDDING", day).punishments)

    assert not hit(dt.date(2025, 1, 31))  # before valid_from
    assert hit(dt.date(2025, 2, 1))
    assert hit(last)
    assert not hit(last + dt.timedelta(days=1))  # the sweep has not run: the dates decide
    lists.expire_entries(last + dt.timedelta(days=1))
    assert not hit(last + dt.timedelta(days=1))
    assert not hit(last)  # expired entries leave the read model


def test_removed_entries_never_hit(seeded, make_subject, system):
    subject = make_subject()
    entry = identify(system, subject, "BLK_FOOD_DRUG", decided_on=DECIDED)
    assert applicable_measures(subject.pk, "GOV_PROCUREMENT", D).punishments
    lists.remove_entry(system, entry, "行政复议撤销认定")
    for day in (DECIDED, D, dt.date(2026, 1, 1)):
        result = applicable_measures(subject.pk, "GOV_PROCUREMENT", day)
        assert (result.hits, result.punishments) == ((), ())
    refresh_subject_flags([subject.pk])  # a rebuild does not bring it back
    assert not applicable_measures(subject.pk, None, D).hits


def test_inactive_list_type_does_not_hit(seeded, make_subject, system):
    subject = make_subject()
    identify(system, subject, "BLK_ENVIRONMENT", decided_on=DECIDED)
    ListType.objects.filter(code="BLK_ENVIRONMENT").update(active=False)
    rules.invalidate_local()
    assert not applicable_measures(subject.pk, "BIDDING", D).hits


def test_rewards_withheld_while_on_a_black_list(seeded, make_subject, system):
    subject = make_subject()
    identify(system, subject, "RED_TAX_A", decided_on=DECIDED)
    assert codes(applicable_measures(subject.pk, "TAX_SERVICES", D).rewards) == {
        "R_TAX_FACILITATION",
        "R_PUBLIC_PROMOTION",
    }
    identify(system, subject, "BLK_TAX_MAJOR", decided_on=dt.date(2025, 2, 1))
    result = applicable_measures(subject.pk, "TAX_SERVICES", D)
    assert result.rewards == ()
    assert codes(result.withheld_rewards) == {"R_TAX_FACILITATION", "R_PUBLIC_PROMOTION"}
    assert [h.kind for h in result.hits] == ["black", "red"]


def test_measure_effective_window(seeded, make_subject, system):
    subject = make_subject()
    identify(system, subject, "BLK_PROCUREMENT", decided_on=DECIDED)
    measure = Measure.objects.get(code="P_RESTRICT_PROCUREMENT")
    measure.effective_from = dt.date(2025, 4, 1)
    measure.save()
    assert "P_RESTRICT_PROCUREMENT" not in codes(
        applicable_measures(subject.pk, "GOV_PROCUREMENT", D).punishments
    )
    assert "P_RESTRICT_PROCUREMENT" in codes(
        applicable_measures(subject.pk, "GOV_PROCUREMENT", dt.date(2025, 4, 1)).punishments
    )
    measure.active = False
    measure.save()
    assert "P_RESTRICT_PROCUREMENT" not in codes(
        applicable_measures(subject.pk, "GOV_PROCUREMENT", dt.date(2025, 4, 1)).punishments
    )


# --------------------------------------------------------------------------- records


def test_serious_public_penalty_triggers_record_conditions(seeded, make_subject):
    subject = make_subject()
    record = make_public_penalty(
        subject, tier="serious", start=dt.date(2025, 1, 5), wsh="淄市监罚〔2025〕1号"
    )
    result = applicable_measures(subject.pk, "GOV_PROCUREMENT", D)
    assert [(h.source, h.code, h.tier, h.id) for h in result.hits] == [
        ("record", "CF", "serious", record.pk)
    ]
    assert result.hits[0].document_number == "淄市监罚〔2025〕1号"
    assert codes(result.punishments) == {"P_RESTRICT_PROCUREMENT"}
    assert result.punishments[0].triggered_by == (f"record:{record.pk}",)
    # A general-tier penalty is a hit, but triggers none of the tier-limited measures.
    other = make_subject()
    make_public_penalty(other, tier="general", start=dt.date(2025, 1, 5))
    result = applicable_measures(other.pk, "GOV_PROCUREMENT", D)
    assert [h.tier for h in result.hits] == ["general"] and result.punishments == ()


def test_publicity_end_is_exclusive_and_repaired_records_never_hit(seeded, make_subject):
    subject = make_subject()
    end = dt.date(2025, 7, 5)  # first day no longer public
    record = make_public_penalty(subject, start=dt.date(2025, 1, 5), end=end)
    assert applicable_measures(subject.pk, "BIDDING", end - dt.timedelta(days=1)).punishments
    assert not applicable_measures(subject.pk, "BIDDING", end).hits
    assert not applicable_measures(subject.pk, "BIDDING", dt.date(2025, 1, 4)).hits
    # A repair (or the objection workflow, the sweep …) changes the publicity read model; the
    # next check sees it with no refresh of ours.
    record.publicity.state = "repaired"
    record.publicity.save()
    assert not applicable_measures(subject.pk, "BIDDING", D).hits
    for state in ("ended", "withdrawn", "not_published", "pending"):
        record.publicity.state = state
        record.publicity.save()
        assert not applicable_measures(subject.pk, "BIDDING", D).hits, state
    record.publicity.state = "objection"  # shown with its flag while verified
    record.publicity.save()
    assert applicable_measures(subject.pk, "BIDDING", D).hits[0].state == "objection"


def test_rebuild_drops_stale_rows_and_adds_missing(seeded, make_subject, system):
    a, b = make_subject(), make_subject()
    identify(system, a, "BLK_TAX_MAJOR", decided_on=DECIDED)
    identify(system, b, "RED_TAX_A", decided_on=DECIDED)
    SubjectFlags.objects.filter(pk=a.pk).update(entries=[])
    SubjectFlags.objects.filter(pk=b.pk).delete()
    SubjectFlags.objects.create(
        subject_id=make_subject().pk, entries=[{"bogus": 1}], refreshed_at="2025-01-01T00:00Z"
    )
    assert rebuild_subject_flags() == 2
    assert set(SubjectFlags.objects.values_list("subject_id", flat=True)) == {a.pk, b.pk}
    assert applicable_measures(a.pk, "BIDDING", D).punishments
    assert applicable_measures(b.pk, "BIDDING", D).rewards


# --------------------------------------------------------------------------- speed and cache


def test_many_equals_one(seeded, make_subject, system):
    subjects = [make_subject() for _ in range(4)]
    identify(system, subjects[0], "BLK_TAX_MAJOR", decided_on=DECIDED)
    identify(system, subjects[1], "RED_TAX_A", decided_on=DECIDED)
    make_public_penalty(subjects[2])
    ids = [s.pk for s in subjects]
    many = applicable_measures_many(ids, "GOV_PROCUREMENT", D)
    assert set(many) == set(ids)
    for sid in ids:
        assert many[sid] == applicable_measures(sid, "GOV_PROCUREMENT", D)


def test_a_check_is_two_queries_with_warm_rules(
    seeded, make_subject, system, django_assert_max_num_queries
):
    subject = make_subject()
    identify(system, subject, "BLK_TAX_MAJOR", decided_on=DECIDED)
    applicable_measures(subject.pk, "BIDDING", D)  # warm the rules
    make_public_penalty(subject)
    with django_assert_max_num_queries(2):
        result = applicable_measures(subject.pk, "BIDDING", D)
    assert {h.source for h in result.hits} == {"list", "record"}


def test_rules_follow_changes_in_this_and_other_processes(seeded, make_subject, system, settings):
    subject = make_subject()
    identify(system, subject, "BLK_TAX_MAJOR", decided_on=DECIDED)
    assert "P_RESTRICT_BIDDING" in codes(applicable_measures(subject.pk, "BIDDING", D).punishments)
    # This process: a save drops the cache at once (signal).
    measure = Measure.objects.get(code="P_RESTRICT_BIDDING")
    measure.list_types.remove(ListType.objects.get(code="BLK_TAX_MAJOR"))
    assert "P_RESTRICT_BIDDING" not in codes(
        applicable_measures(subject.pk, "BIDDING", D).punishments
    )
    # Another process: only the version counter changes (no signal here); seen once the
    # check interval has passed.
    settings.PUBCREDIT_RULES_CHECK_SECONDS = 0
    rules.current_rules()
    Measure.objects.filter(code="P_RESTRICT_BIDDING").update(active=False)
    assert rules.current_rules().version == RulesVersion.objects.get().version
    assert any(m.code == "P_RESTRICT_BIDDING" for m in rules.current_rules().measures)
    RulesVersion.objects.filter(pk=1).update(version=RulesVersion.objects.get().version + 1)
    assert not any(m.code == "P_RESTRICT_BIDDING" for m in rules.current_rules().measures)


def test_as_dict_is_json_ready(seeded, make_subject, system):
    subject = make_subject()
    identify(system, subject, "BLK_WAGE_ARREARS", decided_on=DECIDED)
    data = applicable_measures(subject.pk, "FISCAL_FUNDS", D).as_dict()
    text = json.dumps(data, ensure_ascii=False)
    assert data["hits"][0]["valid_to"] == "2028-01-09"
    assert data["punishments"][0]["legal_basis"]
    assert "拖欠农民工工资失信联合惩戒对象" in text
