"""The procedures API (/api/v1/repairs, /api/v1/objections): another system files for an
applicant with materials, follows the procedure and downloads its letter, under the portal's
rules, deadlines and audit; scoped keys; idempotent retries; refusals in Chinese."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from pubcredit.accounts.models import AuditEvent, Role
from pubcredit.repair.models import Objection, ProcedureStep, RepairApplication
from pubcredit.repair.tests.kit import D, apply, penalty
from pubcredit.subjects.models import SubjectKind

pytestmark = pytest.mark.django_db

PROOF = b"%PDF-1.4 receipt of the fine"
LICENCE = b"%PDF-1.4 business licence"


@pytest.fixture
def on_d(monkeypatch):
    """The platform's today is D (Monday 2026-06-01) while the test runs."""
    monkeypatch.setattr("django.utils.timezone.localdate", lambda *a, **k: D)


@pytest.fixture
def keys(world, system):
    """{name: (ApiKey, Client)} for the systems that call the API."""
    from pubcredit.accounts.services import issue_api_key
    from pubcredit.catalog.models import Department

    out = {}
    for name, role, dept in (
        ("hall", Role.WINDOW_CLERK, None),
        ("hall2", Role.WINDOW_CLERK, None),
        ("centre", Role.CENTRE_STAFF, None),
        ("scjg", Role.DEPARTMENT_CLERK, "ZB-SCJG"),
        ("czj", Role.DEPARTMENT_CLERK, "ZB-CZJ"),
        ("bank", Role.BANK_USER, None),
    ):
        department = Department.objects.get(code=dept) if dept else None
        key, clear = issue_api_key(system, name=name, role=role, department=department)
        out[name] = (key, Client(HTTP_AUTHORIZATION=f"Bearer {clear}"))
    return out


def repair_form(record, **extra):
    form = {
        "record_id": record.pk,
        "applicant_name": "李经办",
        "applicant_phone": "0533-1234567",
        "statement": "已缴纳罚款并完成整改。",
        "obligations_declared": "true",
        "accept_commitment": "true",
        "material_proof": SimpleUploadedFile("缴款凭证.pdf", PROOF, "application/pdf"),
        "material_licence": SimpleUploadedFile("营业执照.pdf", LICENCE, "application/pdf"),
    }
    form.update(extra)
    return form


def objection_form(record, **extra):
    form = {
        "record_id": record.pk,
        "target": "content",
        "reason": "处罚金额登记有误。",
        "applicant_name": "王经办",
        "applicant_phone": "13800000000",
    }
    form.update(extra)
    return form


def audit_actions(obj) -> list[str]:
    return list(
        AuditEvent.objects.filter(
            object_type=obj._meta.label_lower, object_id=str(obj.pk)
        ).values_list("action", flat=True)
    )


def test_a_filing_with_documents_is_the_portals_application(on_d, keys, make_subject):
    hall_key, hall = keys["hall"]
    by_api = penalty(make_subject())
    by_portal = penalty(make_subject())

    answer = hall.post("/api/v1/repairs", repair_form(by_api))

    assert answer.status_code == 201, answer.content
    body = answer.json()
    # 3 working days to accept from Monday 2026-06-01: Tue 2, Wed 3, Thu 4 (no holiday)
    assert body["status"] == "submitted" and body["status_label"] == "待受理"
    assert body["due_on"] == "2026-06-04" and body["stage_started_on"] == "2026-06-01"
    assert len(body["query_code"]) == 12
    assert sorted((m["kind"], m["sha256"]) for m in body["materials"]) == sorted(
        [
            ("proof", hashlib.sha256(PROOF).hexdigest()),
            ("licence", hashlib.sha256(LICENCE).hexdigest()),
        ]
    )
    assert [s["action"] for s in body["steps"]] == ["submit"]
    assert body["commitment_code"]  # the repair commitment signed with it, as on the portal
    app = RepairApplication.objects.get(pk=body["id"])
    assert app.filed_by == f"key:{hall_key.prefix}"
    portal = apply(by_portal)  # the portal's path: the same service, as the public
    for field in ("status", "stage_started_on", "due_on", "obligations_declared"):
        assert getattr(app, field) == getattr(portal, field), field
    assert audit_actions(app) == audit_actions(portal) == ["repair.application.submit"]
    assert (
        AuditEvent.objects.get(action="repair.application.submit", object_id=str(app.pk)).api_key_id
        == hall_key.pk
    )
    assert list(ProcedureStep.objects.filter(application=app).values_list("action", flat=True)) == [
        "submit"
    ]
    assert app.materials.count() == 2 and portal.materials.count() == 1


def test_the_status_follows_the_console_and_the_letter_downloads(on_d, keys, staff, make_subject):
    from pubcredit.repair import services

    _key, hall = keys["hall"]
    record = penalty(make_subject())
    created = hall.post("/api/v1/repairs", repair_form(record)).json()
    url = f"/api/v1/repairs/{created['id']}"

    missing = hall.get(url + "/letter")
    assert missing.status_code == 404
    assert missing.json()["message"] == "尚未出具信用修复决定书。"

    app = RepairApplication.objects.get(pk=created["id"])
    services.accept_application(staff["centre"], app, today=D)
    accepted = hall.get(url).json()
    # the department reviews within 5 working days (令第36号 rule): Tue 2 … Fri 5, Mon 8
    assert accepted["status"] == "accepted" and accepted["status_label"] == "待部门核实"
    assert accepted["due_on"] == "2026-06-08"
    services.review_application(staff["dept"], app, agrees=True, opinion="已履行", today=D)
    services.decide_application(staff["centre"], app, grant=True, today=dt.date(2026, 6, 2))

    done = hall.get(url).json()
    assert done["status"] == "granted" and done["decided_on"] == "2026-06-02"
    assert [s["action"] for s in done["steps"]] == ["submit", "accept", "review", "decide"]
    assert done["letter"]["url"] == url + "/letter"
    assert done["letter"]["number"].startswith("修复决字〔2026〕")
    pdf = hall.get(url + "/letter")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert b"".join(pdf.streaming_content).startswith(b"%PDF")


def test_a_retried_filing_returns_the_first(on_d, keys, make_subject):
    _key, hall = keys["hall"]
    record = penalty(make_subject())

    first = hall.post("/api/v1/repairs", repair_form(record, external_id="HALL-2026-001"))
    again = hall.post("/api/v1/repairs", repair_form(record, external_id="HALL-2026-001"))

    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"]
    assert again.json()["external_id"] == "HALL-2026-001"
    assert RepairApplication.objects.count() == 1
    listed = hall.get("/api/v1/repairs?external_id=HALL-2026-001").json()
    assert listed["count"] == 1 and listed["items"][0]["id"] == first.json()["id"]
    # the same reference for another record is refused, naming the field
    other = hall.post(
        "/api/v1/repairs", repair_form(penalty(make_subject()), external_id="HALL-2026-001")
    )
    assert other.status_code == 422
    assert other.json()["details"] == [
        {
            "field": "external_id",
            "message": "外部系统业务编号“HALL-2026-001”已用于另一条记录的申请。",
        }
    ]
    # without a reference, a second filing is refused (one open application per record)
    second = hall.post("/api/v1/repairs", repair_form(record))
    assert second.status_code == 422
    assert second.json()["details"][0]["field"] == "record"


def test_refusals_name_the_field_in_chinese(on_d, keys, make_subject, world):
    from pubcredit.testing.listkit import make_public_penalty

    _key, hall = keys["hall"]
    unknown = hall.post("/api/v1/repairs", repair_form(type("R", (), {"pk": 987654})()))
    assert unknown.status_code == 422
    assert unknown.json()["details"] == [
        {"field": "record_id", "message": "record_id 所指的信用记录不存在。"}
    ]

    ended = make_public_penalty(
        make_subject(), tier="general", start=dt.date(2025, 1, 1), end=dt.date(2026, 1, 1)
    )
    not_public = hall.post("/api/v1/repairs", repair_form(ended))
    assert not_public.status_code == 422
    assert {"field": "record", "message": "该记录当前未在公示,无需申请修复。"} in not_public.json()[
        "details"
    ]
    objection = hall.post("/api/v1/objections", objection_form(ended))
    assert objection.status_code == 422
    assert objection.json()["details"] == [
        {"field": "record", "message": "该记录当前未在公示,无需提出异议。"}
    ]

    record = penalty(make_subject())
    no_proof = repair_form(record)
    del no_proof["material_proof"]
    refused = hall.post("/api/v1/repairs", no_proof)
    assert refused.status_code == 422
    assert refused.json()["details"][0] == {
        "field": "record",
        "message": "须上传履行法定义务的证明材料(如缴款凭证、整改报告)。",
    }
    bad_type = hall.post(
        "/api/v1/repairs",
        repair_form(record, material_other=SimpleUploadedFile("a.exe", b"MZ", "application/x")),
    )
    assert bad_type.status_code == 422
    assert bad_type.json()["details"][0]["field"] == "materials"
    assert "a.exe" in bad_type.json()["message"]
    assert RepairApplication.objects.count() == 0


def test_who_may_file(on_d, keys, make_subject):
    record = penalty(make_subject())  # decided by 市市场监管局 (ZB-SCJG)

    bank = keys["bank"][1].post("/api/v1/repairs", repair_form(record))
    assert bank.status_code == 403
    assert "无权执行此操作" in bank.json()["message"]
    clerk_repair = keys["scjg"][1].post("/api/v1/repairs", repair_form(record))
    assert clerk_repair.status_code == 403
    assert clerk_repair.json()["message"].startswith("部门报送员只能代为提交本部门记录的异议申请")
    other = keys["czj"][1].post("/api/v1/objections", objection_form(record))
    assert other.status_code == 403
    assert "其他部门" in other.json()["message"]
    own = keys["scjg"][1].post("/api/v1/objections", objection_form(record))
    assert own.status_code == 201, own.content
    assert own.json()["due_on"] == "2026-06-03"  # 2 working days after Monday 06-01
    assert Objection.objects.count() == 1
    assert keys["bank"][1].get("/api/v1/objections").status_code == 403


def test_a_persons_objection_is_masked_and_followed_by_its_filer(on_d, keys, staff, make_subject):
    from pubcredit.repair import objections
    from pubcredit.subjects.models import Subject
    from pubcredit.testing.loadkit import make_ric

    ric = make_ric(7)
    person = make_subject(SubjectKind.PERSON, name="张三丰")
    Subject.objects.filter(pk=person.pk).update(id_masked=ric[:6] + "********" + ric[-4:])
    record = penalty(Subject.objects.get(pk=person.pk))
    _key, hall = keys["hall"]

    answer = hall.post(
        "/api/v1/objections",
        objection_form(
            record,
            applicant_name="张三丰",
            reason=f"本人身份证号 {ric},处罚对象登记错误。",
            material_proof=SimpleUploadedFile("证明.pdf", PROOF, "application/pdf"),
        ),
    )

    assert answer.status_code == 201, answer.content
    text = answer.content.decode()
    assert ric not in text and "13800000000" not in text and "张三丰" not in text
    body = answer.json()
    assert body["subject_name"] == "张**" and body["applicant_name"] == "张**"
    assert body["subject_identifier"] == ric[:6] + "********" + ric[-4:]
    assert ric[:6] + "********" + ric[-4:] in body["reason"]
    url = f"/api/v1/objections/{body['id']}"
    assert keys["hall2"][1].get(url).status_code == 404  # another hall's key: not its own
    assert keys["hall2"][1].get("/api/v1/objections").json()["count"] == 0
    assert keys["centre"][1].get(url).status_code == 200  # the centre follows all
    assert hall.get("/api/v1/objections?status=submitted").json()["count"] == 1

    objections.refuse_objection(
        staff["centre"], Objection.objects.get(pk=body["id"]), "超出受理范围", today=D
    )
    refused = hall.get(url).json()
    assert refused["status"] == "refused" and refused["result_reason"] == "超出受理范围"
    letter = hall.get(url + "/letter")
    assert letter.status_code == 200
    assert b"".join(letter.streaming_content).startswith(b"%PDF")
