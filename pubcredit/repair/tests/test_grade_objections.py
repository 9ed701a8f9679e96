"""Objections (异议) to a credit grade: the objection names the current result of a scorecard and
the record it says is wrong, follows the objection procedure (受理 → 核实 → 办结), and its
conclusion recomputes the grade and keeps the grade before and after, with audit rows.

Hand-computed from pubcredit/scoring/data/scorecards: SCORE_PUBLIC base 80, 一般 penalty −4,
轻微 −1 (12 months); A ≥ 90, B ≥ 75, C ≥ 60. SCORE_PERSON base 1000, 一般 penalty −20 (12
months); A ≥ 960, B ≥ 850. The penalties are fines of 5 万元 (一般 for an organisation by the
publicity rules; no 大额罚款, which starts at 10 万元), decided 20 days ago; the subjects have no
成立日期 (no 成立年限 points)."""

from __future__ import annotations

import itertools
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from pubcredit.accounts.models import AccessLog, AuditEvent
from pubcredit.accounts.permissions import PUBLIC
from pubcredit.publicity.models import PublicityMark
from pubcredit.repair import objections
from pubcredit.repair.letters import reply_letter
from pubcredit.repair.models import Objection
from pubcredit.repair.models import ProcedureStatus as S
from pubcredit.repair.tests.uikit import (  # noqa: F401 (fixtures)
    PHONE,
    principal,
    repair_site_fixture,
    today,
    users_fixture,
)
from pubcredit.testing import portalkit
from pubcredit.testing.loadkit import make_ric, make_uscc
from pubcredit.testing.scorekit import result, scorecards  # noqa: F401 (fixture)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("scorecards")]
_seq = itertools.count(701)

PUBLIC_CARD = "SCORE_PUBLIC"
PERSON_CARD = "SCORE_PERSON"


def _penalties(system, *fines, person: bool = False):
    """行政处罚 rows of one subject pushed through intake (tiers from the publicity rules), so
    the records flow computes its grades; returns (subject, records in the order given)."""
    from pubcredit.records.models import Record
    from pubcredit.subjects.models import Subject
    from pubcredit.subjects.services import person_id_index

    n = next(_seq)
    if person:
        ric = make_ric(n)
        rows = [
            portalkit.penalty(n * 10 + i, name="王小明", kind="自然人", id_number=ric, fine=f)
            for i, f in enumerate(fines)
        ]
    else:
        uscc = make_uscc(n)
        rows = [
            portalkit.penalty(n * 10 + i, name=f"淄博异议测试{n}有限公司", uscc=uscc, fine=f)
            for i, f in enumerate(fines)
        ]
    portalkit.submit(system, "CF", rows)
    if person:
        subject = Subject.objects.get(id_index=person_id_index(ric))
    else:
        subject = portalkit.subject_of(uscc)
    records = list(Record.objects.filter(subject=subject).order_by("id"))
    return subject, records


def _file(principal_, record, score_result, **overrides):
    values = {
        "target": "grade",
        "reason": "该处罚应为一般失信行为,按严重扣分导致等级偏低。",
        "requested_correction": "按一般失信行为重新评价",
        "applicant_name": "王经办",
        "applicant_phone": PHONE,
        "score_result": score_result,
    }
    values.update(overrides)
    return objections.file_objection(principal_, record, **values)


@pytest.fixture
def graded(repair_site, system):
    """An organisation with two 一般 penalties: 80 − 2 × 4 = 72 → C; the objection is to the
    first one."""
    company, records = _penalties(system, "5", "5")
    return company, records[0]


def test_a_corrected_fact_recomputes_the_grade_before_and_after(graded, users):
    from pubcredit.publicity.services import set_tier

    company, record = graded
    disputed = result(company, PUBLIC_CARD)
    assert (disputed.score, disputed.grade) == (Decimal("72"), "C")

    obj = _file(PUBLIC, record, disputed)
    assert (obj.status, obj.target, obj.score_result_id) == (S.SUBMITTED, "grade", disputed.pk)
    obj = objections.accept_objection(principal(users["centre"]), obj)
    # Pending: the record is flagged 异议处理中 like any objection; the flag changes no grade.
    assert PublicityMark.objects.filter(
        record=record, kind=PublicityMark.Kind.OBJECTION, lifted_at__isnull=True
    ).exists()
    assert result(company, PUBLIC_CARD).pk == disputed.pk

    # The department corrects the fact through the usual path: the tier is 轻微.
    set_tier(principal(users["clerk"]), record, "minor", "异议核实:应为轻微失信行为")
    obj = objections.verify_objection(
        principal(users["clerk"]), obj, outcome=S.CORRECTED, reason="已改为轻微失信行为。"
    )
    # 80 − 1 (轻微) − 4 (一般) = 75 → B.
    after = result(company, PUBLIC_CARD)
    assert (after.score, after.grade) == (Decimal("75"), "B")
    obj.refresh_from_db()
    assert obj.status == S.CORRECTED
    assert (obj.score_result_id, obj.result_after_id) == (disputed.pk, after.pk)
    assert not PublicityMark.objects.filter(record=record, lifted_at__isnull=True).exists()

    event = AuditEvent.objects.get(action="repair.objection.regrade")
    assert event.object_id == str(obj.pk)
    assert event.before["grade"]["grade"] == "C" and event.before["grade"]["score"] == "72.00"
    assert event.after["grade"]["grade"] == "B" and event.after["grade"]["score"] == "75.00"
    assert event.after["grade"]["result"] == after.pk
    assert [
        e.action
        for e in AuditEvent.objects.filter(
            object_id=str(obj.pk), action__startswith="repair.objection."
        ).order_by("id")
    ] == [
        "repair.objection.submit",
        "repair.objection.accept",
        "repair.objection.verify",
        "repair.objection.regrade",
    ]
    letter = reply_letter(obj)
    facts = dict(letter.facts)
    assert (facts["异议前等级"], facts["重新计算后等级"]) == ("C(72 分)", "B(75 分)")
    assert obj.reply_letter.read().startswith(b"%PDF")
    assert [s.action for s in obj.steps.all()] == ["submit", "accept", "verify"]


def test_an_upheld_grade_is_recomputed_and_stays(graded, users):
    company, record = graded
    disputed = result(company, PUBLIC_CARD)
    obj = objections.accept_objection(principal(users["centre"]), _file(PUBLIC, record, disputed))
    obj = objections.verify_objection(
        principal(users["clerk"]), obj, outcome=S.UPHELD, reason="经核实,认定为严重失信无误。"
    )
    obj.refresh_from_db()
    # Nothing changed: the recomputation keeps the same current result (72, C).
    assert obj.result_after_id == disputed.pk
    assert result(company, PUBLIC_CARD).pk == disputed.pk
    event = AuditEvent.objects.get(action="repair.objection.regrade")
    assert event.before["grade"] == event.after["grade"]


def test_a_withdrawn_record_stops_counting_at_the_conclusion(graded, users):
    company, record = graded
    disputed = result(company, PUBLIC_CARD)
    obj = objections.accept_objection(principal(users["centre"]), _file(PUBLIC, record, disputed))
    obj = objections.verify_objection(
        principal(users["clerk"]), obj, outcome=S.RECORD_WITHDRAWN, reason="处罚决定已撤销。"
    )
    obj.refresh_from_db()
    # The withdrawn penalty no longer counts: 80 − 4 = 76 → B.
    assert (obj.result_after.score, obj.result_after.grade) == (Decimal("76"), "B")
    assert obj.result_after.current and not type(disputed).objects.get(pk=disputed.pk).current


def test_what_an_objection_to_a_grade_may_name(graded, system):
    company, record = graded
    disputed = result(company, PUBLIC_CARD)
    _other, (other_record,) = _penalties(system, "5")
    with pytest.raises(ValidationError, match="请选择有异议的信用评价等级"):
        _file(PUBLIC, record, None)
    # Another subject's grade.
    with pytest.raises(ValidationError, match="不是该记录所涉主体的当前评价"):
        _file(PUBLIC, other_record, disputed)
    # A result that is no longer current.
    type(disputed).objects.filter(pk=disputed.pk).update(current=False)
    with pytest.raises(ValidationError, match="不是该记录所涉主体的当前评价"):
        _file(PUBLIC, record, disputed)
    assert not Objection.objects.exists()


def test_a_persons_points_only_through_staff_and_never_shown_in_public(
    repair_site, users, system, client
):
    from pubcredit.publicity.models import Publicity

    person, (record,) = _penalties(system, "0.5", person=True)
    assert Publicity.objects.get(pk=record.pk).tier == "general"
    points = result(person, PERSON_CARD)
    # 1000 − 20 (一般 penalty) = 980 → A.
    assert (points.score, points.grade) == (Decimal("980"), "A")

    # The public form never offers a person's points; an organisation's form offers its grade.
    url = reverse("portal:repair:objection", args=[record.pk])
    page = client.get(url)
    assert page.status_code == 200
    assert "对信用评价等级有异议" not in page.content.decode()
    for who in (PUBLIC, principal(users["window"]), principal(users["clerk"])):
        with pytest.raises(PermissionDenied):
            _file(who, record, points)
    assert not Objection.objects.exists() and not AccessLog.objects.exists()

    # The centre's staff file it for the person at the window; the look is logged.
    obj = _file(principal(users["centre"]), record, points)
    look = AccessLog.objects.get()
    assert look.subject_id == person.pk and "王经办" in look.purpose
    obj = objections.accept_objection(principal(users["centre"]), obj)
    obj = objections.verify_objection(
        principal(users["clerk"]), obj, outcome=S.RECORD_WITHDRAWN, reason="处罚决定已撤销。"
    )
    obj.refresh_from_db()
    assert (obj.result_after.score, obj.result_after.grade) == (Decimal("1000"), "A")

    # Public progress page and letter: the scorecard's name, never the points or the grade.
    html = client.get(reverse("portal:repair:progress"), {"code": obj.query_code}).content.decode()
    assert 'id="progress-grade"' in html and "个人信用积分" in html
    assert "980" not in html and "1000" not in html
    letter = reply_letter(obj)
    text = " ".join([*(v for _k, v in letter.facts), *letter.paragraphs])
    assert "980" not in text and "1000" not in text and "异议前等级" not in dict(letter.facts)
    assert "到信用中心窗口查询" in text


def test_the_portal_form_files_an_objection_to_an_organisations_grade(graded, client):
    company, record = graded
    disputed = result(company, PUBLIC_CARD)
    url = reverse("portal:repair:objection", args=[record.pk])
    html = client.get(url).content.decode()
    assert "对信用评价等级有异议" in html and "公共信用综合评价:C(72 分)" in html
    missing = client.post(
        url,
        {
            "target": "grade",
            "reason": "等级有误。",
            "applicant_name": "王",
            "applicant_phone": PHONE,
        },
    ).content.decode()
    assert "请选择有异议的信用评价等级。" in missing and not Objection.objects.exists()
    response = client.post(
        url,
        {
            "target": "grade",
            "score_result": str(disputed.pk),
            "reason": "该处罚应为一般失信行为。",
            "applicant_name": "王经办",
            "applicant_phone": PHONE,
        },
    )
    obj = Objection.objects.get()
    assert response["Location"] == reverse("portal:repair:submitted", args=[obj.query_code])
    assert (obj.target, obj.score_result_id) == ("grade", disputed.pk)
    html = client.get(reverse("portal:repair:progress"), {"code": obj.query_code}).content.decode()
    assert "公共信用综合评价:C(72 分)" in html


def test_the_console_page_shows_the_grade_before_and_after(graded, users, client):
    company, record = graded
    obj = objections.accept_objection(
        principal(users["centre"]), _file(PUBLIC, record, result(company, PUBLIC_CARD))
    )
    objections.verify_objection(
        principal(users["clerk"]), obj, outcome=S.RECORD_WITHDRAWN, reason="处罚决定已撤销。"
    )
    client.force_login(users["centre"])
    html = client.get(reverse("console:repair:objection", args=[obj.pk])).content.decode()
    assert 'id="objection-grade"' in html
    assert 'data-grade="C"' in html and 'data-grade="B"' in html
