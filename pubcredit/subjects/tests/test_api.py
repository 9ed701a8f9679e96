"""/api/v1/subjects: search, detail, idcheck; masking and the access log for persons."""

import pytest
from django.test import Client

from pubcredit.accounts.models import AccessLog, User
from pubcredit.catalog.models import Region
from pubcredit.core.identifiers import ric_check_char, uscc_check_char
from pubcredit.subjects.services import register_subject

pytestmark = pytest.mark.django_db

RIC = "37030319800101123" + ric_check_char("37030319800101123")
USCC = "91370303MA3C00001" + uscc_check_char("91370303MA3C00001")


@pytest.fixture
def subjects(system):
    org = register_subject(system, kind="org", name="淄博宏达机械有限公司", uscc=USCC)
    person = register_subject(system, kind="person", name="张三丰", id_number=RIC)
    return org, person


def client_for(role: str, **extra) -> Client:
    user = User.objects.create_user(username=f"u_{role}", password="x", role=role, **extra)
    client = Client()
    client.force_login(user)
    return client


def test_search_requires_login_and_role(subjects):
    assert Client().get("/api/v1/subjects/search", {"uscc": USCC}).status_code == 401
    response = client_for("public").get("/api/v1/subjects/search", {"uscc": USCC})
    assert response.status_code == 403
    body = response.json()
    assert body["code"] == "forbidden" and "无权" in body["message"]


def test_search_needs_a_query(subjects):
    response = client_for("window_clerk").get("/api/v1/subjects/search")
    assert response.status_code == 400
    assert response.json()["code"] == "missing_query"


def test_search_by_uscc_and_name(subjects):
    org, _person = subjects
    client = client_for("window_clerk")
    body = client.get("/api/v1/subjects/search", {"uscc": USCC.lower()}).json()
    assert body["subject"]["id"] == org.pk
    assert body["subject"]["region_label"] == "山东省 张店区"
    body = client.get("/api/v1/subjects/search", {"name": "淄博宏达机械有限责任公司"}).json()
    assert body["subject"] is None
    assert body["candidates"][0]["subject"]["id"] == org.pk
    assert body["candidates"][0]["score"] == 100


def test_person_is_masked_without_permission_or_purpose(subjects):
    _org, person = subjects
    for role, params in [
        ("window_clerk", {"id_number": RIC, "purpose": "窗口核查"}),  # role lacks view_person
        ("centre_staff", {"id_number": RIC}),  # no purpose given
    ]:
        body = client_for(role).get("/api/v1/subjects/search", params).json()
        subject = body["subject"]
        assert subject["id"] == person.pk
        assert subject["name"] == "张**"
        assert subject["id_masked"] == RIC[:6] + "********" + RIC[-4:]
        assert subject["id_number"] is None
        assert RIC not in str(body)
    assert not AccessLog.objects.exists()


def test_person_revealed_and_logged_with_purpose(subjects):
    _org, person = subjects
    client = client_for("centre_staff")
    body = client.get(
        "/api/v1/subjects/search", {"id_number": RIC, "purpose": "信用修复审核"}
    ).json()
    assert body["subject"]["id_number"] == RIC
    assert body["subject"]["name"] == "张三丰"
    log = AccessLog.objects.get()
    assert log.subject_id == person.pk and log.purpose == "信用修复审核"
    assert log.actor_label == "u_centre_staff"


def test_detail(subjects):
    org, person = subjects
    client = client_for("centre_staff")
    assert client.get(f"/api/v1/subjects/{org.pk}").json()["uscc"] == USCC
    masked = client.get(f"/api/v1/subjects/{person.pk}").json()
    assert masked["id_number"] is None and masked["name"] == "张**"
    clear = client.get(f"/api/v1/subjects/{person.pk}", {"purpose": "异议核查"}).json()
    assert clear["id_number"] == RIC
    assert AccessLog.objects.filter(what="主体详情").count() == 1
    missing = client.get("/api/v1/subjects/999999")
    assert missing.status_code == 404
    assert missing.json() == {
        "code": "not_found",
        "message": "主体不存在或无权查看。",
        "details": [],
    }


def test_district_admin_sees_only_its_region(subjects):
    org, _person = subjects
    Region.objects.get_or_create(code="370302", defaults={"name": "淄川区", "level": "county"})
    client = client_for("district_admin", district_id="370302")
    assert client.get(f"/api/v1/subjects/{org.pk}").status_code == 404
    body = client.get("/api/v1/subjects/search", {"uscc": USCC}).json()
    assert body["subject"] is None and body["candidates"] == []


def test_idcheck_needs_no_login():
    response = Client().post(
        "/api/v1/subjects/idcheck",
        {"values": ["91110000600037341L", "370303800101123", "3.70303E+17"]},
        content_type="application/json",
    )
    assert response.status_code == 200
    rows = response.json()
    assert [r["valid"] for r in rows] == [True, False, False]
    assert list(rows[0]) == ["value", "kind", "valid", "normalized", "errors", "warnings"]
    too_many = Client().post(
        "/api/v1/subjects/idcheck", {"values": ["1"] * 1001}, content_type="application/json"
    )
    assert too_many.status_code == 400 and too_many.json()["code"] == "too_many_values"
