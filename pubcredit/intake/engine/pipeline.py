"""The intake engine end to end: file → read → map → clean → validate → result.

`run_engine` touches the database only for the working-day calendar (the `late` count) and,
through `CategorySpec.from_db`, for the catalogue if the caller did not pass a spec. It writes
nothing: the caller (intake services) stores the submission, its errors and the records.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import time
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import polars as pl
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from pubcredit.core.spreadsheets import formula_safe
from pubcredit.intake.engine.cleaning import clean_frame
from pubcredit.intake.engine.mapping import ColumnMatch, auto_map
from pubcredit.intake.engine.reading import RawTable, SkippedRow
from pubcredit.intake.engine.spec import CategorySpec
from pubcredit.intake.engine.untrusted import SpecHeaderScore, read_untrusted
from pubcredit.intake.engine.validation import ERROR_SCHEMA, validate

__all__ = [
    "LATE",
    "LATE_AFTER_WORKDAYS",
    "EngineResult",
    "cap_errors",
    "error_totals",
    "errors_as_json",
    "run_engine",
    "write_error_report_xlsx",
]

# 双公示: online within 7 working days of the decision.
LATE_AFTER_WORKDAYS = 7
LATE = "__late__"


@dataclass
class EngineResult:
    """What the engine made of one file.

    rows        data rows read (title, header, sub-header and blank rows excluded)
    accepted    the accepted rows, one per distinct content: `__row__`, `__late__` (Boolean:
                decision date more than 7 working days before receipt), then for every mapped
                field F the clean value F and the original cell F__original (fields without a
                column in the file are absent)
    accepted_count  rows whose content is accepted, including `duplicates`
    rejected    rows with at least one error; rows == accepted_count + rejected
    duplicates  rows identical to an earlier row of the file, collapsed into it
    errors      ERROR_SCHEMA frame: row, field, field_name, value, rule, message, severity
                ("error" or "warning"), sorted by row
    late        rows of `accepted` whose decision date is more than 7 working days before the
                receipt date
    """

    rows: int
    accepted: pl.DataFrame
    accepted_count: int
    rejected: int
    duplicates: int
    errors: pl.DataFrame
    mapping: list[ColumnMatch]
    extra_columns: list[str]
    missing_columns: list[str]
    late: int
    sha256: str
    table: RawTable
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def error_count(self) -> int:
        return int((self.errors["severity"] == "error").sum())

    @property
    def warnings(self) -> int:
        return int((self.errors["severity"] == "warning").sum())

    @property
    def skipped_rows(self) -> list[SkippedRow]:
        return self.table.skipped_rows

    def summary(self) -> dict:
        """Counts and file facts as plain JSON-ready values."""
        return {
            "rows": self.rows,
            "accepted": self.accepted_count,
            "rejected": self.rejected,
            "duplicates": self.duplicates,
            "late": self.late,
            "errors": self.error_count,
            "warnings": self.warnings,
            "sha256": self.sha256,
            "format": self.table.format,
            "sheet": self.table.sheet,
            "encoding": self.table.encoding,
            "header_row": self.table.header_row,
            "extra_columns": self.extra_columns,
            "missing_columns": self.missing_columns,
            "mapping": [m.as_dict() for m in self.mapping],
            "timings": {k: round(v, 4) for k, v in self.timings.items()},
        }


def _late_flags(
    frame: pl.DataFrame,
    spec: CategorySpec,
    receipt_date: dt.date,
    workdays_between_many: Callable | None,
) -> pl.Series:
    """Per accepted row: is the decision date more than 7 working days before receipt?"""
    decision = spec.by_role("decision_date")
    if decision is None or decision.code not in frame.columns or frame.height == 0:
        return pl.repeat(False, frame.height, dtype=pl.Boolean, eager=True).alias(LATE)
    if workdays_between_many is None:
        # The engine is pure (no database); only a caller that passes no calendar gets the
        # holiday table's, so the holidays app (models, Django) is imported only then.
        from pubcredit.holidays.services import workdays_between_many
    # Distinct decision dates only: a file has a few hundred, not a million.
    dates = frame.get_column(decision.code)
    distinct = dates.drop_nulls().unique()
    if distinct.len() == 0:
        return pl.repeat(False, frame.height, dtype=pl.Boolean, eager=True).alias(LATE)
    starts = distinct.to_numpy().astype("datetime64[D]")
    ends = np.full(starts.shape, np.datetime64(receipt_date, "D"))
    late = workdays_between_many(starts, ends) > LATE_AFTER_WORKDAYS
    late_dates = distinct.filter(pl.Series(late))
    return dates.is_in(late_dates.implode()).fill_null(False).alias(LATE)


def _sha256(source: bytes | Path) -> str:
    digest = hashlib.sha256()
    if isinstance(source, Path):
        with open(source, "rb") as fh:
            while chunk := fh.read(1 << 20):
                digest.update(chunk)
    else:
        digest.update(source)
    return digest.hexdigest()


def run_engine(
    source: bytes | Path | str,
    filename: str,
    spec: CategorySpec | str,
    *,
    receipt_date: dt.date,
    allowed_source_usccs: Iterable[str] | None,
    saved_mapping: Mapping[str, str | None] | None = None,
    mapping_override: Mapping[str, str | None] | None = None,
    workdays_between_many: Callable | None = None,
    sha256: str | None = None,
    read_usage: dict | None = None,
) -> EngineResult:
    """Read, map, clean and validate one file for category `spec` (a CategorySpec or a code).

        Pass the file as a Path when it is on disk: a CSV is then parsed straight from the file and
        its bytes are never held in memory (a 1,000,000-row file stays well under 2 GB).
        `saved_mapping` is the department's saved header → field code (None: ignore the column)
        mapping; `mapping_override` the one the clerk just confirmed on the mapping screen (it wins
        over the saved one). `sha256`: the file's hash when the caller has it already (else it is
        computed while the file is parsed). `read_usage`, when given, receives the reading child's
    seconds, peak memory and outcome (`read_untrusted`). `allowed_source_usccs`: the submitting department's USCC and those it
        may submit for (None disables the check). Raises `UnreadableFile` for a file that cannot be
        read; every other problem is reported per row in `errors`.
    """
    timings: dict[str, float] = {}
    started = time.perf_counter()
    if isinstance(spec, str):
        spec = CategorySpec.from_db(spec)
    source = Path(source) if isinstance(source, str) else source
    saved = dict(saved_mapping or {})
    saved.update(mapping_override or {})

    t = time.perf_counter()
    # The file's hash is computed in a thread while polars parses it (both release the GIL).
    if sha256 is None:
        with ThreadPoolExecutor(max_workers=1) as pool:
            digest = pool.submit(_sha256, source)
            table = read_untrusted(
                source, filename, header_score=SpecHeaderScore(spec, saved), usage=read_usage
            )
            sha256 = digest.result()
    else:  # the caller stored the file and knows its hash
        table = read_untrusted(
            source, filename, header_score=SpecHeaderScore(spec, saved), usage=read_usage
        )
    timings["read"] = time.perf_counter() - t

    t = time.perf_counter()
    mapping = auto_map(
        table.headers, spec, saved, columns=table.columns, subheaders=table.subheaders
    )
    mapped = {m.field_code for m in mapping if m.field_code}
    extra = [m.header or m.column for m in mapping if m.field_code is None]
    missing = [f.code for f in spec.fields if f.requirement == "required" and f.code not in mapped]
    timings["map"] = time.perf_counter() - t

    t = time.perf_counter()
    cleaned = clean_frame(table.frame, mapping, spec)
    # A row with nothing in any mapped column (e.g. only a 序号) is blank, not a data row.
    mapped_cols = [m.field_code for m in mapping if m.field_code]
    if mapped_cols:
        keep = cleaned.select(
            pl.any_horizontal(
                [
                    (pl.col(c).list.len() > 0).fill_null(False)
                    if cleaned.schema[c] == pl.List(pl.String)
                    else pl.col(c).is_not_null()
                    for c in mapped_cols
                ]
                + [
                    pl.col(f"{c}__issue").is_not_null()
                    for c in mapped_cols
                    if f"{c}__issue" in cleaned.columns
                ]
            )
        ).to_series()
        if not keep.all():  # copy the table only when there is something to drop
            cleaned = cleaned.filter(keep)
    else:
        cleaned = cleaned.clear()
    timings["clean"] = time.perf_counter() - t

    t = time.perf_counter()
    result = validate(
        cleaned, spec, receipt_date=receipt_date, allowed_source_usccs=allowed_source_usccs
    )
    timings["validate"] = time.perf_counter() - t

    t = time.perf_counter()
    flags = _late_flags(result.accepted_frame, spec, receipt_date, workdays_between_many)
    accepted = result.accepted_frame.insert_column(1, flags)
    timings["late"] = time.perf_counter() - t
    timings["total"] = time.perf_counter() - started

    return EngineResult(
        rows=result.rows,
        accepted=accepted,
        accepted_count=result.accepted,
        rejected=result.rejected,
        duplicates=result.duplicates,
        errors=redact_messages(result.errors),
        mapping=mapping,
        extra_columns=extra,
        missing_columns=missing,
        late=int(flags.sum()),
        sha256=sha256,
        table=table,
        timings=timings,
    )


# --------------------------------------------------------------------------- error reports

_REPORT_HEADERS = {
    "row": gettext_noop("行号"),
    "field": gettext_noop("字段编码"),
    "field_name": gettext_noop("字段"),
    "value": gettext_noop("原始值"),
    "rule": gettext_noop("规则"),
    "message": gettext_noop("说明"),
    "severity": gettext_noop("级别"),
}
_SEVERITY = {"error": gettext_noop("错误"), "warning": gettext_noop("警告")}


# 17 digits and a check character standing alone (ASCII boundaries: a Chinese character next to
# it is a boundary): what a 身份证号 looks like wherever a clerk typed it.
_ID_IN_TEXT = r"(?-u:\b)(\d{6})\d{8}(\d{3}[\dXx])(?-u:\b)"


def redact_messages(errors: pl.DataFrame) -> pl.DataFrame:
    """The errors with anything that looks like a 身份证号 in a message masked (first 6 + last
    4): a last line of defence behind the masked quoting of 证件号码 cells (validation), for a
    number typed into another field and quoted from there."""
    if errors.height == 0:
        return errors
    return errors.with_columns(pl.col("message").str.replace_all(_ID_IN_TEXT, "${1}********${2}"))


def error_totals(errors: pl.DataFrame) -> list[dict]:
    """How many errors and warnings each rule of each field found: [{field, field_name, rule,
    severity, count}], errors first, then by count (largest first), field and rule."""
    if errors.height == 0:
        return []
    counted = (
        errors.group_by("field", "field_name", "rule", "severity")
        .agg(pl.len().cast(pl.Int64).alias("count"))
        .with_columns(pl.col("field", "field_name", "rule", "severity").fill_null(""))
        .sort(
            [pl.col("severity") != "error", "count", "field", "rule"],
            descending=[False, True, False, False],
        )
    )
    return counted.to_dicts()


def cap_errors(errors: pl.DataFrame | None, limit: int | None) -> tuple[pl.DataFrame, list[dict]]:
    """(the first `limit` problems in file order, the totals per rule over all of them): what a
    submission keeps when a file has far more problems than anyone will read."""
    if errors is None:
        errors = pl.DataFrame(schema=ERROR_SCHEMA)
    totals = error_totals(errors)
    if limit is not None and errors.height > limit:
        errors = errors.head(max(limit, 0))
    return errors, totals


def errors_as_json(errors: pl.DataFrame) -> list[dict]:
    """The error frame as a JSON-ready list of {row, field, field_name, value, rule, message,
    severity}."""
    return errors.select(*ERROR_SCHEMA).to_dicts()


def write_error_report_xlsx(
    errors: pl.DataFrame,
    path: Path | str,
    *,
    totals: list[dict] | None = None,
    note: str = "",
) -> Path:
    """Write the error report a clerk gets back: one sheet, one line per problem (行号 as the
    clerk sees it in the file, 字段, 原始值, 规则, 说明, 级别), header frozen and filtered;
    with `totals` (error_totals) a second sheet 汇总 counts the problems per rule, under
    `note` (e.g. that only the first 10,000 were kept). Uses xlsxwriter directly (constant
    memory mode, so a million errors stay cheap)."""
    import xlsxwriter  # only a file with errors needs it: not imported with the engine

    path = Path(path)
    workbook = xlsxwriter.Workbook(
        str(path), {"constant_memory": True, "strings_to_numbers": False}
    )
    try:
        sheet = workbook.add_worksheet(_("错误报告"))
        bold = workbook.add_format({"bold": True, "bg_color": "#F2F2F2", "border": 1})
        wrap = workbook.add_format({"text_wrap": True, "valign": "top"})
        headers = [_(_REPORT_HEADERS[c]) for c in ERROR_SCHEMA]
        widths = [8, 16, 24, 28, 18, 60, 8]
        for i, (text, width) in enumerate(zip(headers, widths, strict=True)):
            sheet.write_string(0, i, text, bold)
            sheet.set_column(i, i, width, wrap if i == 5 else None)
        for r, row in enumerate(errors.select(*ERROR_SCHEMA).iter_rows(), start=1):
            sheet.write_number(r, 0, row[0])
            for c in range(1, 7):
                value = row[c]
                if c == 6:
                    value = _(_SEVERITY.get(value, value or ""))
                sheet.write_string(r, c, formula_safe("" if value is None else str(value)))
        sheet.freeze_panes(1, 0)
        sheet.autofilter(0, 0, max(errors.height, 1), len(headers) - 1)
        if totals is not None:
            _write_totals(workbook, bold, totals, note)
    finally:
        workbook.close()
    return path


def _write_totals(workbook, bold, totals: list[dict], note: str) -> None:
    sheet = workbook.add_worksheet(_("汇总"))
    first = 0
    if note:
        sheet.write_string(0, 0, note)
        first = 2
    headers = [_("字段编码"), _("字段"), _("规则"), _("级别"), _("条数")]
    for i, (text, width) in enumerate(zip(headers, [16, 24, 18, 8, 10], strict=True)):
        sheet.write_string(first, i, text, bold)
        sheet.set_column(i, i, width)
    for r, t in enumerate(totals, start=first + 1):
        sheet.write_string(r, 0, t["field"] or "")
        sheet.write_string(r, 1, t["field_name"] or "")
        sheet.write_string(r, 2, t["rule"] or "")
        sheet.write_string(r, 3, _(_SEVERITY.get(t["severity"], t["severity"] or "")))
        sheet.write_number(r, 4, t["count"])
