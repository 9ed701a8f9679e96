"""The console pages of repair, objections and training (/console/repair/…), by role: the credit
centre, the 部门报送员 of the record's department and of another one, a window clerk."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse

from pubcredit.catalog.models import Department, SubjectKind
from pubcredit.records.models import Record
from pubcredit.repair import services, training
from pubcredit.repair.models import ProcedureStep, RepairApplication, TrainingSession
from pubcredit.repair.tests.uikit import (  # noqa: F401 (fixtures)
    apply,
    object_to,
    principal,
    repair_site_fixture,
    repairable_penalty,
    session,
    today,
    users_fixture,
)

pytestmark = pytest.mark.usefixtures("repair_site")


@pytest.fixture
def login(users):
    def make(name: str) -> Client:
        client = Client()
        client.force_login(users[name])
        return client

    return make


def _messages(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


def _finance_penalty(subject):
    """A penalty decided by the finance bureau (ZB-CZJ), not the market regulator."""
    from pubcredit.publicity.models import Publicity

    record = repairable_penalty(subject)
    czj = Department.objects.get(code="ZB-CZJ")
    Record.objects.filter(pk=record.pk).update(department=czj)
    Publicity.objects.filter(pk=record.pk).update(department=czj)
    return Record.objects.get(pk=record.pk)


def _codes(html: str, apps) -> list[str]:
    """The query codes of `apps` in the order the page lists them."""
    found = [(html.find(f'data-code="{a.query_code}"'), a.query_code) for a in apps]
    return [code for pos, code in sorted(found) if pos >= 0]


# --------------------------------------------------------------------------- access


def test_pages_need_the_repair_roles(client, login, system, make_subject):
    record = repairable_penalty(make_subject())
    app = apply(system, record)
    queue = reverse("console:repair:queue")
    assert client.get(queue).status_code == 302  # to the login page
    window = login("window")
    for url in (
        queue,
        reverse("console:repair:application", args=[app.pk]),
        reverse("console:repair:stats"),
        reverse("console:repair:training"),
        reverse("console:repair:notice", args=[record.pk]),
    ):
        assert window.get(url).status_code == 403, url
    # A department clerk may see the queue and the statistics, not the training pages.
    clerk = login("clerk")
    assert clerk.get(queue).status_code == 200
    assert clerk.get(reverse("console:repair:stats")).status_code == 200
    assert clerk.get(reverse("console:repair:training")).status_code == 403


def test_navigation_lists_the_pages_by_role(login):
    html = login("centre").get(reverse("console:dashboard")).content.decode()
    for name in ("queue", "training", "stats"):
        assert f'href="{reverse(f"console:repair:{name}")}"' in html
    assert "修复与异议办理" in html and "信用服务" in html
    html = login("clerk").get(reverse("console:dashboard")).content.decode()
    assert f'href="{reverse("console:repair:queue")}"' in html
    assert f'href="{reverse("console:repair:training")}"' not in html
    html = login("window").get(reverse("console:dashboard")).content.decode()
    assert reverse("console:repair:queue") not in html


# --------------------------------------------------------------------------- queue


def test_queue_by_role_what_each_can_act_on_first(login, users, system, make_subject):
    subject = make_subject()
    submitted = apply(system, repairable_penalty(subject))
    accepted = apply(system, repairable_penalty(subject))
    services.accept_application(principal(users["centre"]), accepted)
    objection = object_to(repairable_penalty(subject))
    elsewhere = apply(system, _finance_penalty(subject))
    everything = [submitted, accepted, objection, elsewhere]

    html = login("centre").get(reverse("console:repair:queue")).content.decode()
    order = _codes(html, everything)
    assert set(order) == {a.query_code for a in everything}
    # The centre acts on 待受理 first; 待部门核实 waits for the department.
    assert order.index(accepted.query_code) == 3
    assert "待我办理" in html

    html = login("clerk").get(reverse("console:repair:queue")).content.decode()
    order = _codes(html, everything)
    assert order[0] == accepted.query_code
    assert elsewhere.query_code not in order and len(order) == 3

    html = login("other_clerk").get(reverse("console:repair:queue")).content.decode()
    assert _codes(html, everything) == [elsewhere.query_code]
    assert "待我办理" not in html  # 待受理 is the centre's

    for params, expected in [
        ({"kind": "objection"}, [objection]),
        ({"status": "accepted"}, [accepted]),
        ({"department": Department.objects.get(code="ZB-CZJ").pk}, [elsewhere]),
    ]:
        html = login("centre").get(reverse("console:repair:queue"), params).content.decode()
        assert set(_codes(html, everything)) == {a.query_code for a in expected}, params


def test_queue_highlights_overdue_items(login, system, make_subject):
    from pubcredit.holidays.services import add_workdays

    subject = make_subject(SubjectKind.PERSON, name="孙小美")
    late = apply(system, repairable_penalty(subject))
    on_time = apply(system, repairable_penalty(make_subject()))
    due = add_workdays(today() - dt.timedelta(days=14), 0)
    RepairApplication.objects.filter(pk=late.pk).update(due_on=due)
    from pubcredit.holidays.services import workdays_between

    n = workdays_between(due, today())
    client = login("centre")
    html = client.get(reverse("console:repair:queue")).content.decode()
    assert f'<tr class="overdue actionable" data-code="{late.query_code}">' in html
    assert f"已超期 {n} 个工作日" in html
    assert f'<tr class=" actionable" data-code="{on_time.query_code}">' in html
    assert "孙小美" not in html and "孙**" in html  # persons masked in lists
    html = client.get(reverse("console:repair:queue"), {"overdue": "1"}).content.decode()
    assert _codes(html, [late, on_time]) == [late.query_code]
    dashboard = client.get(reverse("console:dashboard")).content.decode()
    assert 'id="task-repair_overdue" data-count="1"' in dashboard
    assert "?overdue=1" in dashboard


# --------------------------------------------------------------------------- application


def test_application_through_the_console_from_acceptance_to_grant(
    login, users, system, make_subject
):
    subject = make_subject()
    record = repairable_penalty(subject)
    app = apply(system, record)
    url = reverse("console:repair:application", args=[app.pk])
    centre, clerk, other = login("centre"), login("clerk"), login("other_clerk")

    html = centre.get(url).content.decode()
    assert 'id="accept-form"' in html and 'id="refuse-form"' in html
    assert 'id="review-form"' not in html and 'id="decide-form"' not in html
    assert "提交时的修复条件核验" in html and "最短公示期届满" in html
    material = app.materials.get()
    assert reverse("console:repair:material", args=[material.pk]) in html
    assert reverse("console:repair:notice", args=[record.pk]) in html
    assert other.get(url).status_code == 404
    assert 'id="accept-form"' not in clerk.get(url).content.decode()

    response = centre.post(url, {"action": "accept", "text": ""}, follow=True)
    assert "已受理,转认定部门核实。" in _messages(response)
    app.refresh_from_db()
    assert app.status == "accepted"

    html = clerk.get(url).content.decode()
    assert 'id="review-form"' in html
    response = clerk.post(url, {"action": "review", "text": "已核实"}, follow=True)
    assert "请选择核实意见:同意修复或不同意修复。" in _messages(response)
    response = clerk.post(url, {"action": "review", "agrees": "yes", "text": ""}, follow=True)
    assert "请填写核实意见。" in _messages(response)
    response = clerk.post(
        url, {"action": "review", "agrees": "yes", "text": "罚款已缴清。"}, follow=True
    )
    assert "核实意见已提交信用中心。" in _messages(response)
    assert "待决定" in response.content.decode()

    html = centre.get(url).content.decode()
    assert 'id="decide-form"' in html and 'id="decide-grant" checked' in html
    response = centre.post(url, {"action": "decide", "grant": "no"}, follow=True)
    assert any("不能作出不予修复的决定" in m for m in _messages(response))
    response = centre.post(url, {"action": "decide", "grant": "yes"}, follow=True)
    assert "已作出信用修复决定,决定书已生成。" in _messages(response)
    app.refresh_from_db()
    assert app.status == "granted" and app.decision_letter
    html = response.content.decode()
    assert 'id="decision-letter"' in html and app.decision_number in html
    letter = centre.get(reverse("console:repair:application_letter", args=[app.pk]))
    assert letter["Content-Type"] == "application/pdf"
    steps = list(ProcedureStep.objects.filter(application=app).values_list("action", flat=True))
    assert steps == ["submit", "accept", "review", "decide"]


def test_refusal_needs_a_reason_and_other_departments_cannot_act(
    login, users, system, make_subject
):
    app = apply(system, repairable_penalty(make_subject()))
    url = reverse("console:repair:application", args=[app.pk])
    response = login("centre").post(url, {"action": "refuse", "text": " "}, follow=True)
    assert "请填写不予受理的理由。" in _messages(response)
    # A department clerk has no repair.handle: the service refuses, the page says why.
    response = login("clerk").post(url, {"action": "accept"}, follow=True)
    assert any("无权执行此操作" in m for m in _messages(response))
    assert login("other_clerk").post(url, {"action": "review", "agrees": "yes"}).status_code == 404
    response = login("centre").post(url, {"action": "refuse", "text": "材料不全。"}, follow=True)
    assert "已作出不予受理决定。" in _messages(response)
    app.refresh_from_db()
    assert app.status == "refused" and app.result_reason == "材料不全。"


def test_materials_are_for_staff_who_may_see_the_application(client, login, system, make_subject):
    app = apply(system, repairable_penalty(make_subject()))
    url = reverse("console:repair:material", args=[app.materials.get().pk])
    for name in ("centre", "clerk"):
        response = login(name).get(url)
        assert response.status_code == 200
        assert b"".join(response.streaming_content).startswith(b"%PDF")
        assert "attachment" in response["Content-Disposition"]
    assert login("other_clerk").get(url).status_code == 404
    assert login("window").get(url).status_code == 403
    assert client.get(url).status_code == 302


def test_repair_notice_pdf_by_record_scope(login, make_subject):
    record = repairable_penalty(make_subject())
    url = reverse("console:repair:notice", args=[record.pk])
    for name in ("centre", "clerk"):
        response = login(name).get(url)
        assert response.status_code == 200 and response.content.startswith(b"%PDF"), name
    assert login("other_clerk").get(url).status_code == 404
    assert login("window").get(url).status_code == 403


# --------------------------------------------------------------------------- objection


def test_objection_through_the_console(login, users, make_subject):
    subject = make_subject()
    record = repairable_penalty(subject)
    obj = object_to(record)
    url = reverse("console:repair:objection", args=[obj.pk])
    centre, clerk = login("centre"), login("clerk")
    html = centre.get(url).content.decode()
    assert 'id="accept-form"' in html and "信息内容有误" in html
    assert login("other_clerk").get(url).status_code == 404
    response = centre.post(url, {"action": "accept"}, follow=True)
    assert any("异议处理中" in m for m in _messages(response))
    obj.refresh_from_db()
    assert obj.status == "verifying"

    html = clerk.get(url).content.decode()
    assert 'id="verify-form"' in html
    response = clerk.post(
        url, {"action": "verify", "outcome": "corrected", "text": "已更正。"}, follow=True
    )
    assert any("尚未更正" in m for m in _messages(response))
    response = clerk.post(
        url, {"action": "verify", "outcome": "upheld", "text": "经核实信息无误。"}, follow=True
    )
    assert "核实结果已办结,告知书已生成。" in _messages(response)
    obj.refresh_from_db()
    assert obj.status == "upheld" and obj.reply_letter
    assert 'id="reply-letter"' in response.content.decode()
    letter = centre.get(reverse("console:repair:objection_letter", args=[obj.pk]))
    assert letter["Content-Type"] == "application/pdf"


# --------------------------------------------------------------------------- training


def test_training_sessions_attendance_and_certificate(login, system, make_subject):
    centre = login("centre")
    url = reverse("console:repair:training")
    html = centre.get(url).content.decode()
    assert 'id="session-form"' in html
    past = (dt.datetime.now() - dt.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    form = {
        "title": "信用修复专题培训(第一期)",
        "starts_at": past,
        "place": "市政务服务中心",
        "capacity": "30",
        "organiser": Department.objects.get(code="ZB-XYZX").pk,
    }
    html = centre.post(url, form).content.decode()
    assert "开始时间须晚于当前时间。" in html
    html = centre.post(url, {**form, "starts_at": "", "capacity": "0"}).content.decode()
    assert "请填写开始时间。" in html and "名额至少为 1。" in html
    later = (dt.datetime.now() + dt.timedelta(days=10)).strftime("%Y-%m-%dT%H:%M")
    response = centre.post(url, {**form, "starts_at": later})
    created = TrainingSession.objects.get()
    assert response["Location"] == reverse("console:repair:session", args=[created.pk])
    assert created.title == "信用修复专题培训(第一期)" and created.capacity == 30

    a, b = make_subject(), make_subject()
    regs = [
        training.register_for_training(
            principal(None), created, subject=s, attendee_name=n, phone="13900000001"
        )
        for s, n in ((a, "刘一"), (b, "陈二"))
    ]
    detail = reverse("console:repair:session", args=[created.pk])
    html = centre.get(detail).content.decode()
    assert "刘一" in html and "陈二" in html and 'name="attended"' in html
    response = centre.post(detail, {"attended": [str(regs[0].pk)]}, follow=True)
    assert "已更新 1 人的参训情况。" in _messages(response)
    regs[0].refresh_from_db()
    regs[1].refresh_from_db()
    assert regs[0].attended and regs[0].certificate_number and not regs[1].attended
    cert = reverse("console:repair:certificate", args=[regs[0].pk])
    assert cert in response.content.decode()
    pdf = centre.get(cert)
    assert pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    assert centre.get(reverse("console:repair:certificate", args=[regs[1].pk])).status_code == 404
    assert login("clerk").get(detail).status_code == 403


# --------------------------------------------------------------------------- statistics


def test_statistics_by_department_and_month(login, users, system, make_subject):
    subject = make_subject()
    granted = apply(system, repairable_penalty(subject))
    services.accept_application(principal(users["centre"]), granted)
    services.review_application(principal(users["clerk"]), granted, agrees=True, opinion="同意")
    services.decide_application(principal(users["centre"]), granted, grant=True)
    late = apply(system, repairable_penalty(subject))
    RepairApplication.objects.filter(pk=late.pk).update(due_on=today() - dt.timedelta(days=10))
    object_to(repairable_penalty(subject))
    apply(system, _finance_penalty(subject))

    centre = login("centre")
    response = centre.get(reverse("console:repair:stats"))
    html = response.content.decode()
    stats = response.context["stats"]
    assert stats["totals"]["app_received"] == 3 and stats["totals"]["app_granted"] == 1
    assert stats["totals"]["obj_received"] == 1 and stats["totals"]["open_overdue"] == 1
    assert stats["totals"]["avg_days"] == 0  # decided the day it was filed
    by_department = {d["label"]: d for d in stats["by_department"]}
    assert by_department["淄博市市场监督管理局"]["app_received"] == 2
    assert by_department["淄博市市场监督管理局"]["open_overdue"] == 1
    assert by_department["淄博市财政局"]["app_received"] == 1
    # Steps that closed a stage: accept, review, decide of the granted one, none late.
    assert stats["totals"]["steps"] == 3 and stats["totals"]["late_rate"] == 0
    month = f"{today():%Y-%m}"
    assert stats["by_month"][-1]["label"] == month and stats["by_month"][-1]["app_received"] == 3
    assert 'id="repair-chart"' in html and 'id="repair-stats-data"' in html
    assert "vendor/echarts/echarts.min.js" in html and "repair/repair-stats.js" in html
    assert 'id="by-department"' in html and 'id="by-month"' in html

    # A department clerk's figures are its own department's.
    stats = login("clerk").get(reverse("console:repair:stats")).context["stats"]
    assert stats["totals"]["app_received"] == 2 and len(stats["by_department"]) == 1
