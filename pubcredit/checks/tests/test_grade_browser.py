"""In a real browser: a window clerk checks an organisation at the window, sees its credit grade
with the scorecard and date, and opens the explanation, line by line.

Hand-computed from pubcredit/scoring/data/scorecards/SCORE_PUBLIC.json: base 80; one 一般
administrative penalty (a 5 万元 fine, 20 days ago) −4 (CF_GENERAL); no 成立日期, so no points for
age; 76 is B (A ≥ 90, B ≥ 75)."""

from __future__ import annotations

import re

import pytest
from django.utils import timezone

from pubcredit.accounts.models import Role
from pubcredit.accounts.permissions import Principal
from pubcredit.testing import portalkit
from pubcredit.testing.browser import log_in
from pubcredit.testing.factories import PASSWORD, make_user
from pubcredit.testing.loadkit import make_uscc

pytestmark = pytest.mark.browser


def test_a_check_at_the_window_shows_the_grade_and_opens_its_explanation(
    page, live_server, browser_log
):
    from pubcredit.scoring.scorecards import import_scorecards

    system = Principal.system("test")
    import_scorecards(system)
    uscc = make_uscc(9301)
    portalkit.submit(system, "CF", [portalkit.penalty(1, name="淄博窗口评价有限公司", uscc=uscc)])
    company = portalkit.subject_of(uscc)
    clerk = make_user(Role.WINDOW_CLERK, username="window_grade")
    today = timezone.localdate().isoformat()

    log_in(page, clerk.username, PASSWORD)
    page.goto("/console/checks/")
    page.fill("input[name=query]", uscc)
    page.select_option("select[name=matter]", "FINANCING")
    with page.expect_navigation():
        page.click("form.check-form button[type=submit]")

    grade = page.locator("#check-grade")
    badge = grade.locator(".grade").first
    assert badge.inner_text() == "B" and badge.get_attribute("data-grade") == "B"
    line = grade.locator(".grade-line").inner_text()
    assert "公共信用综合评价" in line and "第 1 版" in line
    assert grade.locator(".grade-score").inner_text() == "76"
    assert grade.locator(".grade-as-of").inner_text() == today

    with page.expect_navigation():
        page.click("text=查看评价明细")
    assert re.search(
        rf"/console/scoring/subjects/{company.pk}/\?scorecard=SCORE_PUBLIC$", page.url
    ), page.url
    section = page.locator("#score-SCORE_PUBLIC")
    assert section.locator("h3 .grade").inner_text() == "B"
    lines = [
        [cell.strip() for cell in row.locator("td").all_inner_texts()]
        for row in section.locator("table.score-lines tbody tr").all()
    ]
    # Base 80, then the penalty's line: dimension, indicator, −4, the record, the basis.
    assert lines[0][1:3] == ["基础分", "80"]
    assert [row[:3] for row in lines[1:]] == [["守法守信", "一般行政处罚", "-4"]]
    # The source as a reader knows it: the category, the department, the date, the 文书号.
    assert lines[1][3].startswith("行政处罚 · ") and "文书号 " in lines[1][3]
    assert "每条扣 4 分" in lines[1][4]
    facts = section.locator("table.facts").inner_text()
    assert "76" in facts and today in facts
    assert page.locator("table.score-history tbody tr").count() == 1

    assert browser_log.foreign_requests(live_server.url) == []
    assert browser_log.failed_requests == []
    assert browser_log.js_errors == []
