"""The portal and the console in a real browser (Debian Chromium through Playwright).

Checks what only a browser can: scripts actually load and run (htmx, ECharts), Chinese text is
laid out, and the pages fetch nothing from any host but our own.
"""

import pytest

from pubcredit.accounts.models import Role
from pubcredit.catalog.models import Region, SubjectKind
from pubcredit.subjects.models import Subject
from pubcredit.testing.browser import log_in

pytestmark = pytest.mark.browser

SCREENSHOT_DIR = "/tmp"


def test_home_page_loads_htmx_and_stays_local(page, live_server, browser_log):
    page.goto("/")
    assert page.title() == "信用淄博"
    assert page.locator("html").get_attribute("lang") == "zh-hans"
    assert page.locator(".site-subtitle").inner_text() == "淄博市公共信用信息平台"
    assert page.evaluate("typeof window.htmx") == "object"
    assert page.evaluate("window.htmx.version").startswith("2.")
    # The stylesheet applied: the header has the brand colour, not the browser default.
    assert (
        page.evaluate("getComputedStyle(document.querySelector('.site-header')).backgroundColor")
        == "rgb(11, 74, 139)"
    )
    page.screenshot(path=f"{SCREENSHOT_DIR}/pubcredit-home.png", full_page=True)

    page.fill("#home-q", "淄博<测试>")
    with page.expect_navigation():
        page.press("#home-q", "Enter")
    assert page.locator("#query-echo").inner_text() == "淄博<测试>"

    assert browser_log.requests, "no request was recorded"
    assert browser_log.foreign_requests(live_server.url) == []
    assert browser_log.failed_requests == []
    assert browser_log.js_errors == []


def test_language_switch_in_the_browser(page, live_server, browser_log):
    page.goto("/")
    with page.expect_navigation():
        page.click("button[name=language][value=en]")
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.title() == "Credit Zibo"
    with page.expect_navigation():
        page.click("button[name=language][value=zh-hans]")
    assert page.title() == "信用淄博"
    assert browser_log.foreign_requests(live_server.url) == []


def test_staff_dashboard_draws_the_chart(page, live_server, browser_log, django_user_model):
    city = Region.objects.create(code="370300", name="淄博市", level=Region.Level.CITY)
    for code, name in [("370302", "淄川区"), ("370303", "张店区"), ("370304", "博山区")]:
        Region.objects.create(code=code, name=name, level=Region.Level.COUNTY, parent=city)
    for i, (kind, region) in enumerate(
        [
            (SubjectKind.ORG, "370303"),
            (SubjectKind.ORG, "370303"),
            (SubjectKind.INDIVIDUAL_BUSINESS, "370303"),
            (SubjectKind.ORG, "370302"),
            (SubjectKind.PERSON, "370304"),
        ]
    ):
        Subject.objects.create(kind=kind, name=f"主体{i}", name_norm=f"主体{i}", region=region)
    django_user_model.objects.create_user(
        "centre", password="Secret-pass-1", role=Role.CENTRE_STAFF, last_name="李", first_name="明"
    )

    page.goto("/console/")
    assert page.url.startswith(f"{live_server.url}/accounts/login/")
    log_in(page, "centre", "Secret-pass-1")
    assert page.url == f"{live_server.url}/console/"
    page.wait_for_selector("#subjects-chart[data-rendered=true] canvas")
    canvas = page.locator("#subjects-chart canvas").first
    box = canvas.bounding_box()
    assert box["width"] > 300 and box["height"] > 200
    assert page.evaluate("window.echarts.version").split(".")[0] in {"5", "6"}
    # The chart got the three districts and three kinds from the page's JSON.
    option = page.evaluate(
        "(() => { const c = echarts.getInstanceByDom(document.getElementById('subjects-chart'));"
        " const o = c.getOption(); return {x: o.xAxis[0].data, series: o.series.map(s => s.name)}; })()"
    )
    assert option == {
        "x": ["淄川区", "张店区", "博山区"],
        "series": ["法人及非法人组织", "个体工商户", "自然人"],
    }
    assert page.locator(".console-user .role").inner_text() == "信用中心工作人员"
    page.screenshot(path=f"{SCREENSHOT_DIR}/pubcredit-dashboard.png", full_page=True)

    with page.expect_navigation():
        page.click("form[action='/accounts/logout/'] button")
    assert page.url == f"{live_server.url}/"
    assert browser_log.foreign_requests(live_server.url) == []
    assert browser_log.js_errors == []
