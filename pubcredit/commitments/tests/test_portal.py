"""The public side: the online signing form end to end (form → commitment → letter), and the
信用承诺 tab of a subject page, which shows only what is 可向社会公开 and made by today."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.test import Client

from pubcredit.catalog.models import SubjectKind
from pubcredit.commitments.models import (
    Commitment,
    CommitmentType,
    Performance,
    PublicityType,
    SigningRequest,
)
from pubcredit.subjects.models import Subject
from pubcredit.testing.commitkit import sign
from pubcredit.testing.portalkit import make_ric, make_uscc, today

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("platform_lists", "media")]

SIGN = "/commitments/sign/"


@pytest.fixture(autouse=True)
def _fresh_cache(settings):
    from django.core.cache import cache

    settings.PUBCREDIT_PUBLIC_RATE = "0"
    cache.clear()
    yield
    cache.clear()


def form(**overrides) -> dict:
    data = {
        "kind": "org",
        "name": "淄博新启航商贸有限公司",
        "uscc": make_uscc(8101),
        "id_number": "",
        "commitment_type": CommitmentType.VOLUNTARY.value,
        "matter": "",
        "department": "ZB-SCJG",
        "reason": "主动向社会作出诚信经营承诺",
        "content": "承诺依法诚信经营。",
        "liability": "违反承诺的,愿意承担相应法律责任。",
        "valid_to": "",
        "publicity_type": PublicityType.PUBLIC.value,
        "signer_name": "赵经理",
        "signer_contact": "13905330001",
        "agree": "on",
    }
    data.update(overrides)
    return data


def test_the_form_renders_with_the_standard_liability(client):
    response = client.get(SIGN)
    assert response.status_code == 200
    html = response.content.decode()
    assert "在线签署信用承诺" in html
    assert "违背信用承诺重点关注对象名单" in html  # the prefilled 违诺责任
    # Only the types a subject signs alone; 信用修复型 goes through the repair application.
    options = re.findall(r'<option value="([^"]*)"', html)
    assert "信用修复型" not in options and "主动型" in options and "审批替代型" in options
    assert "no-store" in response["Cache-Control"]


SUBMITTED_TEXT = "承诺已提交,待受理部门确认"


def _submitted(response) -> SigningRequest:
    assert response.status_code == 302, response.content.decode()[:2000]
    req = SigningRequest.objects.latest("id")
    assert response["Location"] == f"/commitments/submitted/{req.token}/"
    return req


def test_an_organisation_signs_and_waits_for_the_department(client, system):
    from pubcredit.commitments.confirmation import confirm_signing

    data = form()
    req = _submitted(client.post(SIGN, data))
    # Nothing is written to the register or the commitments until the department confirms.
    assert not Subject.objects.exists() and not Commitment.objects.exists()
    assert (req.status, req.committer_name, req.uscc) == ("pending", data["name"], data["uscc"])
    assert req.signer_name == "赵经理" and req.signer_contact == "13905330001"
    page = client.get(f"/commitments/submitted/{req.token}/").content.decode()
    assert SUBMITTED_TEXT in page and "13905330001" not in page

    c = confirm_signing(system, req)
    subject = Subject.objects.get(uscc=data["uscc"])  # registered by the confirmation
    assert (c.subject, c.committer_name, c.source) == (subject, data["name"], "online")
    assert c.performance == Performance.PENDING and c.signer_contact == "13905330001"
    html = client.get(f"/commitments/submitted/{req.token}/").content.decode()
    assert "信用承诺已签署" in html and c.code in html and "淄博市市场监督管理局" in html
    letter = client.get(f"/commitments/letters/{c.letter_token}/")
    assert letter.status_code == 200 and letter["Content-Type"] == "application/pdf"
    assert b"".join(letter.streaming_content).startswith(b"%PDF")
    assert client.get("/commitments/letters/not-a-token/").status_code == 404
    assert client.get("/commitments/submitted/not-a-token/").status_code == 404

    # The same organisation again: found by its code when confirmed, not registered twice.
    confirm_signing(system, _submitted(client.post(SIGN, form(reason="第二份承诺"))))
    assert Subject.objects.filter(uscc=data["uscc"]).count() == 1
    assert Commitment.objects.count() == 2


def _answer(client, response) -> tuple[int, str]:
    """The signer's answer with what is theirs (token, the name they typed) taken out."""
    req = _submitted(response)
    page = client.get(response["Location"])
    html = page.content.decode().replace(req.token, "TOKEN")
    html = re.sub(r'id="committer-name">[^<]*<', 'id="committer-name"><', html)
    html = re.sub(r'"X-CSRFToken": "[^"]*"', "", html)
    return page.status_code, re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", html)


def test_the_answer_never_tells_whether_a_name_and_a_number_match(client, system, person):
    """Finding 5: the signer gets the same answer for a registered person with the right name,
    the same number with another name, and an unknown number; nobody is registered."""
    _somebody, ric = person(name="孙丽")
    subjects = Subject.objects.count()
    unknown = make_ric(8203)
    right = _answer(
        client, client.post(SIGN, form(kind="person", name="孙丽", uscc="", id_number=ric))
    )
    wrong = _answer(
        client, client.post(SIGN, form(kind="person", name="孙大圣", uscc="", id_number=ric))
    )
    nobody = _answer(
        client, client.post(SIGN, form(kind="person", name="孙丽", uscc="", id_number=unknown))
    )
    assert right[0] == wrong[0] == nobody[0] == 200
    assert right[1] == wrong[1] == nobody[1]
    assert SUBMITTED_TEXT in right[1] and "不一致" not in right[1]
    assert Subject.objects.count() == subjects and not Commitment.objects.exists()


def test_an_organisation_registered_under_another_name_gets_the_same_answer(client, system):
    from pubcredit.subjects.services import register_subject

    code = make_uscc(8105)
    register_subject(system, kind="org", name="淄博真名有限公司", uscc=code)
    right = _answer(client, client.post(SIGN, form(name="淄博真名有限公司", uscc=code)))
    other = _answer(client, client.post(SIGN, form(name="淄博冒名有限公司", uscc=code)))
    assert right == other
    assert "淄博真名有限公司" not in other[1]  # the registered name is never shown


def test_a_script_name_is_kept_as_text_and_escaped(client, staff):
    from pubcredit.commitments.confirmation import confirm_signing

    hostile = "<script>alert(1)</script>公司"
    req = _submitted(client.post(SIGN, form(name=hostile)))
    assert req.committer_name == hostile
    page = client.get(f"/commitments/submitted/{req.token}/").content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;公司" in page and "<script>alert(1)" not in page
    clerk = Client()
    clerk.force_login(staff["clerk"][0])
    pending = clerk.get(f"/console/commitments/requests/{req.pk}/").content.decode()
    assert "&lt;script&gt;alert(1)" in pending and "<script>alert(1)" not in pending
    c = confirm_signing(staff["clerk"][1], req)
    assert Subject.objects.get(pk=c.subject_id).name == hostile
    detail = clerk.get(f"/console/commitments/{c.pk}/").content.decode()
    assert "&lt;script&gt;alert(1)" in detail and "<script>alert(1)" not in detail


def test_a_person_signs_and_the_number_is_never_echoed(client, system):
    from pubcredit.commitments.confirmation import confirm_signing

    ric = make_ric(8202)
    req = _submitted(client.post(SIGN, form(kind="person", name="孙丽", uscc="", id_number=ric)))
    assert req.id_masked == ric[:6] + "********" + ric[-4:]
    assert ric not in str(SigningRequest.objects.filter(pk=req.pk).values().get())
    page = client.get(f"/commitments/submitted/{req.token}/").content.decode()
    assert ric not in page and "孙*" in page
    c = confirm_signing(system, req)
    assert c.committer_kind == SubjectKind.PERSON
    assert c.committer_code == ric[:6] + "********" + ric[-4:]
    # A form that comes back with errors does not write the number into the page.
    again = client.post(SIGN, form(kind="person", name="孙丽", uscc="", id_number=ric, reason=""))
    assert again.status_code == 422
    assert ric not in again.content.decode()


def test_form_errors(client):
    bad = client.post(SIGN, form(uscc="91370303ABCDEFGHIJ"))
    assert bad.status_code == 422
    kind = client.post(SIGN, form(kind="ind"))  # a 91 code is not a 个体工商户
    assert kind.status_code == 422 and "个体工商户" in kind.content.decode()
    approval = client.post(SIGN, form(commitment_type="审批替代型"))
    assert approval.status_code == 422 and "审批替代型承诺须选择" in approval.content.decode()
    repair = client.post(SIGN, form(commitment_type="信用修复型"))
    assert repair.status_code == 422
    phone = client.post(SIGN, form(signer_contact="110"))
    assert "联系电话格式不正确" in phone.content.decode()
    unchecked = client.post(SIGN, {k: v for k, v in form().items() if k != "agree"})
    assert unchecked.status_code == 422
    assert not SigningRequest.objects.exists()
    assert not Subject.objects.exists()  # a signing registers nobody
    req = _submitted(
        client.post(SIGN, form(commitment_type="审批替代型", matter="ADMIN_LICENSING"))
    )
    assert req.matter.code == "ADMIN_LICENSING"


def test_signing_is_rate_limited(client, settings):
    settings.PUBCREDIT_PUBLIC_RATE = "1/60"
    assert client.post(SIGN, form(reason="")).status_code == 422
    limited = client.post(SIGN, form())
    assert limited.status_code == 429


def test_the_tab_shows_only_public_commitments(client, system):
    from pubcredit.subjects.services import register_subject

    org = register_subject(system, kind="org", name="淄博公开测试有限公司", uscc=make_uscc(8301))
    day = today()
    public = sign(org, day=day - dt.timedelta(days=3), today=day)
    restricted = sign(org, publicity_type=PublicityType.RESTRICTED, day=day, today=day)
    hidden = sign(org, publicity_type=PublicityType.NOT_PUBLIC, day=day, today=day)
    html = client.get(f"/subjects/{org.pk}/?tab=commitments").content.decode()
    assert public.code in html
    assert restricted.code not in html and hidden.code not in html
    assert "主动向社会作出诚信经营承诺" in html and "待认定" in html
    assert "李经理" not in html and "13805331234" not in html  # the signer is never public
    counts = client.get(f"/api/v1/public/subjects/{org.pk}").json()["tabs"]
    assert {t["slug"]: t["count"] for t in counts}["commitments"] == 1
    records = client.get(f"/api/v1/public/subjects/{org.pk}/records", {"tab": "commitments"}).json()
    assert records["total"] == 1
    item = records["items"][0]
    assert item["category"] == "CN" and item["department"] == "淄博市市场监督管理局"
    fields = {f["code"]: f["value"] for f in item["fields"]}
    assert fields["CN_CNBM"] == public.code and fields["CN_LXZT"] == "待认定"


def test_the_tab_masks_persons(client, system, person):
    from pubcredit.publicity.public import subject_ref

    subject, ric = person("欧阳娜娜", ric=make_ric(8402))
    c = sign(subject, day=today(), today=today(), content=f"本人{ric}承诺")
    html = client.get(f"/subjects/{subject_ref(subject)}/?tab=commitments").content.decode()
    assert c.code in html
    assert "欧阳娜娜" not in html and "欧阳**" in html
    assert ric not in html


def test_a_commitment_made_later_or_withdrawn_is_not_shown(client, system):
    from django.utils import timezone

    from pubcredit.subjects.services import register_subject

    org = register_subject(system, kind="org", name="淄博撤回测试有限公司", uscc=make_uscc(8501))
    c = sign(org, day=today(), today=today())
    Commitment.objects.filter(pk=c.pk).update(withdrawn_at=timezone.now())
    later = sign(org, day=today(), today=today())
    Commitment.objects.filter(pk=later.pk).update(made_on=today() + dt.timedelta(days=1))
    counts = client.get(f"/api/v1/public/subjects/{org.pk}").json()["tabs"]
    assert {t["slug"]: t["count"] for t in counts}["commitments"] == 0
