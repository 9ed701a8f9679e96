# ruff: noqa: F811 (pytest fixtures imported from webkit)
"""The intake API: a department system submits a file with its key and polls the result, fetches
the error report in JSON and xlsx, pushes JSON batches (≤ 10,000 rows); scoping, limits, error
shapes and the OpenAPI description."""

from __future__ import annotations

import io
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from python_calamine import CalamineWorkbook

from pubcredit.accounts.models import Role
from pubcredit.accounts.services import issue_api_key
from pubcredit.intake import services
from pubcredit.intake.models import Submission
from pubcredit.intake.tests.webkit import (  # noqa: F401 (fixtures)
    _fast_password_hasher,
    case_row,
    cf,
    clerk,
    expected_counts,
    expected_issues,
    media,
    messy_csv,
    org_row,
    other_department,
    received_on_messy_date,
    zhangdian,
)
from pubcredit.records.models import Record

pytestmark = pytest.mark.django_db

SUBMISSIONS = "/api/v1/submissions"
RECORDS = "/api/v1/records"


def key_for(system, department, role=Role.DEPARTMENT_CLERK) -> str:
    _key, clear = issue_api_key(
        system,
        name=f"{department.code if department else role} 报送系统",
        role=role,
        department=department,
    )
    return f"Bearer {clear}"


@pytest.fixture
def zd_key(system, zhangdian):
    return key_for(system, zhangdian)


@pytest.fixture
def other_key(system, other_department):
    return key_for(system, other_department)


def post_file(client, key, data: bytes, name="penalties.csv", **form):
    fields = {"file": SimpleUploadedFile(name, data, content_type="text/csv"), **form}
    return client.post(SUBMISSIONS, fields, HTTP_AUTHORIZATION=key)


def assert_error(response, status: int, code: str, text: str | None = None):
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"code", "message", "details"}
    assert body["code"] == code
    assert any("\u4e00" <= ch <= "\u9fff" for ch in body["message"]), body["message"]
    if text:
        assert text in body["message"], body["message"]
    return body


def test_system_submits_a_file_polls_and_fetches_the_report(
    client, zd_key, zhangdian, cf, media, received_on_messy_date
):
    data = messy_csv(unknown_header=False)
    response = post_file(client, zd_key, data, category="CF", department=zhangdian.code)
    assert response.status_code == 201, response.content
    body = response.json()
    expected = expected_counts()
    assert body["status"] == "done" and body["finished"] and body["progress"] == 100
    assert {k: body["summary"][k] for k in expected} == expected
    assert body["department"] == {"code": zhangdian.code, "name": zhangdian.name}
    assert body["category"]["code"] == "CF" and body["channel"] == "api"
    assert set(body["extra_columns"]) == {"序号", "内部编号"}
    assert body["status_label"] == "已完成"
    submission = Submission.objects.get(pk=body["id"])
    assert submission.api_key is not None and submission.sha256 == body["sha256"]

    polled = client.get(body["links"]["self"], HTTP_AUTHORIZATION=zd_key)
    assert polled.status_code == 200 and polled.json()["summary"] == body["summary"]

    errors = client.get(body["links"]["errors"], HTTP_AUTHORIZATION=zd_key)
    assert errors.status_code == 200
    report = errors.json()
    issues = expected_issues()
    assert report["count"] == len(issues)
    got = {(i["row"], i["field"], i["rule"], i["severity"]) for i in report["items"]}
    assert got == issues
    garbage = case_row("garbage_date")
    item = next(i for i in report["items"] if i["row"] == garbage)
    assert item["field_name"] == "处罚决定日期" and item["value"] == "去年三月"
    assert item["message"]
    # The identifier Excel turned into a float is reported, masked.
    sci = next(i for i in report["items"] if i["rule"] == "excel_scientific")
    assert sci["row"] == case_row("excel_scientific_id") and "*" in sci["value"]

    page = client.get(
        f"{body['links']['errors']}?limit=5&offset=5&severity=error", HTTP_AUTHORIZATION=zd_key
    ).json()
    errors_only = sorted(i for i in issues if i[3] == "error")
    assert page["count"] == len(errors_only) and page["limit"] == 5 and page["offset"] == 5
    # In file order: the rows of the 6th to 10th errors.
    assert [i["row"] for i in page["items"]] == [i[0] for i in errors_only[5:10]]
    assert {i["severity"] for i in page["items"]} == {"error"}

    for url in (f"{body['links']['errors']}?format=xlsx", body["links"]["errors_xlsx"]):
        xlsx = client.get(url, HTTP_AUTHORIZATION=zd_key)
        assert xlsx.status_code == 200
        assert "spreadsheetml" in xlsx["Content-Type"]
        rows = (
            CalamineWorkbook.from_filelike(io.BytesIO(b"".join(xlsx.streaming_content)))
            .get_sheet_by_index(0)
            .to_python()
        )
        assert rows[0][:6] == ["行号", "字段编码", "字段", "原始值", "规则", "说明"]
        assert len(rows) - 1 == len(issues)
        line = next(r for r in rows[1:] if int(r[0]) == garbage)
        assert line[1:5] == ["CF_JDRQ", "处罚决定日期", "去年三月", "date_format"]


def test_department_defaults_to_the_keys_own(client, zd_key, zhangdian, cf, media):
    response = post_file(client, zd_key, messy_csv(unknown_header=False), category="CF")
    assert response.status_code == 201
    assert response.json()["department"]["code"] == zhangdian.code


def test_large_file_is_queued_and_polled(
    client,
    zd_key,
    zhangdian,
    cf,
    media,
    received_on_messy_date,
    monkeypatch,
    django_capture_on_commit_callbacks,
):
    monkeypatch.setattr(services, "INLINE_MAX_BYTES", 100)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = post_file(
            client, zd_key, messy_csv(unknown_header=False), category="CF", department="ZD-SCJG"
        )
    assert response.status_code == 202
    body = response.json()
    assert body["status"] == "received" and not body["finished"]
    waiting = client.get(body["links"]["errors"], HTTP_AUTHORIZATION=zd_key)
    assert_error(waiting, 409, "not_ready", "尚未处理完成")
    callbacks[0]()
    done = client.get(body["links"]["self"], HTTP_AUTHORIZATION=zd_key).json()
    assert done["status"] == "done" and done["progress"] == 100
    assert {k: done["summary"][k] for k in expected_counts()} == expected_counts()


def test_wrong_department_and_roles_are_refused(
    client, zd_key, other_key, system, zhangdian, other_department, cf, media
):
    data = messy_csv(unknown_header=False)
    # A key of another department cannot submit for 张店.
    assert_error(
        post_file(client, other_key, data, category="CF", department=zhangdian.code),
        403,
        "forbidden",
        "只能报送本部门",
    )
    # A role without "records.submit" cannot submit at all.
    window = key_for(system, None, Role.WINDOW_CLERK)
    assert_error(post_file(client, window, data, category="CF"), 403, "forbidden")
    assert_error(
        client.post(
            RECORDS,
            json.dumps({"category": "CF", "rows": [{}]}),
            content_type="application/json",
            HTTP_AUTHORIZATION=window,
        ),
        403,
        "forbidden",
    )
    # No credentials.
    assert_error(client.post(SUBMISSIONS, {"category": "CF"}), 401, "unauthorized")
    assert_error(client.get(f"{SUBMISSIONS}/1"), 401, "unauthorized")
    assert Submission.objects.count() == 0

    # Reads are scoped: the other department's key does not see 张店's submission.
    mine = post_file(client, zd_key, data, category="CF").json()
    assert_error(
        client.get(f"{SUBMISSIONS}/{mine['id']}", HTTP_AUTHORIZATION=other_key),
        404,
        "not_found",
        "不存在或无权查看",
    )
    assert_error(
        client.get(f"{SUBMISSIONS}/{mine['id']}/errors.xlsx", HTTP_AUTHORIZATION=other_key),
        404,
        "not_found",
    )
    listing = client.get(SUBMISSIONS, HTTP_AUTHORIZATION=other_key).json()
    assert listing["count"] == 0 and listing["items"] == []
    listing = client.get(f"{SUBMISSIONS}?status=done", HTTP_AUTHORIZATION=zd_key).json()
    assert [s["id"] for s in listing["items"]] == [mine["id"]]
    # Centre staff (no department scope) read every department's submissions.
    staff = key_for(system, None, Role.CENTRE_STAFF)
    assert client.get(f"{SUBMISSIONS}/{mine['id']}", HTTP_AUTHORIZATION=staff).status_code == 200


def test_session_clerk_reads_and_submits(client, clerk, zhangdian, cf, media):
    client.force_login(clerk)
    response = client.post(
        SUBMISSIONS,
        {
            "file": SimpleUploadedFile("a.csv", messy_csv(unknown_header=False)),
            "category": "CF",
        },
    )
    assert response.status_code == 201
    sub = response.json()
    assert sub["department"]["code"] == zhangdian.code
    assert client.get(f"{SUBMISSIONS}/{sub['id']}").json()["id"] == sub["id"]


def test_bad_uploads_have_clear_errors(client, zd_key, zhangdian, cf, media, settings):
    data = messy_csv(unknown_header=False)
    assert_error(post_file(client, zd_key, data, category="XX"), 422, "unknown_category", "XX")
    assert_error(
        post_file(client, zd_key, data, category="CF", department="NOPE"),
        422,
        "unknown_department",
        "NOPE",
    )
    assert_error(
        post_file(client, zd_key, b"%PDF-1.4", name="a.pdf", category="CF"),
        422,
        "unsupported_file_type",
        "不支持的文件类型",
    )
    assert_error(post_file(client, zd_key, b"", name="a.csv", category="CF"), 422, "empty_file")
    missing = client.post(SUBMISSIONS, {"category": "CF"}, HTTP_AUTHORIZATION=zd_key)
    assert_error(missing, 422, "invalid_request")
    unreadable = assert_error(
        post_file(client, zd_key, b"PK\x03\x04 nope", name="a.xlsx", category="CF"),
        422,
        "unreadable_file",
        "Excel",
    )
    failed = Submission.objects.get(pk=unreadable["details"][0]["submission"])
    assert failed.status == Submission.Status.FAILED  # received and kept, with the reason

    settings.PUBCREDIT_INTAKE_MAX_UPLOAD_BYTES = 1024
    assert_error(post_file(client, zd_key, data, category="CF"), 413, "file_too_large", "文件过大")
    # A category whose fields are not defined yet cannot receive data.
    from pubcredit.catalog.models import Category

    incomplete = Category.objects.filter(fields_complete=False).first()
    settings.PUBCREDIT_INTAKE_MAX_UPLOAD_BYTES = 10**9
    assert_error(
        post_file(client, zd_key, data, category=incomplete.code),
        422,
        "submission_refused",
        "尚未完整定义",
    )


def test_records_batch_of_10000_rows(client, zd_key, zhangdian, cf, media):
    rows = [org_row(n, zhangdian.uscc) for n in range(1, 10_001)]
    response = client.post(
        RECORDS,
        json.dumps({"category": "CF", "rows": rows}, ensure_ascii=False),
        content_type="application/json",
        HTTP_AUTHORIZATION=zd_key,
    )
    assert response.status_code == 201, response.content[:500]
    body = response.json()
    assert body["channel"] == "api" and body["status"] == "done"
    assert body["summary"]["rows"] == 10_000
    assert body["summary"]["accepted"] == 10_000 and body["summary"]["rejected"] == 0
    assert body["summary"]["inserted"] == 10_000
    assert Record.objects.filter(department=zhangdian).count() == 10_000

    too_many = [*rows, org_row(10_001, zhangdian.uscc)]
    refused = client.post(
        RECORDS,
        json.dumps({"department": zhangdian.code, "category": "CF", "rows": too_many}),
        content_type="application/json",
        HTTP_AUTHORIZATION=zd_key,
    )
    body = assert_error(refused, 422, "too_many_rows", "一次最多推送 10000 行,本次 10001 行")
    assert body["details"] == [{"limit": 10_000, "rows": 10_001}]
    assert Submission.objects.count() == 1


def test_records_batch_rows_rejected_and_scoped(client, zd_key, other_key, zhangdian, cf, media):
    rows = [org_row(1, zhangdian.uscc), org_row(2, zhangdian.uscc, CF_JDRQ="去年三月")]
    response = client.post(
        RECORDS,
        json.dumps({"category": "CF", "rows": rows}, ensure_ascii=False),
        content_type="application/json",
        HTTP_AUTHORIZATION=zd_key,
    )
    body = response.json()
    assert response.status_code == 201
    assert (body["summary"]["accepted"], body["summary"]["rejected"]) == (1, 1)
    errors = client.get(body["links"]["errors"], HTTP_AUTHORIZATION=zd_key).json()["items"]
    assert [(e["row"], e["field"], e["rule"]) for e in errors] == [(2, "CF_JDRQ", "date_format")]

    assert_error(
        client.post(
            RECORDS,
            json.dumps({"department": zhangdian.code, "category": "CF", "rows": rows}),
            content_type="application/json",
            HTTP_AUTHORIZATION=other_key,
        ),
        403,
        "forbidden",
    )
    assert_error(
        client.post(
            RECORDS, "{not json", content_type="application/json", HTTP_AUTHORIZATION=zd_key
        ),
        422,
        "invalid_json",
    )
    assert_error(
        client.post(
            RECORDS,
            json.dumps({"category": "CF", "rows": "nope"}),
            content_type="application/json",
            HTTP_AUTHORIZATION=zd_key,
        ),
        422,
        "invalid_request",
    )
    assert_error(
        client.post(
            RECORDS,
            json.dumps({"category": "CF", "rows": []}),
            content_type="application/json",
            HTTP_AUTHORIZATION=zd_key,
        ),
        422,
        "submission_refused",
        "至少一行",
    )


def test_records_body_limit(client, zd_key, zhangdian, cf, media, settings):
    settings.PUBCREDIT_INTAKE_MAX_BATCH_BYTES = 2048
    rows = [org_row(n, zhangdian.uscc) for n in range(1, 20)]
    assert_error(
        client.post(
            RECORDS,
            json.dumps({"category": "CF", "rows": rows}),
            content_type="application/json",
            HTTP_AUTHORIZATION=zd_key,
        ),
        413,
        "body_too_large",
        "请求体过大",
    )


def test_openapi_describes_the_intake_endpoints(client, catalogue):
    schema = client.get("/api/v1/openapi.json").json()
    paths = schema["paths"]
    upload = paths["/api/v1/submissions"]["post"]
    form = upload["requestBody"]["content"]["multipart/form-data"]["schema"]
    assert form["properties"]["file"]["format"] == "binary"
    assert {"file", "category"} <= set(form["required"]) and "department" in form["properties"]
    assert {"201", "202", "403", "413", "422"} <= set(upload["responses"])
    assert "get" in paths["/api/v1/submissions/{submission_id}"]
    errors = paths["/api/v1/submissions/{submission_id}/errors"]["get"]
    assert {p["name"] for p in errors["parameters"]} >= {"format", "limit", "offset"}
    xlsx = paths["/api/v1/submissions/{submission_id}/errors.xlsx"]["get"]["responses"]["200"]
    assert "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" in xlsx["content"]
    records = paths["/api/v1/records"]["post"]
    body = records["requestBody"]["content"]["application/json"]["schema"]
    assert body["properties"]["rows"]["type"] == "array" and "category" in body["required"]
    assert {"201", "413", "422"} <= set(records["responses"])
