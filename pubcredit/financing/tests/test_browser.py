"""In a real browser (Chromium, under the Content-Security-Policy): an enterprise posts a demand
and authorises the banks on the portal; a bank finds the demand on the console, opens the
profile (logged) and records a loan; the enterprise sees the loan and who viewed its profile."""

from __future__ import annotations

import pytest

from pubcredit.testing.browser import DEFAULT_LOCALE
from pubcredit.testing.factories import PASSWORD
from pubcredit.testing.financekit import make_enterprise, make_institution, make_product

pytestmark = pytest.mark.browser


def log_in(page, username: str, next_url: str) -> None:
    """Sign in and land on `next_url` (neither an enterprise nor a bank has the dashboard)."""
    page.goto(f"/accounts/login/?next={next_url}")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    with page.expect_navigation():
        page.click("form[action='/accounts/login/'] button[type=submit]")


def test_a_demand_from_posting_to_a_recorded_loan(page, chromium_browser, live_server, browser_log):
    bank = make_institution()
    make_product(bank.institution)
    firm = make_enterprise()

    log_in(page, firm.user.username, "/financing/enterprise/")
    page.fill("#id_amount", "150")
    page.fill("#id_term_months", "12")
    page.fill("#id_purpose", "购买原材料")
    page.select_option("#id_sector", "C")
    with page.expect_navigation():
        page.click("#demand-form button[type=submit]")
    assert "对接中" in page.inner_text("#my-demands")
    page.check("input[name=scopes][value=records]")
    page.check("input[name=scopes][value=grade]")
    page.fill("#id_valid_until", "2099-12-31")
    with page.expect_navigation():
        page.click("#grant-form button[type=submit]")
    assert "有效" in page.inner_text("#my-authorisations")

    context = chromium_browser.new_context(base_url=live_server.url, locale=DEFAULT_LOCALE)
    try:
        banker = context.new_page()
        log_in(banker, bank.user.username, "/console/financing/demands/")
        with banker.expect_navigation():
            banker.click("#matched-demands a")
        with banker.expect_navigation():
            banker.click("#profile-form button[type=submit]")
        assert "淄博甲有限公司" in banker.inner_text("#credit-profile")
        banker.select_option("#id_kind", "granted")
        banker.fill("#id_amount", "150")
        banker.fill("#id_rate", "4.15")
        banker.fill("#id_granted_on", "2026-12-05")
        with banker.expect_navigation():
            banker.click("#outcome-form button[type=submit]")
        assert banker.inner_text("#demand-status") == "已放款"
        assert "4.15" in banker.inner_text("#outcomes")
    finally:
        context.close()

    page.reload()
    assert "已放款" in page.inner_text("#my-demands")
    views = page.inner_text("#profile-views")
    assert "淄博银行" in views and "banker" in views
    assert browser_log.js_errors == []
    assert browser_log.foreign_requests(live_server.url) == []
