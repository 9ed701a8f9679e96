"""The Content-Security-Policy (scripts, styles, images only from this site; no inline script or
style attribute) in a real browser: the portal, the console with its charts and forms, the
admin and the login pages work and the browser reports no violation."""

import pytest

from pubcredit.accounts.models import Role
from pubcredit.catalog.models import SubjectKind
from pubcredit.subjects.models import Subject
from pubcredit.testing.browser import log_in
from pubcredit.testing.factories import PASSWORD, make_user

pytestmark = pytest.mark.browser

# Every violation the page reports (the securitypolicyviolation event), from the first script on.
WATCH = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__cspViolations.push(`${e.violatedDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}`);
});
"""


def _visit(page, url: str) -> list[str]:
    response = page.goto(url)
    assert response.status < 400 or url == "/no-such-page/", (url, response.status)
    assert "Content-Security-Policy" in {k.title(): v for k, v in response.headers.items()}
    page.wait_for_load_state("load")
    return page.evaluate("window.__cspViolations")


def test_pages_work_under_the_content_security_policy(page, live_server, browser_log):
    page.add_init_script(WATCH)
    for i, kind in enumerate([SubjectKind.ORG, SubjectKind.ORG, SubjectKind.PERSON]):
        Subject.objects.create(kind=kind, name=f"主体{i}", name_norm=f"主体{i}", region="370303")
    admin = make_user(Role.PLATFORM_ADMIN, username="csp_admin")

    violations = {}
    for url in ("/", "/accounts/login/", "/admin/login/", "/no-such-page/"):
        violations[url] = _visit(page, url)
    # The public statistics page draws its chart with the vendored ECharts.
    violations["/statistics/"] = _visit(page, "/statistics/")
    page.wait_for_selector("#double-month-chart[data-rendered=true] canvas")
    assert page.evaluate("typeof window.htmx") == "object"  # the login page's scripts ran

    log_in(page, admin.username, PASSWORD)
    # The dashboard and the statistics pages draw their charts with the vendored ECharts.
    violations["/console/"] = _visit(page, "/console/")
    page.wait_for_selector("#subjects-chart[data-rendered=true] canvas")
    for url in ("/console/checks/stats/", "/console/repair/stats/"):
        violations[url] = _visit(page, url)

    # The news list's section filter submits itself (a script file, not an onchange attribute).
    violations["/console/news/"] = _visit(page, "/console/news/")
    with page.expect_navigation():
        page.select_option("#f-section", index=1)
    assert "section=" in page.url

    for url in ("/admin/", "/admin/accounts/user/", f"/admin/accounts/user/{admin.pk}/change/"):
        violations[url] = _visit(page, url)
    # Issuing an API key: the key is shown in a fixed-width font and selected on focus.
    violations["/admin/accounts/apikey/add/"] = _visit(page, "/admin/accounts/apikey/add/")
    page.fill("#id_name", "演示银行核查系统")
    page.select_option("#id_role", "bank_user")
    with page.expect_navigation():
        page.click("input[name=_save]")
    key = page.locator("#issued-key")
    assert "monospace" in key.evaluate("e => getComputedStyle(e).fontFamily")
    key.focus()
    assert page.evaluate("window.getSelection().toString() || document.activeElement.selectionEnd")
    violations["issued"] = page.evaluate("window.__cspViolations")

    assert {url: v for url, v in violations.items() if v} == {}
    assert browser_log.foreign_requests(live_server.url) == []
    # The only errors: the 404 asked for, and /favicon.ico, which the admin's pages do not link.
    assert [e for e in browser_log.js_errors if "status of 404" not in e] == []
