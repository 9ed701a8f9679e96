# ruff: noqa: F811 (pytest fixtures imported from loadkit)
"""The big screen's department ranking, read from the bulletins' kept monthly metrics."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.core.cache import cache
from django.db import transaction

from pubcredit.console import screen
from pubcredit.intake import loading
from pubcredit.testing.loadkit import (  # noqa: F401 (fixtures)
    accepted_frame,
    calendar_2026,
    cf,
    cf_row,
    department,
    make_submission,
)

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")


@pytest.fixture(autouse=True)
def fresh_cache(calendar_2026):
    cache.clear()


def test_departments_are_ranked_by_rows_submitted_with_their_rates(make_submission, department, cf):
    # 5 rows received on 14 October 2026, 3 accepted; decisions 28, 29 and 30 September: the
    # 7-working-day deadline of 28 September ends before the 14th (National Day does not count,
    # the working Saturday 10 October does), the other two are on time.
    received = dt.datetime(2026, 10, 14, 9, 0, tzinfo=SH)
    submission = make_submission(received_at=received, rows=5, accepted=3, rejected=2)
    with transaction.atomic():
        loading.load_accepted(
            submission,
            accepted_frame([cf_row(n, decision=dt.date(2026, 9, 27 + n)) for n in (1, 2, 3)]),
        )
    ranking = screen.department_ranking(dt.date(2026, 10, 20))
    assert ranking["month"] == "2026-10"
    (item,) = ranking["items"]
    assert (item["code"], item["label"], item["submitted"]) == (
        department.code,
        department.name,
        5,
    )
    assert item["compliance"] == pytest.approx(0.6)  # 3 ÷ 5
    assert item["timeliness"] == pytest.approx(2 / 3)  # 2 on time ÷ 3 due
    assert item["url"] == f"/console/bulletins/rows/2026-10/{department.code}/submitted/"
    assert ranking["formulas"]["timeliness"].startswith("及时率 = ")
    # Another month has nothing to rank.
    assert screen.department_ranking(dt.date(2026, 11, 20))["items"] == []
