"""共享 (issue 19): department systems query a subject's records and lists with a stated purpose;
every query logged; only shareable categories; persons masked unless the caller may see persons;
statistics by department and category and the sharing rate, computed by hand here."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from pubcredit.accounts.models import AccessLog, Role
from pubcredit.accounts.permissions import Principal
from pubcredit.accounts.services import issue_api_key
from pubcredit.catalog.models import Category, Department
from pubcredit.sharing import services
from pubcredit.sharing.models import SharingQuery, SharingQueryCategory
from pubcredit.subjects.models import Subject
from pubcredit.testing.listkit import identify
from pubcredit.testing.portalkit import licence, make_ric, make_uscc, penalty, submit

pytestmark = pytest.mark.django_db

PURPOSE = "行政许可审查"


def key(system, role, department_code=None) -> str:
    department = Department.objects.get(code=department_code) if department_code else None
    _k, clear = issue_api_key(system, name=f"{role} 共享", role=role, department=department)
    return f"Bearer {clear}"


@pytest.fixture
def org(system, reference):
    uscc = make_uscc(7101)
    submit(system, "CF", [penalty(7101, name="淄博共享测试有限公司", uscc=uscc)])
    submit(system, "XK", [licence(7102, name="淄博共享测试有限公司", uscc=uscc)])
    return Subject.objects.get(uscc=uscc)


@pytest.fixture
def person(system, reference):
    ric = make_ric(7201)
    submit(system, "CF", [penalty(7201, name="王小明", kind="自然人", id_number=ric)])
    return Subject.objects.get(kind="person", name="王小明"), ric


def get(client, auth, ref, what="records", **params):
    return client.get(f"/api/v1/sharing/subjects/{ref}/{what}", params, HTTP_AUTHORIZATION=auth)


def test_purpose_required(client, system, org):
    clerk = key(system, Role.DEPARTMENT_CLERK, "ZB-ZJJ")
    for params in ({}, {"purpose": "  "}):
        response = get(client, clerk, org.pk, **params)
        assert response.status_code == 422 and response.json()["code"] == "purpose_required"
    assert get(client, clerk, org.pk, purpose="查").status_code == 422  # too short to say why
    assert SharingQuery.objects.count() == 0


def test_query_answered_and_logged(client, system, org):
    clerk = key(system, Role.DEPARTMENT_CLERK, "ZB-ZJJ")
    response = get(client, clerk, org.uscc, purpose=PURPOSE, categories="CF,XK")
    assert response.status_code == 200, response.content
    body = response.json()
    assert sorted(r["category"] for r in body["items"]) == ["CF", "XK"]
    assert body["categories"] == ["CF", "XK"] and body["not_shareable"] == []
    assert body["items"][0]["source"] == "local"
    query = SharingQuery.objects.get()
    assert query.pk == body["query"]
    assert (query.department.code, query.subject_id, query.purpose) == ("ZB-ZJJ", org.pk, PURPOSE)
    assert (query.categories, query.rows, query.kind) == (["CF", "XK"], 2, "records")
    lines = dict(SharingQueryCategory.objects.values_list("category__code", "rows"))
    assert lines == {"CF": 1, "XK": 1}


def test_key_sees_only_shareable_categories(client, system, org):
    Category.objects.filter(code="XK").update(publicity_class="authorised")
    clerk = key(system, Role.DEPARTMENT_CLERK, "ZB-ZJJ")
    body = get(client, clerk, org.pk, purpose=PURPOSE, categories="CF,XK").json()
    assert [r["category"] for r in body["items"]] == ["CF"]
    assert body["not_shareable"] == ["XK"]
    everything = get(client, clerk, org.pk, purpose=PURPOSE).json()
    assert [r["category"] for r in everything["items"]] == ["CF"]
    assert "XK" not in everything["categories"]
    unknown = get(client, clerk, org.pk, purpose=PURPOSE, categories="NOPE")
    assert unknown.status_code == 422


def test_roles_without_sharing_refused(client, system, org):
    for role in (Role.BANK_USER, Role.WINDOW_CLERK):  # districts: the API matrix
        assert get(client, key(system, role), org.pk, purpose=PURPOSE).status_code == 403
    assert client.get(f"/api/v1/sharing/subjects/{org.pk}/records").status_code == 401
    assert SharingQuery.objects.count() == 0


def test_person_masked_for_a_department_and_logged_look_for_the_centre(client, system, person):
    subject, ric = person
    clerk = key(system, Role.DEPARTMENT_CLERK, "ZB-ZJJ")
    # A plain id never names a person for a caller who may not see persons; the ID number does.
    assert get(client, clerk, subject.pk, purpose=PURPOSE).status_code == 404
    body = get(client, clerk, ric, purpose=PURPOSE).json()
    assert body["masked"] is True and body["subject"]["name"] == "王**"
    text = str(body)
    assert "王小明" not in text and ric not in text
    assert AccessLog.objects.count() == 0

    centre = key(system, Role.CENTRE_STAFF)
    body = get(client, centre, subject.pk, purpose=PURPOSE).json()
    assert body["masked"] is False and body["subject"]["name"] == "王小明"
    names = [f["value"] for f in body["items"][0]["fields"] if f["code"] == "CF_XDR_MC"]
    assert names == ["王小明"]
    log = AccessLog.objects.get()
    assert (log.subject_id, log.purpose) == (subject.pk, PURPOSE)
    assert SharingQuery.objects.filter(masked=False).count() == 1
    today = timezone.localdate()
    assert {q["subject"] for q in services.recent_queries(today, today)} == {"王**"}


def test_lists_shared_by_list_category(client, system, org):
    identify(system, org, "BLK_FOOD_DRUG", today=timezone.localdate())
    identify(system, org, "RED_CONTRACT", today=timezone.localdate())
    Category.objects.filter(code="SXJL").update(publicity_class="authorised")
    clerk = key(system, Role.DEPARTMENT_CLERK, "ZB-ZJJ")
    body = get(client, clerk, org.pk, "lists", purpose=PURPOSE).json()
    assert [e["list_type"] for e in body["items"]] == ["BLK_FOOD_DRUG"]
    query = SharingQuery.objects.get()
    assert (query.kind, query.rows) == ("lists", 1)
    assert dict(SharingQueryCategory.objects.values_list("category__code", "rows")) == {"YZSX": 1}


def test_statistics_by_department_category_and_rate(system, org):
    # The catalogue narrowed to four categories: CF 公开, XK 共享, CN 授权查询, SXBZXR 公开 → 3/4.
    Category.objects.exclude(code__in=["CF", "XK", "CN", "SXBZXR"]).update(active=False)
    Category.objects.filter(code="CN").update(publicity_class="authorised")
    Category.objects.filter(code="XK").update(publicity_class="shared")

    def principal(code):
        department = Department.objects.get(code=code)
        return Principal(role=Role.DEPARTMENT_CLERK, label=code, department_id=department.pk)

    services.query_records(principal("ZB-ZJJ"), org, purpose=PURPOSE, categories=["CF"])
    services.query_records(principal("ZB-ZJJ"), org, purpose=PURPOSE, categories=["CF", "XK"])
    services.query_records(principal("ZB-SWU"), org, purpose=PURPOSE, categories=["XK"])
    # One query outside the period does not count.
    old = services.query_records(principal("ZB-SWU"), org, purpose=PURPOSE, categories=["CF"])
    SharingQuery.objects.filter(pk=old.query.pk).update(at=timezone.now() - dt.timedelta(days=40))
    today = timezone.localdate()
    stats = services.statistics(today - dt.timedelta(days=7), today)
    assert stats["queries"] == 3 and stats["rows"] == 1 + 2 + 1
    assert [(d["department"], d["queries"], d["rows"]) for d in stats["by_department"]] == [
        ("ZB-ZJJ", 2, 3),
        ("ZB-SWU", 1, 1),
    ]
    assert [(c["category"], c["queries"], c["rows"]) for c in stats["by_category"]] == [
        ("CF", 2, 2),
        ("XK", 2, 2),
    ]
    assert stats["rate"] == {"shareable": 3, "total": 4, "rate": 75.0}


def test_console_page_shows_the_figures(client, system, org):
    from pubcredit.testing.factories import make_user

    services.query_records(Principal.system("t"), org, purpose=PURPOSE, categories=["CF"])
    centre = make_user(Role.CENTRE_STAFF, "centre-sharing")
    client.force_login(centre)
    page = client.get("/console/sharing/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="sharing-queries">1<' in html and 'data-category="CF"' in html
    assert PURPOSE in html and org.name in html  # the log table
    assert "/console/sharing/" in client.get("/console/").content.decode()  # navigation
    clerk = make_user(
        Role.DEPARTMENT_CLERK, "clerk-sharing", department=Department.objects.get(code="ZB-ZJJ")
    )
    client.force_login(clerk)
    assert client.get("/console/sharing/").status_code == 403
