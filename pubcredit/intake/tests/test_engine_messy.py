"""The engine on messy files in every format and encoding: the exact verdict for every row."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest

from pubcredit.intake.engine import CategorySpec, run_engine
from pubcredit.intake.engine.reading import ROW
from pubcredit.intake.tests import messy


def weekdays_between(starts, ends):
    """Working days in (start, end] by weekday only (March 2024 has no holidays in China)."""
    starts = np.asarray(starts, dtype="datetime64[D]")
    ends = np.asarray(ends, dtype="datetime64[D]")
    return np.busday_count(starts + 1, ends + 1)


@pytest.fixture(scope="module")
def spec() -> CategorySpec:
    return CategorySpec.from_files("CF")


FILES = messy.messy_files()


def run(file: messy.MessyFile, spec: CategorySpec):
    return run_engine(
        file.data,
        file.name,
        spec,
        receipt_date=messy.RECEIPT,
        allowed_source_usccs=messy.ALLOWED_SOURCES,
        workdays_between_many=weekdays_between,
    )


@pytest.fixture(scope="module", params=FILES, ids=[f.name for f in FILES])
def outcome(request, spec):
    file = request.param
    return file, run(file, spec)


def _issues(errors: pl.DataFrame, severity: str) -> dict[int, set[tuple[str, str]]]:
    out: dict[int, set[tuple[str, str]]] = {}
    for row in errors.filter(pl.col("severity") == severity).iter_rows(named=True):
        out.setdefault(row["row"], set()).add((row["field"], row["rule"]))
    return out


def test_every_row_gets_exactly_the_expected_errors(outcome):
    file, result = outcome
    errors = _issues(result.errors, "error")
    for row, case in file.expected.items():
        assert errors.get(row, set()) == set(case.errors), (file.name, row, case.name)
    assert set(errors) <= set(file.expected), "errors on rows that hold no data"


def test_every_row_gets_exactly_the_expected_warnings(outcome):
    file, result = outcome
    warnings = _issues(result.errors, "warning")
    for row, case in file.expected.items():
        assert warnings.get(row, set()) == set(case.warnings), (file.name, row, case.name)


def test_counts(outcome):
    file, result = outcome
    cases = list(file.expected.values())
    assert result.rows == len(cases)  # title, header, blank and 序号-only rows not counted
    assert result.rejected == sum(1 for c in cases if c.errors)
    assert result.duplicates == sum(1 for c in cases if c.duplicate_of)
    assert result.accepted_count == result.rows - result.rejected
    assert result.accepted.height == result.accepted_count - result.duplicates
    assert result.late == sum(1 for c in cases if c.late and c.accepted)


def test_accepted_rows_are_exactly_the_good_ones(outcome):
    file, result = outcome
    expected = sorted(r for r, c in file.expected.items() if c.accepted and not c.duplicate_of)
    assert result.accepted.get_column(ROW).to_list() == expected


def test_cleaned_values(outcome):
    file, result = outcome
    by_row = {r[ROW]: r for r in result.accepted.iter_rows(named=True)}
    for row, case in file.expected.items():
        for code, value in case.clean.items():
            assert by_row[row][code] == value, (file.name, case.name, code)


def test_originals_are_kept_beside_cleaned_values(outcome):
    file, result = outcome
    row = next(r for r, c in file.expected.items() if c.name == "fullwidth_and_stray_spaces")
    got = result.accepted.filter(pl.col(ROW) == row).row(0, named=True)
    assert got["CF_WSH__original"] == "淄张市监罚〔２０２４〕２号"
    assert got["CF_WSH"] == "淄张市监罚〔2024〕2号"
    assert got["CF_XDR_MC__original"].startswith(" 淄博市张店区\u3000")


def test_late_flag_per_row(outcome):
    file, result = outcome
    late_rows = set(result.accepted.filter(pl.col("__late__")).get_column(ROW).to_list())
    assert late_rows == {r for r, c in file.expected.items() if c.late and c.accepted}


def test_file_facts_and_mapping(outcome):
    file, result = outcome
    assert result.table.header_row == file.header_row
    if file.sheet:
        assert result.table.sheet == file.sheet  # the instructions sheet is skipped
    if file.header_row:
        assert [s.reason for s in result.skipped_rows] == ["title", "blank"]
        assert result.extra_columns == messy.EXTRA_HEADERS
    else:
        assert result.extra_columns == ["XH", "NBBH"]
    methods = {m.field_code: m.method for m in result.mapping if m.field_code}
    mapped = {code for _h, code, _k in messy.COLUMNS if code}
    if not file.header_row:  # JSON: a key no object holds is no column (备注 is always empty)
        mapped = {c for case in messy.CASES for c, v in case.cells.items() if v not in ("", None)}
    assert set(methods) == mapped
    if file.header_row:
        for code, method in messy.EXPECTED_METHODS.items():
            assert methods[code] == method, code
    assert result.missing_columns == []


def test_conflicting_rows_name_each_other(outcome):
    file, result = outcome
    rows = {c.name: r for r, c in file.expected.items()}
    a, b = rows["conflict_a"], rows["conflict_b"]
    conflicts = result.errors.filter(pl.col("rule") == "conflict")
    message = dict(zip(conflicts["row"], conflicts["message"], strict=True))
    assert f"第 {b} 行" in message[a] and f"第 {a} 行" in message[b]


def test_duplicate_warning_names_the_first_row(outcome):
    file, result = outcome
    rows = {c.name: r for r, c in file.expected.items()}
    dup = result.errors.filter(pl.col("rule") == "duplicate").row(0, named=True)
    assert dup["row"] == rows["duplicate_of_clean_org"]
    assert f"第 {rows['clean_org']} 行" in dup["message"]


def test_messages_are_chinese_and_name_the_field(outcome):
    _file, result = outcome
    errors = result.errors.filter(pl.col("field") != "")
    for row in errors.iter_rows(named=True):
        assert row["field_name"] in row["message"], row
    sci = result.errors.filter(pl.col("rule") == "excel_scientific").row(0, named=True)
    assert sci["value"] == "3.70303E+17"
    assert (
        "被 Excel 转成了科学计数法(3.70303E+17),原值已丢失,请将该列设为文本后重新导出"
        in (sci["message"])
    )


def test_same_verdicts_in_every_format(spec):
    """Every format gives the same errors for the same cases (row numbers aside)."""
    verdicts = []
    for file in FILES:
        result = run(file, spec)
        by_case = {}
        for row, case in file.expected.items():
            part = result.errors.filter(pl.col("row") == row)
            by_case[case.name] = sorted(zip(part["field"], part["rule"], strict=True))
        verdicts.append(by_case)
    assert all(v == verdicts[0] for v in verdicts[1:])


def test_encodings_are_detected(spec):
    for file in FILES:
        if file.encoding and file.name.endswith(".csv"):
            result = run(file, spec)
            assert result.table.encoding == file.encoding, file.name


def test_receipt_date_matters(spec):
    file = messy.csv_file("utf8.csv")
    result = run_engine(
        file.data,
        file.name,
        spec,
        receipt_date=dt.date(2024, 4, 2),
        allowed_source_usccs=messy.ALLOWED_SOURCES,
        workdays_between_many=weekdays_between,
    )
    row = next(r for r, c in file.expected.items() if c.name == "decision_after_receipt")
    assert result.errors.filter((pl.col("row") == row) & (pl.col("severity") == "error")).is_empty()


def test_source_check_can_be_disabled(spec):
    file = messy.csv_file("utf8.csv")
    result = run_engine(
        file.data,
        file.name,
        spec,
        receipt_date=messy.RECEIPT,
        allowed_source_usccs=None,
        workdays_between_many=weekdays_between,
    )
    assert result.errors.filter(pl.col("rule") == "source_department").is_empty()


@pytest.mark.parametrize("mode", ["never", "always"])
def test_row_wise_and_distinct_cleaning_give_the_same_result(spec, monkeypatch, mode):
    from polars.testing import assert_frame_equal

    from pubcredit.intake.engine import cleaning

    for file in FILES:
        auto = run(file, spec)
        monkeypatch.setattr(cleaning, "DISTINCT_MODE", mode)
        other = run(file, spec)
        monkeypatch.setattr(cleaning, "DISTINCT_MODE", "auto")
        assert_frame_equal(auto.errors, other.errors)
        assert_frame_equal(auto.accepted, other.accepted.select(auto.accepted.columns))
