"""A public repair application from the portal form to the decision, in a real browser (Debian
Chromium through Playwright): the company applies with a proof file and signs, the credit centre
accepts, the deciding department reviews, the centre grants; the penalty leaves the portal and
the progress page offers the decision letter."""

from __future__ import annotations

import pytest

from pubcredit.repair.models import RepairApplication
from pubcredit.repair.tests.uikit import (  # noqa: F401 (fixtures)
    repair_site_fixture,
    repairable_penalty,
    users_fixture,
)
from pubcredit.testing.browser import log_in

pytestmark = pytest.mark.browser

PASSWORD = "Secret-pass-2026"
SCREENSHOT_DIR = "/tmp"


def _log_out(page) -> None:
    with page.expect_navigation():
        page.click("form[action='/accounts/logout/'] button")


def _open_in_console(page, code: str) -> None:
    page.goto("/console/repair/")
    with page.expect_navigation():
        page.click(f"#queue tr[data-code='{code}'] a")


def test_a_company_applies_for_repair_and_is_granted(
    page, live_server, browser_log, users, make_subject
):
    company = make_subject(name="淄博宏达机械制造有限公司")
    record = repairable_penalty(company)
    document = record.data["CF_WSH"]

    # The company finds its penalty on its portal page and opens the online application.
    page.goto(f"/subjects/{company.pk}/?tab=penalties")
    assert document in page.locator("#tab-penalties").inner_text()
    with page.expect_navigation():
        page.click(f"#record-{record.pk} a.repair-link")
    assert page.locator("h1").inner_text() == "在线申请信用修复"
    assert page.locator("#conditions [data-code=min_period]").get_attribute("class") == (
        "condition met"
    )
    page.fill("#id_applicant_name", "王经办")
    page.fill("#id_applicant_phone", "0533-7654321")
    page.fill("#id_statement", "已于 2026 年 6 月缴清罚款,并完成整改。")
    page.check("#id_obligations_declared")
    page.set_input_files(
        "#id_material_proof",
        files=[{"name": "缴款凭证.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.4 x"}],
    )
    assert "本主体已纠正相关失信行为" in page.locator("#commitment-text").inner_text()
    page.check("#id_accept_commitment")
    page.screenshot(path=f"{SCREENSHOT_DIR}/pubcredit-repair-apply.png", full_page=True)
    with page.expect_navigation():
        page.click("#submit-application")
    code = page.locator("#query-code").inner_text()
    app = RepairApplication.objects.get()
    assert code == app.query_code and len(code) == 12
    assert app.materials.get().name == "缴款凭证.pdf"

    # The credit centre accepts it.
    log_in(page, "centre1", PASSWORD)
    _open_in_console(page, code)
    page.fill("#accept-note", "材料齐全。")
    with page.expect_navigation():
        page.click("#accept-form button[type=submit]")
    assert "已受理" in page.locator(".messages").inner_text()
    assert page.locator("#proc-status").inner_text() == "待部门核实"
    _log_out(page)

    # The deciding department (市场监管局) verifies and agrees.
    log_in(page, "scjg1", PASSWORD)
    _open_in_console(page, code)
    page.check("#review-agree")
    page.fill("#review-opinion", "经核实,罚款已缴清,同意修复。")
    with page.expect_navigation():
        page.click("#review-form button[type=submit]")
    assert page.locator("#proc-status").inner_text() == "待决定"
    _log_out(page)

    # The centre grants the repair; the decision letter is issued.
    log_in(page, "centre1", PASSWORD)
    _open_in_console(page, code)
    assert page.locator("#decide-grant").is_checked()
    with page.expect_navigation():
        page.click("#decide-form button[type=submit]")
    assert page.locator("#proc-status").inner_text() == "准予修复"
    assert page.locator("#decision-letter").is_visible()
    page.screenshot(path=f"{SCREENSHOT_DIR}/pubcredit-repair-console.png", full_page=True)
    _log_out(page)

    # The portal no longer shows the penalty…
    page.goto(f"/subjects/{company.pk}/?tab=penalties")
    assert document not in page.content()
    assert page.locator("#tab-empty").inner_text() == "暂无公示信息"

    # …and the progress page shows the decision with its letter.
    page.goto("/repair/progress/")
    page.fill("#progress-code", code.lower())
    with page.expect_navigation():
        page.press("#progress-code", "Enter")
    assert page.locator("#progress-status").inner_text() == "准予修复"
    with page.expect_download() as download_info:
        page.click("#letter-link")
    download = download_info.value
    with open(download.path(), "rb") as pdf:
        assert pdf.read(5) == b"%PDF-"
    page.screenshot(path=f"{SCREENSHOT_DIR}/pubcredit-repair-progress.png", full_page=True)

    assert browser_log.foreign_requests(live_server.url) == []
    assert browser_log.js_errors == []
