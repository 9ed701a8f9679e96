"""Commitments arriving through intake: CN (信用承诺) records pushed by a department become or
refresh commitments by 承诺编码, set-based on the finished submission; a breach arriving this
way has the breach effects; a withdrawn record withdraws its commitment."""

from __future__ import annotations

import datetime as dt

import pytest

from pubcredit.accounts.models import AuditEvent
from pubcredit.catalog.models import SubjectKind
from pubcredit.commitments import assessment, queries
from pubcredit.commitments.models import (
    Commitment,
    CommitmentSource,
    Performance,
    PublicityType,
)
from pubcredit.lists.models import ListEntry
from pubcredit.testing.commitkit import sign
from pubcredit.testing.portalkit import make_ric, make_uscc, submit, today

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("platform_lists", "media")]


def cn_row(n: int, *, name: str, kind: str, code: str, department, **overrides) -> dict:
    made = today() - dt.timedelta(days=20)
    row = {
        "CN_CNBM": f"370300{made:%Y%m%d}{n:06d}",
        "CN_CNRMC": name,
        "CN_CNRLB": kind,
        "CN_CNRDM": code,
        "CN_CNLX": "证明事项型",
        "CN_CNSY": "申请办理食品经营许可,以承诺替代场所证明",
        "CN_CNNR": "承诺经营场所符合要求",
        "CN_WNZR": "承担相应法律责任",
        "CN_ZCRQ": made.isoformat(),
        "CN_YXQ": (made + dt.timedelta(days=364)).isoformat(),
        "CN_LXZT": "全部履行",
        "CN_SLDW": department.name,
        "CN_SLDWDM": department.uscc,
        "CN_GKLX": "可向社会公开",
    }
    row.update(overrides)
    return row


@pytest.fixture
def parties(system):
    from pubcredit.catalog.models import Department
    from pubcredit.subjects.services import register_subject

    org = register_subject(
        system, kind=SubjectKind.ORG, name="淄博宏达机械制造有限公司", uscc=make_uscc(7001)
    )
    ric = make_ric(7002)
    person = register_subject(system, kind=SubjectKind.PERSON, name="王小明", id_number=ric)
    return {
        "org": org,
        "person": person,
        "ric": ric,
        "department": Department.objects.get(code="ZB-SCJG"),
    }


def test_cn_rows_become_commitments(parties):
    d = parties["department"]
    rows = [
        cn_row(
            1,
            name=parties["org"].name,
            kind="法人及非法人组织",
            code=parties["org"].uscc,
            department=d,
        ),
        cn_row(
            2,
            name="王小明",
            kind="自然人",
            code=parties["ric"],
            department=d,
            CN_CNNR=f"本人(身份证号{parties['ric']})承诺如实申报",
            CN_LXZT="全部履行",
            CN_GKLX="特定范围内公开",
        ),
    ]
    submission = submit(_system(), "CN", rows)
    commitments = {c.committer_kind: c for c in Commitment.objects.all()}
    assert len(commitments) == 2
    org = commitments[SubjectKind.ORG]
    assert org.code == rows[0]["CN_CNBM"]
    assert org.subject == parties["org"]
    assert org.source == CommitmentSource.INTAKE
    assert org.record.submission_id == submission.pk
    assert org.department == d
    assert org.performance == Performance.FULL
    assert org.made_on == today() - dt.timedelta(days=20)
    assert org.valid_to == org.made_on + dt.timedelta(days=364)
    assert org.publicity_type == PublicityType.PUBLIC
    assert org.events.get().action == "intake"
    person = commitments[SubjectKind.PERSON]
    ric = parties["ric"]
    assert person.subject == parties["person"]  # found by the blind index of the number
    assert person.committer_code == ric[:6] + "********" + ric[-4:]
    assert ric not in person.content
    assert person.publicity_type == PublicityType.RESTRICTED
    # The CN records themselves: 承诺人代码 is a person's document number on the person's row,
    # so it is stored masked with its ciphertext sealed, and links the subject like CF's 证件号码;
    # an organisation's USCC is kept as it is and links by USCC.
    import base64

    from pubcredit.subjects import crypto

    person_record, org_record = person.record, org.record
    assert person_record.data["CN_CNRDM"] == ric[:6] + "********" + ric[-4:]
    assert ric not in str(person_record.original)
    sealed = base64.urlsafe_b64decode(person_record.sealed["CN_CNRDM"])
    assert crypto.decrypt_id(sealed) == ric
    assert (person_record.subject_id, person_record.subject_link) == (parties["person"].pk, "id")
    assert org_record.data["CN_CNRDM"] == parties["org"].uscc
    assert (org_record.subject_id, org_record.subject_link) == (parties["org"].pk, "uscc")
    assert AuditEvent.objects.filter(action="commitments.intake").count() == 1
    # Resubmitting the same rows changes nothing.
    submit(_system(), "CN", rows)
    assert Commitment.objects.count() == 2
    assert AuditEvent.objects.filter(action="commitments.intake").count() == 1


def _system():
    from pubcredit.accounts.permissions import Principal

    return Principal.system("test")


def test_a_breach_through_intake_has_the_breach_effects(parties):
    d = parties["department"]
    org = parties["org"]
    row = cn_row(3, name=org.name, kind="法人及非法人组织", code=org.uscc, department=d)
    submit(_system(), "CN", [row])
    c = Commitment.objects.get(code=row["CN_CNBM"])
    assert c.performance == Performance.FULL
    assessed = today() - dt.timedelta(days=2)
    breach = row | {
        "CN_LXZT": "全部未履行",
        "CN_WLXNR": "承诺的经营场所与实际不符",
        "CN_ZJNR": "撤销许可,列入重点关注名单",
        "CN_RDRQ": assessed.isoformat(),
        "CN_RDDW": d.name,
        "CN_RDDWDM": d.uscc,
    }
    submit(_system(), "CN", [breach])
    c.refresh_from_db()
    assert c.performance == Performance.NONE
    assert c.unfulfilled_content == "承诺的经营场所与实际不符"
    assert (c.assessed_on, c.assessor) == (assessed, d)
    entry = ListEntry.objects.get(list_type__code=assessment.BREACH_LIST_TYPE, subject=org)
    assert entry.decided_on == assessed and entry.document_number == c.code
    assert c.events.filter(action="assess").get().details["list_entry"] == entry.pk
    # A breach is final: a later 全部履行 for the same code is refused for that part.
    submit(_system(), "CN", [row | {"CN_BZ": "补充说明"}])
    c.refresh_from_db()
    assert c.performance == Performance.NONE


def test_intake_refreshes_the_fulfilment_of_an_online_commitment(parties):
    d = parties["department"]
    org = parties["org"]
    online = sign(org, day=today() - dt.timedelta(days=10), today=today())
    row = cn_row(
        9,
        name=org.name,
        kind="法人及非法人组织",
        code=org.uscc,
        department=d,
        CN_CNBM=online.code,
        CN_CNSY="部门系统里的另一种写法",
        CN_ZCRQ=online.made_on.isoformat(),
    )
    submit(_system(), "CN", [row])
    online.refresh_from_db()
    assert online.source == CommitmentSource.ONLINE
    assert online.performance == Performance.FULL  # the fulfilment follows the department
    assert online.reason == "主动向社会作出诚信经营承诺"  # the signed text stays as signed
    assert online.record is not None
    assert online.events.filter(action="update").exists()


def test_a_code_of_another_department_is_a_conflict(parties):
    from pubcredit.catalog.models import Department

    org = parties["org"]
    other = Department.objects.get(code="ZB-STHJ")
    online = sign(org, day=today() - dt.timedelta(days=10), today=today())
    row = cn_row(
        10,
        name=org.name,
        kind="法人及非法人组织",
        code=org.uscc,
        department=other,
        CN_CNBM=online.code,
        CN_LXZT="全部未履行",
        CN_WLXNR="x",
        CN_ZJNR="y",
    )
    submit(_system(), "CN", [row], department="ZB-STHJ")
    online.refresh_from_db()
    assert online.performance == Performance.PENDING
    assert not ListEntry.objects.exists()


def test_a_withdrawn_record_withdraws_its_commitment(parties):
    from pubcredit.records.services import withdraw_record

    d = parties["department"]
    org = parties["org"]
    row = cn_row(4, name=org.name, kind="法人及非法人组织", code=org.uscc, department=d)
    submit(_system(), "CN", [row])
    c = Commitment.objects.get(code=row["CN_CNBM"])
    assert queries.public_commitments(org.pk).filter(pk=c.pk).exists()
    withdraw_record(_system(), c.record, "报送有误")
    c.refresh_from_db()
    assert c.withdrawn_at is not None
    assert c.events.filter(action="withdraw").get().reason == "报送有误"
    assert not queries.public_commitments(org.pk).exists()
    assert queries.commitments_in_force([org.pk]) == {}


def test_an_unknown_person_is_registered_by_the_document_number(parties):
    from pubcredit.subjects.models import Subject

    d = parties["department"]
    unknown_person = make_ric(7999)
    rows = [cn_row(5, name="李四", kind="自然人", code=unknown_person, department=d)]
    submit(_system(), "CN", rows)
    # As for a penalty: intake registers the person (blind index, masked number), and the
    # commitment is linked to it.
    commitment = Commitment.objects.get()
    subject = Subject.objects.get(pk=commitment.subject_id)
    assert (subject.kind, subject.name) == (SubjectKind.PERSON, "李四")
    assert subject.id_masked == unknown_person[:6] + "********" + unknown_person[-4:]
    assert commitment.record.subject_id == subject.pk
