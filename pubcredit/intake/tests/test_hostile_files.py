# ruff: noqa: F811 (pytest fixtures imported from webkit and checkkit)
"""Hostile files (issue 13): refused with a clear Chinese error, quickly and cheaply, the server
and the worker serving on; a submission or batch that meets one ends failed, never "processing";
a file with far more problems than anyone will read keeps the first ones and counts the rest per
rule; the error report is built once; no 身份证号 in clear in any message."""

from __future__ import annotations

import csv
import io
import time

import pytest
from django.core.files.storage import default_storage
from django.db import connection
from django.test.utils import CaptureQueriesContext
from python_calamine import CalamineWorkbook

from pubcredit.checks import batch as check_batch
from pubcredit.checks.models import CheckBatch
from pubcredit.intake.engine.reading import UnreadableFile
from pubcredit.intake.engine.untrusted import FileLimits, RefusedFile, read_untrusted
from pubcredit.intake.models import RowError, Submission
from pubcredit.intake.tests import messy
from pubcredit.intake.tests.test_api_intake import assert_error, key_for, post_file
from pubcredit.intake.tests.test_web_intake import upload
from pubcredit.intake.tests.webkit import (  # noqa: F401 (fixtures)
    _fast_password_hasher,
    cf,
    clerk,
    media,
    messy_csv,
    other_department,
    received_on_messy_date,
    zhangdian,
)
from pubcredit.testing.checkkit import accounts_fixture, principal_of  # noqa: F401 (fixtures)
from pubcredit.testing.hostile import one_cell_xlsx, zip_bomb_xlsx
from pubcredit.testing.listkit import seeded  # noqa: F401 (fixtures)

MB = 1024 * 1024


@pytest.fixture
def zd_key(system, zhangdian):
    return key_for(system, zhangdian)


def refused_quickly(data: bytes, filename: str = "hostile.xlsx", **limits) -> str:
    """The Chinese message read_untrusted refuses `data` with; within 10 s, the child (if one
    ran) under 500 MB."""
    usage: dict = {}
    started = time.monotonic()
    with pytest.raises(RefusedFile) as refused:
        read_untrusted(data, filename, limits=FileLimits(**limits), usage=usage)
    assert time.monotonic() - started < 10
    assert usage.get("peak_rss", 0) < 500 * MB
    return str(refused.value)


# --------------------------------------------------------------------------- the reader


def test_one_cell_at_xfd1048576_is_refused_before_the_sheet_is_loaded():
    data = one_cell_xlsx("XFD1048576")
    assert len(data) < 2000  # the 1,844-byte file of the finding, give or take
    message = refused_quickly(data)
    assert "XFD1048576" in message and "16,384 列" in message and "1,024 列的上限" in message


def test_one_cell_at_z1000000_is_refused_for_its_rows():
    message = refused_quickly(one_cell_xlsx("Z1000000"))
    assert "Z1000000" in message and "1,000,000 行" in message and "500,000 行的上限" in message


def test_the_declared_range_is_held_against_the_cell_limit():
    message = refused_quickly(one_cell_xlsx("CV60000"), max_cells=5_000_000)  # 100 × 60,000
    assert "A1:CV60000(60,000 行 × 100 列)" in message and "5,000,000 个单元格" in message


def test_a_sheet_that_hides_its_range_is_found_by_the_scan():
    # No <dimension>: the cell itself is found in the sheet's XML.
    message = refused_quickly(one_cell_xlsx("XFD1048576", dimension=False), max_rows=2_000_000)
    assert "XFD1048576" in message and "16,384 列" in message


def test_a_zip_bomb_is_refused_by_its_compression_ratio():
    data = zip_bomb_xlsx(20)
    assert len(data) < 100_000
    message = refused_quickly(data)
    assert "压缩炸弹" in message and "xl/worksheets/sheet1.xml" in message


def test_a_workbook_too_large_once_unzipped_is_refused():
    message = refused_quickly(zip_bomb_xlsx(20), max_unzipped_bytes=10 * MB)
    assert "文件解压后过大(20 MB,上限 10 MB)" in message


def test_a_reader_that_aborts_kills_only_its_child():
    """With the inspection out of the way, the reader itself meets the cell at AMJ1048576: it
    asks for 32 GB and aborts. The child dies; the caller gets a clear error."""
    lax = {"max_rows": 2_000_000, "max_cells": 10**14}
    message = refused_quickly(one_cell_xlsx("AMJ1048576"), **lax)
    assert "超出内存限制(2048 MB)" in message and "已拒收" in message
    # This process is fine and reads the next file.
    table = read_untrusted(b"name,code\nA,1\n", "ok.csv")
    assert table.frame.get_column("name").to_list() == ["A"]


def test_a_child_over_its_memory_limit_refuses_the_file_cleanly():
    workbook = messy.xlsx_file().data
    assert read_untrusted(workbook, "messy.xlsx").headers  # readable within the usual limit
    message = refused_quickly(workbook, "messy.xlsx", memory_bytes=1 * MB)
    assert message.startswith("文件过大或结构异常,读取时超出内存限制(1 MB)")


def test_a_csv_of_bare_delimiters_is_refused_by_its_cell_count(settings):
    settings.PUBCREDIT_INTAKE_MAX_CSV_CELLS = 100_000
    header = ",".join(f"c{i}" for i in range(1000)) + "\n"
    data = (header + ("," * 999 + "\n") * 200).encode()
    with pytest.raises(UnreadableFile) as refused:
        read_untrusted(data, "commas.csv")
    assert str(refused.value).startswith(
        "文件约 201 行 × 1,000 列,超过 100,000 个单元格的上限,已拒收"
    )


def test_a_csv_with_thousands_of_columns_is_refused():
    data = (",".join(f"c{i}" for i in range(5000)) + "\n" + "1," * 4999 + "1\n").encode()
    with pytest.raises(UnreadableFile) as refused:
        read_untrusted(data, "wide.csv")
    assert "5,000 列" in str(refused.value) and "1,024 列的上限" in str(refused.value)


# --------------------------------------------------------------------------- through the API


@pytest.mark.django_db
def test_api_refuses_a_hostile_workbook_and_keeps_serving(client, zd_key, zhangdian, cf, media):
    started = time.monotonic()
    response = post_file(
        client, zd_key, one_cell_xlsx("XFD1048576"), name="hostile.xlsx", category="CF"
    )
    body = assert_error(response, 422, "unreadable_file", "XFD1048576")
    assert time.monotonic() - started < 10
    failed = Submission.objects.get(pk=body["details"][0]["submission"])
    assert failed.status == Submission.Status.FAILED and failed.failure == "unreadable"
    assert "1,024 列的上限" in failed.error_message
    # the same server takes the next file
    ok = post_file(client, zd_key, messy_csv(unknown_header=False), category="CF")
    assert ok.status_code == 201 and ok.json()["status"] == "done"


@pytest.mark.django_db
def test_api_zip_bomb_and_memory_limit_end_failed(client, zd_key, zhangdian, cf, media, settings):
    bomb = post_file(client, zd_key, zip_bomb_xlsx(20), name="bomb.xlsx", category="CF")
    assert_error(bomb, 422, "unreadable_file", "压缩炸弹")
    settings.PUBCREDIT_UNTRUSTED_MEMORY_MB = 1
    starved = post_file(client, zd_key, messy.xlsx_file().data, name="m.xlsx", category="CF")
    body = assert_error(starved, 422, "unreadable_file", "超出内存限制(1 MB)")
    submission = Submission.objects.get(pk=body["details"][0]["submission"])
    assert submission.status == Submission.Status.FAILED
    assert not Submission.objects.filter(status__in=["processing", "loading"]).exists()


# --------------------------------------------------------------------------- the error cap


BAD_ROWS = 1500


def bad_id(n: int) -> str:
    """A person's 身份证号 with a wrong check character (born on 1 or 2 January 1980)."""
    return messy.wrong_check(messy.person_ric(n % 1000, birth=f"1980010{1 + n // 1000}"))


def many_errors_csv() -> bytes:
    """1,500 persons' rows, each with two faults: a decision date nobody can read and an ID
    number with a wrong check character."""
    buffer = io.StringIO()
    writer = None
    for n in range(1, BAD_ROWS + 1):
        row = messy.person(
            n % 1000,
            CF_JDRQ="去年三月",
            CF_XDR_ZJHM=bad_id(n),
            CF_WSH=f"淄张市监罚〔2024〕{n}号",
        )
        if writer is None:
            writer = csv.DictWriter(buffer, fieldnames=list(row))
            writer.writeheader()
        writer.writerow(row)
    return buffer.getvalue().encode("utf-8")


@pytest.mark.django_db
def test_errors_beyond_the_cap_are_counted_per_rule_not_stored(
    client, zd_key, zhangdian, cf, media, settings, received_on_messy_date
):
    settings.PUBCREDIT_INTAKE_MAX_STORED_ERRORS = 1000
    response = post_file(client, zd_key, many_errors_csv(), category="CF")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["summary"]["rejected"] == 1500 and body["summary"]["errors"] == 3000
    submission = Submission.objects.get(pk=body["id"])
    assert RowError.objects.filter(submission=submission).count() == 1000
    assert submission.errors_stored == 1000
    totals = {(t["field"], t["rule"], t["severity"]): t["count"] for t in submission.error_totals}
    assert totals == {
        ("CF_JDRQ", "date_format", "error"): 1500,
        ("CF_XDR_ZJHM", "ric_checksum", "error"): 1500,
    }
    # the first 1,000 in file order: rows 2 to 501, two problems each
    rows = sorted(set(RowError.objects.filter(submission=submission).values_list("row", flat=True)))
    assert rows == list(range(2, 502))

    report = client.get(body["links"]["errors"], HTTP_AUTHORIZATION=zd_key).json()
    assert report["total"] == 3000 and report["stored"] == 1000 and report["count"] == 1000
    assert report["note"] == (
        "共 3,000 条错误和警告(错误 3,000 条、警告 0 条),仅保存前 1,000 条;各规则的条数见汇总。"
    )
    assert {(t["rule"], t["count"]) for t in report["totals"]} == {
        ("date_format", 1500),
        ("ric_checksum", 1500),
    }


@pytest.mark.django_db
def test_no_id_number_in_clear_in_any_message(
    client, zd_key, zhangdian, cf, media, settings, received_on_messy_date
):
    settings.PUBCREDIT_INTAKE_MAX_STORED_ERRORS = 1000
    response = post_file(client, zd_key, many_errors_csv(), category="CF")
    submission = Submission.objects.get(pk=response.json()["id"])
    first = RowError.objects.get(submission=submission, row=2, rule="ric_checksum")
    wrong = bad_id(1)
    assert wrong not in first.message and wrong[6:14] not in first.message
    assert f"“370303********{wrong[-4:]}”" in first.message
    assert first.message.startswith("“证件号码”校验位错误:第 18 位应为")
    clear = [bad_id(n) for n in range(1, BAD_ROWS + 1)]
    for message in RowError.objects.filter(submission=submission).values_list("message", flat=True):
        assert not any(c in message for c in clear[:50]), message


@pytest.mark.django_db
def test_the_error_report_is_built_once_and_kept(
    client, zd_key, zhangdian, cf, media, settings, received_on_messy_date
):
    settings.PUBCREDIT_INTAKE_MAX_STORED_ERRORS = 1000
    body = post_file(client, zd_key, many_errors_csv(), category="CF").json()
    url = body["links"]["errors_xlsx"]

    first = client.get(url, HTTP_AUTHORIZATION=zd_key)
    assert first.status_code == 200
    content = b"".join(first.streaming_content)
    submission = Submission.objects.get(pk=body["id"])
    folder = f"intake-error-reports/{submission.pk}"
    _dirs, files = default_storage.listdir(folder)
    assert len(files) == 1
    stored = f"{folder}/{files[0]}"
    built_at = default_storage.get_modified_time(stored)

    with CaptureQueriesContext(connection) as queries:
        second = client.get(url, HTTP_AUTHORIZATION=zd_key)
        assert b"".join(second.streaming_content) == content
    assert not [q for q in queries.captured_queries if "intake_rowerror" in q["sql"]]
    assert default_storage.get_modified_time(stored) == built_at
    assert default_storage.listdir(folder)[1] == files

    workbook = CalamineWorkbook.from_filelike(io.BytesIO(content))
    assert len(workbook.get_sheet_by_name("错误报告").to_python()) == 1 + 1000
    summary = workbook.get_sheet_by_name("汇总").to_python()
    assert summary[0][0].startswith("共 3,000 条错误和警告")
    assert [row[2:5] for row in summary[3:5]] == [
        ["date_format", "错误", 1500.0],
        ["ric_checksum", "错误", 1500.0],
    ]


# --------------------------------------------------------------------------- batch checks


@pytest.mark.django_db
def test_a_hostile_batch_check_upload_ends_failed(
    seeded, system, accounts, django_capture_on_commit_callbacks
):
    principal = principal_of(accounts["bank"][0])
    for data, expected in (
        (one_cell_xlsx("XFD1048576"), "XFD1048576"),
        (zip_bomb_xlsx(20), "压缩炸弹"),
    ):
        with django_capture_on_commit_callbacks(execute=True):
            batch = check_batch.submit_batch(
                principal, io.BytesIO(data), filename="list.xlsx", matter="FINANCING"
            )
        batch.refresh_from_db()
        assert batch.status == CheckBatch.Status.FAILED, batch.status
        assert expected in batch.error_message


# --------------------------------------------------------------------------- the console


@pytest.mark.django_db
def test_the_console_upload_refuses_a_hostile_workbook_on_the_mapping_preview(
    client, clerk, zhangdian, cf, media
):
    client.force_login(clerk)
    response = upload(client, zhangdian, cf, one_cell_xlsx("XFD1048576"), name="hostile.xlsx")
    html = response.content.decode()
    assert "XFD1048576" in html and "1,024 列的上限" in html
    assert Submission.objects.count() == 0
    # the console serves the next upload
    assert upload(client, zhangdian, cf, messy_csv()).status_code == 302


def test_an_id_number_typed_anywhere_is_masked_in_messages():
    import polars as pl

    from pubcredit.intake.engine.pipeline import redact_messages
    from pubcredit.intake.engine.validation import ERROR_SCHEMA

    errors = pl.DataFrame(
        {
            "row": [2, 3, 4],
            "field": ["CF_SY", "CF_SY", "CF_XDR_SHXYM"],
            "field_name": ["违法事实"] * 2 + ["统一社会信用代码"],
            "value": ["", "", ""],
            "rule": ["max_length"] * 3,
            "message": [
                "“违法事实”过长:当事人370303198001010012于",
                "见 37030319800101001X。",
                "“统一社会信用代码”:91370303MA3C00001X",
            ],
            "severity": ["error"] * 3,
        },
        schema=ERROR_SCHEMA,
    )
    assert redact_messages(errors).get_column("message").to_list() == [
        "“违法事实”过长:当事人370303********0012于",
        "见 370303********001X。",
        "“统一社会信用代码”:91370303MA3C00001X",
    ]
