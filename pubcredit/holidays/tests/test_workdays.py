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
