"""The catalogue admin: every page renders, saves are audited, nothing can be deleted, and a
malformed condition is refused."""

import json

import pytest
from django.urls import reverse

from pubcredit.accounts.models import AuditEvent, User
from pubcredit.catalog.models import Category, CodeList, Department, Field, Region

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, catalogue):
    user = User.objects.create_superuser("root", "root@example.com", "x")
    client.force_login(user)
    return client


@pytest.mark.parametrize("model", [Region, Department, CodeList, Category, Field])
def test_changelist_and_change_pages_render(admin_client, model):
    opts = model._meta
    url = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
    assert admin_client.get(url).status_code == 200
    assert admin_client.get(url, {"q": "淄博"}).status_code == 200
    obj = model.objects.first()
    change = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])
    assert admin_client.get(change).status_code == 200


def test_department_filters(admin_client):
    url = reverse("admin:catalog_department_changelist")
    resp = admin_client.get(url, {"level__exact": "district", "district__code__exact": "370303"})
    assert resp.status_code == 200
    assert "淄博市张店区社会信用中心" in resp.content.decode()
    assert "淄博市市场监督管理局" not in resp.content.decode()


def test_department_edit_is_audited_with_submits_for(admin_client):
    dept = Department.objects.get(code="ZB-STHJ")
    url = reverse("admin:catalog_department_change", args=[dept.pk])
    slj = Department.objects.get(code="ZB-SLJ")
    resp = admin_client.post(
        url,
        {
            "code": dept.code,
            "name": dept.name,
            "short_name": "市环境局",
            "uscc": dept.uscc,
            "level": "city",
            "district": "",
            "parent": "",
            "submits_for": [slj.pk],
            "active": "on",
        },
    )
    assert resp.status_code == 302, resp.content.decode()[:2000]
    event = AuditEvent.objects.latest("id")
    assert event.action == "catalog.update_department" and event.actor_label == "root"
    assert event.before["short_name"] == "市生态环境局" and event.before["submits_for"] == []
    assert event.after["short_name"] == "市环境局" and event.after["submits_for"] == ["ZB-SLJ"]


def test_nothing_can_be_deleted(admin_client):
    dept = Department.objects.get(code="ZB-STHJ")
    url = reverse("admin:catalog_department_delete", args=[dept.pk])
    assert admin_client.post(url, {"post": "yes"}).status_code == 403
    assert Department.objects.filter(pk=dept.pk).exists()


def _field_post(field: Field, **changes) -> dict:
    data = {
        "category": field.category_id,
        "code": field.code,
        "name": field.name,
        "type": field.type,
        "requirement": field.requirement,
        "condition": "null" if field.condition is None else json.dumps(field.condition),
        "max_length": field.max_length or "",
        "exact_length": field.exact_length or "",
        "decimal_places": field.decimal_places or "",
        "unit": field.unit,
        "codelist": field.codelist_id or "",
        "legacy_codes": json.dumps(field.legacy_codes),
        "synonyms": json.dumps(field.synonyms),
        "role": field.role,
        "disclosure": field.disclosure,
        "description": field.description,
        "sort_order": field.sort_order,
    }
    data.update(changes)
    return data


def test_field_condition_naming_an_unknown_field_is_refused(admin_client):
    field = Field.objects.get(category__code="CF", code="CF_NR_FK")
    url = reverse("admin:catalog_field_change", args=[field.pk])
    events = AuditEvent.objects.count()
    resp = admin_client.post(
        url, _field_post(field, condition='{"field": "CF_NOPE", "in": ["罚款"]}')
    )
    assert resp.status_code == 200
    assert "CF_NOPE" in resp.content.decode()
    resp = admin_client.post(url, _field_post(field, condition='{"field": "CF_CFLB"}'))
    assert resp.status_code == 200 and "运算符" in resp.content.decode()
    assert AuditEvent.objects.count() == events
    resp = admin_client.post(url, _field_post(field, synonyms='["罚款金额", "罚没金额"]'))
    assert resp.status_code == 302
    field.refresh_from_db()
    assert field.synonyms == ["罚款金额", "罚没金额"]
    event = AuditEvent.objects.latest("id")
    assert event.action == "catalog.update_field" and event.after["synonyms"][-1] == "罚没金额"


def test_code_item_inline_edit_is_audited(admin_client):
    codelist = CodeList.objects.get(code="publicity_type")
    url = reverse("admin:catalog_codelist_change", args=[codelist.pk])
    items = list(codelist.items.order_by("sort_order"))
    data = {
        "code": codelist.code,
        "name": codelist.name,
        "description": codelist.description,
        "items-TOTAL_FORMS": str(len(items)),
        "items-INITIAL_FORMS": str(len(items)),
        "items-MIN_NUM_FORMS": "0",
        "items-MAX_NUM_FORMS": "1000",
    }
    for i, item in enumerate(items):
        data.update(
            {
                f"items-{i}-id": item.pk,
                f"items-{i}-codelist": codelist.pk,
                f"items-{i}-value": item.value,
                f"items-{i}-code": item.code,
                f"items-{i}-synonyms": json.dumps(item.synonyms),
                f"items-{i}-description": item.description,
                f"items-{i}-sort_order": item.sort_order,
                f"items-{i}-active": "on",
            }
        )
    data["items-2-synonyms"] = json.dumps(["不公开", "不予公开", "保密"])
    resp = admin_client.post(url, data)
    assert resp.status_code == 302, resp.content.decode()[:3000]
    event = AuditEvent.objects.latest("id")
    assert event.action == "catalog.update_codeitem"
    assert event.after["synonyms"] == ["不公开", "不予公开", "保密"]
    assert AuditEvent.objects.filter(action="catalog.update_codelist").count() == 0
