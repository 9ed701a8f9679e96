"""信易贷 pages: the centre approves a binding; the enterprise posts a demand and authorises on
the portal; the bank sees the demand on the console, opens the profile (logged) and records a
loan; the enterprise sees who looked; the public sees products and statistics."""

from __future__ import annotations

import pytest
from django.test import Client

from pubcredit.accounts.models import Role
from pubcredit.financing.models import EnterpriseBinding, FinancingDemand, ProfileView
from pubcredit.testing.factories import make_org, make_user
from pubcredit.testing.financekit import make_institution, make_product

pytestmark = pytest.mark.django_db

PAGE = "/financing/enterprise/"


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_from_binding_to_a_recorded_loan_through_the_pages():
    bank = make_institution()
    make_product(bank.institution)
    subject = make_org("淄博页面测试有限公司", serial=41)
    ent = _client(make_user(Role.ENTERPRISE, username="firm"))
    centre = _client(make_user(Role.CENTRE_STAFF, username="centre"))
    banker = _client(bank.user)

    assert ent.post(PAGE, {"action": "bind", "uscc": subject.uscc}).status_code == 302
    assert "待信用中心审核" in ent.get(PAGE).content.decode()
    binding = EnterpriseBinding.objects.get()
    assert banker.get("/console/financing/bindings/").status_code == 403
    assert "淄博页面测试有限公司" in centre.get("/console/financing/bindings/").content.decode()
    centre.post("/console/financing/bindings/", {"binding": binding.pk, "decision": "approve"})

    ent.post(
        PAGE,
        {
            "action": "demand",
            "amount": "80",
            "term_months": "12",
            "purpose": "购买设备",
            "sector": "C",
        },
    )
    listing = banker.get("/console/financing/demands/").content.decode()
    assert "淄博页面测试有限公司" in listing
    demand_id = FinancingDemand.objects.get().pk
    url = f"/console/financing/demands/{demand_id}/"

    denied = banker.post(url, {"action": "profile"}).content.decode()
    assert "未向本机构授权" in denied and ProfileView.objects.count() == 0
    ent.post(
        PAGE,
        {"action": "grant", "scopes": ["records", "lists"], "valid_until": "2099-12-31"},
    )
    shown = banker.post(url, {"action": "profile"}).content.decode()
    assert 'id="credit-profile"' in shown and ProfileView.objects.count() == 1
    loan = banker.post(
        url,
        {
            "action": "outcome",
            "kind": "granted",
            "amount": "80",
            "rate": "3.95",
            "granted_on": "2026-12-05",
        },
    )
    assert loan.status_code == 302
    assert "已放款" in banker.get(url).content.decode()

    page = ent.get(PAGE).content.decode()
    assert "淄博银行" in page and "banker" in page  # who looked

    stats = centre.get("/console/financing/statistics/").content.decode()
    assert "3.95" in stats
    public = Client().get("/financing/").content.decode()
    assert "信易贷·税易贷" in public and "3.95" in public


def test_the_enterprise_page_is_for_enterprise_accounts_only():
    bank = make_institution()
    assert _client(bank.user).get(PAGE).status_code == 403
    assert Client().get(PAGE).status_code == 302  # to the login page
