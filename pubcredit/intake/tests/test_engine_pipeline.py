"""run_engine as the intake services call it: the catalogue and calendar from the database,
mappings, missing columns, error reports."""

from __future__ import annotations

import datetime as dt
import hashlib
import json

import polars as pl
import pytest

from pubcredit.intake.engine import (
    ERROR_SCHEMA,
    CategorySpec,
    UnreadableFile,
    errors_as_json,
    run_engine,
    write_error_report_xlsx,
)
from pubcredit.intake.tests import messy
from pubcredit.intake.tests.test_engine_messy import weekdays_between


def _csv(rows: list[dict], headers: list[str] | None = None) -> bytes:
    headers = headers or list(rows[0])
    frame = pl.DataFrame([{h: r.get(h, "") for h in headers} for r in rows])
    return frame.write_csv().encode()


def _names(cells: dict) -> dict:
    spec = CategorySpec.from_files("CF")
    return {spec.field(code).name: value for code, value in cells.items()}


@pytest.mark.django_db
def test_with_database_catalogue_and_holiday_calendar(catalogue, system):
    """National Day 2024: 10-01…10-07 off, Sunday 09-29 worked. A decision on 09-27 received on
    10-09 is 4 working days old (on time), although 8 weekdays passed."""
    from pubcredit.holidays.services import seed_from_chinese_calendar

    seed_from_chinese_calendar(system)
    data = _csv(
        [
            _names(messy.org(1, CF_JDRQ="2024-09-27", CF_YXQ="2025-09-27")),
            _names(messy.org(2, CF_JDRQ="2024-09-20", CF_YXQ="2025-09-20")),
        ]
    )
    common = dict(receipt_date=dt.date(2024, 10, 9), allowed_source_usccs=None)
    result = run_engine(data, "a.csv", "CF", **common)
    assert (result.rows, result.rejected) == (2, 0)
    assert result.accepted["__late__"].to_list() == [False, True]  # 09-20: 9 working days
    assert result.late == 1
    by_weekday = run_engine(data, "a.csv", "CF", workdays_between_many=weekdays_between, **common)
    assert by_weekday.late == 2


def test_result_facts():
    data = _csv([_names(messy.org(1))])
    result = run_engine(
        data,
        "a.csv",
        CategorySpec.from_files("CF"),
        receipt_date=messy.RECEIPT,
        allowed_source_usccs=messy.ALLOWED_SOURCES,
        workdays_between_many=weekdays_between,
    )
    assert result.sha256 == hashlib.sha256(data).hexdigest()
    known = run_engine(
        data,
        "a.csv",
        CategorySpec.from_files("CF"),
        receipt_date=messy.RECEIPT,
        allowed_source_usccs=None,
        workdays_between_many=weekdays_between,
        sha256="0" * 64,
    )
    assert known.sha256 == "0" * 64  # a hash the caller already has is not computed again
    assert set(result.timings) >= {"read", "map", "clean", "validate", "late", "total"}
    summary = result.summary()
    json.dumps(summary, ensure_ascii=False)
    assert summary["rows"] == 1 and summary["accepted"] == 1 and summary["format"] == "csv"


def test_missing_required_column_rejects_every_row_and_is_reported():
    cells = messy.org(1)
    del cells["CF_WSH"]
    result = run_engine(
        _csv([_names(cells), _names(messy.org(2, CF_WSH=""))]),
        "a.csv",
        CategorySpec.from_files("CF"),
        receipt_date=messy.RECEIPT,
        allowed_source_usccs=None,
        workdays_between_many=weekdays_between,
    )
    assert "CF_WSH" in result.missing_columns
    assert result.rejected == 2
    assert set(result.errors.filter(pl.col("field") == "CF_WSH")["rule"]) == {"required"}


def test_mapping_override_and_saved_mapping():
    cells = _names(messy.org(1))
    cells["罚没金额"] = cells.pop("罚款金额（万元）")
    cells["备用"] = "x"
    data = _csv([cells])
    spec = CategorySpec.from_files("CF")
    common = dict(
        receipt_date=messy.RECEIPT,
        allowed_source_usccs=None,
        workdays_between_many=weekdays_between,
    )
    plain = run_engine(data, "a.csv", spec, **common)
    assert plain.errors.filter(pl.col("field") == "CF_NR_FK")["rule"].to_list() == ["required_if"]
    saved = run_engine(
        data,
        "a.csv",
        spec,
        saved_mapping={"罚没金额": "CF_NR_WFFF"},
        mapping_override={"罚没金额": "CF_NR_FK", "备用": None},
        **common,
    )
    assert saved.rejected == 0
    methods = {m.header: (m.field_code, m.method) for m in saved.mapping}
    assert methods["罚没金额"] == ("CF_NR_FK", "saved")
    assert methods["备用"] == (None, "saved")
    assert saved.extra_columns == ["备用"]


def test_unreadable_file_raises():
    with pytest.raises(UnreadableFile):
        run_engine(
            b"",
            "a.csv",
            CategorySpec.from_files("CF"),
            receipt_date=messy.RECEIPT,
            allowed_source_usccs=None,
            workdays_between_many=weekdays_between,
        )


def test_file_with_only_a_header_has_no_rows():
    spec = CategorySpec.from_files("CF")
    headers = [f.name for f in spec.fields]
    result = run_engine(
        (",".join(headers) + "\n").encode(),
        "a.csv",
        spec,
        receipt_date=messy.RECEIPT,
        allowed_source_usccs=None,
        workdays_between_many=weekdays_between,
    )
    assert (result.rows, result.accepted_count, result.rejected, result.late) == (0, 0, 0, 0)
    assert result.errors.is_empty() and result.accepted.height == 0


def _messy_result():
    file = messy.csv_file("utf8.csv")
    return run_engine(
        file.data,
        file.name,
        CategorySpec.from_files("CF"),
        receipt_date=messy.RECEIPT,
        allowed_source_usccs=messy.ALLOWED_SOURCES,
        workdays_between_many=weekdays_between,
    )


def test_error_report_xlsx(tmp_path):
    from python_calamine import CalamineWorkbook

    result = _messy_result()
    path = write_error_report_xlsx(result.errors, tmp_path / "errors.xlsx")
    sheet = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python()
    assert sheet[0] == ["行号", "字段编码", "字段", "原始值", "规则", "说明", "级别"]
    assert len(sheet) == result.errors.height + 1
    first = result.errors.row(0, named=True)
    assert int(sheet[1][0]) == first["row"] and sheet[1][5] == first["message"]
    assert {r[6] for r in sheet[1:]} == {"错误", "警告"}


def test_errors_as_json():
    result = _messy_result()
    items = errors_as_json(result.errors)
    assert len(items) == result.errors.height
    assert set(items[0]) == set(ERROR_SCHEMA)
    json.dumps(items, ensure_ascii=False)
    sci = next(i for i in items if i["rule"] == "excel_scientific")
    assert sci["value"] == "3.70303E+17" and sci["severity"] == "error"


@pytest.mark.parametrize("index", range(len(messy.messy_files())))
def test_a_path_gives_the_same_result_as_bytes(tmp_path, index):
    from polars.testing import assert_frame_equal

    file = messy.messy_files()[index]
    path = tmp_path / file.name
    path.write_bytes(file.data)
    spec = CategorySpec.from_files("CF")
    common = dict(
        receipt_date=messy.RECEIPT,
        allowed_source_usccs=messy.ALLOWED_SOURCES,
        workdays_between_many=weekdays_between,
    )
    from_bytes = run_engine(file.data, file.name, spec, **common)
    from_path = run_engine(path, file.name, spec, **common)
    assert from_path.sha256 == from_bytes.sha256 == hashlib.sha256(file.data).hexdigest()
    assert from_path.table.encoding == from_bytes.table.encoding
    assert_frame_equal(from_path.errors, from_bytes.errors)
    assert_frame_equal(from_path.accepted, from_bytes.accepted)
