"""Formula-safe spreadsheet cells (OWASP CSV injection): the helper, and the intake error report
(the other downloads are tested with their apps: checks batch results)."""

from __future__ import annotations

import datetime as dt

import polars as pl

from pubcredit.core.spreadsheets import formula_safe, formula_safe_frame


def test_formula_safe_prefixes_every_formula_start():
    assert formula_safe("=1+1") == "'=1+1"
    assert formula_safe("+86 138") == "'+86 138"
    assert formula_safe("-5") == "'-5"
    assert formula_safe("@SUM(A1)") == "'@SUM(A1)"
    assert formula_safe("\tx") == "'\tx"
    assert formula_safe("\rx") == "'\rx"
    assert formula_safe("淄博=公司") == "淄博=公司"
    assert formula_safe("") == ""
    assert formula_safe(None) is None
    assert formula_safe(-5) == -5  # numbers are not text cells


def test_formula_safe_frame_touches_text_columns_only():
    frame = pl.DataFrame(
        {
            "text": ["=cmd|' /C calc'!A0", "普通", None],
            "n": [-1, 2, 3],
            "day": [dt.date(2026, 1, 1)] * 3,
        }
    )
    out = formula_safe_frame(frame)
    assert out["text"].to_list() == ["'=cmd|' /C calc'!A0", "普通", None]
    assert out["n"].to_list() == [-1, 2, 3]
    assert out["day"].dtype == pl.Date


def test_intake_error_report_cells_are_inert(tmp_path):
    from python_calamine import CalamineWorkbook

    from pubcredit.intake.engine.pipeline import write_error_report_xlsx

    errors = pl.DataFrame(
        {
            "row": [2],
            "field": ["CF_XDR_MC"],
            "field_name": ["行政相对人名称"],
            "value": ['=HYPERLINK("http://evil.example/","x")'],
            "rule": ["required"],
            "message": ["@说明"],
            "severity": ["error"],
        }
    )
    path = write_error_report_xlsx(errors, tmp_path / "errors.xlsx")
    sheet = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python()
    assert sheet[1][3] == '\'=HYPERLINK("http://evil.example/","x")'
    assert sheet[1][5] == "'@说明"
