"""Signing and assessing commitments: codes, validation, the letter, the state machine by
role, and the effects of a breach (watch list → credit checks; a broken 信用修复型 commitment
puts the repaired record back in publicity)."""

from __future__ import annotations

import datetime as dt
import hashlib
import re

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from pubcredit.accounts.models import AuditEvent
from pubcredit.accounts.permissions import PUBLIC
from pubcredit.catalog.models import Region, SubjectKind
from pubcredit.commitments import assessment, queries
from pubcredit.commitments.models import (
    Commitment,
    CommitmentEvent,
    CommitmentSource,
    CommitmentType,
    Performance,
    PublicityType,
)
from pubcredit.lists.models import EntryStatus, ListEntry
from pubcredit.testing.commitkit import PHONE, D, department, sign

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("seeded", "media")]

BREACH = {"unfulfilled_content": "未按期补齐材料", "liability_enforced": "列入重点关注名单"}


def assess(principal, commitment, performance, *, day=D + dt.timedelta(days=30), **kwargs):
    if performance in (Performance.PARTIAL, Performance.NONE):
        for k, v in BREACH.items():
            kwargs.setdefault(k, v)
    kwargs.setdefault("reason", "经现场核查认定")
    return assessment.assess_commitment(principal, commitment, performance, today=day, **kwargs)


# --------------------------------------------------------------------------- codes


def test_code_is_region_date_serial_and_sequential(make_subject):
    subject = make_subject()
    first = sign(subject)
    second = sign(subject)
    assert re.fullmatch(r"\d{20}", first.code)
    # 市市场监管局 has no district in this catalogue: the city's code.
    assert first.code == "370300" + "20250601" + "000001"
    assert second.code == "37030020250601000002"
    other_day = sign(subject, day=D + dt.timedelta(days=1))
    assert other_day.code == "37030020250602000001"
    assert len({first.code, second.code, other_day.code}) == 3


def test_code_uses_the_departments_district(make_subject):
    centre = department("ZB-XYZX-370303")
    centre.district, _ = Region.objects.get_or_create(
        code="370303", defaults={"name": "张店区", "level": Region.Level.COUNTY}
    )
    centre.save()
    c = sign(make_subject(), department=centre)
    assert c.code.startswith("37030320250601")


def test_allocation_skips_a_serial_a_department_already_used(make_subject):
    subject = make_subject()
    sign(subject)  # serial 1
    # A commitment that arrived through intake with the department's own serial 2.
    taken = sign(subject)
    Commitment.objects.filter(pk=taken.pk).update(code="37030020250601000009")
    from pubcredit.commitments.models import CommitmentSerial

    CommitmentSerial.objects.filter(day=D).update(last=8)
    assert sign(subject).code == "37030020250601000010"


def test_sign_writes_history_audit_and_starts_pending(make_subject):
    c = sign(make_subject())
    assert c.performance == Performance.PENDING
    assert c.source == CommitmentSource.ONLINE
    assert c.committer_code == c.subject.uscc
    events = list(c.events.values_list("action", "to_performance"))
    assert events == [(CommitmentEvent.Action.SIGN, Performance.PENDING)]
    audit = AuditEvent.objects.get(action="commitments.sign")
    assert audit.object_id == str(c.pk)
    assert PHONE not in str(audit.after)  # the signer's telephone stays out of the trail
    assert "letter_token" not in audit.after


def test_person_commitment_stores_only_the_masked_id(person):
    subject, ric = person("王小明")
    c = sign(subject, content=f"本人(身份证号{ric})承诺如实申报")
    assert c.committer_kind == SubjectKind.PERSON
    assert c.committer_code == ric[:6] + "********" + ric[-4:]
    assert ric not in c.content  # a number typed into the text is masked too
    assert ric[:6] + "********" + ric[-4:] in c.content


# --------------------------------------------------------------------------- validation


def errors_of(**overrides) -> dict:
    with pytest.raises(ValidationError) as exc:
        sign(**overrides)
    return exc.value.message_dict


def test_required_fields_and_lengths(make_subject):
    subject = make_subject()
    errors = errors_of(
        subject=subject,
        reason="",
        content="  ",
        liability="",
        signer_name="",
        signer_contact="",
        department=None,
    )
    assert errors["reason"] == ["请填写承诺事由。"]
    assert errors["content"] == ["请填写承诺内容。"]
    assert errors["liability"] == ["请填写违诺责任。"]
    assert errors["signer_name"] == ["请填写签署人姓名。"]
    assert errors["signer_contact"] == ["请填写签署人联系电话。"]
    assert errors["department"] == ["请选择承诺受理单位。"]
    long = errors_of(subject=subject, reason="承" * 513, content="诺" * 4001)
    assert "不能超过 512 字" in long["reason"][0]
    assert "不能超过 4000 字" in long["content"][0]
    assert not Commitment.objects.exists()


def test_enum_values_dates_and_phone(make_subject):
    subject = make_subject()
    errors = errors_of(
        subject=subject,
        commitment_type="承诺型",
        publicity_type="公开",
        source="intake",
        signer_contact="12345",
        valid_to=D - dt.timedelta(days=1),
    )
    assert errors["commitment_type"] == ["承诺类型无效:承诺型"]
    assert errors["publicity_type"] == ["公开类型无效:公开"]
    assert "来源" in errors["source"][0]
    assert "联系电话格式不正确" in errors["signer_contact"][0]
    assert errors["valid_to"] == ["承诺有效期不能早于承诺作出日期。"]
    future = errors_of(subject=subject, made_on=D + dt.timedelta(days=1))
    assert future["made_on"] == ["承诺作出日期不能晚于今天。"]
    assert errors_of(subject=None)["subject"] == ["请指定承诺主体。"]
    # A landline with its area code is a telephone number too.
    assert sign(subject, signer_contact="0533-2181234").signer_contact == "0533-2181234"


def test_approval_needs_a_matter_and_repair_needs_the_subjects_record(make_subject):
    from pubcredit.measures.models import Matter
    from pubcredit.testing.listkit import make_public_penalty

    subject, stranger = make_subject(), make_subject()
    assert errors_of(subject=subject, commitment_type=CommitmentType.APPROVAL)["matter"] == [
        "审批替代型承诺须选择所替代的审批事项。"
    ]
    matter = Matter.objects.get(code="ADMIN_LICENSING")
    approval = sign(subject, commitment_type=CommitmentType.APPROVAL, matter=matter)
    assert approval.matter == matter
    assert sign(subject, commitment_type=CommitmentType.APPROVAL, matter="QUALIFICATION").matter
    assert "审批事项不存在" in errors_of(subject=subject, matter="NO_SUCH")["matter"][0]

    repair = errors_of(subject=subject, commitment_type=CommitmentType.REPAIR)
    assert repair["repaired_record"] == ["信用修复型承诺须指明申请修复的信用记录。"]
    foreign = make_public_penalty(stranger)
    wrong = errors_of(
        subject=subject, commitment_type=CommitmentType.REPAIR, repaired_record=foreign
    )
    assert wrong["repaired_record"] == ["申请修复的信用记录不属于该承诺主体。"]
    own = make_public_penalty(subject)
    c = sign(subject, commitment_type=CommitmentType.REPAIR, repaired_record=own)
    assert c.repaired_record == own
    misplaced = errors_of(subject=subject, repaired_record=own)
    assert "只有信用修复型承诺" in misplaced["repaired_record"][0]


def test_control_characters_are_refused(make_subject):
    errors = errors_of(subject=make_subject(), reason="承诺\x00事由")
    assert "控制字符" in errors["reason"][0]


# --------------------------------------------------------------------------- the letter


def _pdf_title(pdf: bytes) -> str:
    """The /Title of a reportlab PDF (a UTF-16 string, hex or escaped)."""
    match = re.search(rb"/Title\s*(<[0-9A-Fa-f]+>|\((?:\\.|[^\\)])*\))", pdf)
    assert match, "no /Title in the PDF"
    raw = match.group(1)
    if raw.startswith(b"<"):
        data = bytes.fromhex(raw[1:-1].decode())
    else:
        body = raw[1:-1]
        data = re.sub(
            rb"\\([0-7]{1,3}|.)",
            lambda m: (
                bytes([int(m.group(1), 8)])
                if m.group(1)[:1].isdigit()
                else {b"n": b"\n", b"r": b"\r", b"t": b"\t"}.get(m.group(1), m.group(1))
            ),
            body,
        )
    return data.decode("utf-16") if data.startswith(b"\xfe\xff") else data.decode("latin-1")


def test_the_letter_is_a_pdf_with_its_title_and_checksum(make_subject):
    c = sign(make_subject())
    assert c.letter and c.letter.name.endswith(f"{c.code}.pdf")
    pdf = c.letter.open("rb").read()
    assert pdf.startswith(b"%PDF")
    assert _pdf_title(pdf) == "信用承诺书"
    assert hashlib.sha256(pdf).hexdigest() == c.letter_sha256
    assert c.letter_token and len(c.letter_token) >= 32
    other = sign(make_subject())
    assert other.letter_token != c.letter_token


# --------------------------------------------------------------------------- state machine

ALLOWED = [
    (Performance.PENDING, Performance.FULL),
    (Performance.PENDING, Performance.PARTIAL),
    (Performance.PENDING, Performance.NONE),
    (Performance.FULL, Performance.PARTIAL),
    (Performance.FULL, Performance.NONE),
]
FORBIDDEN = [
    (Performance.PENDING, Performance.PENDING),
    (Performance.FULL, Performance.FULL),
    (Performance.FULL, Performance.PENDING),
    (Performance.PARTIAL, Performance.FULL),
    (Performance.PARTIAL, Performance.NONE),
    (Performance.PARTIAL, Performance.PARTIAL),
    (Performance.PARTIAL, Performance.PENDING),
    (Performance.NONE, Performance.FULL),
    (Performance.NONE, Performance.PARTIAL),
    (Performance.NONE, Performance.NONE),
    (Performance.NONE, Performance.PENDING),
]


def _in_state(system, subject, state):
    c = sign(subject)
    if state != Performance.PENDING:
        c = assess(system, c, state, day=D + dt.timedelta(days=10))
    return c


@pytest.mark.parametrize(("start", "target"), ALLOWED)
@pytest.mark.parametrize("role", ["clerk", "centre", "admin"])
def test_allowed_transitions(staff, system, make_subject, role, start, target):
    c = _in_state(system, make_subject(), start)
    _user, principal = staff[role]
    done = assess(principal, c, target)
    assert done.performance == target
    assert done.assessed_on == D + dt.timedelta(days=30)
    # The clerk's department, else (centre, platform) the accepting department.
    assert done.assessor == department()
    event = done.events.order_by("-at", "-id").first()
    assert (event.action, event.from_performance, event.to_performance) == (
        "assess",
        start,
        target,
    )
    assert event.actor == principal.label
    if target == Performance.FULL:
        assert done.unfulfilled_content == "" and done.liability_enforced == ""
    assert AuditEvent.objects.filter(action="commitments.assess", object_id=str(c.pk)).exists()


@pytest.mark.parametrize(("start", "target"), FORBIDDEN)
def test_forbidden_transitions(staff, system, make_subject, start, target):
    c = _in_state(system, make_subject(), start)
    _user, clerk = staff["clerk"]
    with pytest.raises(ValidationError) as exc:
        assess(clerk, c, target)
    assert "performance" in exc.value.message_dict
    c.refresh_from_db()
    assert c.performance == start


@pytest.mark.parametrize("role", ["other_clerk", "window", "bank", "district"])
def test_other_roles_and_departments_are_refused(staff, make_subject, role):
    c = sign(make_subject())
    _actor, principal = staff[role]
    with pytest.raises(PermissionDenied):
        assess(principal, c, Performance.FULL)
    c.refresh_from_db()
    assert c.performance == Performance.PENDING
    assert not c.events.filter(action="assess").exists()


def test_the_public_cannot_assess(make_subject):
    c = sign(make_subject())
    with pytest.raises(PermissionDenied):
        assess(PUBLIC, c, Performance.FULL)


def test_a_breach_needs_what_was_not_fulfilled_and_the_liability(staff, make_subject):
    c = sign(make_subject())
    _user, clerk = staff["clerk"]
    with pytest.raises(ValidationError) as exc:
        assessment.assess_commitment(
            clerk, c, Performance.PARTIAL, reason="核查", today=D + dt.timedelta(days=5)
        )
    assert set(exc.value.message_dict) == {"unfulfilled_content", "liability_enforced"}
    with pytest.raises(ValidationError) as exc:
        assessment.assess_commitment(clerk, c, Performance.FULL, reason=" ", today=D)
    assert exc.value.message_dict["reason"] == ["请填写认定说明。"]
    with pytest.raises(ValidationError) as exc:
        assessment.assess_commitment(
            clerk, c, Performance.FULL, reason="提前认定", today=D - dt.timedelta(days=1)
        )
    assert "承诺作出之前" in exc.value.message_dict["performance"][0]


def test_allowed_transitions_helper(system, make_subject):
    c = sign(make_subject())
    assert assessment.allowed_transitions(c) == (
        Performance.FULL,
        Performance.PARTIAL,
        Performance.NONE,
    )
    c = assess(system, c, Performance.FULL)
    assert assessment.allowed_transitions(c) == (Performance.PARTIAL, Performance.NONE)
    c = assess(system, c, Performance.NONE, day=D + dt.timedelta(days=40))
    assert assessment.allowed_transitions(c) == ()


# --------------------------------------------------------------------------- breach effects


def test_breach_puts_the_subject_on_the_watch_list_and_checks_hit(staff, make_subject):
    from pubcredit.checks.services import run_check

    subject = make_subject()
    c = sign(subject)
    day = D + dt.timedelta(days=30)
    before = run_check(checker(), uscc=subject.uscc, matter="ROUTINE_SUPERVISION", today=day)
    assert before.data["hits"] == []
    assert [x["code"] for x in before.data["commitments"]] == [c.code]

    _user, clerk = staff["clerk"]
    assess(clerk, c, Performance.NONE, day=day)
    entry = ListEntry.objects.get(list_type__code=assessment.BREACH_LIST_TYPE, subject=subject)
    assert entry.status == EntryStatus.PUBLISHED
    assert entry.decided_on == entry.valid_from == day
    assert entry.valid_to == dt.date(2026, 6, 30)  # 12 months
    assert entry.document_number == c.code
    assert entry.identified_by == department()
    assert c.code in entry.basis and "全部未履行" in entry.basis
    event = c.events.get(action="assess")
    assert event.details["list_entry"] == entry.pk

    supervision = run_check(
        checker(), uscc=subject.uscc, matter="ROUTINE_SUPERVISION", today=day
    ).data
    assert [h["code"] for h in supervision["hits"]] == [assessment.BREACH_LIST_TYPE]
    assert "P_KEY_SUPERVISION" in [m["code"] for m in supervision["punishments"]]
    assert supervision["outcome"] == "punish"
    assert supervision["commitments"] == []  # a breached commitment is no longer in force
    licensing = run_check(checker(), uscc=subject.uscc, matter="ADMIN_LICENSING", today=day)
    assert "P_NO_NOTIFY_COMMITMENT" in [m["code"] for m in licensing.data["punishments"]]


def checker():
    from pubcredit.accounts.permissions import Principal

    return Principal.system("checks")


def test_a_second_breach_keeps_the_existing_entry(system, make_subject):
    subject = make_subject()
    first, second = sign(subject), sign(subject)
    assess(system, first, Performance.PARTIAL)
    later = assess(system, second, Performance.NONE, day=D + dt.timedelta(days=60))
    entries = ListEntry.objects.filter(list_type__code=assessment.BREACH_LIST_TYPE)
    assert entries.count() == 1
    details = later.events.get(action="assess").details
    assert details["already_listed"] is True and details["list_entry"] == entries.get().pk


def test_breach_without_the_list_type_is_refused(system, make_subject):
    from pubcredit.lists.models import ListType

    ListType.objects.filter(code=assessment.BREACH_LIST_TYPE).update(code="RENAMED")
    c = sign(make_subject())
    with pytest.raises(ValidationError) as exc:
        assess(system, c, Performance.NONE)
    assert "未导入" in exc.value.message_dict["performance"][0]
    c.refresh_from_db()
    assert c.performance == Performance.PENDING  # nothing half applied


def test_broken_repair_commitment_puts_the_record_back_in_publicity(system, make_subject):
    from pubcredit.publicity.models import PublicityMark
    from pubcredit.publicity.services import add_mark, is_public_q
    from pubcredit.records.models import Record
    from pubcredit.testing.listkit import make_public_penalty

    subject = make_subject()
    record = make_public_penalty(subject, start=dt.date(2025, 1, 1))
    day = D + dt.timedelta(days=30)

    def public() -> bool:
        return Record.objects.filter(is_public_q(day), pk=record.pk).exists()

    assert public()
    c = sign(subject, commitment_type=CommitmentType.REPAIR, repaired_record=record)
    add_mark(system, record, PublicityMark.Kind.REPAIRED, "信用修复:已整改并作出信用承诺", source=c)
    assert not public()

    assess(system, c, Performance.NONE, day=day)
    assert public()
    mark = PublicityMark.objects.get(record=record, kind=PublicityMark.Kind.REPAIRED)
    assert mark.lifted_at is not None and c.code in mark.lifted_reason
    details = c.events.get(action="assess").details
    assert details["repair_revoked"] is True and details["repaired_record"] == record.pk
    # And the subject is on the watch list as for any breach.
    assert ListEntry.objects.filter(subject=subject, document_number=c.code).exists()


def test_fulfilled_repair_commitment_leaves_the_repair(system, make_subject):
    from pubcredit.publicity.models import PublicityMark
    from pubcredit.publicity.services import add_mark
    from pubcredit.testing.listkit import make_public_penalty

    subject = make_subject()
    record = make_public_penalty(subject)
    c = sign(subject, commitment_type=CommitmentType.REPAIR, repaired_record=record)
    add_mark(system, record, PublicityMark.Kind.REPAIRED, "信用修复")
    assess(system, c, Performance.FULL)
    assert PublicityMark.objects.get(record=record).lifted_at is None
    assert not ListEntry.objects.filter(subject=subject).exists()


# --------------------------------------------------------------------------- in force


def test_commitments_in_force(system, make_subject):
    subject = make_subject()
    open_ended = sign(subject, day=dt.date(2025, 1, 1))
    dated = sign(subject, day=dt.date(2025, 2, 1), valid_to=dt.date(2025, 6, 30))
    restricted = sign(subject, publicity_type=PublicityType.NOT_PUBLIC, day=dt.date(2025, 3, 1))
    breached = sign(subject, day=dt.date(2025, 3, 2))
    assess(system, breached, Performance.PARTIAL, day=dt.date(2025, 4, 1))
    fulfilled = sign(subject, day=dt.date(2025, 3, 3))
    assess(system, fulfilled, Performance.FULL, day=dt.date(2025, 4, 1))

    on = queries.commitments_in_force([subject.pk, 999_999], dt.date(2025, 6, 30))
    assert list(on) == [subject.pk]
    codes = [x["code"] for x in on[subject.pk]]
    # Newest first; the breached one is not in force; publicity type does not matter to checks.
    assert codes == [fulfilled.code, restricted.code, dated.code, open_ended.code]
    first = on[subject.pk][-1]
    assert first == {
        "code": open_ended.code,
        "commitment_type": "主动型",
        "reason": "主动向社会作出诚信经营承诺",
        "made_on": "2025-01-01",
        "valid_to": None,
        "department": "淄博市市场监督管理局",
        "performance": "待认定",
    }
    after = queries.commitments_in_force([subject.pk], dt.date(2025, 7, 1))[subject.pk]
    assert dated.code not in [x["code"] for x in after]
    before = queries.commitments_in_force([subject.pk], dt.date(2024, 12, 31))
    assert before == {}
    assert queries.commitments_in_force([], D) == {}


def test_a_check_shows_the_commitments_in_force(system, make_subject):
    from pubcredit.checks.services import run_check

    subject = make_subject()
    old = sign(subject, day=dt.date(2025, 1, 1))
    new = sign(subject, day=dt.date(2025, 3, 3))
    broken = sign(subject, day=dt.date(2025, 3, 2))
    assess(system, broken, Performance.PARTIAL, day=dt.date(2025, 4, 1))
    day = dt.date(2025, 6, 30)
    data = run_check(system, uscc=subject.uscc, matter="FINANCING", today=day).data
    assert [c["code"] for c in data["commitments"]] == [new.code, old.code]
    assert data["commitments"] == queries.commitments_in_force([subject.pk], day)[subject.pk]
    before = run_check(system, uscc=subject.uscc, matter="FINANCING", today=D.replace(year=2024))
    assert before.data["commitments"] == []


def test_a_credit_check_lists_the_commitments_in_force(system, make_subject):
    from pubcredit.checks.services import run_check

    subject = make_subject()
    c = sign(subject, day=dt.date(2025, 5, 1), valid_to=dt.date(2026, 4, 30))
    result = run_check(system, uscc=subject.uscc, matter="GOV_PROCUREMENT", today=D)
    assert result.data["commitments"] == [
        {
            "code": c.code,
            "commitment_type": "主动型",
            "reason": c.reason,
            "made_on": "2025-05-01",
            "valid_to": "2026-04-30",
            "department": "淄博市市场监督管理局",
            "performance": "待认定",
        }
    ]
    assert result.check.result["commitments"][0]["code"] == c.code  # kept in the log
    # Not yet made, no longer valid: nothing.
    early = run_check(
        system, uscc=subject.uscc, matter="GOV_PROCUREMENT", today=dt.date(2025, 4, 1)
    )
    assert early.data["commitments"] == []
