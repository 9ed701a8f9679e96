"""Spreadsheet cells that stay text (CSV / formula injection, OWASP).

Every .csv and .xlsx the platform writes for someone to download passes its text cells through
`formula_safe` (or a whole polars frame through `formula_safe_frame`): a text that a spreadsheet
would read as a formula or a DDE call, i.e. one starting with ``=``, ``+``, ``-``, ``@``, a tab
or a carriage return, is prefixed with a single quote ``'``, so it is shown as typed and never
evaluated. Numbers and dates are left alone (only text cells can carry a formula).
"""

from __future__ import annotations

import polars as pl

# The characters a spreadsheet may take as the start of a formula (OWASP "CSV Injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def formula_safe(value):
    """The value as a spreadsheet must store it: a text starting with one of FORMULA_STARTS gets
    a leading ``'``; anything else (other texts, numbers, None) is returned unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def formula_safe_frame(frame: pl.DataFrame) -> pl.DataFrame:
    """`frame` with `formula_safe` applied to every text column (vectorised)."""
    pattern = "^[=+\\-@\\t\\r]"
    return frame.with_columns(
        pl.when(pl.col(name).str.contains(pattern))
        .then(pl.lit("'") + pl.col(name))
        .otherwise(pl.col(name))
        .alias(name)
        for name, dtype in frame.schema.items()
        if dtype == pl.String
    )
