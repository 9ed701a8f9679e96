"""A small demo city for the tests that call every API operation: the demo's subjects, records,
list entries and commitments, one account of every staff role (sessions) and one API key of
every role a key may carry, and one object of each kind the operations' paths name (a check, a
batch, a submission, a news article…). Loaded once per test module (`committed_city`)."""

from __future__ import annotations

import datetime as dt
import json
from types import SimpleNamespace

from django.test import Client
from django.utils import timezone

from pubcredit.accounts.models import Role

# The callers of the matrix and the fuzz run, by column: who they are and how they authenticate.
SESSION_ROLES = (
    Role.PLATFORM_ADMIN,
    Role.CENTRE_STAFF,
    Role.DEPARTMENT_CLERK,
    Role.DISTRICT_ADMIN,
    Role.WINDOW_CLERK,
    Role.BANK_USER,
)
KEY_ROLES = (
    Role.CENTRE_STAFF,
    Role.DEPARTMENT_CLERK,
    Role.DISTRICT_ADMIN,
    Role.WINDOW_CLERK,
    Role.BANK_USER,
)
DEPARTMENT = "ZB-SCJG"  # the clerks' department (the demo's 市市场监督管理局)
DISTRICT = "370303"  # the district administrators' district (张店区)


def build(system) -> SimpleNamespace:
    """Load the city and make the callers and objects (committed; see democity)."""
    from pubcredit.accounts.services import create_user, issue_api_key
    from pubcredit.catalog.models import CodeList, Department, Region
    from pubcredit.commitments.models import Commitment
    from pubcredit.demo.services import load_demo
    from pubcredit.measures.services import refresh_subject_flags
    from pubcredit.portal.news import publish_article, save_article
    from pubcredit.publicity.public import subject_ref
    from pubcredit.records.models import Record
    from pubcredit.subjects.models import Subject
    from pubcredit.testing.commitkit import sign
    from pubcredit.testing.listkit import identify
    from pubcredit.testing.portalkit import penalty

    load_demo(system, subjects=60, seed=5)
    department = Department.objects.get(code=DEPARTMENT)
    district = Region.objects.get(code=DISTRICT)
    scope = {
        Role.DEPARTMENT_CLERK: {"department": department},
        Role.DISTRICT_ADMIN: {"district": district},
    }
    users, keys = {}, {}
    for role in SESSION_ROLES:
        users[role] = create_user(
            system,
            username=f"api_{role}",
            role=role,
            password="api-pass-2026",
            **scope.get(role, {}),
        )
    for role in KEY_ROLES:
        keys[role] = issue_api_key(system, name=f"接口 {role}", role=role, **scope.get(role, {}))[1]

    def bearer(role):
        return Client(HTTP_AUTHORIZATION=f"Bearer {keys[role]}")

    org = Subject.objects.filter(kind="org").order_by("id").first()
    entry = identify(
        system,
        org,
        "BLK_FOOD_DRUG",
        decided_on=timezone.localdate() - dt.timedelta(days=30),
        today=timezone.localdate(),
        department=department,
    )
    refresh_subject_flags([org.pk])
    check = bearer(Role.BANK_USER).post(
        "/api/v1/checks",
        json.dumps({"uscc": org.uscc, "matter": "FINANCING"}),
        content_type="application/json",
    )
    assert check.status_code == 200, check.content
    check = check.json()
    measures = [m["code"] for m in check["punishments"] + check["rewards"]]
    csv = f"统一社会信用代码,名称\n{org.uscc},{org.name}\n".encode()
    from django.core.files.uploadedfile import SimpleUploadedFile

    batch = bearer(Role.BANK_USER).post(
        "/api/v1/checks/batches",
        {"file": SimpleUploadedFile("batch.csv", csv, "text/csv"), "matter": "FINANCING"},
    )
    assert batch.status_code == 200, batch.content
    # A credit report and a batch of reports issued by the bank's key.
    api_report = bearer(Role.BANK_USER).post(
        "/api/v1/reports", json.dumps({"uscc": org.uscc}), content_type="application/json"
    )
    assert api_report.status_code == 201, api_report.content
    report_batch = bearer(Role.BANK_USER).post(
        "/api/v1/reports/batches", json.dumps({"uscc": [org.uscc]}), content_type="application/json"
    )
    assert report_batch.status_code == 201, report_batch.content
    rows = [penalty(9001, name="淄博接口测试机械有限公司")]
    submission = bearer(Role.DEPARTMENT_CLERK).post(
        "/api/v1/records",
        json.dumps({"category": "CF", "rows": rows}),
        content_type="application/json",
    )
    assert submission.status_code == 201, submission.content
    article = save_article(system, section="news", title="信用动态", body="正文")
    publish_article(system, article)
    # A record of the clerks' department about a subject of the district administrators' district.
    record = (
        Record.objects.filter(department=department, subject__region=DISTRICT)
        .order_by("id")
        .first()
    )
    public = Record.objects.filter(publicity__state="public").order_by("id").first()
    commitment = Commitment.objects.filter(department=department).order_by("id").first()
    if commitment is None:  # the city has none accepted by the clerks' department: sign one
        commitment = sign(org, day=timezone.localdate())
    from pubcredit.reports.services import issue as issue_report

    report = issue_report(system, org, channel="cli")
    procs = _procedures(system, bearer(Role.WINDOW_CLERK), department)
    financing = _financing(system, org, users[Role.BANK_USER])
    return SimpleNamespace(
        **procs,
        demand_id=financing.demand.pk,
        authorisation_id=financing.authorisation.pk,
        users=users,
        keys=keys,
        org=org,
        person=Subject.objects.filter(kind="person").order_by("id").first(),
        check_id=check["id"],
        measure=measures[0] if measures else "NONE",
        batch_id=batch.json()["id"],
        api_report_number=api_report.json()["number"],
        report_batch_id=report_batch.json()["id"],
        submission_id=submission.json()["id"],
        article_id=article.pk,
        record_id=record.pk,
        public_record_id=public.pk,
        entry_id=entry.pk,
        list_code=entry.list_type.code,
        commitment_code=commitment.code,
        subject_ref=subject_ref(org),
        codelist=CodeList.objects.order_by("code").first().code,
        report_number=report.number,
    )


def _procedures(system, window, department) -> dict:
    """(issue 19, procedures API) A repair application and an objection the window's key filed
    about penalties of the clerks' department in the administrators' district, both concluded
    with a letter (the application denied, the objection not accepted), and a penalty of each
    kind left free for a new filing (repair_record_id, objection_record_id)."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from pubcredit.publicity.models import Publicity
    from pubcredit.repair import objections, services
    from pubcredit.repair.models import Objection, RepairApplication

    today = timezone.localdate()
    shown = (
        Publicity.objects.filter(
            state="public",
            category__code="CF",
            department=department,
            subject__region=DISTRICT,
            start__lte=today,
            end__gt=today,
        )
        .exclude(tier="serious")
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    ids = list(shown[:4])
    assert len(ids) == 4, ids
    Publicity.objects.filter(pk__in=ids).update(repair_from=today - dt.timedelta(days=1))
    form = {
        "applicant_name": "李经办",
        "applicant_phone": "0533-1234567",
        "statement": "已缴纳罚款并完成整改。",
        "obligations_declared": "true",
        "accept_commitment": "true",
    }
    filed = window.post(
        "/api/v1/repairs",
        {
            **form,
            "record_id": ids[0],
            "material_proof": SimpleUploadedFile("p.pdf", b"%PDF-1.4 p", "application/pdf"),
        },
    )
    assert filed.status_code == 201, filed.content
    app = RepairApplication.objects.get(pk=filed.json()["id"])
    services.accept_application(system, app)
    services.review_application(system, app, agrees=False, opinion="未履行完毕")
    services.decide_application(system, app, grant=False)
    objected = window.post(
        "/api/v1/objections",
        {"record_id": ids[1], "target": "content", "reason": "金额有误", **form},
    )
    assert objected.status_code == 201, objected.content
    obj = Objection.objects.get(pk=objected.json()["id"])
    objections.refuse_objection(system, obj, "超出受理范围")
    return {
        "repair_id": app.pk,
        "objection_id": obj.pk,
        "repair_record_id": ids[2],
        "objection_record_id": ids[3],
    }


def _financing(system, org, bank_user):
    """信易贷: the bank's session and key act for one institution with a product any demand
    meets; the city's first organisation has an approved enterprise account (not a column: its
    operations answer 403 to every staff caller), a demand, and an authorisation to every
    institution."""
    from decimal import Decimal

    from pubcredit.accounts.models import ApiKey
    from pubcredit.accounts.permissions import Principal
    from pubcredit.financing import services
    from pubcredit.testing.factories import make_user

    inst = services.register_institution(system, name="接口测试银行", uscc="91370300MA3MATRIX1")
    services.add_member(system, inst, user=bank_user)
    services.add_member(system, inst, api_key=ApiKey.objects.get(name=f"接口 {Role.BANK_USER}"))
    services.publish_product(
        system,
        inst,
        name="普惠信用贷",
        amount_min=Decimal("1"),
        amount_max=Decimal("10000"),
        rate_min=Decimal("3"),
        rate_max=Decimal("6"),
        term_months=600,
    )
    firm = Principal.of(make_user(Role.ENTERPRISE, username="api_enterprise"))
    binding = services.request_binding(firm, org.uscc)
    services.decide_binding(system, binding.pk, approve=True)
    demand = services.post_demand(
        firm, amount=Decimal("100"), term_months=12, purpose="流动资金", sector="C"
    )
    authorisation = services.grant_authorisation(
        firm,
        scopes=["records", "lists", "commitments", "grade"],
        valid_until=timezone.now() + dt.timedelta(days=3650),
    )
    return SimpleNamespace(demand=demand, authorisation=authorisation)
