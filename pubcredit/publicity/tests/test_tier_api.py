"""The department sets a penalty's tier through the API (/api/v1/records/{id}/tier): the window
is recomputed at once; other departments, other roles and bad values are refused."""

from __future__ import annotations

import datetime as dt

import pytest

from pubcredit.accounts.models import AuditEvent, Role
from pubcredit.accounts.services import issue_api_key

pytestmark = pytest.mark.django_db


@pytest.fixture
def keys(system, departments):
    def key(role, department=None):
        return issue_api_key(system, name=f"{role} 系统", role=role, department=department)[1]

    return {
        "scjg": key(Role.DEPARTMENT_CLERK, departments["ZB-SCJG"]),
        "other": key(Role.DEPARTMENT_CLERK, departments["ZB-CZJ"]),
        "window": key(Role.WINDOW_CLERK),
    }


def _post(client, key, record, body):
    return client.post(
        f"/api/v1/records/{record.pk}/tier",
        body,
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {key}",
    )


def test_department_sets_and_withdraws_the_tier(client, keys, make_record):
    # A 0.5 万元 fine decided in 2026 is 一般 by the rules: public for one year at most.
    record = make_record(decision=dt.date(2026, 5, 6))
    got = client.get(
        f"/api/v1/records/{record.pk}/publicity", HTTP_AUTHORIZATION=f"Bearer {keys['scjg']}"
    ).json()
    assert (got["tier"], got["tier_source"]) == ("general", "rule")

    response = _post(client, keys["scjg"], record, {"tier": "serious", "reason": "情节严重"})
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["tier"], body["tier_source"]) == ("serious", "override")
    assert body["last_day"] > got["last_day"]  # 严重: up to three years
    assert AuditEvent.objects.filter(action="publicity.set_tier").count() == 1

    back = _post(client, keys["scjg"], record, {"tier": None, "reason": "按规则认定"}).json()
    assert (back["tier"], back["tier_source"]) == ("general", "rule")


@pytest.mark.parametrize(
    ("who", "body", "status"),
    [
        ("other", {"tier": "serious", "reason": "x"}, 403),
        ("window", {"tier": "serious", "reason": "x"}, 403),
        ("scjg", {"tier": "huge", "reason": "x"}, 422),
        ("scjg", {"tier": "serious", "reason": ""}, 422),
    ],
)
def test_refusals(client, keys, make_record, who, body, status):
    record = make_record(decision=dt.date(2026, 5, 6))
    response = _post(client, keys[who], record, body)
    assert response.status_code == status, response.content
    assert response.json()["message"]
    assert not AuditEvent.objects.filter(action="publicity.set_tier").exists()
