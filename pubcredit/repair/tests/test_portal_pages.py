"""The public pages of credit repair, objections and training (/repair/…) and the repair links on
the portal's subject page, through the Django test client as a visitor (no login)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from pubcredit.catalog.models import SubjectKind
from pubcredit.repair import objections, services, training
from pubcredit.repair.letters import document_number
from pubcredit.repair.models import Material, Objection, RepairApplication, TrainingRegistration
from pubcredit.repair.tests.uikit import (  # noqa: F401 (fixtures)
    PHONE,
    application_post,
    apply,
    object_to,
    pdf_file,
    principal,
    repair_site_fixture,
    repairable_penalty,
    session,
    today,
    users_fixture,
)

pytestmark = pytest.mark.usefixtures("repair_site")


def _apply_url(record) -> str:
    return reverse("portal:repair:apply", args=[record.pk])


def _grant(users, app):
    services.accept_application(principal(users["centre"]), app)
    services.review_application(principal(users["clerk"]), app, agrees=True, opinion="已缴清罚款。")
    return services.decide_application(principal(users["centre"]), app, grant=True)


# --------------------------------------------------------------------------- landing


def test_landing_page_explains_and_links(client):
    html = client.get(reverse("portal:repair:index")).content.decode()
    assert "信用修复" in html and "最短公示期已届满" in html
    assert "信用修复不收取任何费用" in html
    for name in ("progress", "training", "certificate"):
        assert reverse(f"portal:repair:{name}") in html
    # The portal's 信用服务 section is the current one in the navigation.
    assert 'href="/services/" aria-current="page"' in html


# --------------------------------------------------------------------------- apply


def test_apply_page_shows_the_conditions_and_the_form(client, make_subject):
    record = repairable_penalty(make_subject())
    html = client.get(_apply_url(record)).content.decode()
    assert 'id="conditions"' in html
    assert html.count('class="condition met"') >= 3  # 正在公示, 最短公示期届满, 无正在办理的申请
    assert "最短公示期已于" in html
    assert 'class="condition pending"' in html  # obligations and commitment: done by applying
    assert 'id="repair-form"' in html and 'enctype="multipart/form-data"' in html
    assert services.REPAIR_COMMITMENT_TEXT in html and services.REPAIR_LIABILITY_TEXT in html
    for field in ("applicant_name", "applicant_phone", "statement", "obligations_declared"):
        assert f'name="{field}"' in html
    for kind in Material.Kind.values:
        assert f'name="material_{kind}"' in html
    assert 'name="accept_commitment"' in html
    assert record.data["CF_WSH"] in html


def test_apply_page_before_the_minimum_period_shows_when_and_no_form(client, make_subject):
    opens = today() + dt.timedelta(days=40)
    record = repairable_penalty(make_subject(), repair_from=opens)
    html = client.get(_apply_url(record)).content.decode()
    assert 'class="condition unmet" data-code="min_period"' in html
    assert f"自 {opens.isoformat()} 起方可申请修复" in html
    assert 'id="repair-form"' not in html and 'id="not-eligible"' in html
    # Posting anyway files nothing.
    client.post(_apply_url(record), application_post())
    assert not RepairApplication.objects.exists()


def test_serious_penalty_needs_training_and_points_to_it(client, make_subject):
    record = repairable_penalty(make_subject(), tier="serious")
    html = client.get(_apply_url(record)).content.decode()
    assert 'data-code="training"' in html and "信用修复专题培训" in html
    assert reverse("portal:repair:training") in html
    assert 'id="repair-form"' not in html


def test_apply_success_shows_the_query_code(client, make_subject):
    record = repairable_penalty(make_subject())
    response = client.post(
        _apply_url(record),
        application_post(material_licence=[pdf_file("营业执照.pdf")]),
    )
    app = RepairApplication.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("portal:repair:submitted", args=[app.query_code])
    html = client.get(response["Location"]).content.decode()
    assert f'<p class="query-code" id="query-code">{app.query_code}</p>' in html
    assert "待受理" in html
    assert app.status == "submitted" and app.applicant_phone == PHONE
    assert sorted(app.materials.values_list("kind", flat=True)) == ["licence", "proof"]
    assert app.commitment is not None


def test_apply_errors_are_shown_in_chinese_next_to_the_fields(client, make_subject):
    record = repairable_penalty(make_subject())
    response = client.post(
        _apply_url(record),
        application_post(
            applicant_name="",
            obligations_declared=None,
            accept_commitment=None,
            material_proof=None,
            material_other=[pdf_file("病毒.exe")],
        ),
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="id_applicant_name-errors"' in html and "请填写经办人姓名。" in html
    assert "请上传至少一份履行法定义务的证明材料。" in html
    assert 'id="id_material_other-errors"' in html and "格式不支持" in html
    assert "须已纠正失信行为、履行法定义务后方可申请。" in html
    assert "须阅读并签署信用修复承诺书。" in html
    assert not RepairApplication.objects.exists()
    # The service's own checks come back next to the field too.
    html = client.post(_apply_url(record), application_post(applicant_phone="abc")).content.decode()
    assert 'id="id_applicant_phone-errors"' in html and "联系电话格式不正确。" in html
    assert not RepairApplication.objects.exists()


def test_second_application_is_refused_while_one_is_open(client, system, make_subject):
    record = repairable_penalty(make_subject())
    apply(system, record)
    html = client.get(_apply_url(record)).content.decode()
    assert 'class="condition unmet" data-code="no_open"' in html
    assert "该记录已有正在办理的修复申请" in html
    assert 'id="repair-form"' not in html


def test_a_persons_penalty_is_masked_on_the_public_pages(client, system, make_subject):
    from pubcredit.testing.checkkit import make_ric

    person = make_subject(SubjectKind.PERSON, name="李大明")
    ric = make_ric(77)
    record = repairable_penalty(person)
    record.data.update({"CF_XDR_MC": "李大明", "CF_XDR_ZJHM": ric, "CF_XDR_LB": "自然人"})
    record.save(update_fields=["data"])
    for url in (_apply_url(record), reverse("portal:repair:objection", args=[record.pk])):
        html = client.get(url).content.decode()
        assert "李大明" not in html and ric not in html
        assert "李**" in html
    app = apply(system, record)
    html = client.get(reverse("portal:repair:progress"), {"code": app.query_code}).content.decode()
    assert "李大明" not in html and "李**" in html


def test_apply_page_of_a_record_not_shown_is_404(client, make_subject):
    from pubcredit.publicity.models import Publicity

    record = repairable_penalty(make_subject())
    Publicity.objects.filter(pk=record.pk).update(state="ended")
    assert client.get(_apply_url(record)).status_code == 404
    assert client.get(reverse("portal:repair:apply", args=[999_999])).status_code == 404


# --------------------------------------------------------------------------- objection


def test_objection_form_gives_a_query_code_and_the_record_shows_the_flag(
    client, users, make_subject
):
    subject = make_subject()
    record = repairable_penalty(subject)
    url = reverse("portal:repair:objection", args=[record.pk])
    html = client.get(url).content.decode()
    assert 'name="target"' in html and "对信用修复结果有异议" not in html  # no repair decided
    response = client.post(
        url,
        {
            "target": "content",
            "reason": "处罚金额登记有误,应为 5000 元。",
            "requested_correction": "罚款金额更正为 5000 元。",
            "applicant_name": "王经办",
            "applicant_phone": PHONE,
            "material_proof": [pdf_file("处罚决定书.pdf")],
        },
    )
    obj = Objection.objects.get()
    assert response["Location"] == reverse("portal:repair:submitted", args=[obj.query_code])
    assert obj.query_code in client.get(response["Location"]).content.decode()
    assert obj.materials.count() == 1
    objections.accept_objection(principal(users["centre"]), obj)
    page = client.get(reverse("portal:subject", args=[subject.pk]), {"tab": "penalties"})
    assert '<span class="flag flag-objection">异议处理中</span>' in page.content.decode()
    record_page = client.get(reverse("portal:record", args=[record.pk])).content.decode()
    assert "异议处理中" in record_page


def test_objection_errors_are_shown_in_chinese(client, make_subject):
    record = repairable_penalty(make_subject())
    url = reverse("portal:repair:objection", args=[record.pk])
    html = client.post(url, {"target": "", "reason": "", "applicant_phone": PHONE}).content.decode()
    assert (
        "请选择异议事项。" in html and "请填写异议理由。" in html and "请填写经办人姓名。" in html
    )
    object_to(record)
    html = client.post(
        url,
        {
            "target": "period",
            "reason": "公示期限计算错误。",
            "applicant_name": "王",
            "applicant_phone": PHONE,
        },
    ).content.decode()
    assert "该记录已有正在办理的异议申请" in html
    assert Objection.objects.count() == 1


def test_objection_to_a_granted_repair_of_a_record_no_longer_shown(
    client, system, users, make_subject
):
    record = repairable_penalty(make_subject())
    app = _grant(users, apply(system, record))
    url = reverse("portal:repair:objection", args=[record.pk])
    html = client.get(url).content.decode()
    assert "对信用修复结果有异议" in html and "信息内容有误" not in html
    assert app.decision_number in html or document_number(record) in html
    response = client.post(
        url,
        {
            "target": "repair",
            "reason": "修复决定有误。",
            "applicant_name": "赵",
            "applicant_phone": PHONE,
        },
    )
    obj = Objection.objects.get()
    assert response.status_code == 302 and obj.repair_application_id == app.pk


# --------------------------------------------------------------------------- progress


def test_progress_by_query_code_shows_status_steps_and_deadline(client, system, make_subject):
    record = repairable_penalty(make_subject())
    app = apply(system, record)
    url = reverse("portal:repair:progress")
    assert 'id="progress-code"' in client.get(url).content.decode()
    html = client.get(url, {"code": "ZZZZZZZZZZZZ"}).content.decode()
    assert 'id="progress-not-found"' in html
    typed = " ".join([app.query_code[:4].lower(), app.query_code[4:8], app.query_code[8:]])
    html = client.get(url, {"code": typed}).content.decode()
    assert '<strong id="progress-status" class="status status-submitted">待受理</strong>' in html
    assert app.due_on.isoformat() in html
    assert "提交申请" in html and 'id="withdraw-form"' in html
    assert 'id="letter-link"' not in html
    assert PHONE not in html  # the phone number is the proof of a withdrawal: never shown


def test_withdraw_needs_the_phone_number(client, system, make_subject):
    record = repairable_penalty(make_subject())
    app = apply(system, record)
    url = reverse("portal:repair:withdraw", args=[app.query_code])
    response = client.post(url, {"phone": "13900000000"}, follow=True)
    assert "联系电话与申请时填写的不一致。" in response.content.decode()
    app.refresh_from_db()
    assert app.status == "submitted"
    response = client.post(url, {"phone": "0533 1234567"}, follow=True)
    html = response.content.decode()
    assert "申请已撤回。" in html and "已撤回" in html
    app.refresh_from_db()
    assert app.status == "withdrawn"
    assert 'id="withdraw-form"' not in html


def test_withdraw_an_objection(client, make_subject):
    obj = object_to(repairable_penalty(make_subject()))
    url = reverse("portal:repair:withdraw", args=[obj.query_code])
    client.post(url, {"phone": PHONE})
    obj.refresh_from_db()
    assert obj.status == "withdrawn"


def test_decision_letter_downloads_once_issued(client, system, users, make_subject):
    record = repairable_penalty(make_subject())
    app = apply(system, record)
    url = reverse("portal:repair:letter", args=[app.query_code])
    assert client.get(url).status_code == 404
    _grant(users, app)
    html = client.get(reverse("portal:repair:progress"), {"code": app.query_code}).content.decode()
    assert "准予修复" in html and 'id="letter-link"' in html and "下载信用修复决定书" in html
    response = client.get(url)
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert b"".join(response.streaming_content).startswith(b"%PDF")


def test_objection_reply_letter_downloads(client, users, make_subject):
    obj = object_to(repairable_penalty(make_subject()))
    objections.refuse_objection(principal(users["centre"]), obj, "不属于异议受理范围。")
    html = client.get(reverse("portal:repair:progress"), {"code": obj.query_code}).content.decode()
    assert "不予受理" in html and "下载异议处理结果告知书" in html
    response = client.get(reverse("portal:repair:letter", args=[obj.query_code]))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"


# --------------------------------------------------------------------------- training


def test_training_registration_and_certificate(client, system, make_subject):
    subject = make_subject()
    s = session(system)
    url = reverse("portal:repair:training")
    html = client.get(url).content.decode()
    assert s.title in html and s.place in html
    wrong = {
        "session": s.pk,
        "uscc": subject.uscc,
        "subject_name": "别的公司",
        "attendee_name": "刘",
        "phone": PHONE,
    }
    html = client.post(url, wrong).content.decode()
    assert "统一社会信用代码与主体名称不一致" in html
    assert not TrainingRegistration.objects.exists()
    html = client.post(url, {**wrong, "uscc": "123"}).content.decode()
    assert 'id="id_uscc-errors"' in html
    response = client.post(url, {**wrong, "subject_name": subject.name}, follow=True)
    assert "报名成功" in response.content.decode()
    reg = TrainingRegistration.objects.get()
    assert reg.subject == subject and reg.attendee_phone == PHONE
    # The same subject twice: the service's refusal is shown.
    html = client.post(url, {**wrong, "subject_name": subject.name}).content.decode()
    assert "该主体已报名本场培训。" in html

    cert = reverse("portal:repair:certificate")
    assert 'id="certificate-form"' in client.get(cert).content.decode()
    html = client.post(cert, {"number": "XF2026", "phone": PHONE}).content.decode()
    assert "未找到该结业证明" in html
    reg = training.mark_attendance(system, reg)
    html = client.post(
        cert, {"number": reg.certificate_number, "phone": "13900000000"}
    ).content.decode()
    assert "未找到该结业证明" in html
    response = client.post(cert, {"number": reg.certificate_number.lower(), "phone": PHONE})
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")


def test_training_page_without_sessions(client):
    html = client.get(reverse("portal:repair:training")).content.decode()
    assert 'id="no-sessions"' in html


# --------------------------------------------------------------------------- subject page


def _penalties_tab(client, subject) -> str:
    return client.get(
        reverse("portal:subject", args=[subject.pk]), {"tab": "penalties"}
    ).content.decode()


def test_subject_page_links_each_penalty_to_repair_and_objection(client, make_subject):
    subject = make_subject()
    ready = repairable_penalty(subject)
    opens = today() + dt.timedelta(days=20)
    waiting = repairable_penalty(subject, repair_from=opens)
    html = _penalties_tab(client, subject)
    assert (
        f'<a class="button button-small repair-link" href="{_apply_url(ready)}">在线申请修复</a>'
        in html
    )
    assert _apply_url(waiting) not in html
    assert 'repair-link disabled" aria-disabled="true">在线申请修复</span>' in html
    assert f"自 {opens.isoformat()} 起可申请" in html
    for record in (ready, waiting):
        assert reverse("portal:repair:objection", args=[record.pk]) in html
    # Licences get no repair link.
    assert (
        "在线申请修复"
        not in client.get(
            reverse("portal:subject", args=[subject.pk]), {"tab": "licences"}
        ).content.decode()
    )


def test_subject_page_costs_no_query_per_penalty(
    client, make_subject, django_assert_max_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    one, three = make_subject(), make_subject()
    repairable_penalty(one)
    for _i in range(3):
        repairable_penalty(three)
    _penalties_tab(client, one)  # warm the process caches
    counts = []
    for subject in (one, three):
        with CaptureQueriesContext(connection) as queries:
            html = _penalties_tab(client, subject)
        counts.append(len(queries))
        assert html.count("objection-link") == (1 if subject is one else 3)
    assert counts[0] == counts[1]


def test_granted_repair_hides_the_penalty_from_the_subject_page(
    client, system, users, make_subject
):
    subject = make_subject()
    record = repairable_penalty(subject)
    assert record.data["CF_WSH"] in _penalties_tab(client, subject)
    _grant(users, apply(system, record))
    assert record.data["CF_WSH"] not in _penalties_tab(client, subject)
