"""In a real browser, under the Content-Security-Policy: the dashboard draws the grade charts, and
a department clerk filters its supervision list by grade."""

from __future__ import annotations

import pytest

from pubcredit.accounts.models import Role
from pubcredit.catalog.models import Department, SubjectKind
from pubcredit.scoring.policyfile import import_supervision
from pubcredit.subjects.models import Subject
from pubcredit.testing.browser import log_in
from pubcredit.testing.factories import PASSWORD, make_user
from pubcredit.testing.loadkit import make_uscc
from pubcredit.testing.scorekit import graded

pytestmark = pytest.mark.browser

WATCH = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__cspViolations.push(`${e.violatedDirective} ${e.blockedURI}`);
});
"""


def test_grade_charts_and_the_supervision_list(page, live_server, browser_log, scorecards, system):
    import_supervision(system)
    for i, grade in enumerate("ABBD"):
        name = f"淄博浏览{i}有限公司"
        subject = Subject.objects.create(
            kind=SubjectKind.ORG,
            name=name,
            name_norm=name,
            uscc=make_uscc(9100 + i),
            region="370303",
        )
        graded(subject, "SCORE_PUBLIC", grade, 70)
    clerk = make_user(
        Role.DEPARTMENT_CLERK,
        username="super_clerk",
        department=Department.objects.get(code="ZB-SCJG"),
    )
    page.add_init_script(WATCH)
    log_in(page, clerk.username, PASSWORD)
    page.goto("/console/")
    page.wait_for_selector("#grades-district-chart[data-rendered=true] canvas")
    page.wait_for_selector("#grades-sector-chart[data-rendered=true] canvas")

    page.click("a[href='/console/supervision/']")
    assert page.inner_text("#supervision-count") == "4"
    assert page.inner_text("#supervision-inspect") == "3"  # A 1, B ceil(0.2) = 1, D 1; C none
    page.check("input[name=grade][value=B]")
    with page.expect_navigation():
        page.click("#supervision-filters button[type=submit]")
    assert page.locator("#supervision-table tbody tr").count() == 2
    assert page.evaluate("window.__cspViolations") == []
    assert browser_log.foreign_requests(live_server.url) == []
    assert browser_log.js_errors == []
