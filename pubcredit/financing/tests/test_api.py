"""信易贷 through /api/v1/financing: the enterprise's session posts a demand and authorises;
the bank's session finds it, reads the profile (logged), records a loan; revocation shuts the
profile at once; the enterprise reads who looked."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from django.test import Client

from pubcredit.testing.financekit import make_enterprise, make_institution, make_product

pytestmark = pytest.mark.django_db


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _post(client, url, body):
    return client.post(url, json.dumps(body), content_type="application/json")


def test_a_demand_from_posting_to_a_loan_under_a_logged_authorisation():
    bank = make_institution()
    product = make_product(bank.institution)
    firm = make_enterprise()
    ent, banker = _client(firm.user), _client(bank.user)

    listed = Client().get("/api/v1/financing/products").json()
    assert [(p["institution"], p["name"]) for p in listed] == [("淄博银行", "信易贷·税易贷")]

    demand = _post(
        ent,
        "/api/v1/financing/demands",
        {"amount": "120", "term_months": 12, "purpose": "购买原材料", "sector": "C"},
    )
    assert demand.status_code == 201, demand.content
    demand_id = demand.json()["id"]
    assert [d["id"] for d in banker.get("/api/v1/financing/demands").json()] == [demand_id]

    url = f"/api/v1/financing/profiles/{firm.subject.pk}?demand_id={demand_id}"
    assert banker.get(url).status_code == 403  # no authorisation yet
    grant = _post(
        ent,
        "/api/v1/financing/authorisations",
        {"scopes": ["records", "grade"], "valid_until": "2099-01-01T00:00:00+08:00"},
    )
    assert grant.status_code == 201, grant.content
    assert grant.json()["live"] is True
    profile = banker.get(url)
    assert profile.status_code == 200
    assert profile.json()["subject"]["name"] == "淄博甲有限公司"

    loan = _post(
        banker,
        f"/api/v1/financing/demands/{demand_id}/outcomes",
        {
            "kind": "granted",
            "product_id": product.pk,
            "amount": "100",
            "rate": "4.20",
            "granted_on": "2026-12-01",
        },
    )
    assert loan.status_code == 201, loan.content
    assert (Decimal(loan.json()["amount"]), Decimal(loan.json()["rate"])) == (
        Decimal("100"),
        Decimal("4.20"),
    )

    seen = ent.get("/api/v1/financing/views").json()
    assert [(v["institution"], v["viewer"], v["demand_id"]) for v in seen] == [
        ("淄博银行", "banker", demand_id)
    ]

    revoked = _post(ent, f"/api/v1/financing/authorisations/{grant.json()['id']}/revoke", {})
    assert revoked.json()["live"] is False
    assert banker.get(url).status_code == 403
    assert len(ent.get("/api/v1/financing/views").json()) == 1


def test_a_loan_needs_its_terms_and_a_refusal_its_reason():
    bank = make_institution()
    make_product(bank.institution)
    firm = make_enterprise()
    ent, banker = _client(firm.user), _client(bank.user)
    demand_id = _post(
        ent,
        "/api/v1/financing/demands",
        {"amount": "50", "term_months": 6, "purpose": "周转", "sector": "F"},
    ).json()["id"]
    url = f"/api/v1/financing/demands/{demand_id}/outcomes"
    assert _post(banker, url, {"kind": "granted", "amount": "50"}).status_code == 422
    assert _post(banker, url, {"kind": "rejected"}).status_code == 422
    assert _post(banker, url, {"kind": "rejected", "reason": "经营年限不足"}).status_code == 201
