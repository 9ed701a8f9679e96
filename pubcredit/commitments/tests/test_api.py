"""The commitments API: the scoped register, one commitment with its history, and the
assessment, with the platform's error shape."""

from __future__ import annotations

import datetime as dt

import pytest

from pubcredit.commitments.models import Performance
from pubcredit.lists.models import ListEntry
from pubcredit.testing.commitkit import OTHER_DEPARTMENT, department, sign

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.usefixtures("seeded", "media"),
]

API = "/api/v1/commitments"


@pytest.fixture
def keys(system):
    from pubcredit.accounts.models import Role
    from pubcredit.accounts.services import issue_api_key

    def key(name, role, code=None):
        return issue_api_key(
            system, name=name, role=role, department=department(code) if code else None
        )[1]

    return {
        "clerk": key("市场监管局系统", Role.DEPARTMENT_CLERK, "ZB-SCJG"),
        "other": key("生态环境局系统", Role.DEPARTMENT_CLERK, OTHER_DEPARTMENT),
        "centre": key("信用中心系统", Role.CENTRE_STAFF),
        "bank": key("银行系统", Role.BANK_USER),
    }


def auth(key: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {key}"}


@pytest.fixture
def two(make_subject, person):
    subject, _ric = person("王小明")
    ours = sign(subject, day=dt.date(2025, 5, 1))
    theirs = sign(make_subject(), department=department(OTHER_DEPARTMENT))
    return ours, theirs


def test_list_is_scoped_and_paginated(client, keys, two):
    ours, theirs = two
    body = client.get(API, **auth(keys["centre"])).json()
    assert body["count"] == 2 and body["limit"] == 50
    assert [i["code"] for i in body["items"]] == [theirs.code, ours.code]  # newest first
    mine = client.get(API, **auth(keys["clerk"])).json()
    assert [i["code"] for i in mine["items"]] == [ours.code]
    item = mine["items"][0]
    assert item["committer_name"] == "王**"  # persons masked
    assert "*" in item["committer_code"]
    assert item["department"] == {"code": "ZB-SCJG", "name": "淄博市市场监督管理局"}
    assert "signer_name" not in item and "signer_contact" not in item
    page = client.get(API, {"limit": 1, "offset": 1}, **auth(keys["centre"])).json()
    assert page["count"] == 2 and [i["code"] for i in page["items"]] == [ours.code]
    assert client.get(API, {"performance": "breach"}, **auth(keys["centre"])).json()["count"] == 0
    bad = client.get(API, {"performance": "坏"}, **auth(keys["centre"]))
    assert bad.status_code == 422 and bad.json()["code"] == "invalid"
    assert client.get(API, **auth(keys["bank"])).status_code == 403
    unauthenticated = client.get(API)
    assert unauthenticated.status_code == 401
    assert unauthenticated.json()["code"] == "unauthorized"


def test_detail_and_scope(client, keys, two):
    ours, _theirs = two
    body = client.get(f"{API}/{ours.code}", **auth(keys["clerk"])).json()
    assert body["code"] == ours.code and body["performance"] == "待认定"
    assert body["allowed_transitions"] == ["全部履行", "部分履行", "全部未履行"]
    assert [e["action"] for e in body["events"]] == ["sign"]
    assert body["has_letter"] is True
    hidden = client.get(f"{API}/{ours.code}", **auth(keys["other"]))
    assert hidden.status_code == 404 and hidden.json()["code"] == "not_found"


def test_assessment(client, keys, two):
    ours, _theirs = two
    url = f"{API}/{ours.code}/assessment"
    refused = client.post(
        url,
        {"performance": "全部履行", "reason": "x"},
        content_type="application/json",
        **auth(keys["other"]),
    )
    assert refused.status_code == 404
    invalid = client.post(
        url,
        {"performance": "部分履行", "reason": "核查"},
        content_type="application/json",
        **auth(keys["clerk"]),
    )
    assert invalid.status_code == 422
    assert {d["field"] for d in invalid.json()["details"]} == {
        "unfulfilled_content",
        "liability_enforced",
    }
    done = client.post(
        url,
        {
            "performance": "部分履行",
            "unfulfilled_content": "未补齐材料",
            "liability_enforced": "列入重点关注名单",
            "reason": "逾期",
        },
        content_type="application/json",
        **auth(keys["clerk"]),
    )
    assert done.status_code == 200, done.content
    body = done.json()
    assert body["performance"] == Performance.PARTIAL and body["allowed_transitions"] == []
    assert body["events"][-1]["details"]["list_entry"] == ListEntry.objects.get().pk
    again = client.post(
        url,
        {"performance": "全部履行", "reason": "改判"},
        content_type="application/json",
        **auth(keys["clerk"]),
    )
    assert again.status_code == 422 and "异议程序" in again.json()["message"]
    bank = client.post(
        url,
        {"performance": "全部履行", "reason": "x"},
        content_type="application/json",
        **auth(keys["bank"]),
    )
    assert bank.status_code == 403 and bank.json()["code"] == "forbidden"
