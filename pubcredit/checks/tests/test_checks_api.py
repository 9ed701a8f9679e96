"""The checks API: auth, the JSON contract, error shapes, reading back, feedback, webhook
registration, and schemathesis fuzzing with no 5xx."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from pubcredit.checks.models import CheckFeedback, CreditCheck
from pubcredit.testing.checkkit import (  # noqa: F401 (fixtures)
    D,
    accounts_fixture,
    black_now,
    person_fixture,
)

pytestmark = pytest.mark.usefixtures("seeded")

URL = "/api/v1/checks"


def bearer(clear: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {clear}"}


def post(client, body, clear=None, url=URL):
    extra = bearer(clear) if clear else {}
    return client.post(url, json.dumps(body), content_type="application/json", **extra)


@pytest.fixture
def api(accounts):
    return Client(), accounts["bank"][1]


def assert_error_shape(response, status, code=None):
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"code", "message", "details"}
    assert body["message"] and isinstance(body["details"], list)
    if code:
        assert body["code"] == code
    return body


# --------------------------------------------------------------------------- auth


def test_auth_is_required(api, make_subject):
    client, _key = api
    body = assert_error_shape(
        post(client, {"uscc": make_subject().uscc, "matter": "FINANCING"}), 401, "unauthorized"
    )
    assert "接口密钥" in body["message"]
    assert_error_shape(
        post(client, {"uscc": make_subject().uscc, "matter": "FINANCING"}, "pc_bad_key"), 401
    )
    assert CreditCheck.objects.count() == 0


def test_a_missing_or_bad_key_is_401_where_csrf_is_enforced(make_subject):
    """As a real server sees it (the test client skips CSRF): no session cookie, nothing to
    forge, so the answer is "unauthenticated", not a CSRF refusal."""
    client = Client(enforce_csrf_checks=True)
    body = {"uscc": make_subject().uscc, "matter": "FINANCING"}
    assert_error_shape(post(client, body), 401, "unauthorized")
    assert_error_shape(post(client, body, "pc_bad_key"), 401, "unauthorized")
    assert "csrftoken" not in client.cookies


def test_role_without_checks_run_gets_403(api, accounts, make_subject):
    client, _key = api
    clear = accounts["no_checks"][1]
    body = assert_error_shape(
        post(client, {"uscc": make_subject().uscc, "matter": "FINANCING"}, clear), 403, "forbidden"
    )
    assert "信用核查" in body["message"]


def test_session_of_a_window_clerk_works(accounts, make_subject):
    client = Client()
    client.force_login(accounts["clerk"])
    response = post(client, {"uscc": make_subject().uscc, "matter": "HONOURS"})
    assert response.status_code == 200, response.content
    assert response.json()["checked_by"] == "window1"
    assert response.json()["client"] == "市政务服务中心公共资源交易窗口"


# --------------------------------------------------------------------------- contract


def test_check_by_uscc_returns_the_contract(api, system, make_subject):
    client, clear = api
    company = make_subject()
    entry = black_now(system, company)
    response = post(client, {"uscc": company.uscc.lower(), "matter": "FINANCING"}, clear)
    assert response.status_code == 200, response.content
    data = response.json()
    expected_keys = {
        "id", "number", "checked_at", "checked_on", "channel", "client", "checked_by", "matter",
        "query", "match", "subject", "candidates", "hits", "punishments", "rewards",
        "withheld_rewards", "commitments", "outcome", "outcome_label", "conclusion",
        "rules_version", "grade", "sector_grades",
    }  # fmt: skip
    assert set(data) == expected_keys
    assert data["match"] == "uscc" and data["subject"]["id"] == company.pk
    assert data["channel"] == "api" and data["client"] == "淄博某银行信贷系统"
    assert data["hits"][0]["ref"] == f"entry:{entry.pk}"
    assert [m["code"] for m in data["punishments"]] == [
        "P_FINANCIAL_RISK_PRICING",
        "P_INDUSTRY_DISCIPLINE",
    ]
    assert data["commitments"] == []
    assert data["outcome"] == "punish" and data["outcome_label"]

    again = client.get(f"{URL}/{data['id']}", **bearer(clear))
    assert again.status_code == 200
    assert again.json() == data


def test_check_answer_is_exactly_the_documented_schema(api, system, make_subject):
    """The endpoint serialises the answer itself (no per-request validation): hold it to the
    OpenAPI schema, field for field, for a subject with hits, measures and rewards withheld."""
    from pubcredit.checks.api import CheckOut
    from pubcredit.core.identifiers import uscc_check_char

    client, clear = api
    company = make_subject()
    black_now(system, company)
    black_now(system, company, code="RED_TAX_A")
    data = post(client, {"uscc": company.uscc, "matter": "ADMIN_LICENSING"}, clear).json()
    assert data["hits"] and data["punishments"] and data["withheld_rewards"]
    assert CheckOut.model_validate(data).model_dump(mode="json") == data
    unknown = "91370300MA9YYYYY9"
    unknown += uscc_check_char(unknown)  # valid, and in nobody's register
    body = post(client, {"uscc": unknown, "matter": "BIDDING"}, clear).json()
    assert body["match"] == "not_found" and body["subject"] is None
    assert CheckOut.model_validate(body).model_dump(mode="json") == body


def test_a_check_is_one_read_and_one_write(api, make_subject, django_assert_num_queries):
    """The check path's budget: the subject with everything said about it in one statement,
    the log row in another (the key and the rules are cached after the first request), and the
    key's revocation generation read from the shared cache (the database cache's row here; a
    GET on Redis where PUBCREDIT_CACHE_URL names one)."""
    client, clear = api
    assert (
        post(client, {"uscc": make_subject().uscc, "matter": "FINANCING"}, clear).status_code == 200
    )
    company = make_subject()
    with django_assert_num_queries(3):
        response = post(client, {"uscc": company.uscc, "matter": "FINANCING"}, clear)
    assert response.status_code == 200 and response.json()["subject"]["id"] == company.pk


def test_invalid_code_is_422_with_the_identifiers_message(api, make_subject):
    client, clear = api
    wrong = make_subject().uscc[:-1] + "Z"
    body = assert_error_shape(post(client, {"uscc": wrong, "matter": "FINANCING"}, clear), 422)
    assert body["code"] == "invalid"
    assert body["details"][0]["field"] == "uscc"
    assert "字符" in body["message"] or "校验" in body["message"]
    body = assert_error_shape(
        post(client, {"id_number": "370303198503151234", "matter": "FINANCING"}, clear), 422
    )
    assert body["details"][0]["field"] == "id_number"


def test_unknown_matter_is_422(api, make_subject):
    client, clear = api
    body = assert_error_shape(
        post(client, {"uscc": make_subject().uscc, "matter": "NOPE"}, clear), 422, "invalid"
    )
    assert "NOPE" in body["message"] and body["details"][0]["field"] == "matter"
    body = assert_error_shape(post(client, {"uscc": make_subject().uscc}, clear), 422)
    assert body["code"] == "invalid_request"


def test_no_or_several_subject_fields_is_422(api, make_subject):
    client, clear = api
    company = make_subject()
    assert_error_shape(post(client, {"matter": "FINANCING"}, clear), 422, "invalid")
    assert_error_shape(
        post(client, {"uscc": company.uscc, "name": company.name, "matter": "FINANCING"}, clear),
        422,
        "invalid",
    )


def test_name_only_gives_candidates(api, system, make_subject):
    from pubcredit.testing.checkkit import register_org

    client, clear = api
    register_org(system, "淄博候选甲测试有限公司")
    data = post(client, {"name": "淄博候选甲测试", "matter": "FINANCING"}, clear).json()
    assert data["subject"] is None
    assert data["candidates"] and 0 < data["candidates"][0]["score"] <= 100
    assert data["hits"] == [] and data["punishments"] == []


def test_person_masked_in_api(api, system, person):
    client, clear = api
    _subject, ric = person(name="赵一二")
    data = post(client, {"id_number": ric, "matter": "FINANCING"}, clear).json()
    assert ric not in json.dumps(data, ensure_ascii=False)
    assert data["subject"]["name"] == "赵**"


def test_other_callers_cannot_read_a_check(api, accounts, make_subject):
    client, clear = api
    data = post(client, {"uscc": make_subject().uscc, "matter": "FINANCING"}, clear).json()
    other = accounts["system"][1]
    assert_error_shape(client.get(f"{URL}/{data['id']}", **bearer(other)), 404, "not_found")
    assert_error_shape(client.get(f"{URL}/999999", **bearer(clear)), 404, "not_found")


def test_matters_catalogue(api):
    client, clear = api
    rows = client.get(f"{URL}/matters", **bearer(clear)).json()
    assert {"code": "GOV_PROCUREMENT", "name": "政府采购"} in rows


# --------------------------------------------------------------------------- feedback


def test_feedback_round_trip(api, accounts, system, make_subject):
    client, clear = api
    company = make_subject()
    black_now(system, company)
    data = post(client, {"uscc": company.uscc, "matter": "FINANCING"}, clear).json()
    url = f"{URL}/{data['id']}/feedback"
    body = {"items": [{"measure": "P_FINANCIAL_RISK_PRICING", "applied": True, "note": "上浮利率"}]}
    response = post(client, body, clear, url=url)
    assert response.status_code == 200, response.content
    out = response.json()
    assert out["check"] == data["id"]
    assert out["feedback"][0]["measure"] == "P_FINANCIAL_RISK_PRICING"
    assert out["feedback"][0]["applied"] is True
    row = CheckFeedback.objects.get()
    assert row.unit == "淄博某银行信贷系统" and row.api_key == accounts["bank"][0]

    bad = {"items": [{"measure": "R_GREEN_CHANNEL", "applied": True}]}
    body = assert_error_shape(post(client, bad, clear, url=url), 422, "invalid")
    assert "R_GREEN_CHANNEL" in body["message"]
    assert_error_shape(post(client, {"items": "x"}, clear, url=url), 422, "invalid_request")
    assert_error_shape(post(client, body={"items": []}, clear=accounts["system"][1], url=url), 404)


# --------------------------------------------------------------------------- webhook


def test_system_registers_a_webhook(api, accounts):
    client, clear = api
    response = client.put(
        f"{URL}/webhook",
        json.dumps({"url": "https://1.2.3.4:9/hook"}),
        content_type="application/json",
        **bearer(clear),
    )
    assert response.status_code == 200, response.content
    first = response.json()
    assert first["url"] == "https://1.2.3.4:9/hook" and len(first["secret"]) == 64
    assert client.get(f"{URL}/webhook", **bearer(clear)).json() == first
    bad = client.put(
        f"{URL}/webhook", json.dumps({"url": "ftp://x"}), content_type="application/json",
        **bearer(clear),
    )  # fmt: skip
    assert_error_shape(bad, 422, "invalid")
    internal = client.put(
        f"{URL}/webhook", json.dumps({"url": "http://169.254.169.254/latest/meta-data/"}),
        content_type="application/json", **bearer(clear),
    )  # fmt: skip
    assert_error_shape(internal, 422, "invalid")
    assert "通知地址不能指向链路本地地址" in internal.json()["message"] + str(
        internal.json()["details"]
    )
    assert client.get(f"{URL}/webhook", **bearer(clear)).json() == first
    assert_error_shape(client.get(f"{URL}/webhook", **bearer(accounts["system"][1])), 404)


# --------------------------------------------------------------------------- schemathesis


def test_schemathesis_finds_no_server_error(accounts, make_subject, system):
    """Fuzz every checks operation in-process (WSGI) with a valid key: no response is a 5xx and
    every JSON error keeps the project shape {"code", "message", "details"}."""
    import schemathesis
    from django.core import signals
    from django.db import close_old_connections

    from pubcredit.wsgi import application

    company = make_subject()
    black_now(system, company)
    clear = accounts["bank"][1]
    post(Client(), {"uscc": company.uscc, "matter": "FINANCING"}, clear)

    failures, calls = [], []
    # The WSGI handler closes the database connection after each request; the test client
    # does not, and neither may this in-process run (the test's transaction lives on it).
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application).include(
            path_regex=r"^/api/v1/checks"
        )
        operations = [op.ok() for op in schema.get_all_operations()]
        assert len(operations) >= 8
        _fuzz(operations, clear, failures, calls)
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)
    assert failures == []
    assert len(calls) >= 5 * len(operations)
    assert 200 in calls  # some generated requests were valid, not only rejected


def _fuzz(operations, clear, failures, calls):
    from hypothesis import HealthCheck, Phase, given, settings

    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=30,
            deadline=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
            database=None,
        )
        def fuzz(case):
            response = case.call(headers={"Authorization": f"Bearer {clear}"})
            calls.append(response.status_code)
            if response.status_code >= 500:
                failures.append((case.method, case.formatted_path, response.text[:300]))
            content_type = response.headers.get("content-type") or response.headers.get(
                "Content-Type"
            )
            content_type = content_type[0] if isinstance(content_type, list) else content_type
            if response.status_code >= 400 and "json" in (content_type or ""):
                assert {"code", "message", "details"} <= set(response.json())

        fuzz()
