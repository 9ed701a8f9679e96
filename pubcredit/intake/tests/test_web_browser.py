# ruff: noqa: F811 (pytest fixtures imported from webkit and pubcredit.testing.browser)
"""A department clerk in a real browser (Debian Chromium through Playwright): logs in, uploads a
messy CSV, fixes one column on the mapping screen, watches the progress page (htmx polls every
second while the task worker runs the job) and reads the precise report, then downloads the
Excel error report."""

from __future__ import annotations

import pytest
from python_calamine import CalamineWorkbook

from pubcredit.intake import services
from pubcredit.intake.models import Submission
from pubcredit.intake.tests import messy
from pubcredit.intake.tests.webkit import (  # noqa: F401 (fixtures)
    FIXED_FIELD,
    PASSWORD,
    UNKNOWN_HEADER,
    _fast_password_hasher,
    case_row,
    cf,
    clerk,
    expected_counts,
    expected_issues,
    media,
    messy_csv,
    received_on_messy_date,
    zhangdian,
)
from pubcredit.testing.browser import log_in

pytestmark = pytest.mark.browser

SCREENSHOTS = "/tmp"


def test_clerk_uploads_a_messy_csv_and_gets_the_precise_report(
    page,
    live_server,
    browser_log,
    clerk,
    zhangdian,
    cf,
    media,
    received_on_messy_date,
    settings,
    monkeypatch,
    tmp_path,
):
    # Large-file path: the job goes to the (database) task queue, the page polls for progress.
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    monkeypatch.setattr(services, "INLINE_MAX_BYTES", 100)

    log_in(page, clerk.username, PASSWORD)
    page.click("nav.console-nav a[href='/console/intake/upload/']")
    page.wait_for_selector("form.intake-upload")
    assert page.locator("select[name=department] option").all_inner_texts() == [zhangdian.name]
    page.select_option("select[name=category]", str(cf.pk))
    page.set_input_files(
        "input[name=file]",
        files=[
            {
                "name": "张店区行政处罚信息2024年3月.csv",
                "mimeType": "text/csv",
                "buffer": messy_csv(),
            }
        ],
    )
    page.screenshot(path=f"{SCREENSHOTS}/pubcredit-intake-upload.png", full_page=True)
    with page.expect_navigation():
        page.click("form.intake-upload button[type=submit]")

    # The mapping screen: one line per header, the unknown one unmatched.
    assert page.locator("h1").inner_text() == "确认列映射"
    lines = page.locator("table.mapping-table tbody tr")
    assert lines.count() == len(messy.COLUMNS)
    unknown = page.locator(f"tr[data-header='{UNKNOWN_HEADER}']")
    assert "未匹配" in unknown.inner_text()
    assert page.locator("#missing-required").is_visible()
    index = next(i for i, (_h, code, _k) in enumerate(messy.COLUMNS) if code == FIXED_FIELD)
    assert page.locator(f"select[name=col-{index}]").input_value() == ""
    page.screenshot(path=f"{SCREENSHOTS}/pubcredit-intake-mapping.png", full_page=True)
    page.select_option(f"select[name=col-{index}]", FIXED_FIELD)
    with page.expect_navigation():
        page.click("button[name=action][value=confirm]")

    # The progress page, polling while the job waits for the worker.
    submission = Submission.objects.get()
    assert page.url == f"{live_server.url}/console/intake/submissions/{submission.pk}/"
    status = page.locator("#submission-status")
    assert status.get_attribute("data-status") == "received"
    assert page.locator("#submission-status progress").count() == 1
    page.wait_for_timeout(1500)  # a poll or two while nothing happens
    assert status.get_attribute("data-status") == "received"

    services.process_submission(submission.pk)  # what the task worker does

    page.wait_for_selector("#result-counts", timeout=10_000)
    expected = expected_counts()
    shown = {
        name: int(page.locator(f"#result-counts [data-count={name}]").inner_text())
        for name in expected
    }
    assert shown == expected
    issues = expected_issues()
    table = page.locator("#error-table tbody tr")
    assert table.count() == len(issues)
    garbage = page.locator(f"#error-table tr[data-row='{case_row('garbage_date')}']")
    assert "去年三月" in garbage.inner_text() and "date_format" in garbage.inner_text()
    bad_uscc = page.locator(f"#error-table tr[data-row='{case_row('bad_uscc_check_character')}']")
    assert "uscc_checksum" in bad_uscc.inner_text()
    assert "未使用的列" in page.locator("#extra-columns").inner_text()
    page.screenshot(path=f"{SCREENSHOTS}/pubcredit-intake-result.png", full_page=True)

    with page.expect_download() as info:
        page.click("#download-xlsx")
    target = tmp_path / "report.xlsx"
    info.value.save_as(target)
    rows = CalamineWorkbook.from_path(str(target)).get_sheet_by_index(0).to_python()
    assert len(rows) - 1 == len(issues)
    line = next(r for r in rows[1:] if int(r[0]) == case_row("garbage_date"))
    assert line[1] == "CF_JDRQ" and line[3] == "去年三月"

    # The submissions list shows the batch with its counts.
    page.click("nav.console-nav a[href='/console/intake/']")
    row = page.locator(f"#submission-table tr[data-submission='{submission.pk}']")
    assert "已完成" in row.inner_text()

    assert browser_log.foreign_requests(live_server.url) == []
    # A download is reported by Chromium as an aborted navigation; nothing else may fail.
    assert [r for r in browser_log.failed_requests if "/errors.xlsx " not in r] == []
    assert browser_log.js_errors == []
