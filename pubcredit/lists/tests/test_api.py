"""Lists and measures API: list types and the measures catalogue (public), entries scoped to the
caller, 认定 and 移出 with the error shape."""

import datetime as dt

import pytest

from pubcredit.accounts.models import Role, User
from pubcredit.accounts.permissions import Principal
from pubcredit.accounts.services import issue_api_key
from pubcredit.catalog.models import Department, SubjectKind
from pubcredit.lists.models import EntryStatus, ListEntry
from pubcredit.testing.listkit import identify

pytestmark = pytest.mark.django_db


def bearer(role, department_code=None) -> dict:
    admin = Principal.system("test")
    department = Department.objects.get(code=department_code) if department_code else None
    _key, clear = issue_api_key(admin, name=f"{role}系统", role=role, department=department)
    return {"Authorization": f"Bearer {clear}"}


def test_public_catalogue_endpoints(seeded, client):
    types = client.get("/api/v1/lists/types").json()
    assert len(types) == 23
    tax = next(t for t in types if t["code"] == "RED_TAX_A")
    assert tax["authority"] == "国家税务总局淄博市税务局" and tax["legal_basis"]
    assert len(client.get("/api/v1/lists/types?kind=black").json()) == 7
    matters = client.get("/api/v1/measures/matters").json()
    assert {"code": "GOV_PROCUREMENT", "name": "政府采购"} in matters
    procurement = client.get("/api/v1/measures?matter=GOV_PROCUREMENT").json()
    codes = {m["code"] for m in procurement}
    assert {"P_RESTRICT_PROCUREMENT", "P_INDUSTRY_DISCIPLINE"} <= codes
    assert "P_RESTRICT_EXIT" not in codes
    assert "R_DEPOSIT_WAIVER" not in codes  # seeded inactive: its basis is 待核实
    assert all(m["legal_basis"] for m in procurement)
    assert client.get("/api/v1/measures?matter=NOPE").status_code == 404
    assert client.get("/api/v1/measures?kind=bad").json()["code"] == "bad_request"


def test_identify_list_and_remove_through_the_api(seeded, make_subject, client):
    subject = make_subject()
    headers = bearer(Role.DEPARTMENT_CLERK, "ZB-RSJ")
    body = {
        "list_type": "BLK_WAGE_ARREARS",
        "subject_id": subject.pk,
        "basis": "《保障农民工工资支付条例》第四十八条",
        "decided_on": "2025-01-10",
        "document_number": "淄人社失信〔2025〕1号",
    }
    response = client.post(
        "/api/v1/lists/entries", body, content_type="application/json", headers=headers
    )
    assert response.status_code == 201, response.json()
    created = response.json()
    assert created["identified_by"] == "淄博市人力资源和社会保障局"
    assert created["valid_to"] == "2028-01-09" and created["status"] == "published"
    # Again: overlapping → 422 with a Chinese message.
    again = client.post(
        "/api/v1/lists/entries", body, content_type="application/json", headers=headers
    )
    assert again.status_code == 422 and "不能重复认定" in again.json()["message"]
    # Another department's clerk neither sees nor removes it.
    other = bearer(Role.DEPARTMENT_CLERK, "ZB-SCJG")
    assert client.get("/api/v1/lists/entries", headers=other).json()["count"] == 0
    assert (
        client.post(
            f"/api/v1/lists/entries/{created['id']}/remove",
            {"reason": "x"},
            content_type="application/json",
            headers=other,
        ).status_code
        == 404
    )
    page = client.get(f"/api/v1/lists/entries?subject_id={subject.pk}", headers=headers).json()
    assert page["count"] == 1 and page["items"][0]["id"] == created["id"]
    removed = client.post(
        f"/api/v1/lists/entries/{created['id']}/remove",
        {"reason": "已支付拖欠工资,提前移出"},
        content_type="application/json",
        headers=headers,
    )
    assert removed.status_code == 200 and removed.json()["status"] == "removed"
    detail = client.get(f"/api/v1/lists/entries/{created['id']}", headers=headers).json()
    assert [e["to_status"] for e in detail["events"]] == ["published", "removed"]
    assert ListEntry.objects.get().status == EntryStatus.REMOVED


def test_entries_need_a_role_and_mask_persons(seeded, make_subject, client, system):
    person = make_subject(SubjectKind.PERSON, name="王小明")
    identify(system, person, "BLK_JUDGMENT_DEFAULTER")
    window = bearer(Role.WINDOW_CLERK)
    assert client.get("/api/v1/lists/entries", headers=window).status_code == 403
    assert client.get("/api/v1/lists/entries").status_code == 401
    centre = User.objects.create_user("centre", role=Role.CENTRE_STAFF)
    client.force_login(centre)
    items = client.get(f"/api/v1/lists/entries?active_on={dt.date(2025, 6, 1)}").json()["items"]
    assert items[0]["subject_name"] == "王**"
    assert client.get("/api/v1/lists/entries?status=bogus").status_code == 400
