"""The credit check service: hits on the right days, measures apart, name-only checks without
false certainty, masking of persons, the log, feedback and statistics."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from pubcredit.catalog.models import SubjectKind
from pubcredit.checks.feedback import FeedbackItem, feedback_statistics, record_feedback
from pubcredit.checks.models import CheckChannel, CreditCheck
from pubcredit.checks.services import get_check, run_check
from pubcredit.testing.checkkit import (  # noqa: F401 (fixtures)
    D,
    accounts_fixture,
    black,
    penalty,
    person_fixture,
    principal_of,
    refresh,
    register_org,
)

pytestmark = pytest.mark.usefixtures("seeded")


def check(system, subject=None, matter="GOV_PROCUREMENT", day=D, **query):
    if subject is not None and not query:
        query = {"uscc": subject.uscc}
    return run_check(system, matter=matter, today=day, **query)


# --------------------------------------------------------------------------- validity boundaries


def test_entry_valid_through_d_hits_on_d_and_not_on_d_plus_1(system, make_subject):
    company = make_subject()
    last_day = dt.date(2025, 6, 30)
    entry = black(system, company, decided_on=dt.date(2025, 1, 10), valid_to=last_day)

    on_d = check(system, company, day=last_day).data
    assert on_d["outcome"] == "punish"
    assert [h["ref"] for h in on_d["hits"]] == [f"entry:{entry.pk}"]
    hit = on_d["hits"][0]
    assert hit["kind"] == "black"
    assert hit["valid_to"] == "2025-06-30"
    assert hit["decided_on"] == "2025-01-10"
    assert hit["authority"]  # the issuing authority is named
    codes = [m["code"] for m in on_d["punishments"]]
    assert "P_RESTRICT_PROCUREMENT" in codes
    assert "该主体在严重失信主体名单内" in on_d["conclusion"]
    assert "限制" in on_d["conclusion"]

    next_day = check(system, company, day=last_day + dt.timedelta(days=1)).data
    assert next_day["hits"] == []
    assert next_day["punishments"] == []
    assert next_day["outcome"] == "clear"
    assert next_day["conclusion"].startswith("未发现失信信息")


def test_entry_not_yet_valid_does_not_hit(system, make_subject):
    company = make_subject()
    black(system, company, decided_on=dt.date(2025, 5, 20), valid_from=dt.date(2025, 6, 2))
    assert check(system, company, day=dt.date(2025, 6, 1)).data["hits"] == []
    assert check(system, company, day=dt.date(2025, 6, 2)).data["hits"] != []


def test_penalty_public_until_end_exclusive(system, make_subject):
    company = make_subject()
    record = penalty(company, tier="serious", start=dt.date(2025, 1, 1), end=dt.date(2026, 1, 1))
    last = check(system, company, day=dt.date(2025, 12, 31)).data
    assert [h["ref"] for h in last["hits"]] == [f"record:{record.pk}"]
    assert last["hits"][0]["valid_to"] == "2025-12-31"
    assert last["hits"][0]["tier"] == "serious"
    assert last["hits"][0]["tier_label"] == "严重"
    assert [m["code"] for m in last["punishments"]] == ["P_RESTRICT_PROCUREMENT"]
    assert "公示中的失信记录" in last["conclusion"]
    after = check(system, company, day=dt.date(2026, 1, 1)).data
    assert after["hits"] == [] and after["outcome"] == "clear"


def test_general_penalty_hits_but_triggers_no_procurement_measure(system, make_subject):
    company = make_subject()
    penalty(company, tier="general")
    data = check(system, company).data
    assert len(data["hits"]) == 1
    assert data["punishments"] == []
    assert data["outcome"] == "hits"
    assert "无适用的奖惩措施" in data["conclusion"]


@pytest.mark.parametrize("state", ["repaired", "withdrawn", "ended", "expired", "not_published"])
def test_repaired_withdrawn_or_ended_records_never_hit(system, make_subject, state):
    company = make_subject()
    penalty(company, tier="serious", state=state)
    data = check(system, company).data
    assert data["hits"] == []
    assert data["punishments"] == []
    assert data["outcome"] == "clear"


def test_removed_and_expired_entries_never_hit(system, make_subject):
    from pubcredit.lists.services import expire_entries, remove_entry

    removed, expired = make_subject(), make_subject()
    entry = black(system, removed)
    remove_entry(system, entry, "已履行完毕")
    refresh(removed)
    black(system, expired, decided_on=dt.date(2024, 1, 1), valid_to=dt.date(2024, 12, 31))
    expire_entries(today=D)
    refresh(expired)
    assert check(system, removed).data["hits"] == []
    assert check(system, expired).data["hits"] == []


# --------------------------------------------------------------------------- measures


def test_rewards_and_punishments_come_apart_with_legal_basis_and_class(system, make_subject):
    good = make_subject()
    black(system, good, code="RED_TAX_A")
    data = check(system, good, matter="ADMIN_LICENSING").data
    assert data["outcome"] == "reward"
    assert data["punishments"] == []
    codes = {m["code"] for m in data["rewards"]}
    assert {"R_PRIORITY_HANDLING", "R_NOTIFY_COMMITMENT"} <= codes
    # 容缺受理 and 绿色通道 are seeded inactive (their basis is 待核实): never applied.
    assert not {"R_TOLERANT_ACCEPTANCE", "R_GREEN_CHANNEL"} & codes
    for m in data["rewards"]:
        assert m["legal_basis"]
        assert m["incentive_category_label"]
        assert m["kind"] == "reward"
    assert data["conclusion"].startswith("未发现失信信息")
    assert "可适用以下激励措施" in data["conclusion"]

    bad = make_subject()
    black(system, bad)
    data = check(system, bad).data
    for m in data["punishments"]:
        assert m["legal_basis"] and m["measure_class"] in (1, 2, 3) and m["class_label"]


def test_black_list_withholds_rewards(system, make_subject):
    both = make_subject()
    black(system, both, code="RED_TAX_A")
    black(system, both, code="BLK_WAGE_ARREARS")
    data = check(system, both, matter="ADMIN_LICENSING").data
    assert data["rewards"] == []
    assert data["withheld_rewards"]
    assert "P_RESTRICT_LICENSING" in [m["code"] for m in data["punishments"]]
    assert "暂不适用激励措施" in data["conclusion"]


def test_commitments_key_is_present(system, make_subject):
    assert check(system, make_subject()).data["commitments"] == []


# --------------------------------------------------------------------------- identifiers


def test_invalid_uscc_is_an_error_with_the_identifiers_message(system, make_subject):
    company = make_subject()
    wrong = company.uscc[:-1] + ("0" if company.uscc[-1] != "0" else "1")
    with pytest.raises(ValidationError) as exc:
        check(system, uscc=wrong)
    assert "uscc" in exc.value.message_dict
    assert "校验" in " ".join(exc.value.message_dict["uscc"])
    assert CreditCheck.objects.count() == 0


def test_unknown_matter_is_an_error(system, make_subject):
    with pytest.raises(ValidationError) as exc:
        check(system, make_subject(), matter="NO_SUCH_MATTER")
    assert "NO_SUCH_MATTER" in exc.value.message_dict["matter"][0]


def test_exactly_one_query_field(system, make_subject):
    company = make_subject()
    with pytest.raises(ValidationError):
        check(system, uscc=company.uscc, name=company.name)
    with pytest.raises(ValidationError):
        check(system)


def test_valid_code_not_in_register_is_not_found_not_clean(system, make_subject):
    from pubcredit.testing.listkit import make_uscc

    data = check(system, uscc=make_uscc(987654)).data
    assert data["outcome"] == "not_found"
    assert data["subject"] is None and data["hits"] == [] and data["rewards"] == []
    assert "未发现失信信息" not in data["conclusion"]
    assert "无法作出核查结论" in data["conclusion"]


def test_person_by_id_number_is_masked_everywhere(system, person):
    subject, ric = person(name="王小明")
    black(system, subject)
    result = check(system, id_number=ric, matter="EXIT_ENTRY")
    data = result.data
    assert data["subject"]["name"] == "王**"
    assert data["subject"]["id_masked"] == ric[:6] + "********" + ric[-4:]
    assert data["subject"]["uscc"] is None
    assert data["query"] == {"id_number": ric[:6] + "********" + ric[-4:]}
    assert "P_RESTRICT_EXIT" in [m["code"] for m in data["punishments"]]
    stored = CreditCheck.objects.get(pk=result.check.pk)
    assert ric not in json.dumps(stored.result, ensure_ascii=False)
    assert ric not in stored.query_value
    assert "王小明" not in json.dumps(stored.result, ensure_ascii=False)


# --------------------------------------------------------------------------- name-only checks


def test_unique_exact_name_is_identified_with_a_caution(system, make_subject):
    company = make_subject(name="淄博唯一名称测试有限公司")
    black(system, company)
    data = check(system, name="淄博唯一名称测试有限公司").data
    assert data["match"] == "name_exact"
    assert data["subject"]["id"] == company.pk
    assert data["hits"] and data["punishments"]
    assert "按名称精确匹配到唯一主体" in data["conclusion"]
    assert "以统一社会信用代码复核" in data["conclusion"]


def test_two_subjects_with_the_same_name_give_candidates_and_no_assertion(system, make_subject):
    from pubcredit.subjects.models import Subject

    a = make_subject(name="淄博同名测试有限公司")
    b = make_subject(name="淄博同名测试有限公司2")
    Subject.objects.filter(pk=b.pk).update(name="淄博同名测试有限公司", name_norm=a.name_norm)
    black(system, a)
    data = check(system, name="淄博同名测试有限公司").data
    assert data["match"] == "candidates"
    assert data["outcome"] == "candidates"
    assert data["subject"] is None
    assert {c["subject"]["id"] for c in data["candidates"]} >= {a.pk, b.pk}
    assert all(0 <= c["score"] <= 100 for c in data["candidates"])
    assert data["hits"] == [] and data["punishments"] == [] and data["rewards"] == []
    assert "未对任何候选主体作出结论" in data["conclusion"]


def test_similar_name_gives_candidates_only(system, make_subject):
    company = register_org(system, "淄博鲁中精细化工有限公司")
    black(system, company)
    data = check(system, name="淄博鲁中精细化工有限责任公司").data
    assert data["subject"] is None
    assert data["candidates"] and data["candidates"][0]["subject"]["id"] == company.pk
    assert data["candidates"][0]["score"] < 100 or data["match"] == "candidates"
    assert data["hits"] == [] and data["punishments"] == []


def test_former_name_is_not_asserted(system, make_subject):
    from pubcredit.subjects.services import rename_subject

    company = make_subject(name="淄博旧名称测试有限公司")
    rename_subject(system, company, "淄博新名称测试有限公司", reason="更名")
    black(system, company)
    data = check(system, name="淄博旧名称测试有限公司").data
    assert data["subject"] is None
    assert [c["subject"]["id"] for c in data["candidates"]] == [company.pk]
    assert data["hits"] == []


def test_a_current_name_another_subject_used_before_is_not_asserted(system, make_subject):
    from pubcredit.subjects.services import rename_subject

    earlier = make_subject(name="淄博同名交替测试有限公司")
    rename_subject(system, earlier, "淄博同名交替测试新名有限公司", reason="更名")
    now_named = make_subject(name="淄博同名交替测试有限公司")
    black(system, now_named)
    data = check(system, name="淄博同名交替测试有限公司").data
    assert data["subject"] is None and data["match"] == "candidates"
    assert {c["subject"]["id"] for c in data["candidates"]} == {earlier.pk, now_named.pk}
    assert data["hits"] == [] and data["punishments"] == []


def test_person_name_alone_never_identifies_a_person(system, person):
    subject, _ric = person(name="李四海")
    black(system, subject)
    data = check(system, name="李四海").data
    assert data["subject"] is None
    assert data["candidates"] == []
    assert data["outcome"] == "not_found"
    assert "自然人不能仅凭姓名核查" in data["conclusion"]


# --------------------------------------------------------------------------- the log


def test_every_check_is_logged_with_who_how_and_what(system, make_subject, accounts):
    company = make_subject()
    black(system, company)
    clerk = principal_of(accounts["clerk"])
    result = run_check(
        clerk,
        uscc=company.uscc,
        matter="GOV_PROCUREMENT",
        channel="window",
        client="3号窗口",
        today=D,
    )
    row = CreditCheck.objects.get(pk=result.check.pk)
    assert row.user == accounts["clerk"]
    assert row.department_id is None  # 窗口核查员 have no department in the accounts model
    assert row.channel == CheckChannel.WINDOW
    assert row.client == "3号窗口"
    assert row.subject_id == company.pk
    assert row.matter.code == "GOV_PROCUREMENT"
    assert row.outcome == "punish" and row.hit_count == 1 and row.punishment_count >= 1
    assert row.result["conclusion"] == result.data["conclusion"]
    assert result.data["id"] == row.pk
    assert result.data["number"].startswith("HC")

    key, _clear = accounts["bank"]
    run_check(principal_of(key), uscc=company.uscc, matter="FINANCING", today=D)
    assert CreditCheck.objects.filter(api_key=key, user=None).count() == 1


def test_role_without_checks_run_is_refused(make_subject, accounts):
    with pytest.raises(PermissionDenied):
        run_check(principal_of(accounts["submitter"]), uscc=make_subject().uscc, matter="HONOURS")


def test_checks_are_visible_to_their_department_and_the_centre(system, make_subject, accounts):
    result = run_check(
        principal_of(accounts["clerk"]), uscc=make_subject().uscc, matter="HONOURS", today=D
    )
    pk = result.check.pk
    assert get_check(principal_of(accounts["centre"]), pk).pk == pk
    with pytest.raises(CreditCheck.DoesNotExist):
        get_check(principal_of(accounts["clerk2"]), pk)
    with pytest.raises(CreditCheck.DoesNotExist):
        get_check(principal_of(accounts["bank"][0]), pk)


# --------------------------------------------------------------------------- feedback


def test_feedback_records_applied_measures_and_feeds_statistics(system, make_subject, accounts):
    from pubcredit.accounts.models import AuditEvent

    company = make_subject()
    black(system, company)
    clerk = principal_of(accounts["clerk"])
    result = run_check(clerk, uscc=company.uscc, matter="GOV_PROCUREMENT", today=D)
    rows = record_feedback(
        clerk,
        result.check,
        [FeedbackItem("P_RESTRICT_PROCUREMENT", True, "不予参加本次采购")],
    )
    assert [(r.applied, r.measure_kind) for r in rows] == [(True, "punishment")]
    # A later answer replaces the earlier one.
    record_feedback(clerk, result.check.pk, [FeedbackItem("P_RESTRICT_PROCUREMENT", False, "撤回")])
    assert result.check.feedback.get().applied is False
    record_feedback(clerk, result.check.pk, [FeedbackItem("P_RESTRICT_PROCUREMENT", True)])
    assert AuditEvent.objects.filter(action="checks.feedback").count() == 3

    stats = feedback_statistics(principal_of(accounts["centre"]))
    assert stats["totals"]["punishment"] == 1
    assert stats["rows"] == [
        {
            "department": "市政务服务中心公共资源交易窗口",
            "measure": "P_RESTRICT_PROCUREMENT",
            "measure_name": stats["rows"][0]["measure_name"],
            "kind": "punishment",
            "cases": 1,
            "not_applied": 0,
        }
    ]
    assert feedback_statistics(principal_of(accounts["clerk2"]))["rows"] == []


def test_feedback_only_for_measures_the_check_returned(system, make_subject, accounts):
    company = make_subject()
    black(system, company)
    clerk = principal_of(accounts["clerk"])
    result = run_check(clerk, uscc=company.uscc, matter="GOV_PROCUREMENT", today=D)
    with pytest.raises(ValidationError) as exc:
        record_feedback(clerk, result.check, [FeedbackItem("R_GREEN_CHANNEL", True)])
    assert "R_GREEN_CHANNEL" in str(exc.value)
    with pytest.raises(ValidationError):
        record_feedback(clerk, result.check, [])
    clean = run_check(clerk, uscc=make_subject().uscc, matter="GOV_PROCUREMENT", today=D)
    with pytest.raises(ValidationError) as exc:
        record_feedback(clerk, clean.check, [FeedbackItem("P_RESTRICT_PROCUREMENT", True)])
    assert "没有返回适用的奖惩措施" in str(exc.value)
    with pytest.raises(CreditCheck.DoesNotExist):
        record_feedback(
            principal_of(accounts["clerk2"]),
            result.check,
            [FeedbackItem("P_RESTRICT_PROCUREMENT", True)],
        )


def test_individual_business_is_checked_by_its_code(system, make_subject):
    shop = make_subject(kind=SubjectKind.INDIVIDUAL_BUSINESS)
    black(system, shop, code="BLK_FOOD_DRUG")
    data = check(system, shop, matter="ADMIN_LICENSING").data
    assert data["subject"]["kind"] == "ind"
    assert "P_RESTRICT_LICENSING" in [m["code"] for m in data["punishments"]]


def test_control_character_classes_are_unicodes():
    """The regular expressions standing for unicodedata's Cc and Cs categories (they run on
    every check) match exactly those code points."""
    import unicodedata

    from pubcredit.checks.services import _CONTROL, _bad_char, plain_text

    for point in range(0x110000):
        c = chr(point)
        control = unicodedata.category(c) in ("Cc", "Cs")
        assert (_CONTROL.match(c) is not None) is control, hex(point)
        assert _bad_char(c) is (control and c not in "\t\n\r"), hex(point)
    assert plain_text(" 信贷\x00系统\t一\n", 150) == "信贷系统一"
    assert plain_text("x" * 200, 150) == "x" * 150
