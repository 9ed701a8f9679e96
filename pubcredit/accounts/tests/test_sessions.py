"""A signed-in session ends 30 minutes after its last request (and when the browser closes);
requests renew it at most once a minute."""

import datetime as dt

import pytest
from django.contrib.sessions.models import Session
from django.utils import timezone

from pubcredit.accounts.middleware import RENEWED_KEY
from pubcredit.accounts.models import Role
from pubcredit.testing.factories import make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client):
    client.force_login(make_user(Role.CENTRE_STAFF))
    assert client.get("/console/").status_code == 200
    return client


def _expiry(client) -> dt.datetime:
    return Session.objects.get(pk=client.session.session_key).expire_date


def test_an_idle_session_ends(staff_client):
    Session.objects.filter(pk=staff_client.session.session_key).update(
        expire_date=timezone.now() - dt.timedelta(seconds=1)
    )
    response = staff_client.get("/console/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_requests_renew_the_session_at_most_once_a_minute(staff_client):
    key = staff_client.session.session_key
    soon = timezone.now() + dt.timedelta(minutes=5)
    Session.objects.filter(pk=key).update(expire_date=soon)
    staff_client.get("/console/")  # renewed less than a minute ago: nothing written
    assert _expiry(staff_client) == soon

    session = staff_client.session
    session[RENEWED_KEY] -= 61  # the last renewal a minute ago
    session.save()
    Session.objects.filter(pk=key).update(expire_date=soon)
    response = staff_client.get("/console/")
    left = _expiry(staff_client) - timezone.now()
    assert dt.timedelta(minutes=29) < left <= dt.timedelta(minutes=30)
    cookie = response.cookies["sessionid"]
    assert cookie["max-age"] == "" and cookie["expires"] == ""  # ends with the browser
    assert cookie["httponly"]


def test_an_anonymous_visit_gets_no_session(client):
    response = client.get("/")
    assert response.status_code == 200
    assert "sessionid" not in response.cookies
    assert not Session.objects.exists()
