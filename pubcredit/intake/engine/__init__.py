"""The intake engine: a department's file → clean, validated rows and a precise error list.

Pure and vectorised (polars); no database writes. See pubcredit/intake/README.md for the
interfaces the intake services build on.
"""

from pubcredit.intake.engine.mapping import ColumnMatch, auto_map
from pubcredit.intake.engine.pipeline import (
    EngineResult,
    errors_as_json,
    run_engine,
    write_error_report_xlsx,
)
from pubcredit.intake.engine.reading import RawTable, UnreadableFile, read_table
from pubcredit.intake.engine.spec import CategorySpec, CodeListSpec, FieldSpec
from pubcredit.intake.engine.validation import ERROR_SCHEMA

__all__ = [
    "ERROR_SCHEMA",
    "CategorySpec",
    "CodeListSpec",
    "ColumnMatch",
    "EngineResult",
    "FieldSpec",
    "RawTable",
    "UnreadableFile",
    "auto_map",
    "errors_as_json",
    "read_table",
    "run_engine",
    "write_error_report_xlsx",
]
