"""Objections (异议) as a state machine: the record shows 异议处理中 while it is verified; the
outcome is a correction (a new version), a withdrawal or the record upheld, each with reasons
and history."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from pubcredit.accounts.permissions import PUBLIC
from pubcredit.publicity.models import Publicity, PublicityMark, PublicityState
from pubcredit.records.models import Record, RecordStatus
from pubcredit.repair import objections, queries, services
from pubcredit.repair.models import Objection
from pubcredit.repair.models import ProcedureStatus as S
from pubcredit.repair.tests.kit import D, penalty

pytestmark = pytest.mark.django_db


@pytest.fixture
def company(make_subject):
    return make_subject()


def file(record, *, target="content", today=D, **kwargs):
    values = {
        "reason": "处罚决定已被复议撤销,相关信息应当撤回。",
        "requested_correction": "撤回该条处罚信息",
        "applicant_name": "王经办",
        "applicant_phone": "13800001111",
    }
    values.update(kwargs)
    return objections.file_objection(PUBLIC, record, target=target, today=today, **values)


def _state(record) -> str:
    return Publicity.objects.get(pk=record.pk).state


def test_accepted_objection_flags_the_record_until_it_is_settled(world, staff, company):
    record = penalty(company)
    obj = file(record)
    assert obj.status == S.SUBMITTED
    assert obj.due_on == dt.date(2026, 6, 3)  # 2 working days after Monday 06-01
    assert _state(record) == PublicityState.PUBLIC

    obj = objections.accept_objection(staff["centre"], obj, today=D)
    assert obj.status == S.VERIFYING
    assert obj.due_on == dt.date(2026, 6, 15)  # 10 working days
    assert _state(record) == PublicityState.OBJECTION
    assert queries.public_records_shown([record.pk], D) == {record.pk}  # shown, flagged

    obj = objections.verify_objection(
        staff["dept"], obj, outcome=S.UPHELD, reason="经核实,处罚决定合法有效。", today=D
    )
    assert obj.status == S.UPHELD
    assert _state(record) == PublicityState.PUBLIC
    assert not PublicityMark.objects.filter(record=record, lifted_at__isnull=True).exists()
    assert obj.reply_letter.read().startswith(b"%PDF")
    assert [s.action for s in obj.steps.all()] == ["submit", "accept", "verify"]


def test_withdrawn_outcome_withdraws_the_record(world, staff, company):
    record = penalty(company)
    obj = objections.accept_objection(staff["centre"], file(record), today=D)
    objections.verify_objection(
        staff["dept"], obj, outcome=S.RECORD_WITHDRAWN, reason="原处罚决定已撤销", today=D
    )
    record.refresh_from_db()
    assert record.status == RecordStatus.WITHDRAWN
    assert "异议核实后撤回" in record.status_reason
    assert queries.public_records_shown([record.pk], D) == set()


def test_corrected_needs_a_new_version(world, staff, company):
    record = penalty(company)
    obj = objections.accept_objection(staff["centre"], file(record, target="period"), today=D)
    with pytest.raises(ValidationError, match="尚未更正"):
        objections.verify_objection(
            staff["dept"], obj, outcome=S.CORRECTED, reason="已更正", today=D
        )
    # The department resubmits the corrected row through intake: the record gets version 2.
    Record.objects.filter(pk=record.pk).update(version=2)
    obj = objections.verify_objection(
        staff["dept"], obj, outcome=S.CORRECTED, reason="已更正处罚日期", today=D
    )
    assert obj.status == S.CORRECTED
    assert _state(record) == PublicityState.PUBLIC


def test_a_tier_set_by_the_department_is_a_correction(world, staff, company, system):
    from pubcredit.publicity.services import set_tier

    record = penalty(company, tier="serious")
    obj = objections.accept_objection(staff["centre"], file(record, target="period"), today=D)
    set_tier(staff["dept"], record, "general", "异议核实:应为一般失信")
    obj = objections.verify_objection(
        staff["dept"], obj, outcome=S.CORRECTED, reason="改为一般", today=D
    )
    assert obj.status == S.CORRECTED


@pytest.mark.parametrize(
    ("who", "action"),
    [
        ("dept", "accept"),
        ("window", "accept"),
        ("public", "accept"),
        ("centre", "verify"),
        ("other_dept", "verify"),
        ("public", "verify"),
    ],
)
def test_roles_that_may_not_act_are_refused(world, staff, company, who, action):
    obj = file(penalty(company))
    if action == "verify":
        obj = objections.accept_objection(staff["centre"], obj, today=D)
    before = obj.status
    with pytest.raises(PermissionDenied):
        if action == "accept":
            objections.accept_objection(staff[who], obj, today=D)
        else:
            objections.verify_objection(staff[who], obj, outcome=S.UPHELD, reason="x", today=D)
    assert Objection.objects.get(pk=obj.pk).status == before


ACTIONS = {
    "accept": lambda st, o: objections.accept_objection(st["centre"], o, today=D),
    "refuse": lambda st, o: objections.refuse_objection(st["centre"], o, "不属于异议范围", today=D),
    "verify": lambda st, o: objections.verify_objection(
        st["dept"], o, outcome=S.UPHELD, reason="维持", today=D
    ),
    "withdraw": lambda st, o: objections.withdraw_objection(
        st["public"], o, phone="138 0000 1111", today=D
    ),
}
ALLOWED = {
    "accept": {S.SUBMITTED},
    "refuse": {S.SUBMITTED},
    "verify": {S.VERIFYING},
    "withdraw": {S.SUBMITTED, S.VERIFYING},
}


def _to(state, record, staff):
    obj = file(record)
    if state == S.SUBMITTED:
        return obj
    if state == S.REFUSED:
        return objections.refuse_objection(staff["centre"], obj, "不属于异议范围", today=D)
    if state == S.WITHDRAWN:
        return objections.withdraw_objection(staff["public"], obj, phone="13800001111", today=D)
    obj = objections.accept_objection(staff["centre"], obj, today=D)
    if state == S.VERIFYING:
        return obj
    return objections.verify_objection(staff["dept"], obj, outcome=S.UPHELD, reason="维持", today=D)


@pytest.mark.parametrize("state", [S.SUBMITTED, S.VERIFYING, S.UPHELD, S.REFUSED, S.WITHDRAWN])
@pytest.mark.parametrize("action", sorted(ACTIONS))
def test_every_transition_from_every_state(world, staff, company, state, action):
    obj = _to(state, penalty(company), staff)
    if state in ALLOWED[action]:
        assert ACTIONS[action](staff, obj).status != state
    else:
        with pytest.raises(ValidationError, match="不能"):
            ACTIONS[action](staff, obj)
        assert Objection.objects.get(pk=obj.pk).status == state


def test_withdrawing_an_objection_lifts_the_flag(world, staff, company):
    record = penalty(company)
    obj = objections.accept_objection(staff["centre"], file(record), today=D)
    assert _state(record) == PublicityState.OBJECTION
    objections.withdraw_objection(staff["public"], obj, phone="13800001111", today=D)
    assert _state(record) == PublicityState.PUBLIC


def test_objection_rules(world, staff, company):
    record = penalty(company)
    file(record)
    with pytest.raises(ValidationError, match="已有正在办理的异议"):
        file(record)
    with pytest.raises(ValidationError, match="没有已办结的信用修复申请"):
        file(penalty(company), target="repair")
    ended = penalty(company)
    Publicity.objects.filter(pk=ended.pk).update(state=PublicityState.ENDED)
    with pytest.raises(ValidationError, match="未在公示"):
        file(ended)


def test_objection_to_a_repair_result(world, staff, company):
    from pubcredit.repair.tests.kit import apply

    record = penalty(company)
    app = apply(record)
    app = services.refuse_application(staff["centre"], app, "材料不全", today=D)
    obj = file(record, target="repair", reason="材料已齐全,不予受理有误。")
    assert obj.repair_application == app
    obj = objections.accept_objection(staff["centre"], obj, today=D)
    # An objection to a repair result does not flag the record itself.
    assert _state(record) == PublicityState.PUBLIC
    assert obj.status == S.VERIFYING
