import datetime as dt

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pubcredit.holidays import services
from pubcredit.holidays.models import CalendarException

pytestmark = pytest.mark.django_db

D = dt.date


@pytest.fixture
def seeded(system):
    services.seed_from_chinese_calendar(system, range(2024, 2027))
    yield
    services.clear_cache()


def test_national_day_2026_and_adjusted_saturday(seeded):
    assert not services.is_workday(D(2026, 10, 1))  # Thursday, holiday
    assert not services.is_workday(D(2026, 10, 7))  # Wednesday, holiday
    assert services.is_workday(D(2026, 10, 10))  # Saturday, adjusted working day
    assert services.is_workday(D(2026, 9, 30))
    assert not services.is_workday(D(2026, 10, 11))  # ordinary Sunday


def test_seven_working_days_across_national_day(seeded):
    # Decision on Wed 2026-09-30: working days after it are 10-08, 10-09, 10-10 (Sat), 10-12 …
    assert services.add_workdays(D(2026, 9, 30), 1) == D(2026, 10, 8)
    assert services.add_workdays(D(2026, 9, 30), 3) == D(2026, 10, 10)
    assert services.add_workdays(D(2026, 9, 30), 7) == D(2026, 10, 15)
    assert services.workdays_between(D(2026, 9, 30), D(2026, 10, 15)) == 7
    assert services.workdays_between(D(2026, 10, 15), D(2026, 9, 30)) == -7


def test_add_zero_moves_to_next_working_day(seeded):
    assert services.add_workdays(D(2026, 10, 1), 0) == D(2026, 10, 8)
    assert services.add_workdays(D(2026, 9, 30), 0) == D(2026, 9, 30)


def test_weekday_rule_without_table():
    assert services.is_workday(D(2026, 10, 1))  # no table loaded: plain Thursday
    assert services.workdays_between(D(2026, 11, 27), D(2026, 11, 30)) == 1


def test_manual_edits_survive_reseed_and_take_effect(seeded, system):
    CalendarException.objects.update_or_create(
        date=D(2026, 10, 8), defaults={"is_workday": False, "name": "临时放假", "source": "manual"}
    )
    services.clear_cache()
    assert not services.is_workday(D(2026, 10, 8))
    result = services.seed_from_chinese_calendar(system, range(2024, 2027))
    assert result["created"] == 0 and result["updated"] == 0
    assert CalendarException.objects.get(date=D(2026, 10, 8)).name == "临时放假"
    assert services.calendar_known_through() == 2026


def test_seed_is_idempotent(system):
    first = services.seed_from_chinese_calendar(system, range(2025, 2027))
    second = services.seed_from_chinese_calendar(system, range(2025, 2027))
    assert first["created"] > 20
    assert second == {"created": 0, "updated": 0, "years": [2025, 2026]}


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    start=st.dates(min_value=D(2024, 1, 1), max_value=D(2026, 12, 31)),
    n=st.integers(min_value=1, max_value=40),
)
def test_vectorised_count_agrees_with_stepping(seeded, start, n):
    end = services.add_workdays(start, n)
    counted = services.workdays_between_many(np.array([start]), np.array([end]))[0]
    assert counted == n
    assert services.is_workday(end)


# --------------------------------------------------------------------------- the table's end


@pytest.fixture
def seeded_all(system):
    """What `pubcredit setup` loads: chinese-calendar's years, then the provisional ones."""
    services.seed_from_chinese_calendar(system)
    yield
    services.clear_cache()


def test_the_table_runs_through_2027_with_2027_marked_provisional(seeded_all):
    from pubcredit.holidays.models import CalendarYear

    assert services.calendar_known_through() == 2027
    assert CalendarYear.objects.get(year=2027).provisional
    assert not CalendarYear.objects.get(year=2026).provisional
    new_year = CalendarException.objects.get(date=D(2027, 1, 1))
    assert (new_year.is_workday, new_year.name, new_year.source) == (False, "元旦", "provisional")
    # Thu 2026-12-31 + 1 working day: Fri 2027-01-01 is 元旦, Sat/Sun are weekend → Mon 01-04.
    assert services.add_workdays(D(2026, 12, 31), 1) == D(2027, 1, 4)
    # 春节 2027: 除夕 Fri 02-05 and 初三 Mon 02-08 are weekdays off.
    assert services.add_workdays(D(2027, 2, 4), 1) == D(2027, 2, 9)


def test_administrators_are_warned_as_the_official_table_runs_out(seeded_all):
    assert services.calendar_warning(D(2026, 10, 31)) is None  # 61 days before 2026-12-31
    soon = services.calendar_warning(D(2026, 11, 1))
    assert soon.startswith("节假日表的正式放假安排只维护到 2026-12-31(还有 60 天)。")
    assert "2027 年为暂定安排(仅法定节日,不含调休)" in soon
    late = services.calendar_warning(D(2027, 1, 10))
    assert late.startswith("节假日表的正式放假安排只维护到 2026-12-31,已过期 10 天。")


def test_an_empty_table_is_a_warning_too(db):
    assert services.calendar_warning(D(2026, 12, 6)).startswith("节假日表为空")


def test_an_official_year_replaces_its_provisional_rows(system):
    from pubcredit.holidays.models import CalendarYear

    CalendarYear.objects.create(year=2026, provisional=True, note="暂定")
    CalendarException.objects.create(
        date=D(2026, 10, 9), is_workday=False, name="国庆节", source="provisional"
    )
    services.seed_from_chinese_calendar(system, range(2026, 2027))
    assert not CalendarYear.objects.get(year=2026).provisional
    # 2026-10-09 (Fri) is an ordinary working day in the published 2026 schedule.
    assert not CalendarException.objects.filter(date=D(2026, 10, 9)).exists()
    assert CalendarException.objects.get(date=D(2026, 10, 1)).source == "chinese_calendar"


def test_the_dashboard_shows_the_warning_to_who_maintains_the_table(db, client):
    from pubcredit.accounts.models import Role
    from pubcredit.testing.factories import make_user

    # No table at all: a warning whatever the clock says.
    client.force_login(make_user(Role.PLATFORM_ADMIN))
    html = client.get("/console/").content.decode()
    assert '<p class="notice notice-error" id="calendar-warning">节假日表为空' in html
    client.force_login(make_user(Role.WINDOW_CLERK))
    assert 'id="calendar-warning"' not in client.get("/console/").content.decode()
