"""The check lane (pubcredit/checks/lane.py) answers exactly as the full Django stack:
status, headers and body, for the checks it serves and for every request it hands on."""

from __future__ import annotations

import io
import json
import sys

import pytest
from django.core import signals
from django.core.handlers.wsgi import WSGIHandler, WSGIRequest
from django.db import close_old_connections
from django.test import override_settings

from pubcredit.checks.lane import CheckLane
from pubcredit.checks.models import CreditCheck
from pubcredit.testing.checkkit import (  # noqa: F401 (fixtures)
    accounts_fixture,
    black_now,
    penalty,
)

pytestmark = pytest.mark.usefixtures("seeded")

# Fields of an answer that differ between two checks of the same subject (its own log row).
PER_CHECK = ("id", "number", "checked_at")


@pytest.fixture
def apps():
    """(the site's WSGI application with the lane, the bare Django application), with the
    connection kept open inside the test's transaction (as Django's test client does)."""
    from pubcredit.wsgi import application, django_application

    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield application, django_application
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


def environ(body, clear=None, *, headers=None, method="POST", path="/api/v1/checks") -> dict:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    env = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "SCRIPT_NAME": "",
        "QUERY_STRING": "",
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_HOST": "testserver",
        "REMOTE_ADDR": "127.0.0.1",
        "CONTENT_TYPE": "application/json",
        "CONTENT_LENGTH": str(len(raw)),
        "wsgi.input": io.BytesIO(raw),
        "wsgi.errors": sys.stderr,
        "wsgi.url_scheme": "http",
        "wsgi.version": (1, 0),
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }
    if clear:
        env["HTTP_AUTHORIZATION"] = f"Bearer {clear}"
    env.update(headers or {})
    return env


def call(app, env) -> tuple[str, list, bytes]:
    seen = {}

    def start_response(status, headers, exc_info=None):
        seen["status"], seen["headers"] = status, headers

    response = app(env, start_response)
    try:
        body = b"".join(response)
    finally:
        response.close()
    return seen["status"], seen["headers"], body


def both(apps, body, clear=None, **kw):
    """The lane's answer and the full stack's to the same request."""
    lane, full = apps
    return call(lane, environ(body, clear, **kw)), call(full, environ(body, clear, **kw))


def served_by_lane(body, clear=None, **kw) -> bool:
    from pubcredit.wsgi import application

    return application.serve(WSGIRequest(environ(body, clear, **kw))) is not None


def _without(data: dict, keys) -> dict:
    return {k: v for k, v in data.items() if k not in keys}


def assert_same_check(lane_answer, full_answer):
    (ls, lh, lb), (fs, fh, fb) = lane_answer, full_answer
    assert ls == fs == "200 OK"
    assert [(k, v) for k, v in lh if k != "Content-Length"] == [
        (k, v) for k, v in fh if k != "Content-Length"
    ]
    assert dict(lh)["Content-Length"] == str(len(lb))
    ld, fd = json.loads(lb), json.loads(fb)
    assert _without(ld, PER_CHECK) == _without(fd, PER_CHECK)
    assert ld["id"] != fd["id"]  # each logged its own check
    return ld


def test_a_check_through_the_lane_is_the_full_stacks_answer(apps, accounts, system, make_subject):
    clear = accounts["bank"][1]
    company = make_subject()
    black_now(system, company)
    black_now(system, company, code="RED_TAX_A")
    penalty(company)
    body = {"uscc": company.uscc.lower(), "matter": "ADMIN_LICENSING", "client": "信贷系统"}
    assert served_by_lane(body, clear)
    data = assert_same_check(*both(apps, body, clear))
    assert data["hits"] and data["punishments"] and data["withheld_rewards"]
    assert data["client"] == "信贷系统" and data["channel"] == "api"
    # Both log rows say the same, but for their own id, number and time.
    *_, lane_row, full_row = CreditCheck.objects.order_by("id")  # served_by_lane logged one
    fields = [f.attname for f in CreditCheck._meta.concrete_fields]
    skip = {"id", "checked_at", "result"}
    assert {f: getattr(lane_row, f) for f in fields if f not in skip} == {
        f: getattr(full_row, f) for f in fields if f not in skip
    }
    assert _without(lane_row.result, PER_CHECK) == _without(full_row.result, PER_CHECK)
    # The lane's answer reads back through the API as it was given.
    status, _h, again = call(
        apps[0], environ(b"", clear, method="GET", path=f"/api/v1/checks/{data['id']}")
    )
    assert status == "200 OK" and json.loads(again)["conclusion"] == data["conclusion"]


@pytest.mark.parametrize(
    "headers",
    [
        {"HTTP_ACCEPT_LANGUAGE": "en-US,en;q=0.9"},
        {"HTTP_COOKIE": "django_language=en"},
        {"HTTP_ACCEPT_LANGUAGE": "zh-CN,zh;q=0.9"},
    ],
)
def test_the_lane_answers_in_the_callers_language(apps, accounts, make_subject, headers):
    clear = accounts["bank"][1]
    body = {"uscc": make_subject().uscc, "matter": "FINANCING"}
    lane, full = both(apps, body, clear, headers=headers)
    data = assert_same_check(lane, full)
    english = "en" in headers.get("HTTP_ACCEPT_LANGUAGE", headers.get("HTTP_COOKIE", ""))
    assert dict(lane[1])["Content-Language"] == ("en" if english else "zh-hans")
    assert data["conclusion"].startswith("未发现失信信息") is not english


def test_a_not_found_and_a_name_check_through_the_lane(apps, accounts, make_subject):
    from pubcredit.core.identifiers import uscc_check_char

    clear = accounts["bank"][1]
    unknown = "91370300MA9YYYYY9"
    unknown += uscc_check_char(unknown)
    data = assert_same_check(*both(apps, {"uscc": unknown, "matter": "BIDDING"}, clear))
    assert data["match"] == "not_found"
    company = make_subject()
    data = assert_same_check(*both(apps, {"name": company.name, "matter": "BIDDING"}, clear))
    assert data["match"] in ("name_exact", "candidates")


@pytest.mark.parametrize(
    "body, key",
    [
        ({"uscc": "91370300MA3C00000X", "matter": "FINANCING"}, "bank"),  # wrong check character
        ({"uscc": "{company}", "matter": "NO_SUCH_MATTER"}, "bank"),
        ({"uscc": "{company}", "name": "某公司", "matter": "FINANCING"}, "bank"),
        ({"matter": "FINANCING"}, "bank"),
        ({"uscc": "{company}"}, "bank"),
        ({"uscc": 913703, "matter": "FINANCING"}, "bank"),
        ({"uscc": "{company}", "matter": "FINANCING", "client": "长" * 151}, "bank"),
        (["not", "an", "object"], "bank"),
        (b"{not json", "bank"),
        (b"", "bank"),
        ({"uscc": "{company}", "matter": "FINANCING"}, "no_checks"),  # role without checks.run
        ({"uscc": "{company}", "matter": "FINANCING"}, "bad"),  # not a key
        ({"uscc": "{company}", "matter": "FINANCING"}, "revoked"),
    ],
)
def test_what_the_lane_does_not_serve_gets_the_full_stacks_answer(
    apps, accounts, make_subject, body, key
):
    from pubcredit.accounts.models import ApiKey
    from pubcredit.accounts.services import clear_api_key_cache

    if isinstance(body, dict):
        code = make_subject().uscc
        body = {k: (code if v == "{company}" else v) for k, v in body.items()}
    clear = {"bad": "pc_nokey_000000", "revoked": accounts["bank"][1]}.get(key)
    clear = clear or accounts[key][1]
    if key == "revoked":
        ApiKey.objects.filter(name=accounts["bank"][0].name).update(active=False)
        clear_api_key_cache()
    before = CreditCheck.objects.count()
    assert not served_by_lane(body, clear)
    lane, full = both(apps, body, clear)
    assert lane == full
    assert lane[0][:3] in ("400", "401", "403", "422")
    assert CreditCheck.objects.count() == before


def test_refusals_by_middleware_are_the_full_stacks(apps, accounts, make_subject):
    clear = accounts["bank"][1]
    body = {"uscc": make_subject().uscc, "matter": "FINANCING"}
    bad_host = {"HTTP_HOST": "evil.example"}
    assert not served_by_lane(body, clear, headers=bad_host)
    lane, full = both(apps, body, clear, headers=bad_host)
    assert lane == full and lane[0].startswith("400")
    with override_settings(SECURE_SSL_REDIRECT=True):
        lane_app = CheckLane(WSGIHandler())
        status, headers, _b = call(lane_app, environ(body, clear))
        assert status.startswith("301") and dict(headers)["Location"].startswith("https://")
    assert CreditCheck.objects.count() == 0


def test_other_requests_are_not_the_lanes(apps, accounts, make_subject):
    from pubcredit.wsgi import application

    clear = accounts["bank"][1]
    body = {"uscc": make_subject().uscc, "matter": "FINANCING"}
    assert application.takes(environ(body, clear))
    assert not application.takes(environ(body))  # a session or nobody: the full stack
    assert not application.takes(environ(body, clear, path="/api/v1/checks/batches"))
    assert not application.takes(environ(body, clear, method="PUT"))
    status, _h, _b = call(application, environ(body))
    assert status.startswith("401")


def test_the_lane_turns_itself_off(apps):
    with override_settings(PUBCREDIT_CHECK_LANE=False):
        assert not CheckLane(apps[1]).enabled
    with override_settings(
        MIDDLEWARE=[
            "django.middleware.security.SecurityMiddleware",
            "example.middleware.RequestLogMiddleware",
        ]
    ):
        assert not CheckLane(apps[1]).enabled
    assert CheckLane(apps[1]).enabled
