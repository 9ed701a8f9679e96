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
    assert page.locator("#search-q").input_value() == "淄博<测试>"
    assert "没有找到符合条件的主体" in page.locator("#search-summary").inner_text()

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


def test_staff_dashboard_draws_the_chart(
    empty_reference, page, live_server, browser_log, django_user_model
):
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


# --------------------------------------------------------------------------- credit search


def _city(system):
    """A company with a current penalty and a person with one, through intake."""
    from pubcredit.testing.portalkit import make_ric, make_uscc, penalty, submit

    uscc, number = make_uscc(501), make_ric(502, birth="19791224")
    submit(
        system,
        "CF",
        [
            penalty(1, name="淄博宏达机械制造有限公司", uscc=uscc, facts="生产销售不合格产品"),
            penalty(2, name="张三丰", kind="自然人", id_number=number),
        ],
    )
    return uscc, number


def test_search_a_company_see_its_penalty_then_see_it_end(
    page, live_server, browser_log, platform, system
):
    import datetime as dt

    from pubcredit.publicity.services import sweep_publicity
    from pubcredit.testing.portalkit import today

    uscc, _number = _city(system)
    page.goto("/")
    page.fill("#home-q", "宏达")
    with page.expect_navigation():
        page.press("#home-q", "Enter")
    assert "找到 1 个主体" in page.locator("#search-summary").inner_text()
    result = page.locator("#results .result-name a")
    assert result.inner_text() == "淄博宏达机械制造有限公司"
    assert uscc in page.locator("#results").inner_text()
    with page.expect_navigation():
        result.click()
    assert page.locator("#subject-uscc").inner_text() == uscc
    assert page.locator("[data-tab=penalties] .count").inner_text() == "1"
    with page.expect_navigation():
        page.click("[data-tab=penalties]")
    penalties = page.locator("#tab-penalties")
    assert "淄市监罚〔2026〕1号" in penalties.inner_text()
    page.click("#tab-penalties details summary")
    assert "生产销售不合格产品" in penalties.inner_text()
    page.screenshot(path=f"{SCREENSHOT_DIR}/pubcredit-subject.png", full_page=True)

    # The clock moves past the end of its publicity; the daily sweep ends it.
    sweep_publicity(today=today() + dt.timedelta(days=3 * 366))
    page.reload()
    assert "淄市监罚〔2026〕1号" not in page.locator("#tab-penalties").inner_text()
    assert page.locator("#tab-empty").inner_text() == "暂无公示信息"
    assert page.locator("[data-tab=penalties] .count").inner_text() == "0"

    assert browser_log.foreign_requests(live_server.url) == []
    assert browser_log.js_errors == []


def test_a_person_is_found_by_id_number_only_and_shown_masked(
    page, live_server, browser_log, platform, system
):
    _uscc, number = _city(system)
    page.goto("/search/")
    page.fill("#search-q", "张三丰")
    with page.expect_navigation():
        page.press("#search-q", "Enter")
    assert "没有找到符合条件的主体" in page.locator("#search-summary").inner_text()

    page.fill("#search-q", number)
    with page.expect_navigation():
        page.press("#search-q", "Enter")
    assert number not in page.url  # posted, never in the address
    masked = number[:6] + "********" + number[-4:]
    results = page.locator("#results").inner_text()
    assert "张**" in results and masked in results and number not in results
    assert page.locator("#search-q").input_value() == masked
    with page.expect_navigation():
        page.click("#results .result-name a")
    assert page.locator("#subject-name").inner_text().startswith("张**")
    assert page.locator("#subject-id").inner_text() == masked
    with page.expect_navigation():
        page.click("[data-tab=penalties]")
    html = page.content()
    assert "淄市监罚〔2026〕2号" in html
    assert number not in html and "张三丰" not in html
    assert browser_log.foreign_requests(live_server.url) == []


def test_portal_pages_fit_a_phone_screen(page, live_server, platform, system):
    _city(system)
    page.set_viewport_size({"width": 375, "height": 800})
    for url in ["/", "/search/?q=%E5%AE%8F%E8%BE%BE", "/disclosure/", "/news/"]:
        page.goto(url)
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, url
    page.goto("/search/?q=%E5%AE%8F%E8%BE%BE")
    with page.expect_navigation():
        page.click("#results .result-name a")
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0
    page.screenshot(path=f"{SCREENSHOT_DIR}/pubcredit-subject-phone.png", full_page=True)
