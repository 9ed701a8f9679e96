"""Password logins are throttled (django-axes): after 5 failures a username, and the address they
came from, are locked out for 15 minutes on both login forms, the right password included; API
keys are not passwords and are not affected."""

import datetime as dt

import pytest
from axes.models import AccessAttempt, AccessLog
from django.utils import timezone

from pubcredit.accounts import services
from pubcredit.accounts.models import Role
from pubcredit.testing.factories import PASSWORD, make_user

LOGINS = ["/accounts/login/", "/admin/login/"]
ATTACKER = "203.0.113.7"
OTHER = "198.51.100.20"


def _login(client, url, username, password, address):
    return client.post(url, {"username": username, "password": password}, REMOTE_ADDR=address)


def _logged_in(client) -> bool:
    return "_auth_user_id" in client.session


def _fail(client, url, username, times, address=ATTACKER):
    for _ in range(times):
        response = _login(client, url, username, "Wrong-guess-2026", address)
        assert not _logged_in(client)
    return response


@pytest.mark.parametrize("url", LOGINS)
def test_six_wrong_passwords_then_the_right_one_is_refused(client, world, url):
    admin = world.users[Role.PLATFORM_ADMIN]  # is_staff: may use the admin's login form too
    _fail(client, url, admin.username, 6)
    response = _login(client, url, admin.username, PASSWORD, ATTACKER)
    assert response.status_code == 429
    text = response.content.decode()
    assert "登录已暂时锁定" in text and "15 分钟" in text
    assert "Traceback" not in text
    assert not _logged_in(client)


@pytest.mark.parametrize("url", LOGINS)
def test_four_wrong_passwords_do_not_lock(client, world, url):
    admin = world.users[Role.PLATFORM_ADMIN]
    _fail(client, url, admin.username, 4)
    response = _login(client, url, admin.username, PASSWORD, ATTACKER)
    assert response.status_code == 302
    assert _logged_in(client)


def test_the_locked_username_is_refused_from_any_address(client, world):
    admin = world.users[Role.PLATFORM_ADMIN]
    _fail(client, "/accounts/login/", admin.username, 6)
    response = _login(client, "/accounts/login/", admin.username, PASSWORD, OTHER)
    assert response.status_code == 429
    assert not _logged_in(client)


def test_the_locked_address_is_refused_for_another_user(client, world):
    admin = world.users[Role.PLATFORM_ADMIN]
    staff = world.users[Role.CENTRE_STAFF]
    _fail(client, "/accounts/login/", admin.username, 6)
    response = _login(client, "/accounts/login/", staff.username, PASSWORD, ATTACKER)
    assert response.status_code == 429
    assert not _logged_in(client)


def test_another_user_from_another_address_is_not_locked(client, world):
    admin = world.users[Role.PLATFORM_ADMIN]
    staff = world.users[Role.CENTRE_STAFF]
    _fail(client, "/accounts/login/", admin.username, 6)
    response = _login(client, "/accounts/login/", staff.username, PASSWORD, OTHER)
    assert response.status_code == 302 and response["Location"] == "/console/"
    assert _logged_in(client)


def test_a_login_of_ones_own_does_not_clear_the_failures_against_another(client, world):
    admin = world.users[Role.PLATFORM_ADMIN]
    staff = world.users[Role.CENTRE_STAFF]
    _fail(client, "/accounts/login/", admin.username, 4)
    assert _login(client, "/accounts/login/", staff.username, PASSWORD, ATTACKER).status_code == 302
    client.logout()
    _fail(client, "/accounts/login/", admin.username, 2)
    response = _login(client, "/accounts/login/", admin.username, PASSWORD, OTHER)
    assert response.status_code == 429
    assert not _logged_in(client)


def test_the_lock_ends_after_the_cool_off(client, world):
    admin = world.users[Role.PLATFORM_ADMIN]
    _fail(client, "/accounts/login/", admin.username, 6)
    assert _login(client, "/accounts/login/", admin.username, PASSWORD, ATTACKER).status_code == 429
    # 16 minutes later (the cool-off is 15).
    AccessAttempt.objects.update(attempt_time=timezone.now() - dt.timedelta(minutes=16))
    response = _login(client, "/accounts/login/", admin.username, PASSWORD, ATTACKER)
    assert response.status_code == 302
    assert _logged_in(client)


def test_api_keys_are_not_throttled_by_password_failures(client, world, admin_principal):
    _key, clear = services.issue_api_key(admin_principal, name="银行核查系统", role=Role.BANK_USER)
    _fail(client, "/accounts/login/", world.users[Role.PLATFORM_ADMIN].username, 6)
    response = client.get(
        "/api/v1/accounts/me", headers={"Authorization": f"Bearer {clear}"}, REMOTE_ADDR=ATTACKER
    )
    assert response.status_code == 200
    assert response.json()["role"] == "bank_user"


def test_a_login_without_an_address_is_logged(client, db):
    """force_login's request has no REMOTE_ADDR: axes logs the login without an address (a
    string such as "unknown" would not fit PostgreSQL's inet column)."""
    client.force_login(make_user(Role.CENTRE_STAFF, username="no_address"))
    assert AccessLog.objects.get(username="no_address").ip_address is None


def test_behind_a_trusted_proxy_the_forwarded_address_is_locked(client, world, settings):
    settings.PUBCREDIT_TRUSTED_PROXIES = 1
    admin = world.users[Role.PLATFORM_ADMIN]
    for _ in range(6):
        client.post(
            "/accounts/login/",
            {"username": admin.username, "password": "Wrong-guess-2026"},
            REMOTE_ADDR="10.0.0.2",
            HTTP_X_FORWARDED_FOR=ATTACKER,
        )
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {ATTACKER}


def test_a_password_test_client_login_still_works_with_a_request(client, rf, db):
    """client.login goes through the authentication backends, which django-axes heads: it
    needs the request (the address it counts failures for)."""
    user = make_user(Role.CENTRE_STAFF, username="login_staff")
    assert client.login(request=rf.get("/"), username=user.username, password=PASSWORD)
