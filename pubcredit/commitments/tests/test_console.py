"""Console pages: the register restricted by scope with its filters, one commitment with its
history, and the assessment form for the accepting department."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client

from pubcredit.commitments.assessment import assess_commitment
from pubcredit.commitments.models import Commitment, Performance
from pubcredit.lists.models import ListEntry
from pubcredit.testing.commitkit import OTHER_DEPARTMENT, department, sign

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("seeded", "media")]

LIST = "/console/commitments/"


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def book(make_subject, system):
    """Commitments accepted by two departments, one of a 张店区 subject, one breached."""
    from pubcredit.subjects.models import Subject

    ours = sign(make_subject())
    theirs = sign(make_subject(), department=department(OTHER_DEPARTMENT))
    elsewhere = make_subject()
    Subject.objects.filter(pk=elsewhere.pk).update(region="370302")
    far = sign(Subject.objects.get(pk=elsewhere.pk))
    broken = sign(make_subject())
    assess_commitment(
        system,
        broken,
        Performance.PARTIAL,
        unfulfilled_content="未补齐材料",
        liability_enforced="列入重点关注名单",
        reason="核查",
        today=dt.date(2025, 6, 10),
    )
    return {"ours": ours, "theirs": theirs, "far": far, "broken": broken}


def codes(response) -> set[str]:
    return {c.code for c in (row["c"] for row in response.context["rows"])}


def test_the_register_is_scoped(staff, book):
    everything = {c.code for c in book.values()}
    assert codes(logged_in(staff["centre"][0]).get(LIST)) == everything
    clerk = codes(logged_in(staff["clerk"][0]).get(LIST))
    assert clerk == {book["ours"].code, book["far"].code, book["broken"].code}
    assert codes(logged_in(staff["other_clerk"][0]).get(LIST)) == {book["theirs"].code}
    district = codes(logged_in(staff["district"][0]).get(LIST))  # 张店区 subjects only
    assert book["far"].code not in district and book["ours"].code in district
    assert logged_in(staff["window"][0]).get(LIST).status_code == 403
    anonymous = Client().get(LIST)
    assert anonymous.status_code == 302 and "/login" in anonymous["Location"]


def test_filters(staff, book):
    centre = logged_in(staff["centre"][0])
    assert codes(centre.get(LIST, {"performance": "breach"})) == {book["broken"].code}
    assert codes(centre.get(LIST, {"performance": "待认定"})) == {
        book["ours"].code,
        book["theirs"].code,
        book["far"].code,
    }
    assert codes(centre.get(LIST, {"department": OTHER_DEPARTMENT})) == {book["theirs"].code}
    assert codes(centre.get(LIST, {"type": "审批替代型"})) == set()
    assert codes(centre.get(LIST, {"code": book["far"].code})) == {book["far"].code}
    html = centre.get(LIST).content.decode()
    assert "信用承诺" in html and 'href="/console/commitments/"' in html  # in the navigation


def test_detail_history_and_assessment(staff, book):
    clerk = logged_in(staff["clerk"][0])
    c = book["ours"]
    page = clerk.get(f"{LIST}{c.pk}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert c.code in html and 'id="assess-form"' in html
    # The accepting department sees who signed, masked until a purpose is given.
    assert "李*" in html and "138****1234" in html
    assert "李经理" not in html and "13805331234" not in html
    assert "签署" in html  # the history

    bad = clerk.post(f"{LIST}{c.pk}/assess/", {"performance": "部分履行", "reason": "核查"})
    assert bad.status_code == 422
    assert "未履行的承诺内容" in bad.content.decode()
    done = clerk.post(
        f"{LIST}{c.pk}/assess/",
        {
            "performance": "全部未履行",
            "unfulfilled_content": "未在期限内补齐材料",
            "liability_enforced": "列入重点关注名单",
            "reason": "逾期未补正",
        },
    )
    assert done.status_code == 302
    c.refresh_from_db()
    assert c.performance == Performance.NONE
    assert ListEntry.objects.filter(document_number=c.code).exists()
    after = clerk.get(f"{LIST}{c.pk}/").content.decode()
    assert 'id="assess-form"' not in after and "异议程序" in after


def test_others_cannot_assess(staff, book):
    c = book["ours"]
    other = logged_in(staff["other_clerk"][0])
    assert other.get(f"{LIST}{c.pk}/").status_code == 404
    post = {"performance": "全部履行", "reason": "x"}
    assert other.post(f"{LIST}{c.pk}/assess/", post).status_code == 404
    district = logged_in(staff["district"][0])
    page = district.get(f"{LIST}{c.pk}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="assess-form"' not in html and "李经理" not in html
    assert district.post(f"{LIST}{c.pk}/assess/", post).status_code == 403
    c.refresh_from_db()
    assert c.performance == Performance.PENDING


def test_staff_download_the_letter(staff, book):
    c = book["ours"]
    response = logged_in(staff["centre"][0]).get(f"{LIST}{c.pk}/letter/")
    assert response.status_code == 200
    assert b"".join(response.streaming_content).startswith(b"%PDF")
    Commitment.objects.filter(pk=c.pk).update(letter="")
    assert logged_in(staff["centre"][0]).get(f"{LIST}{c.pk}/letter/").status_code == 404


# --------------------------------------------------------------------------- signer privacy


def test_the_signer_is_revealed_only_with_a_logged_purpose(staff, book, person):
    """Finding 7: name and telephone masked by default; a purpose reveals them and is logged
    (the personal-data access log for a person, the audit trail always)."""
    from pubcredit.accounts.models import AccessLog, AuditEvent

    somebody, _ric = person(name="周小川")
    c = sign(somebody, signer_name="周小川", signer_contact="13912345678")
    clerk = logged_in(staff["clerk"][0])
    html = clerk.get(f"{LIST}{c.pk}/").content.decode()
    assert "周**" in html and "139****5678" in html
    assert "周小川" not in html and "13912345678" not in html
    assert not AccessLog.objects.exists()

    short = clerk.post(f"{LIST}{c.pk}/", {"purpose": "看"})
    assert "13912345678" not in short.content.decode() and not AccessLog.objects.exists()
    shown = clerk.post(f"{LIST}{c.pk}/", {"purpose": "联系签署人核实履约情况"})
    html = shown.content.decode()
    assert "周小川" in html and "13912345678" in html and "本次查看已记录" in html
    log = AccessLog.objects.get()
    assert (log.subject_id, log.purpose) == (somebody.pk, "联系签署人核实履约情况")
    assert log.actor == staff["clerk"][0]
    audit = AuditEvent.objects.filter(action="commitments.signer.view").get()
    assert audit.reason == "联系签署人核实履约情况"


def test_an_organisations_signer_reveal_is_audited(staff, book):
    from pubcredit.accounts.models import AuditEvent

    c = book["ours"]
    clerk = logged_in(staff["clerk"][0])
    html = clerk.post(f"{LIST}{c.pk}/", {"purpose": "联系签署人补正材料"}).content.decode()
    assert "李经理" in html and "13805331234" in html
    assert AuditEvent.objects.filter(
        action="commitments.signer.view", reason="联系签署人补正材料"
    ).exists()
    # Who may not assess sees no signer at all, and a POST reveals nothing.
    district = logged_in(staff["district"][0])
    page = district.post(f"{LIST}{c.pk}/", {"purpose": "联系签署人补正材料"}).content.decode()
    assert "李经理" not in page and "李*" not in page


# --------------------------------------------------------------------------- online signings


def _submit(name="淄博待确认商贸有限公司", **overrides):
    from pubcredit.accounts.permissions import PUBLIC
    from pubcredit.commitments.confirmation import submit_signing
    from pubcredit.testing.portalkit import make_uscc

    values = {
        "kind": "org",
        "name": name,
        "uscc": make_uscc(8301),
        "commitment_type": "主动型",
        "reason": "主动承诺",
        "content": "承诺依法诚信经营。",
        "liability": "愿意承担法律责任。",
        "department": department(),
        "signer_name": "吴会计",
        "signer_contact": "13700001111",
        "publicity_type": "可向社会公开",
    }
    values.update(overrides)
    return submit_signing(PUBLIC, **values)


def test_the_department_confirms_an_online_signing(staff):
    from pubcredit.subjects.models import Subject

    req = _submit()
    clerk = logged_in(staff["clerk"][0])
    listing = clerk.get(LIST).content.decode()
    assert f'data-request="{req.pk}"' in listing
    other = logged_in(staff["other_clerk"][0])
    assert f'data-request="{req.pk}"' not in other.get(LIST).content.decode()
    assert other.get(f"{LIST}requests/{req.pk}/").status_code == 404

    page = clerk.get(f"{LIST}requests/{req.pk}/").content.decode()
    assert "主体库中没有该代码" in page and 'id="decide-form"' in page
    assert "吴*" in page and "137****1111" in page and "13700001111" not in page
    done = clerk.post(f"{LIST}requests/{req.pk}/decide/", {"decision": "confirm"})
    assert done.status_code == 302
    req.refresh_from_db()
    c = req.commitment
    assert req.status == "confirmed" and done["Location"] == f"{LIST}{c.pk}/"
    assert Subject.objects.get(uscc=req.uscc).name == "淄博待确认商贸有限公司"
    assert (c.source, c.department.code, c.signer_contact) == ("online", "ZB-SCJG", "13700001111")
    again = clerk.post(f"{LIST}requests/{req.pk}/decide/", {"decision": "confirm"})
    assert again.status_code == 422 and Commitment.objects.filter(pk=c.pk).count() == 1


def test_a_name_that_differs_from_the_register_is_not_confirmed(staff, system):
    from pubcredit.subjects.services import register_subject
    from pubcredit.testing.portalkit import make_uscc

    register_subject(system, kind="org", name="淄博真实名称有限公司", uscc=make_uscc(8302))
    req = _submit(name="淄博冒用名称有限公司", uscc=make_uscc(8302))
    clerk = logged_in(staff["clerk"][0])
    page = clerk.get(f"{LIST}requests/{req.pk}/").content.decode()
    assert "与主体库登记的名称不一致" in page
    refused = clerk.post(f"{LIST}requests/{req.pk}/decide/", {"decision": "confirm"})
    assert refused.status_code == 422 and "不一致" in refused.content.decode()
    no_reason = clerk.post(f"{LIST}requests/{req.pk}/decide/", {"decision": "reject"})
    assert no_reason.status_code == 422 and "请填写不予受理的理由" in no_reason.content.decode()
    rejected = clerk.post(
        f"{LIST}requests/{req.pk}/decide/", {"decision": "reject", "note": "承诺人名称有误"}
    )
    assert rejected.status_code == 302
    req.refresh_from_db()
    assert (req.status, req.decision_note, req.commitment) == ("rejected", "承诺人名称有误", None)
    public = Client().get(f"/commitments/submitted/{req.token}/").content.decode()
    assert "承诺未予受理" in public and "承诺人名称有误" in public
