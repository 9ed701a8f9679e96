"""/api/v1/accounts/me with a key or a session, and the API's error shape."""

import json

import pytest
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.test import RequestFactory
from django.utils import timezone
from ninja.errors import AuthorizationError, HttpError, Throttled
from ninja.errors import ValidationError as NinjaValidationError

from pubcredit.accounts import services
from pubcredit.accounts.models import ApiKey, Role
from pubcredit.api import api

ME = "/api/v1/accounts/me"


def assert_error(response, status, code):
    assert response.status_code == status
    assert response["Content-Type"].startswith("application/json")
    body = json.loads(response.content)
    assert set(body) == {"code", "message", "details"}
    assert body["code"] == code
    assert isinstance(body["details"], list)
    assert any("\u4e00" <= ch <= "\u9fff" for ch in body["message"]), body["message"]
    assert "Traceback" not in response.content.decode()
    return body


def test_me_with_a_bearer_key(client, world, admin_principal):
    key, clear = services.issue_api_key(
        admin_principal,
        name="市场监管局报送系统",
        role=Role.DEPARTMENT_CLERK,
        department=world.market,
    )
    response = client.get(ME, headers={"Authorization": f"Bearer {clear}"})
    assert response.status_code == 200
    assert response.json() == {
        "label": f"key:{key.prefix}",
        "role": "department_clerk",
        "role_name": "部门报送员",
        "department": {"code": "SCJG", "name": "淄博市市场监督管理局"},
        "district": None,
        "actions": [
            "bulletins.view",
            "catalog.view",
            "commitments.assess",
            "console.view",
            "lists.identify",
            "records.submit",
            "records.view",
            "repair.file",  # issue 19: objections to its department's records
            "repair.review",
            "repair.view",
            "scoring.supervision",
            "scoring.view",
            "sharing.query",
            "subjects.view",
        ],
    }
    key.refresh_from_db()
    assert key.last_used_at is not None


def test_me_with_a_session(client, world):
    client.force_login(world.users[Role.DISTRICT_ADMIN])
    body = client.get(ME).json()
    assert body["role"] == "district_admin"
    assert body["role_name"] == "区县管理员"
    assert body["district"] == {"code": "370303", "name": "张店区"}
    assert "subjects.view_person" in body["actions"]


def test_missing_key_is_401(client, db):
    body = assert_error(client.get(ME), 401, "unauthorized")
    assert "接口密钥" in body["message"]


@pytest.mark.parametrize("state", ["revoked", "expired", "wrong", "garbage"])
def test_unusable_keys_are_401(client, world, admin_principal, state):
    key, clear = services.issue_api_key(admin_principal, name="某银行", role=Role.BANK_USER)
    if state == "revoked":
        services.revoke_api_key(admin_principal, key)
    elif state == "expired":
        ApiKey.objects.filter(pk=key.pk).update(expires_at=timezone.now())
    elif state == "wrong":
        clear = f"pc_{key.prefix}_{'x' * 43}"
    else:
        clear = "Basic dXNlcjpwYXNz"
    assert_error(client.get(ME, headers={"Authorization": f"Bearer {clear}"}), 401, "unauthorized")


def test_deactivated_user_session_is_401(client, world, admin_principal):
    user = world.users[Role.WINDOW_CLERK]
    client.force_login(user)
    services.deactivate_user(admin_principal, user)
    assert_error(client.get(ME), 401, "unauthorized")


@pytest.fixture
def api_request(rf: RequestFactory):
    return rf.get("/api/v1/anything")


def test_error_handlers_share_one_shape(api_request, settings):
    settings.DEBUG = True  # even in DEBUG, no stack trace leaves the API
    body = assert_error(api.on_exception(api_request, Http404("x")), 404, "not_found")
    assert body["details"] == []

    body = assert_error(
        api.on_exception(
            api_request,
            NinjaValidationError([{"loc": ("query", "limit"), "msg": "not an int", "type": "x"}]),
        ),
        422,
        "invalid_request",
    )
    assert body["details"] == [{"loc": ["query", "limit"], "message": "not an int"}]

    body = assert_error(
        api.on_exception(api_request, DjangoValidationError({"uscc": ["校验位错误"]})),
        422,
        "invalid",
    )
    assert body["message"] == "校验位错误"
    assert body["details"] == [{"field": "uscc", "message": "校验位错误"}]

    body = assert_error(
        api.on_exception(api_request, DjangoValidationError(["甲", "乙"])), 422, "invalid"
    )
    assert [d["message"] for d in body["details"]] == ["甲", "乙"]

    assert_error(api.on_exception(api_request, Throttled(wait=5)), 429, "throttled")
    assert_error(api.on_exception(api_request, AuthorizationError()), 403, "forbidden")
    body = assert_error(
        api.on_exception(api_request, HttpError(409, "该记录已被他人修改")), 409, "http_error"
    )
    assert body["message"] == "该记录已被他人修改"


def test_unhandled_error_is_a_json_500_without_trace(api_request, settings, caplog):
    settings.DEBUG = True
    try:
        raise ZeroDivisionError("secret internals")
    except ZeroDivisionError as exc:
        response = api.on_exception(api_request, exc)
    body = assert_error(response, 500, "server_error")
    assert "secret internals" not in response.content.decode()
    assert "ZeroDivisionError" in caplog.text  # logged for the operators, not returned
    assert body["details"] == []
