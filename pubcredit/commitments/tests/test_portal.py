"""The public side: the online signing form end to end (form → commitment → letter), and the
信用承诺 tab of a subject page, which shows only what is 可向社会公开 and made by today."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from pubcredit.catalog.models import SubjectKind
from pubcredit.commitments.models import Commitment, CommitmentType, Performance, PublicityType
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


def test_an_organisation_signs_end_to_end(client):
    data = form()
    response = client.post(SIGN, data)
    assert response.status_code == 302
    c = Commitment.objects.get()
    assert response["Location"] == f"/commitments/signed/{c.letter_token}/"
    subject = Subject.objects.get(uscc=data["uscc"])  # registered on the way
    assert (c.subject, c.committer_name) == (subject, "淄博新启航商贸有限公司")
    assert c.performance == Performance.PENDING and c.source == "online"
    assert c.signer_name == "赵经理" and c.signer_contact == "13905330001"

    page = client.get(response["Location"])
    html = page.content.decode()
    assert c.code in html and "淄博市市场监督管理局" in html
    assert "13905330001" not in html  # the telephone is not shown again
    letter = client.get(f"/commitments/letters/{c.letter_token}/")
    assert letter.status_code == 200
    assert letter["Content-Type"] == "application/pdf"
    assert b"".join(letter.streaming_content).startswith(b"%PDF")
    assert client.get("/commitments/letters/not-a-token/").status_code == 404

    # The same organisation again: found by its code, not registered twice.
    assert client.post(SIGN, form(reason="第二份承诺")).status_code == 302
    assert Subject.objects.filter(uscc=data["uscc"]).count() == 1
    assert Commitment.objects.count() == 2


def test_a_person_signs_and_the_number_is_never_echoed(client):
    ric = make_ric(8202)
    data = form(kind="person", name="孙丽", uscc="", id_number=ric)
    response = client.post(SIGN, data)
    assert response.status_code == 302
    c = Commitment.objects.get()
    assert c.committer_kind == SubjectKind.PERSON
    assert c.committer_code == ric[:6] + "********" + ric[-4:]
    page = client.get(response["Location"]).content.decode()
    assert ric not in page and "孙*" in page
    # A form that comes back with errors does not write the number into the page.
    again = client.post(SIGN, form(kind="person", name="孙丽", uscc="", id_number=ric, reason=""))
    assert again.status_code == 422
    assert ric not in again.content.decode()
    # Another name for the registered number is refused, without naming the registered one.
    wrong = client.post(SIGN, form(kind="person", name="孙大圣", uscc="", id_number=ric))
    assert wrong.status_code == 422
    assert "姓名与身份证号码不一致" in wrong.content.decode()
    assert Commitment.objects.count() == 1


def test_form_errors(client):
    bad = client.post(SIGN, form(uscc="91370303ABCDEFGHIJ"))
    assert bad.status_code == 422
    assert Commitment.objects.count() == 0 and not Subject.objects.exists()
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
    assert not Commitment.objects.exists()
    assert not Subject.objects.exists()  # a refused signing registers nobody
    ok = client.post(SIGN, form(commitment_type="审批替代型", matter="ADMIN_LICENSING"))
    assert ok.status_code == 302
    assert Commitment.objects.get().matter.code == "ADMIN_LICENSING"


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
