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
    assert "李经理" in html  # the accepting department sees who signed, to contact them
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
