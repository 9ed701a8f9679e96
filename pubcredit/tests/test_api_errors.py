"""Bad requests are the client's error (4xx in the API's error shape), never a server error:
bodies too large, JSON nested too deeply, multipart without a boundary, ids and offsets no
database column can hold; and /api/v1/health says 503 when the database does not answer."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection
from django.test import Client

from pubcredit.accounts.models import Role
from pubcredit.accounts.services import issue_api_key
from pubcredit.catalog.models import Department

pytestmark = pytest.mark.django_db

TOO_BIG = 10**20  # more than a bigint holds


@pytest.fixture
def staff(system):
    _key, clear = issue_api_key(system, name="中心系统", role=Role.CENTRE_STAFF)
    return Client(HTTP_AUTHORIZATION=f"Bearer {clear}")


def error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content[:300]
    body = response.json()
    assert set(body) == {"code", "message", "details"}
    assert body["code"] == code
    return body


def test_a_body_over_the_upload_limit_is_413(staff, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    body = json.dumps({"q": "x" * 2000})
    got = error(
        staff.post("/api/v1/public/search", body, content_type="application/json"),
        413,
        "body_too_large",
    )
    assert got["message"] == "请求体过大,不能超过 1,000 字节。"


def test_json_nested_too_deeply_is_400(staff, system):
    deep = "[" * 100_000 + "]" * 100_000
    got = error(
        staff.post("/api/v1/public/search", deep, content_type="application/json"),
        400,
        "bad_request",
    )
    assert got["message"] == "请求体不是有效的 JSON(或嵌套过深)。"
    # /api/v1/records reads its body itself
    deep_rows = '{"category": "CF", "rows": [' + "[" * 100_000 + "]" * 100_000 + "]}"
    _key, clear = issue_api_key(
        system,
        name="报送",
        role=Role.DEPARTMENT_CLERK,
        department=Department.objects.get(code="ZB-CZJ"),
    )
    response = Client().post(
        "/api/v1/records",
        deep_rows,
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {clear}",
    )
    assert 400 <= response.status_code < 500, response.content[:300]
    assert set(response.json()) == {"code", "message", "details"}


def test_multipart_without_a_boundary_is_400(staff):
    got = error(
        staff.post("/api/v1/submissions", b"--x\r\n", content_type="multipart/form-data"),
        400,
        "bad_request",
    )
    assert "boundary" in got["message"]


@pytest.mark.parametrize(
    "url",
    [
        f"/api/v1/lists/entries?offset={TOO_BIG}",
        f"/api/v1/lists/entries?subject_id={TOO_BIG}",
        f"/api/v1/commitments?offset={TOO_BIG}",
        f"/api/v1/commitments?subject_id={TOO_BIG}",
        f"/api/v1/submissions?offset={TOO_BIG}",
        f"/api/v1/checks/notifications?offset={TOO_BIG}",
        f"/api/v1/catalog/categories?catalogue_class={TOO_BIG}",
        f"/api/v1/checks/{TOO_BIG}",
        f"/api/v1/lists/entries/{TOO_BIG}",
        f"/api/v1/subjects/{TOO_BIG}",
        f"/api/v1/records/{TOO_BIG}/publicity",
        f"/api/v1/public/publicity/{TOO_BIG}",
        f"/api/v1/public/news/{TOO_BIG}",
    ],
)
def test_numbers_beyond_a_bigint_are_422(staff, url):
    body = error(staff.get(url), 422, "invalid_request")
    assert body["details"][0]["loc"][-1] in {
        "offset",
        "subject_id",
        "catalogue_class",
        "check_id",
        "entry_id",
        "record_id",
        "article_id",
    }


def test_an_id_beyond_a_bigint_in_a_body_is_422(staff):
    body = {
        "list_type": "BLK_JUDGMENT_DEFAULTER",
        "subject_id": TOO_BIG,
        "basis": "判决",
        "decided_on": "2025-01-01",
    }
    got = error(
        staff.post("/api/v1/lists/entries", json.dumps(body), content_type="application/json"),
        422,
        "invalid_request",
    )
    assert got["details"][0]["loc"][-1] == "subject_id"


def test_health_is_200_with_the_database(client):
    response = client.get("/api/v1/health")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


HEALTH = """
import django, json
django.setup()
from django.db import connection
from django.test import Client
response = Client().get("/api/v1/health")
print(json.dumps([response.status_code, response.json()]))
"""


@pytest.mark.parametrize(
    "database_url",
    [
        "postgres://postgres@127.0.0.1:1/pubcredit",  # nothing listens on port 1
        "sqlite:////nonexistent-directory/pubcredit.sqlite3",  # a file that cannot be opened
    ],
)
def test_health_is_503_when_the_database_does_not_answer(database_url, tmp_path):
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "DJANGO_SETTINGS_MODULE": "pubcredit.settings",
        "PUBCREDIT_VAR_DIR": str(tmp_path),
        "PYTHONPATH": str(Path(__file__).resolve().parents[2]),
    }
    done = subprocess.run(
        [sys.executable, "-c", HEALTH], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr[-2000:]
    status, body = json.loads(done.stdout.strip().splitlines()[-1])
    assert status == 503
    assert body == {
        "status": "unavailable",
        "database": "postgresql" if database_url.startswith("postgres") else "sqlite",
    }


@pytest.mark.parametrize(
    "url",
    ["/api/v1/subjects/search?uscc=%00", "/api/v1/subjects/search?name=%E6%B7%84%00%E5%8D%9A"],
)
def test_a_nul_character_in_a_parameter_is_not_a_server_error(staff, url):
    """PostgreSQL's text cannot hold NUL: 400 there; SQLite simply finds nothing."""
    response = staff.get(url)
    assert response.status_code in (200, 400), response.content[:300]
    if connection.vendor == "postgresql":
        assert error(response, 400, "bad_request")["message"] == "请求中含有不允许的空字符(NUL)。"
