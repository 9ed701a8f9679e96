"""信用大数据可视化 in a real browser at the control room's 1920×1080: every chart drawn with the
vendored ECharts under the strict Content-Security-Policy, no script error, nothing fetched from
elsewhere, and a district's bar opens the console list of that district's list entries. The
subjects are registered and the penalties reach the screen through intake, as a department's
do.

Set PUBCREDIT_SCREENSHOT=/path/screen.png to keep a screenshot of the screen."""

from __future__ import annotations

import datetime as dt
import os
import re

import pytest

from pubcredit.accounts.models import Role
from pubcredit.catalog.models import SubjectKind
from pubcredit.subjects.services import register_subject
from pubcredit.testing.browser import log_in
from pubcredit.testing.factories import PASSWORD, make_user
from pubcredit.testing.listkit import identify, make_uscc
from pubcredit.testing.portalkit import penalty, submit

pytestmark = pytest.mark.browser

WATCH = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__cspViolations.push(`${e.violatedDirective} ${e.blockedURI}`);
});
"""
CHARTS = ("records-month", "districts", "categories", "violations", "lists")
# Districts and how many companies each registers: enough for bars of different heights.
DISTRICTS = {"370302": 2, "370303": 5, "370304": 1, "370305": 3, "370306": 2}
VIOLATIONS = ["销售过期食品", "无证经营", "虚假宣传", "未按规定公示信息", "超范围经营"]


def _city(system) -> None:
    n = 0
    today = dt.date.today()
    rows = []
    for region, companies in DISTRICTS.items():
        for _i in range(companies):
            n += 1
            name = f"淄博大屏测试{n}有限公司"
            subject = register_subject(
                system, kind=SubjectKind.ORG, name=name, uscc=make_uscc(9300 + n), region=region
            )
            for k in range(n % 3 + 1):
                decided = today - dt.timedelta(days=25 * (n + 3 * k))
                row = penalty(9300 + 10 * n + k, name=name, uscc=subject.uscc)
                row.update(
                    CF_JDRQ=decided.isoformat(),
                    CF_YXQ=(decided + dt.timedelta(days=365)).isoformat(),
                    CF_WFXW=VIOLATIONS[(n + k) % len(VIOLATIONS)],
                )
                rows.append(row)
            if n % 2 == 0:
                identify(
                    system,
                    subject,
                    "BLK_JUDGMENT_DEFAULTER" if n % 4 == 0 else "RED_TAX_A",
                    decided_on=today - dt.timedelta(days=30 * (n % 6)),
                    today=today,
                )
    register_subject(
        system,
        kind=SubjectKind.PERSON,
        name="张三",
        id_number="E00009300",
        id_type="护照号",
        region="370303",
    )
    submit(system, "CF", rows)


def test_big_screen_draws_every_chart_and_a_district_bar_opens_its_list(
    page, live_server, browser_log, system, seeded
):
    _city(system)
    centre = make_user(Role.CENTRE_STAFF, username="screen_centre")
    page.set_viewport_size({"width": 1920, "height": 1080})
    page.add_init_script(WATCH)
    log_in(page, centre.username, PASSWORD)

    page.goto("/console/screen/")
    for chart in CHARTS:
        page.wait_for_selector(f"#chart-{chart}[data-rendered=true] canvas")
    assert page.locator("[data-kpi=entries_in_force]").inner_text() != ""
    # The whole screen fits the display: nothing scrolls.
    assert page.evaluate("document.documentElement.scrollHeight") <= 1080
    if path := os.environ.get("PUBCREDIT_SCREENSHOT"):
        page.wait_for_timeout(1500)  # the charts' entry animation
        page.screenshot(path=path)

    # 张店区's bar (the subjects series): its rectangle from the chart's own layout.
    index = page.evaluate(
        """() => JSON.parse(document.getElementById('screen-data').textContent)
        .districts.districts.findIndex(d => d.code === '370303')"""
    )
    assert index >= 0
    box = page.evaluate(
        """(i) => {
          const el = document.getElementById('chart-districts');
          const chart = echarts.getInstanceByDom(el);
          const r = chart.getModel().getSeriesByIndex(0).getData().getItemLayout(i);
          return {x: r.x + r.width / 2, y: r.y + r.height / 2};
        }""",
        index,
    )
    chart_box = page.locator("#chart-districts").bounding_box()
    page.mouse.move(chart_box["x"] + box["x"], chart_box["y"] + box["y"])  # the tooltip shows
    page.wait_for_timeout(300)
    violations = page.evaluate("window.__cspViolations")
    with page.expect_navigation():
        page.mouse.click(chart_box["x"] + box["x"], chart_box["y"] + box["y"])
    assert re.search(r"/console/lists/\?region=370303&status=published$", page.url), page.url
    assert "张店区" in page.locator("#region-filter").inner_text()

    assert violations + page.evaluate("window.__cspViolations") == []
    assert browser_log.js_errors == []
    assert browser_log.foreign_requests(live_server.url) == []
