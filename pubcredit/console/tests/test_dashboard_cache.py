"""The console's subject counts on a large register: kept for a minute per role and scope (so
opening the console does not group a million subjects each time), counted live below the
threshold."""

from __future__ import annotations

import pytest
from django.core.cache import cache

from pubcredit.accounts.models import Role
from pubcredit.accounts.permissions import Principal
from pubcredit.catalog.models import SubjectKind
from pubcredit.console import services

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _clear_cache():
    cache.clear()
    yield
    cache.clear()


def _centre():
    return Principal(role=Role.CENTRE_STAFF, label="centre")


def test_a_small_register_is_counted_on_every_call(make_subject):
    make_subject()
    assert services.dashboard_stats(_centre())["total"] == 1
    make_subject(SubjectKind.PERSON)
    assert services.dashboard_stats(_centre())["total"] == 2


def test_a_large_register_is_counted_once_a_minute_per_scope(
    make_subject, monkeypatch, django_assert_num_queries
):
    monkeypatch.setattr(services, "CACHE_FROM_SUBJECTS", 2)
    make_subject()
    make_subject()
    assert services.dashboard_stats(_centre())["total"] == 2
    make_subject()
    with django_assert_num_queries(0):
        assert services.dashboard_stats(_centre())["total"] == 2  # the figures of the last minute
    # Another role or scope counts for itself: the three companies of 张店区 (370303).
    district = Principal(role=Role.DISTRICT_ADMIN, label="d", district_id="370303")
    assert services.dashboard_stats(district)["total"] == 3
    cache.clear()
    assert services.dashboard_stats(_centre())["total"] == 3
