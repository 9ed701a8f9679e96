"""The centre maintains institutions, products and the matching rules in the admin, audited."""

from __future__ import annotations

import pytest
from django.test import Client

from pubcredit.accounts.models import AuditEvent, Role
from pubcredit.financing.models import CreditProduct, MatchingRule
from pubcredit.testing.factories import make_user
from pubcredit.testing.financekit import make_institution

pytestmark = pytest.mark.django_db


def test_the_centre_adds_a_product_and_switches_a_rule_off():
    bank = make_institution()
    centre = Client()
    centre.force_login(make_user(Role.CENTRE_STAFF, username="centre"))
    added = centre.post(
        "/admin/financing/creditproduct/add/",
        {
            "institution": bank.institution.pk,
            "name": "科创贷",
            "amount_min": "10",
            "amount_max": "200",
            "rate_min": "3.2",
            "rate_max": "4.8",
            "term_months": "24",
            "guarantee": "credit",
            "target_sectors": "f, c",
            "min_grade": "B",
            "active": "on",
        },
    )
    assert added.status_code == 302, added.content.decode()[:2000]
    assert CreditProduct.objects.get(name="科创贷").target_sectors == ",C,F,"
    rule = MatchingRule.objects.get(code="sector")
    changed = centre.post(f"/admin/financing/matchingrule/{rule.pk}/change/", {"name": rule.name})
    assert changed.status_code == 302
    assert MatchingRule.objects.get(code="sector").active is False
    assert AuditEvent.objects.filter(action="financing.update_matchingrule").count() == 1
    assert AuditEvent.objects.filter(action="financing.create_creditproduct").count() == 1


def test_a_bank_user_has_no_admin():
    bank = make_institution()
    client = Client()
    client.force_login(bank.user)
    assert client.get("/admin/financing/creditproduct/").status_code == 302  # to the login
