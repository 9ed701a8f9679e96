"""The dashboard's 信易贷 and 共享 cards (issue 19): totals from financing.statistics and this
month's sharing figures, shown only to roles holding "financing.manage" / "sharing.statistics";
the centre's worklist counts enterprise bindings awaiting approval. Figures computed by hand."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.test import Client
from django.utils import timezone

from pubcredit.accounts.models import Role
from pubcredit.accounts.permissions import Principal
from pubcredit.catalog.models import Category
from pubcredit.console.services import dashboard_stats
from pubcredit.console.worklist import tasks_for
from pubcredit.financing import services as financing
from pubcredit.sharing import services as sharing
from pubcredit.sharing.models import SharingQuery
from pubcredit.testing.factories import make_org, make_user
from pubcredit.testing.financekit import make_enterprise, make_institution, make_product

pytestmark = pytest.mark.django_db

PURPOSE = "行政许可审查"


@pytest.fixture(autouse=True)
def _clear_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def figures(reference, system):
    bank = make_institution("甲银行", serial=501, username="bank_a")
    make_product(bank.institution, "P1")  # 10–300 万元, 12 months, any sector, any grade
    f1 = make_enterprise("一号公司", serial=31, username="f1")
    f2 = make_enterprise("二号公司", serial=32, username="f2")

    def demand(firm, amount):
        return financing.post_demand(
            firm.principal, amount=Decimal(amount), term_months=12, purpose="周转", sector="C"
        )

    d1 = demand(f1, "200")  # within 10–300: matched
    d2 = demand(f1, "100")  # matched
    demand(f2, "500")  # above 300: not matched
    for d, amount, rate in ((d1, "200", "4.35"), (d2, "80", "4.85")):
        financing.record_outcome(
            bank.principal,
            d.pk,
            kind="granted",
            amount=Decimal(amount),
            rate=Decimal(rate),
            granted_on=dt.date(2026, 12, 1),
        )
    # One enterprise account waiting for the centre's approval.
    waiting = make_org("三号公司", serial=33)
    financing.request_binding(Principal.of(make_user(Role.ENTERPRISE, "f3")), waiting.uscc)

    # Catalogue: 3 active categories, CF public and XK shared (shareable), CN authorised.
    Category.objects.update(active=False)
    Category.objects.filter(code="CF").update(active=True, publicity_class="public")
    Category.objects.filter(code="XK").update(active=True, publicity_class="shared")
    Category.objects.filter(code="CN").update(active=True, publicity_class="authorised")
    for _ in range(3):
        sharing.query_records(Principal.system("t"), f1.subject, purpose=PURPOSE)
    # A fourth query, last month: not counted in this month's figure.
    old = sharing.query_records(Principal.system("t"), f1.subject, purpose=PURPOSE)
    last_month = timezone.localdate().replace(day=1) - dt.timedelta(days=1)
    SharingQuery.objects.filter(pk=old.query.pk).update(
        at=timezone.make_aware(dt.datetime.combine(last_month, dt.time(12)))
    )


def test_centre_sees_the_hand_computed_figures(figures, staff):
    _user, centre = staff["centre"]
    stats = dashboard_stats(centre)
    # 3 demands (200, 100, 500); 200 and 100 fit P1; both granted: 200 + 80 = 280 万元,
    # average rate (4.35 + 4.85) / 2 = 4.60.
    money = stats["financing"]
    assert (money["demands"], money["matched"], money["granted"]) == (3, 2, 2)
    assert Decimal(money["amount"]) == Decimal("280")
    assert money["average_rate"] == "4.60"
    # 2 shareable of 3 active categories: 66.7 %; 3 queries this month (the 4th is older).
    assert stats["sharing"] == {
        "month_queries": 3,
        "rate": {"shareable": 2, "total": 3, "rate": 66.7},
    }
    tasks = {t.key: t for t in tasks_for(centre)}
    assert tasks["bindings_to_approve"].count == 1
    assert tasks["bindings_to_approve"].url == "/console/financing/bindings/"


def test_a_department_clerk_sees_neither(figures, staff):
    _user, clerk = staff["clerk"]
    stats = dashboard_stats(clerk)
    assert stats["financing"] is None and stats["sharing"] is None
    assert "bindings_to_approve" not in {t.key for t in tasks_for(clerk)}


def test_the_page_renders_the_cards_for_the_centre_only(figures, staff):
    client = Client()
    client.force_login(staff["centre"][0])
    page = client.get("/console/").content.decode()
    assert 'id="financing-card"' in page and 'href="/console/financing/statistics/"' in page
    assert 'id="financing-demands">3<' in page
    assert 'id="financing-rate">4.60%<' in page
    assert 'id="sharing-card"' in page and 'href="/console/sharing/"' in page
    assert 'id="sharing-rate">66.7%<' in page
    assert 'id="sharing-month-queries">3<' in page
    assert 'id="task-bindings_to_approve" data-count="1"' in page

    client.force_login(staff["clerk"][0])
    page = client.get("/console/").content.decode()
    assert "financing-card" not in page and "sharing-card" not in page
    assert "bindings_to_approve" not in page
