"""Batches of reports: invalid, repeated and unknown codes reported by row (not fatal), one report
per valid row (channel 批量), a zip of the PDFs and index.xlsx, a rerun issues nothing twice."""

from __future__ import annotations

import io
import json
import zipfile

import polars as pl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from pubcredit.accounts.models import Role
from pubcredit.accounts.permissions import Principal
from pubcredit.accounts.services import issue_api_key
from pubcredit.reports import batch as report_batch
from pubcredit.reports.models import Report, ReportBatch
from pubcredit.testing.factories import make_org, make_world, uscc

pytestmark = pytest.mark.django_db

BAD = "91370303MA3C00000X"  # wrong check character


@pytest.fixture
def world():
    world = make_world()
    world.a = make_org("淄博批量甲有限公司", serial=11)
    world.b = make_org("淄博批量乙有限公司", serial=12)
    return world


def test_rows_are_validated_one_by_one():
    a, b = uscc("370303", 11), uscc("370303", 12)
    items, problems = report_batch.validate_rows(
        [(2, a), (3, ""), (4, BAD), (5, b.lower()), (6, a), (7, "x")]
    )
    assert items == [[2, a], [5, b]]
    assert [(p["row"], p["value"]) for p in problems] == [(4, BAD), (6, a), (7, "x")]
    assert "校验位错误" in problems[0]["message"]
    assert problems[1]["message"] == "与第 2 行的统一社会信用代码重复,不重复出具。"


def _zip(data: bytes) -> tuple[list[str], pl.DataFrame]:
    archive = zipfile.ZipFile(io.BytesIO(data))
    names = sorted(archive.namelist())
    index = pl.read_excel(io.BytesIO(archive.read("index.xlsx")), engine="calamine")
    return names, index


def test_an_api_batch_issues_one_report_per_valid_row(
    client, world, django_capture_on_commit_callbacks
):
    key = issue_api_key(Principal.system("test"), name="招标平台", role=Role.BANK_USER)[1]
    auth = {"Authorization": f"Bearer {key}"}
    unknown = uscc("370303", 99)
    codes = [world.a.uscc, BAD, world.b.uscc, world.a.uscc, unknown]
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/api/v1/reports/batches",
            json.dumps({"uscc": codes}),
            content_type="application/json",
            headers=auth,
        )
    assert response.status_code == 201, response.content
    batch_id = response.json()["id"]
    body = client.get(f"/api/v1/reports/batches/{batch_id}", headers=auth).json()
    assert body["status"] == "done" and body["progress"] == 100
    assert body["rows"] == 5 and body["issued"] == 2
    assert [(p["row"], p["value"]) for p in body["problems"]] == [
        (2, BAD),
        (4, world.a.uscc),
        (5, unknown),
    ]
    assert "没有该统一社会信用代码的主体" in body["problems"][2]["message"]

    reports = Report.objects.filter(batch_id=batch_id)
    assert sorted(r.subject_id for r in reports) == sorted([world.a.pk, world.b.pk])
    assert {r.channel for r in reports} == {"batch"}
    download = client.get(body["zip_url"], headers=auth)
    assert download.status_code == 200
    names, index = _zip(b"".join(download.streaming_content))
    assert names == sorted(["index.xlsx", *(f"{r.number}.pdf" for r in reports)])
    assert index.get_column("行号").to_list() == [1, 2, 3, 4, 5]
    by_row = dict(zip(index.get_column("行号"), index.get_column("报告编号"), strict=True))
    number_of = {r.subject_id: r.number for r in reports}
    assert by_row[1] == number_of[world.a.pk] and by_row[3] == number_of[world.b.pk]
    assert by_row[2] is None and by_row[4] is None and by_row[5] is None

    # Another system's key does not see the batch.
    other = issue_api_key(Principal.system("test"), name="另一平台", role=Role.BANK_USER)[1]
    headers = {"Authorization": f"Bearer {other}"}
    assert client.get(f"/api/v1/reports/batches/{batch_id}", headers=headers).status_code == 404


def test_a_rerun_issues_only_what_is_missing(world, django_capture_on_commit_callbacks):
    centre = Principal.of(world.users[Role.CENTRE_STAFF])
    with django_capture_on_commit_callbacks(execute=True):
        batch = report_batch.submit_batch(centre, codes=[world.a.uscc, world.b.uscc])
    assert Report.objects.filter(batch=batch).count() == 2
    # A worker died after the reports, before "done": the sweeper runs the job again.
    ReportBatch.objects.filter(pk=batch.pk).update(status=ReportBatch.Status.RUNNING)
    again = report_batch.run_batch(batch.pk)
    assert again.status == "done" and again.issued == 2
    assert Report.objects.filter(batch=batch).count() == 2


def test_console_upload_numbers_rows_as_the_spreadsheet_does(
    client, world, django_capture_on_commit_callbacks
):
    client.force_login(world.users[Role.WINDOW_CLERK])
    csv = f"名称,统一社会信用代码\n甲,{world.a.uscc}\n乙,{BAD}\n".encode()
    upload = SimpleUploadedFile("投标人.csv", csv, "text/csv")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/console/reports/batches/", {"file": upload, "kind": "standard"})
    assert response.status_code == 302
    batch = ReportBatch.objects.get()
    assert batch.items == [[2, world.a.uscc]]
    assert [(p["row"], p["value"]) for p in batch.problems] == [(3, BAD)]
    assert batch.issued == 1 and batch.user == world.users[Role.WINDOW_CLERK]
    page = client.get("/console/reports/batches/").content.decode()
    assert "第 3 行" in page
    assert client.get(f"/console/reports/batches/{batch.pk}/zip/").status_code == 200
    # A department clerk has no batch page at all.
    client.force_login(world.users[Role.DEPARTMENT_CLERK])
    assert client.get("/console/reports/batches/").status_code == 403


def test_a_single_column_file_without_header(world):
    data = f"{world.a.uscc}\n{world.b.uscc}\n".encode()
    assert report_batch.read_codes(data, "codes.csv") == [(1, world.a.uscc), (2, world.b.uscc)]


def test_the_job_is_found_where_its_lease_says_and_can_be_failed(world):
    from django.utils.module_loading import import_string

    from pubcredit.reports.tasks import REPORT_BATCH_JOB

    assert import_string(REPORT_BATCH_JOB.path) is REPORT_BATCH_JOB
    assert import_string(REPORT_BATCH_JOB.task).module_path == REPORT_BATCH_JOB.task
    batch = ReportBatch.objects.create(actor_label="t", items=[[1, world.a.uscc]], rows=1)
    assert REPORT_BATCH_JOB.finished(batch.pk) is False
    REPORT_BATCH_JOB.fail(batch.pk, "后台进程已意外终止")
    batch.refresh_from_db()
    assert (batch.status, batch.error_message) == ("failed", "后台进程已意外终止")
    assert REPORT_BATCH_JOB.finished(batch.pk) is True


def test_a_submitter_who_lost_the_action_gets_a_failed_batch(world):
    from pubcredit.accounts.services import change_role

    clerk = world.users[Role.WINDOW_CLERK]
    batch = ReportBatch.objects.create(
        actor_label="window_clerk", user=clerk, items=[[1, world.a.uscc]], rows=1
    )
    change_role(Principal.system("test"), clerk, Role.PUBLIC, reason="调岗")
    done = report_batch.run_batch(batch.pk)
    assert done.status == "failed" and "已无出具信用报告的权限" in done.error_message
    assert not Report.objects.exists()
