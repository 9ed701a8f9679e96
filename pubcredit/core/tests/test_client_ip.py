"""The client's address as a GenericIPAddressField may store it (PostgreSQL checks the type)."""

from __future__ import annotations

from django.test import RequestFactory

from pubcredit.core.ratelimit import client_address, client_ip


def test_an_address_that_is_not_an_ip_is_stored_as_none(settings):
    settings.PUBCREDIT_TRUSTED_PROXIES = 0
    request = RequestFactory().get("/", REMOTE_ADDR="")
    assert client_address(request) == "unknown" and client_ip(request) is None
    assert client_ip(RequestFactory().get("/", REMOTE_ADDR="10.1.2.3")) == "10.1.2.3"
    assert client_ip(RequestFactory().get("/", REMOTE_ADDR="::1")) == "::1"


def test_behind_a_trusted_proxy_the_forwarded_address_counts(settings):
    settings.PUBCREDIT_TRUSTED_PROXIES = 1
    request = RequestFactory().get(
        "/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.9, unknown"
    )
    assert client_address(request) == "unknown" and client_ip(request) is None
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.9")
    assert client_ip(request) == "203.0.113.9"
