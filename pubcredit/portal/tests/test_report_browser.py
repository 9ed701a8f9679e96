"""A company's credit report end to end in a real browser: search it on the portal, download its
report from its page, read the verification address printed in the PDF's text (nothing is
scanned), open it and see "有效"."""

from __future__ import annotations

import io
import re

import pytest
from pypdf import PdfReader

from pubcredit.reports.models import Report

pytestmark = pytest.mark.browser


def test_download_a_report_and_verify_it(
    page, live_server, browser_log, platform, system, settings, tmp_path
):
    from pubcredit.testing.portalkit import make_uscc, penalty, submit

    settings.PUBCREDIT_PUBLIC_URL = live_server.url
    uscc = make_uscc(611)
    submit(system, "CF", [penalty(1, name="淄博报告核验机械有限公司", uscc=uscc)])

    page.goto("/")
    page.fill("#home-q", "报告核验")
    with page.expect_navigation():
        page.press("#home-q", "Enter")
    result = page.locator("#results .result-name a")
    assert result.inner_text() == "淄博报告核验机械有限公司"
    with page.expect_navigation():
        result.click()
    assert page.locator("#subject-uscc").inner_text() == uscc
    assert page.locator("#report-download h2").inner_text() == "下载信用报告"

    with page.expect_download() as info:
        page.click("#download-standard")
    download = info.value
    path = tmp_path / "report.pdf"
    download.save_as(path)
    assert download.suggested_filename.endswith(".pdf")
    data = path.read_bytes()
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages)
    report = Report.objects.get()
    assert report.channel == "portal"
    assert "淄博报告核验机械有限公司" in text
    found = re.search(re.escape(live_server.url) + r"/verify/([0-9A-Z]+)", text)
    assert found is not None, text[:500]
    assert found.group(1) == report.number

    page.goto(found.group(0))
    assert page.locator("#verify-verdict").inner_text() == "有效"
    assert page.locator("#verify-number-value").inner_text() == report.number
    assert page.locator("#verify-subject").inner_text() == "淄博报告核验机械有限公司"

    assert browser_log.foreign_requests(live_server.url) == []
    assert browser_log.js_errors == []
