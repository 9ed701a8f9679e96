"""Credit repair as a state machine: conditions, every transition by role and state, deadlines
across holidays and adjusted working Saturdays, and the effects of a decision."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from pubcredit.accounts.permissions import Principal
from pubcredit.publicity.models import Publicity, PublicityState
from pubcredit.repair import procedures, queries, rules, services, training
from pubcredit.repair.letters import repair_notice
from pubcredit.repair.models import ProcedureStatus as S
from pubcredit.repair.models import RepairApplication
from pubcredit.repair.tests.kit import D, apply, penalty
from pubcredit.testing.listkit import identify

pytestmark = pytest.mark.django_db


@pytest.fixture
def company(make_subject):
    return make_subject()


def _to(state: str, record, staff) -> RepairApplication:
    """An application of `record` brought to `state` through the services."""
    app = apply(record)
    if state == S.SUBMITTED:
        return app
    if state == S.REFUSED:
        return services.refuse_application(staff["centre"], app, "材料不齐", today=D)
    if state == S.WITHDRAWN:
        return services.withdraw_application(staff["public"], app, phone="05331234567", today=D)
    app = services.accept_application(staff["centre"], app, today=D)
    if state == S.ACCEPTED:
        return app
    agrees = state != S.DENIED
    app = services.review_application(staff["dept"], app, agrees=agrees, opinion="经核实", today=D)
    if state == S.REVIEWED:
        return app
    return services.decide_application(staff["centre"], app, grant=agrees, today=D)


# --------------------------------------------------------------------------- conditions


def test_eligibility_explains_each_condition(world, company):
    record = penalty(company, repair_from=dt.date(2026, 7, 1))
    check = services.repair_eligibility(record, D)
    by_code = {c.code: c for c in check.conditions}
    assert not check.eligible
    assert by_code["public"].met is True
    assert by_code["min_period"].met is False
    assert "2026-07-01" in by_code["min_period"].explanation
    assert by_code["commitment"].met is None  # signed with the application
    assert "training" not in by_code  # 一般 penalties need no training
    assert services.repair_eligibility(record, dt.date(2026, 7, 1)).eligible


def test_application_before_the_minimum_period_is_refused(world, company):
    record = penalty(company, repair_from=dt.date(2026, 7, 1))
    with pytest.raises(ValidationError) as err:
        apply(record)
    assert "自 2026-07-01 起方可申请修复" in str(err.value)
    assert not RepairApplication.objects.exists()


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"obligations_declared": False}, "履行法定义务后方可申请"),
        ({"materials": [("form", None)]}, "证明材料"),
        ({"accept_commitment": False}, "信用修复承诺书"),
        ({"applicant_phone": "电话"}, "联系电话格式不正确"),
        ({"statement": "  "}, "请填写整改和履行义务情况说明"),
    ],
)
def test_incomplete_applications_are_refused_in_chinese(world, company, changes, message):
    from pubcredit.repair.tests.kit import Upload

    record = penalty(company)
    if "materials" in changes:
        changes = {"materials": [("form", Upload("申请表.pdf"))]}
    with pytest.raises(ValidationError) as err:
        apply(record, **changes)
    assert message in str(err.value)


def test_materials_must_be_documents(world, company):
    from pubcredit.repair.tests.kit import Upload

    with pytest.raises(ValidationError, match="格式不支持"):
        apply(penalty(company), materials=[("proof", Upload("run.exe"))])
    with pytest.raises(ValidationError, match="空文件"):
        apply(penalty(company), materials=[("proof", Upload("a.pdf", b""))])


def test_serious_penalty_needs_training_first(world, company, system):
    from pubcredit.catalog.models import Department
    from pubcredit.repair.models import TrainingSession

    record = penalty(company, tier="serious")
    check = services.repair_eligibility(record, D)
    assert [c.code for c in check.unmet] == ["training"]
    with pytest.raises(ValidationError, match="信用修复专题培训"):
        apply(record)

    session = TrainingSession.objects.create(
        title="2026年第二期信用修复专题培训",
        starts_at=dt.datetime(2026, 5, 20, 9, 0, tzinfo=dt.UTC),
        place="市民中心",
        capacity=50,
        organiser=Department.objects.get(code="ZB-XYZX"),
        created_at=dt.datetime(2026, 5, 1, tzinfo=dt.UTC),
    )
    from pubcredit.repair.models import TrainingRegistration

    reg = TrainingRegistration.objects.create(
        session=session,
        subject=company,
        attendee_name="李经办",
        attendee_phone="13800000000",
        registered_at=session.created_at,
    )
    assert not services.repair_eligibility(record, D).eligible  # registered, not attended
    reg = training.mark_attendance(system, reg)
    assert reg.certificate_number.startswith("XF20260520")
    assert services.repair_eligibility(record, D).eligible
    assert apply(record).status == S.SUBMITTED


def test_a_record_not_shown_cannot_be_repaired(world, company):
    record = penalty(company)
    Publicity.objects.filter(pk=record.pk).update(state=PublicityState.ENDED)
    check = services.repair_eligibility(record, D)
    assert {c.code for c in check.unmet} == {"public"}
    assert "无需申请修复" in check.unmet[0].explanation


def test_one_open_application_per_record(world, company):
    record = penalty(company)
    first = apply(record)
    with pytest.raises(ValidationError, match="已有正在办理"):
        apply(record)
    services.withdraw_application(Principal.of(None), first, phone="0533 1234567", today=D)
    assert apply(record).status == S.SUBMITTED


# --------------------------------------------------------------------------- transitions

ACTIONS = {
    "accept": (lambda st, app: services.accept_application(st["centre"], app, today=D)),
    "refuse": (lambda st, app: services.refuse_application(st["centre"], app, "不符合", today=D)),
    "review": (
        lambda st, app: services.review_application(
            st["dept"], app, agrees=True, opinion="同意", today=D
        )
    ),
    "grant": (lambda st, app: services.decide_application(st["centre"], app, grant=True, today=D)),
    "withdraw": (
        lambda st, app: services.withdraw_application(
            st["public"], app, phone="0533-1234567", today=D
        )
    ),
}
ALLOWED = {
    "accept": {S.SUBMITTED},
    "refuse": {S.SUBMITTED},
    "review": {S.ACCEPTED},
    "grant": {S.REVIEWED},
    "withdraw": {S.SUBMITTED, S.ACCEPTED, S.REVIEWED},
}
STATES = [S.SUBMITTED, S.ACCEPTED, S.REVIEWED, S.GRANTED, S.DENIED, S.REFUSED, S.WITHDRAWN]


@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("action", sorted(ACTIONS))
def test_every_transition_from_every_state(world, staff, company, state, action):
    app = _to(state, penalty(company), staff)
    assert app.status == state
    if state in ALLOWED[action]:
        moved = ACTIONS[action](staff, app)
        assert moved.status != state
        assert moved.steps.last().from_status == state
    else:
        with pytest.raises(ValidationError, match="不能"):
            ACTIONS[action](staff, app)
        assert RepairApplication.objects.get(pk=app.pk).status == state


@pytest.mark.parametrize(
    ("action", "state", "who"),
    [
        ("accept", S.SUBMITTED, "dept"),
        ("accept", S.SUBMITTED, "window"),
        ("accept", S.SUBMITTED, "bank"),
        ("accept", S.SUBMITTED, "public"),
        ("accept", S.SUBMITTED, "district"),
        ("refuse", S.SUBMITTED, "dept"),
        ("review", S.ACCEPTED, "centre"),  # the deciding department verifies, not the centre
        ("review", S.ACCEPTED, "other_dept"),
        ("review", S.ACCEPTED, "window"),
        ("review", S.ACCEPTED, "public"),
        ("decide", S.REVIEWED, "dept"),
        ("decide", S.REVIEWED, "window"),
        ("decide", S.REVIEWED, "public"),
    ],
)
def test_roles_that_may_not_act_are_refused(world, staff, company, action, state, who):
    app = _to(state, penalty(company), staff)
    principal = staff[who]
    call = {
        "accept": lambda: services.accept_application(principal, app, today=D),
        "refuse": lambda: services.refuse_application(principal, app, "x", today=D),
        "review": lambda: services.review_application(
            principal, app, agrees=True, opinion="同意", today=D
        ),
        "decide": lambda: services.decide_application(principal, app, grant=True, today=D),
    }[action]
    with pytest.raises(PermissionDenied):
        call()
    assert RepairApplication.objects.get(pk=app.pk).status == state


def test_withdrawal_needs_the_phone_given_with_the_application(world, staff, company):
    app = apply(penalty(company))
    with pytest.raises(PermissionDenied, match="联系电话"):
        services.withdraw_application(staff["public"], app, phone="13900000000", today=D)
    assert RepairApplication.objects.get(pk=app.pk).status == S.SUBMITTED


def test_the_decision_follows_the_departments_opinion(world, staff, company):
    app = _to(S.ACCEPTED, penalty(company), staff)
    app = services.review_application(
        staff["dept"], app, agrees=False, opinion="罚款尚未缴清", today=D
    )
    with pytest.raises(ValidationError, match="不能准予修复"):
        services.decide_application(staff["centre"], app, grant=True, today=D)
    app = services.decide_application(staff["centre"], app, grant=False, today=D)
    assert app.status == S.DENIED
    assert app.result_reason == "罚款尚未缴清"
    assert Publicity.objects.get(pk=app.record_id).state == PublicityState.PUBLIC


# --------------------------------------------------------------------------- deadlines


def test_deadlines_count_working_days_across_national_day(world, staff, company):
    # Filed on Wednesday 2026-09-30: acceptance within 3 working days → 10-08, 10-09 and the
    # adjusted working Saturday 10-10 (National Day runs 10-01 to 10-07).
    record = penalty(company)
    day = dt.date(2026, 9, 30)
    app = apply(record, today=day)
    assert app.due_on == dt.date(2026, 10, 10)
    assert not app.is_overdue(dt.date(2026, 10, 10))
    assert app.is_overdue(dt.date(2026, 10, 12))

    # Accepted late on Monday 10-12: the step says so; review within 5 working days → 10-19.
    app = services.accept_application(staff["centre"], app, today=dt.date(2026, 10, 12))
    step = app.steps.get(action="accept")
    assert (step.late, step.stage_due_on) == (True, dt.date(2026, 10, 10))
    assert app.due_on == dt.date(2026, 10, 19)
    app = services.review_application(
        staff["dept"], app, agrees=True, opinion="同意", today=dt.date(2026, 10, 16)
    )
    assert app.steps.get(action="review").late is False
    assert app.due_on == dt.date(2026, 10, 20)  # 2 working days: Mon 10-19, Tue 10-20


def test_the_rule_in_force_on_the_filing_day_applies(world, company):
    before = apply(penalty(company), today=dt.date(2026, 3, 31))
    after = apply(penalty(company), today=dt.date(2026, 4, 1))
    assert (before.rule.code, after.rule.code) == ("order58", "order36")
    with pytest.raises(ValidationError, match="没有适用的信用修复规则"):
        rules.rule_on(dt.date(2022, 1, 1))


# --------------------------------------------------------------------------- effects


def test_a_granted_repair_stops_publicity_lifts_list_measures_and_checks(
    world, staff, company, system
):
    from pubcredit.lists.models import EntryStatus, ListEntry
    from pubcredit.measures.applicability import applicable_measures
    from pubcredit.measures.services import refresh_subject_flags

    record = penalty(company)
    entry = identify(
        system, company, "BLK_JUDGMENT_DEFAULTER", decided_on=dt.date(2026, 1, 5), today=D
    )
    ListEntry.objects.filter(pk=entry.pk).update(record=record)
    refresh_subject_flags([company.pk])
    before = applicable_measures(company.pk, None, D)
    assert {h.ref for h in before.hits} == {f"record:{record.pk}", f"entry:{entry.pk}"}
    assert before.punishments
    assert queries.public_records_shown([record.pk], D) == {record.pk}

    app = _to(S.GRANTED, record, staff)

    assert app.decision_letter.read().startswith(b"%PDF")
    assert app.decision_number.startswith("修复决字〔2026〕")
    assert Publicity.objects.get(pk=record.pk).state == PublicityState.REPAIRED
    assert queries.public_records_shown([record.pk], D) == set()
    assert ListEntry.objects.get(pk=entry.pk).status == EntryStatus.REMOVED
    after = applicable_measures(company.pk, None, D)
    assert (after.hits, after.punishments) == ((), ())
    assert app.commitment.commitment_type == "信用修复型"
    assert app.commitment.repaired_record_id == record.pk
    assert [s.action for s in app.steps.all()] == ["submit", "accept", "review", "decide"]


def test_a_broken_repair_commitment_puts_the_record_back(world, staff, company, system):
    record = penalty(company)
    app = _to(S.GRANTED, record, staff)
    assert queries.public_records_shown([record.pk], D) == set()
    assert services.revoke_repair(system, record, "违背信用修复承诺", source=app.commitment)
    assert queries.public_records_shown([record.pk], D) == {record.pk}
    app.refresh_from_db()
    assert app.status == S.REVOKED
    assert not services.revoke_repair(system, record, "再次")  # nothing left to revoke


def test_repair_notice_and_lookup(world, staff, company):
    from pubcredit.core import letters

    record = penalty(company, tier="serious")
    notice = repair_notice(record, D)
    assert notice.title == "信用修复告知书"
    assert ("可申请修复日期", "2026-01-01") in notice.facts
    assert any("专题培训" in p for p in notice.paragraphs)
    assert letters.render_letter(notice).startswith(b"%PDF")

    app = apply(penalty(company))
    assert queries.lookup(app.query_code.lower()) == app
    assert queries.lookup(f"{app.query_code[:6]} {app.query_code[6:]}") == app
    assert queries.lookup("ABC") is None


def test_opening_a_material_is_logged_and_scoped(world, staff, make_subject):
    from pubcredit.accounts.models import AccessLog, AuditEvent
    from pubcredit.catalog.models import SubjectKind

    person = make_subject(kind=SubjectKind.PERSON)
    app = apply(penalty(person))
    material = app.materials.get()
    with pytest.raises(PermissionDenied):
        procedures.open_material(staff["other_dept"], material)
    with pytest.raises(PermissionDenied):
        procedures.open_material(staff["window"], material)
    assert not AccessLog.objects.exists()

    procedures.open_material(staff["dept"], material)
    log = AccessLog.objects.get()
    assert (log.subject_id, log.actor_label) == (person.pk, "scjg1")
    assert app.query_code in log.purpose
    assert (
        AuditEvent.objects.filter(action="repair.material.open", actor_label="scjg1").count() == 1
    )

    org_app = apply(penalty(make_subject()))
    procedures.open_material(staff["centre"], org_app.materials.get())
    assert AccessLog.objects.count() == 1  # organisations' materials: audit trail only
    assert AuditEvent.objects.filter(action="repair.material.open").count() == 2
