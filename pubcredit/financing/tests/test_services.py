"""信易贷 services: bindings, authorisations and the logged profile, matching by rules that are
data, outcomes and statistics. Expected values are worked out by hand in the comments."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from pubcredit.accounts.models import AuditEvent, Role
from pubcredit.accounts.permissions import Principal
from pubcredit.financing import services
from pubcredit.financing.models import DemandStatus, MatchingRule, ProfileView
from pubcredit.testing.factories import make_org, make_user
from pubcredit.testing.financekit import (
    CENTRE,
    make_enterprise,
    make_institution,
    make_product,
)
from pubcredit.testing.scorekit import graded

pytestmark = pytest.mark.django_db

TOMORROW = dt.timedelta(days=1)


def _demand(firm, amount, term, sector, purpose="购买原材料"):
    return services.post_demand(
        firm.principal, amount=Decimal(amount), term_months=term, purpose=purpose, sector=sector
    )


# ---- enterprise accounts ----------------------------------------------------------------


def test_an_enterprise_acts_only_after_the_centre_approves_its_binding():
    subject = make_org("淄博乙有限公司", serial=21)
    user = make_user(Role.ENTERPRISE, username="e1")
    firm = Principal.of(user)
    binding = services.request_binding(firm, subject.uscc)
    with pytest.raises(PermissionDenied):
        services.post_demand(firm, amount=Decimal("50"), term_months=12, purpose="周转", sector="C")
    with pytest.raises(PermissionDenied):  # a bank cannot approve
        services.decide_binding(make_institution().principal, binding.pk, approve=True)
    services.decide_binding(CENTRE, binding.pk, approve=True)
    demand = services.post_demand(
        firm, amount=Decimal("50"), term_months=12, purpose="周转", sector="C"
    )
    assert demand.subject_id == subject.pk
    assert AuditEvent.objects.filter(action="financing.binding.decide").count() == 1


def test_binding_needs_a_known_uscc():
    firm = Principal.of(make_user(Role.ENTERPRISE, username="e2"))
    with pytest.raises(ValidationError):
        services.request_binding(firm, "91370303MA3C000000")


# ---- authorisation and the profile ------------------------------------------------------


def test_no_profile_without_a_live_grant_and_revocation_is_immediate():
    bank = make_institution()
    other = make_institution("齐商银行", serial=502, username="banker2")
    firm = make_enterprise()
    with pytest.raises(PermissionDenied):
        services.view_profile(bank.principal, firm.subject.pk)

    # Granted to the other bank only: still nothing for this one.
    services.grant_authorisation(
        firm.principal,
        scopes=["records", "lists"],
        valid_until=timezone.now() + TOMORROW,
        institution_ids=[other.institution.pk],
    )
    with pytest.raises(PermissionDenied):
        services.view_profile(bank.principal, firm.subject.pk)

    auth = services.grant_authorisation(
        firm.principal, scopes=["records", "grade"], valid_until=timezone.now() + TOMORROW
    )
    profile = services.view_profile(bank.principal, firm.subject.pk)
    assert profile["subject"]["name"] == "淄博甲有限公司"
    keys = {s["key"] for s in profile["sections"]}
    # records and grade granted, lists and commitments not
    assert keys == {"basic", "licences", "penalties", "others", "grades"}

    services.revoke_authorisation(firm.principal, auth.pk)
    with pytest.raises(PermissionDenied):
        services.view_profile(bank.principal, firm.subject.pk)
    # Exactly the one successful look was logged.
    assert ProfileView.objects.count() == 1


def test_an_expired_grant_shows_nothing():
    bank = make_institution()
    firm = make_enterprise()
    auth = services.grant_authorisation(
        firm.principal, scopes=["records"], valid_until=timezone.now() + TOMORROW
    )
    type(auth).objects.filter(pk=auth.pk).update(valid_until=timezone.now() - TOMORROW)
    with pytest.raises(PermissionDenied):
        services.view_profile(bank.principal, firm.subject.pk)


def test_every_view_is_logged_and_visible_to_the_enterprise_only():
    bank = make_institution()
    firm = make_enterprise()
    stranger = make_enterprise("淄博丙有限公司", serial=12, username="firm2")
    services.grant_authorisation(
        firm.principal, scopes=["records"], valid_until=timezone.now() + TOMORROW
    )
    services.view_profile(bank.principal, firm.subject.pk)
    services.view_profile(bank.principal, firm.subject.pk)
    seen = list(services.views_of(firm.principal))
    assert [(v.institution.name, v.viewer_label) for v in seen] == [
        ("淄博银行", "banker"),
        ("淄博银行", "banker"),
    ]
    assert list(services.views_of(stranger.principal)) == []
    assert AuditEvent.objects.filter(action="financing.profile.view").count() == 2


def test_a_grade_is_shown_only_under_the_grade_scope(scorecards):
    bank = make_institution()
    firm = make_enterprise()
    graded(firm.subject, "SCORE_PUBLIC", "B", 80)
    services.grant_authorisation(
        firm.principal, scopes=["grade"], valid_until=timezone.now() + TOMORROW
    )
    assert services.view_profile(bank.principal, firm.subject.pk)["grade"]["grade"] == "B"


def test_an_enterprise_cannot_revoke_another_ones_grant():
    firm = make_enterprise()
    other = make_enterprise("淄博丙有限公司", serial=12, username="firm2")
    auth = services.grant_authorisation(
        firm.principal, scopes=["records"], valid_until=timezone.now() + TOMORROW
    )
    with pytest.raises(type(auth).DoesNotExist):
        services.revoke_authorisation(other.principal, auth.pk)


# ---- matching ---------------------------------------------------------------------------


@pytest.fixture
def market(scorecards):
    """Two banks, three products, three firms, four demands (see the comments for matches)."""
    a = make_institution("甲银行", serial=501, username="bank_a")
    b = make_institution("乙银行", serial=502, username="bank_b")
    p1 = make_product(a.institution, "P1", term_months=12)  # 10–300, 12 months, any, any
    p2 = make_product(
        a.institution,
        "P2",
        amount_min=Decimal("50"),
        amount_max=Decimal("500"),
        term_months=36,
        target_sectors=["C", "F"],
        min_grade="B",
    )
    p3 = make_product(
        b.institution,
        "P3",
        amount_min=Decimal("100"),
        amount_max=Decimal("1000"),
        term_months=24,
        target_sectors=["I"],
        min_grade="A",
    )
    f1 = make_enterprise("一号公司", serial=31, username="f1")
    f2 = make_enterprise("二号公司", serial=32, username="f2")  # never evaluated
    f3 = make_enterprise("三号公司", serial=33, username="f3")
    type(f3.subject).objects.filter(pk=f3.subject.pk).update(region="370302")
    graded(f1.subject, "SCORE_PUBLIC", "A", 95)
    graded(f3.subject, "SCORE_PUBLIC", "C", 65)
    d1 = _demand(f1, "200", 24, "C")  # P1 term 12 < 24; P2 yes; P3 sector → {P2}
    d2 = _demand(f1, "5", 6, "C")  # below every minimum → {}
    d3 = _demand(f2, "100", 12, "F")  # P1 yes; P2 needs grade B, f2 ungraded → {P1}
    d4 = _demand(f3, "150", 24, "I")  # P1 term; P2 sector; P3 needs A, f3 is C → {}
    return locals()


def test_matching_by_rules_hand_computed(market):
    m = market
    assert {p.name for p in services.matched_products(m["d1"])} == {"P2"}
    assert {p.name for p in services.matched_products(m["d2"])} == set()
    assert {p.name for p in services.matched_products(m["d3"])} == {"P1"}
    assert {p.name for p in services.matched_products(m["d4"])} == set()
    assert {d.pk for d in services.matched_demands(m["a"].principal)} == {m["d1"].pk, m["d3"].pk}
    assert list(services.matched_demands(m["b"].principal)) == []


def test_matching_rules_are_data(market):
    m = market
    MatchingRule.objects.filter(code="grade").update(active=False)
    # Without the grade rule: d4 meets P3 (150 in 100–1000, 24 ≤ 24, sector I); d3 meets P2
    # too (100 in 50–500, 12 ≤ 36, sector F).
    assert {d.pk for d in services.matched_demands(m["b"].principal)} == {m["d4"].pk}
    assert {p.name for p in services.matched_products(m["d3"])} == {"P1", "P2"}


def test_a_demand_not_matched_takes_no_outcome(market):
    m = market
    with pytest.raises(type(m["d2"]).DoesNotExist):
        services.record_outcome(m["a"].principal, m["d2"].pk, kind="accepted")


# ---- outcomes and statistics ------------------------------------------------------------


def test_outcomes_and_statistics_hand_computed(market):
    m = market
    a = m["a"].principal
    services.record_outcome(a, m["d1"].pk, kind="accepted")
    services.record_outcome(
        a,
        m["d1"].pk,
        kind="granted",
        product_id=m["p2"].pk,
        amount=Decimal("200"),
        rate=Decimal("4.35"),
        granted_on=dt.date(2026, 12, 1),
    )
    with pytest.raises(ValidationError):  # a refusal needs its reason
        services.record_outcome(a, m["d3"].pk, kind="rejected")
    services.record_outcome(
        a,
        m["d3"].pk,
        kind="granted",
        amount=Decimal("80"),
        rate=Decimal("4.85"),
        granted_on=dt.date(2026, 12, 2),
    )
    m["d1"].refresh_from_db()
    assert m["d1"].status == DemandStatus.GRANTED

    stats = services.statistics()
    # 4 demands: 200 + 5 + 100 + 150 = 455; matched d1, d3 (matching looks at products, not at
    # the demand's status); granted d1 (200 at 4.35) and d3 (80 at 4.85): 280, mean 4.60.
    assert stats["total"] == {
        "demands": 4,
        "demand_amount": Decimal("455"),
        "matched": 2,
        "granted": 2,
        "loans": 2,
        "amount": Decimal("280"),
        "average_rate": Decimal("4.60"),
    }
    assert stats["by_institution"] == [
        {
            "key": "甲银行",
            "granted": 2,
            "loans": 2,
            "amount": Decimal("280"),
            "average_rate": Decimal("4.60"),
        }
    ]
    sector = {r["key"]: r for r in stats["by_sector"]}
    assert (sector["C"]["demands"], sector["C"]["matched"], sector["C"]["amount"]) == (
        2,
        1,
        Decimal("200"),
    )
    assert (sector["F"]["granted"], sector["F"]["average_rate"]) == (1, Decimal("4.85"))
    assert (sector["I"]["demands"], sector["I"]["matched"], sector["I"]["granted"]) == (1, 0, 0)
    district = {r["key"]: r for r in stats["by_district"]}
    assert (district["370303"]["demands"], district["370303"]["amount"]) == (3, Decimal("280"))
    assert (district["370302"]["demands"], district["370302"]["granted"]) == (1, 0)
