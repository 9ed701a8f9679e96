"""The check server (pubcredit.settings_checks, `pubcredit serve_checks`: a slim deployment
serving only `POST /api/v1/checks` through the site's own django-ninja operation) answers
exactly as the site does: status, headers and body, for checks and for every error, and every
check it answers wrote its log row. Both run for real, as granian processes on the test
database."""

from __future__ import annotations

import json

import pytest

from pubcredit.checks.models import CreditCheck
from pubcredit.testing.checkkit import (  # noqa: F401 (fixtures)
    accounts_fixture,
    black_now,
    penalty,
    person_fixture,
)
from pubcredit.testing.servers import start_servers, stop_servers

pytestmark = [
    pytest.mark.slow,
    pytest.mark.usefixtures("seeded"),
    pytest.mark.xdist_group("check-server"),
]

# Fields of an answer that differ between two checks of the same subject (its own log row).
PER_CHECK = ("id", "number", "checked_at")
# Headers that differ between two answers of the same request: the time, and the length of a
# check's answer (its id and number).
PER_RESPONSE = ("date", "content-length")
LOG = CreditCheck._meta.db_table


@pytest.fixture
def servers_for(shared_db):
    started = []

    def start(**kw):
        shared_db.share()
        servers = start_servers(shared_db, **kw)
        started.append(servers)
        return servers

    yield start
    for servers in started:
        stop_servers(servers)


def post(server, body, clear=None, headers=None, path="/api/v1/checks"):
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    sent = {"Content-Type": "application/json", **(headers or {})}
    if clear:
        sent["Authorization"] = f"Bearer {clear}"
    return server.request("POST", path, raw, sent)


def _without(data: dict, keys) -> dict:
    return {k: v for k, v in data.items() if k not in keys}


def _headers(answer) -> list[tuple[str, str]]:
    """The answer's headers but PER_RESPONSE; the Content-Security-Policy's directives in order
    (django-csp writes them in its process's set order)."""
    out = []
    for name, value in answer[1]:
        name = name.lower()
        if name == "content-security-policy":
            value = "; ".join(sorted(value.split("; ")))
        if name not in PER_RESPONSE:
            out.append((name, value))
    return out


def log_count(db) -> int:
    return db.query(f"SELECT COUNT(*) FROM {LOG}")[0][0]


def assert_same_check(db, servers, body, clear, headers=None) -> dict:
    """The check server's answer to a check is the site's, but for its own log row, which it
    wrote: one row more, with the answer's id, number and result."""
    before = log_count(db)
    site = post(servers["site"], body, clear, headers)
    checks = post(servers["checks"], body, clear, headers)
    assert site[0] == checks[0] == 200, (site, checks)
    assert _headers(checks) == _headers(site)
    assert dict((k.lower(), v) for k, v in checks[1])["content-length"] == str(len(checks[2]))
    cd, sd = json.loads(checks[2]), json.loads(site[2])
    assert _without(cd, PER_CHECK) == _without(sd, PER_CHECK)
    assert cd["id"] != sd["id"]
    assert log_count(db) == before + 2
    rows = db.query(f"SELECT channel, result FROM {LOG} WHERE id = ?", (cd["id"],))
    assert len(rows) == 1 and rows[0][0] == "api"
    stored = rows[0][1] if isinstance(rows[0][1], dict) else json.loads(rows[0][1])
    assert stored and {k: cd[k] for k in stored} == stored  # the row's part of the answer
    return cd


def test_checks_through_the_check_server_are_the_sites(
    shared_db, servers_for, accounts, person, system, make_subject
):
    from pubcredit.core.identifiers import uscc_check_char

    db, clear = shared_db, accounts["bank"][1]
    listed = make_subject()
    black_now(system, listed)
    black_now(system, listed, code="RED_TAX_A")
    penalty(listed)
    plain = make_subject()
    _subject, ric = person()
    unknown = "91370300MA9YYYYY9"
    unknown += uscc_check_char(unknown)
    servers = servers_for()

    data = assert_same_check(
        db,
        servers,
        {"uscc": listed.uscc.lower(), "matter": "ADMIN_LICENSING", "client": "信贷系统"},
        clear,
    )
    assert data["hits"] and data["punishments"] and data["withheld_rewards"]
    assert data["client"] == "信贷系统" and data["channel"] == "api"
    # A check by another key, without a client: the key's name.
    data = assert_same_check(
        db, servers, {"uscc": plain.uscc, "matter": "BIDDING"}, accounts["system"][1]
    )
    assert data["outcome"] == "clear" or data["hits"] == []
    assert data["client"] == "公共资源交易系统"
    data = assert_same_check(db, servers, {"uscc": unknown, "matter": "BIDDING"}, clear)
    assert data["match"] == "not_found"
    data = assert_same_check(db, servers, {"name": plain.name, "matter": "BIDDING"}, clear)
    assert data["match"] in ("name_exact", "candidates")
    data = assert_same_check(db, servers, {"id_number": ric, "matter": "FINANCING"}, clear)
    assert data["match"] == "id_number" and ric not in json.dumps(data, ensure_ascii=False)
    # In the caller's language, from Accept-Language or the language cookie.
    for headers, english in [
        ({"Accept-Language": "en-US,en;q=0.9"}, True),
        ({"Cookie": "django_language=en"}, True),
        ({"Accept-Language": "zh-CN,zh;q=0.9"}, False),
    ]:
        before = log_count(db)
        answer = post(
            servers["checks"], {"uscc": plain.uscc, "matter": "FINANCING"}, clear, headers
        )
        assert dict(answer[1])["content-language"] == ("en" if english else "zh-hans")
        assert json.loads(answer[2])["conclusion"].startswith("未发现失信信息") is not english
        assert log_count(db) == before + 1
        assert_same_check(db, servers, {"uscc": plain.uscc, "matter": "FINANCING"}, clear, headers)
    # What the check server answered reads back through the site as it was given.
    status, _h, again = servers["site"].request(
        "GET", f"/api/v1/checks/{data['id']}", headers={"Authorization": f"Bearer {clear}"}
    )
    assert status == 200 and json.loads(again)["conclusion"] == data["conclusion"]


ERRORS = [
    ({"uscc": "91370300MA3C00000X", "matter": "FINANCING"}, "bank", 422),  # check character
    ({"uscc": "{company}", "matter": "NO_SUCH_MATTER"}, "bank", 422),
    ({"uscc": "{company}", "name": "某公司", "matter": "FINANCING"}, "bank", 422),
    ({"matter": "FINANCING"}, "bank", 422),
    ({"uscc": "{company}"}, "bank", 422),
    ({"uscc": 913703, "matter": "FINANCING"}, "bank", 422),
    ({"uscc": "{company}", "matter": "FINANCING", "client": "长" * 151}, "bank", 422),
    ({"uscc": "a\u0000b", "matter": "FINANCING"}, "bank", None),
    (["not", "an", "object"], "bank", 422),
    (b"{not json", "bank", 400),
    (b"", "bank", 422),
    ({"uscc": "{company}", "matter": "FINANCING"}, "no_checks", 403),  # role without checks.run
    ({"uscc": "{company}", "matter": "FINANCING"}, "bad", 401),  # not a key
    ({"uscc": "{company}", "matter": "FINANCING"}, "revoked", 401),
    ({"uscc": "{company}", "matter": "FINANCING"}, None, 401),  # no key at all
]


def test_errors_from_the_check_server_are_the_sites(
    shared_db, servers_for, accounts, system, make_subject
):
    from pubcredit.accounts.models import Role
    from pubcredit.accounts.services import issue_api_key, revoke_api_key

    db = shared_db
    code = make_subject().uscc
    revoked, revoked_clear = issue_api_key(system, name="已吊销系统", role=Role.BANK_USER)
    revoke_api_key(system, revoked, reason="测试")
    keys = {k: v[1] for k, v in accounts.items() if isinstance(v, tuple)}
    keys |= {"bad": "pc_nokey_000000", "revoked": revoked_clear, None: None}
    servers = servers_for()
    for body, key, status in ERRORS:
        if isinstance(body, dict):
            body = {k: (code if v == "{company}" else v) for k, v in body.items()}
        before = log_count(db)
        site = post(servers["site"], body, keys[key])
        checks = post(servers["checks"], body, keys[key])
        assert (checks[0], checks[2]) == (site[0], site[2]), (body, key)
        expected = _headers(site)
        if site[0] == 401:
            # Unauthenticated at the site, a session cookie might have authenticated the request
            # (its answer varies by Cookie); no session is ever read by the check server.
            expected = [
                (k, "Accept-Language") if (k, v) == ("vary", "Accept-Language, Cookie") else (k, v)
                for k, v in expected
            ]
        assert _headers(checks) == expected, (body, key)
        assert checks[0] == status or (status is None and 400 <= checks[0] < 500), (body, key)
        assert json.loads(checks[2])["code"]
        assert log_count(db) == before, (body, key)


def test_refusals_by_middleware_are_the_sites(shared_db, servers_for, accounts, make_subject):
    clear = accounts["bank"][1]
    body = {"uscc": make_subject().uscc, "matter": "FINANCING"}
    servers = servers_for()
    site = post(servers["site"], body, clear, {"Host": "evil.example"})
    checks = post(servers["checks"], body, clear, {"Host": "evil.example"})
    assert checks[0] == site[0] == 400
    assert (_headers(checks), checks[2]) == (_headers(site), site[2])
    # Only the checks: every other path of the site is not served here.
    for method, path in [("GET", "/api/v1/checks/matters"), ("GET", "/"), ("GET", "/admin/")]:
        status, _h, _b = servers["checks"].request(
            method, path, headers={"Authorization": f"Bearer {clear}"}
        )
        assert status == 404, path
    assert log_count(shared_db) == 0


def test_the_check_server_redirects_to_https_as_the_site(shared_db, servers_for, accounts):
    clear = accounts["bank"][1]
    servers = servers_for(site=False, PUBCREDIT_HTTPS="1")
    status, headers, _b = post(servers["checks"], {"matter": "FINANCING"}, clear)
    assert status == 301 and dict(headers)["location"].startswith("https://")
    assert log_count(shared_db) == 0


def test_a_key_revoked_elsewhere_is_refused_on_the_next_check(
    shared_db, servers_for, accounts, make_subject
):
    """The check server caches keys (PUBCREDIT_API_KEY_CACHE_SECONDS) and still refuses a key
    revoked by another process on the very next request (the shared revocation generation)."""
    key, clear = accounts["bank"]
    body = {"uscc": make_subject().uscc, "matter": "FINANCING"}
    servers = servers_for(site=False, PUBCREDIT_API_KEY_CACHE_SECONDS="3600")
    assert post(servers["checks"], body, clear)[0] == 200
    assert post(servers["checks"], body, clear)[0] == 200  # from the key cache
    done = shared_db.run("apikey", "revoke", key.prefix, "--reason", "泄露")
    assert done.returncode == 0, done.stderr
    status, _h, answer = post(servers["checks"], body, clear)
    assert status == 401 and json.loads(answer)["code"] == "unauthorized"
    assert log_count(shared_db) == 2
