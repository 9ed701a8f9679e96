# ruff: noqa: F811 (pytest fixtures imported from loadkit)
"""In a real browser: from the dashboard to the big screen (信用大数据可视化), where a department's
bar in the ranking opens the rows behind it: the department's submissions of the month, and
nothing of another department's."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.core.cache import cache
from django.utils import timezone

from pubcredit.accounts.models import Role
from pubcredit.catalog.models import Department
from pubcredit.intake.models import Submission
from pubcredit.testing.browser import log_in
from pubcredit.testing.factories import PASSWORD, make_user
from pubcredit.testing.loadkit import cf, department, make_submission  # noqa: F401 (fixtures)

pytestmark = pytest.mark.browser

WATCH = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__cspViolations.push(`${e.violatedDirective} ${e.blockedURI}`);
});
"""


@pytest.fixture(autouse=True)
def fresh_screen_cache():
    """The screen's figures are cached for a minute in the process's cache, which the live
    server shares: start without them, and leave none for the next test."""
    cache.clear()
    yield
    cache.clear()


def _this_month_moment() -> dt.datetime:
    """A moment a few minutes ago, but in this month (Beijing time)."""
    now = timezone.localtime()
    start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    return max(now - dt.timedelta(minutes=5), start + dt.timedelta(seconds=1))


def test_a_department_bar_on_the_screen_opens_its_rows(
    page, live_server, browser_log, make_submission, department
):
    # This month: 市市场监管局 sent two files of 5 and 2 rows (7, the longest bar) and one that
    # failed (9 rows, not counted); 市生态环境局 one file of 3 rows.
    when = _this_month_moment()
    done = Submission.Status.DONE
    make_submission(received_at=when, status=done, rows=5, accepted=5, filename="scjg-a.csv")
    make_submission(
        received_at=when, status=done, rows=2, accepted=1, rejected=1, filename="scjg-b.csv"
    )
    make_submission(
        received_at=when, status=Submission.Status.FAILED, rows=9, filename="scjg-bad.csv"
    )
    make_submission(
        department=Department.objects.get(code="ZB-STHJ"),
        received_at=when,
        status=done,
        rows=3,
        accepted=3,
        filename="sthj.csv",
    )
    centre = make_user(Role.CENTRE_STAFF, username="bar_centre")
    page.set_viewport_size({"width": 1920, "height": 1080})
    page.add_init_script(WATCH)
    log_in(page, centre.username, PASSWORD)

    # From the dashboard to the big screen, as the centre's staff go.
    page.goto("/console/")
    with page.expect_navigation():
        page.click("#screen-link")
    page.wait_for_selector("#chart-departments[data-rendered=true] canvas")
    # 市市场监管局's bar: its rectangle from the chart's own layout.
    box = page.evaluate(
        """() => {
          const chart = echarts.getInstanceByDom(document.getElementById('chart-departments'));
          const series = chart.getOption().series[0];
          const i = series.data.findIndex(d => d.item.code === 'ZB-SCJG');
          const r = chart.getModel().getSeriesByIndex(0).getData().getItemLayout(i);
          return {i: i, value: series.data[i].value, x: r.x + r.width / 2, y: r.y + r.height / 2};
        }"""
    )
    assert box["i"] >= 0
    assert box["value"] == 7
    chart = page.locator("#chart-departments").bounding_box()
    page.mouse.move(chart["x"] + box["x"], chart["y"] + box["y"])
    page.wait_for_timeout(300)
    with page.expect_navigation():
        page.mouse.click(chart["x"] + box["x"], chart["y"] + box["y"])

    month = f"{when:%Y-%m}"
    assert re.search(rf"/console/bulletins/rows/{month}/ZB-SCJG/submitted/$", page.url), page.url
    assert "淄博市市场监督管理局" in page.locator("#drill-title").inner_text()
    assert page.locator("#drill-count").get_attribute("data-count") == "7"
    files = page.locator("#drill-rows tbody tr td:nth-child(4)").all_inner_texts()
    assert sorted(files) == ["scjg-a.csv", "scjg-b.csv"]
    table = page.locator("#drill-rows").inner_text()
    assert "sthj.csv" not in table
    assert "scjg-bad.csv" not in table

    assert page.evaluate("window.__cspViolations") == []
    assert browser_log.js_errors == []
    assert browser_log.foreign_requests(live_server.url) == []
