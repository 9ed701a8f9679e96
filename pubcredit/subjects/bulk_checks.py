"""Vectorised identifier checks for whole columns (intake of files with millions of rows).

The scalar validators in `pubcredit.core.identifiers` explain one value in full; these
functions give the same verdict (valid or not, and the expected check character) for a polars
Series at once. The arithmetic runs in numpy over an (n, 18) byte matrix that polars hands over without a
Python loop; the string rules that name a problem run only when some value fails.

Guarantee (tested against the scalar validators): for every string s,
``uscc_verdicts([s]).rule[0] is None`` exactly when ``check_uscc(s).valid``, and likewise for
`ric_verdicts` and `check_ric` (with the same `today`). The rule names the first problem in the
order the scalar validator lists them; `expected` is the correct 18th character when the only
problem is the check character.

Rule codes (stable, used in error reports):
  excel_scientific   "3.70303E+17": Excel turned the number into a float, digits are lost
  uscc_length        not 18 characters
  uscc_charset       a character outside 0-9 A-H J-N P-R T U W-Y
  uscc_authority     position 1 is not 1-9, A, N or Y
  uscc_region        positions 3-8 are not six digits
  uscc_checksum      the check character (position 18) is wrong
  ric_old15          a 15-digit pre-1999 number
  ric_length         not 18 characters
  ric_format         not 17 digits followed by a digit or X
  ric_birth_date     positions 7-14 are not a date between 1900-01-01 and today
  ric_checksum       the check character is wrong
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import numpy as np
import polars as pl

from pubcredit.core.identifiers import RIC_CHECK_CHARS, RIC_WEIGHTS, USCC_CHARSET, USCC_WEIGHTS

__all__ = [
    "IDENTIFIER_STRIP",
    "SCIENTIFIC",
    "byte_matrix",
    "normalize_identifier_expr",
    "ric_verdicts",
    "uscc_verdicts",
]

# What `identifiers.normalize_identifier` removes (besides whitespace): hyphens and dashes,
# the underscore and invisible characters.
IDENTIFIER_STRIP = r"[\s\-‐‑‒–—―−﹣_\u200b\u200c\u200d\u2060\ufeff]"
# The form Excel gives a long number it could not keep: "3.70303E+17", "3.70303199001011E17".
SCIENTIFIC = r"^[+-]?\d+(?:\.\d*)?E[+-]?\d+$"

_USCC_LUT = np.full(256, -1, dtype=np.int16)
for _i, _c in enumerate(USCC_CHARSET):
    _USCC_LUT[ord(_c)] = _i
_USCC_CHARS = np.frombuffer(USCC_CHARSET.encode("ascii"), dtype=np.uint8)
# Weights with a 0 for the check character (products and sums stay far below 2^15).
_USCC_W = np.array([*USCC_WEIGHTS, 0], dtype=np.int16)
_RIC_W = np.array([*RIC_WEIGHTS, 0], dtype=np.int16)
_RIC_CHARS = np.frombuffer(RIC_CHECK_CHARS.encode("ascii"), dtype=np.uint8)


def normalize_identifier_expr(expr: pl.Expr) -> pl.Expr:
    """The column form of `identifiers.normalize_identifier`: NFKC (full-width → half-width),
    all whitespace (inner too), hyphens and invisible characters removed, upper case; empty → null."""
    out = expr.str.normalize("NFKC").str.replace_all(IDENTIFIER_STRIP, "").str.to_uppercase()
    return pl.when(out.str.len_bytes() > 0).then(out)


def byte_matrix(values: pl.Series, width: int = 18) -> tuple[np.ndarray, np.ndarray]:
    """(matrix, ok): an (n, width) uint8 matrix of the values' UTF-8 bytes, and a boolean array
    saying which values are exactly `width` bytes long (the other rows of the matrix are zeros).
    No Python per value: polars reinterprets the bytes as a fixed-size array."""
    values = values.cast(pl.String)
    ok = (values.str.len_bytes() == width).fill_null(False)
    padded = (
        values.to_frame("v")
        .select(pl.when(ok).then("v").otherwise(pl.lit("\0" * width)))
        .to_series()
    )
    array = padded.cast(pl.Binary).bin.reinterpret(dtype=pl.Array(pl.UInt8, width)).to_numpy()
    matrix = np.ascontiguousarray(array, dtype=np.uint8).reshape(-1, width)
    return matrix, ok.to_numpy()


def _chars(codes: np.ndarray) -> pl.Series:
    """uint8 ASCII codes → a String series of one-character strings."""
    return pl.Series(codes.view("S1").astype("U1"), dtype=pl.String)


def _all_valid(n: int) -> pl.DataFrame:
    none = pl.repeat(None, n, dtype=pl.String, eager=True)
    return pl.DataFrame({"rule": none, "expected": none})


def _scatter(n: int, positions: np.ndarray, found: pl.DataFrame) -> pl.DataFrame:
    """Verdicts for `positions` → verdicts for all n values (None elsewhere)."""
    failing = found.get_column("rule").is_not_null().to_numpy()
    out = _all_valid(n)
    if not failing.any():
        return out
    positions, found = positions[failing], found.filter(pl.Series(failing))
    return pl.DataFrame(
        {c: out.get_column(c).scatter(positions, found.get_column(c)) for c in out.columns}
    )


def _low_cardinality(values: pl.Series) -> pl.Series | None:
    """The distinct values when a column is mostly repeats (处罚机关代码, 数据来源单位代码 are
    nearly constant in a file), else None. Decided on a sample so that a high-cardinality column
    pays nothing."""
    if values.len() < 20_000 or values.head(5_000).n_unique() > 50:
        return None
    distinct = values.unique()
    return distinct if distinct.len() <= 2_000 else None


def _by_distinct(values: pl.Series, check) -> pl.DataFrame:
    """check(values), computed on the distinct values first when that is cheaper: only the rows
    holding a distinct value that fails are checked again individually."""
    nulls = values.null_count()
    if nulls and nulls < values.len():
        # Check the filled cells only (a 证件号码 column is mostly empty in an organisations' file).
        positions = values.is_not_null().arg_true().to_numpy()
        return _scatter(values.len(), positions, _by_distinct(values.gather(positions), check))
    distinct = _low_cardinality(values)
    if distinct is None:
        return check(values)
    verdicts = check(distinct)
    failing = distinct.filter(verdicts.get_column("rule").is_not_null())
    if failing.len() == 0:
        return _all_valid(values.len())
    positions = values.is_in(failing.implode()).fill_null(False).arg_true().to_numpy()
    return _scatter(values.len(), positions, check(values.gather(positions)))


def uscc_verdicts(values: pl.Series) -> pl.DataFrame:
    """One row per value of `values` (already normalised, see `normalize_identifier_expr`) with
    `rule` (None when the value is a valid 统一社会信用代码, else the first problem's rule code)
    and `expected` (the correct check character when the rule is uscc_checksum). Null values get
    rule None: whether a value is required is not this function's business."""
    return _by_distinct(values.cast(pl.String), _uscc_verdicts)


def _uscc_verdicts(values: pl.Series) -> pl.DataFrame:
    matrix, ok18 = byte_matrix(values)
    codes = _USCC_LUT[matrix]  # the characters' values, -1 outside the character set
    charset_ok = ok18 & (codes.min(axis=1) >= 0)
    total = np.einsum("ij,j->i", codes, _USCC_W)
    expected = _USCC_CHARS[(31 - total % 31) % 31]
    checksum_ok = expected == matrix[:, 17]
    first = matrix[:, 0]
    authority_ok = ((first >= 49) & (first <= 57)) | (first == 65) | (first == 78) | (first == 89)
    region_ok = (matrix[:, 2:8] - 48).max(axis=1) <= 9  # uint8: bytes below "0" wrap around
    fast_ok = charset_ok & authority_ok & region_ok & checksum_ok
    nulls = values.is_null().to_numpy()
    if values.len() == 0 or (fast_ok | nulls).all():
        return _all_valid(values.len())
    bad = np.flatnonzero(~(fast_ok | nulls))
    s = pl.col("value")
    frame = pl.DataFrame(
        {
            "value": values.cast(pl.String).gather(bad),
            "checksum_ok": checksum_ok[bad],
            "expected": _chars(expected[bad]),
        }
    )
    rule = (
        pl.when(s.str.contains(SCIENTIFIC))
        .then(pl.lit("excel_scientific"))
        .when(s.str.len_chars() != 18)
        .then(pl.lit("uscc_length"))
        .when(~s.str.contains(r"^[0-9A-HJ-NPQRTUWXY]+$"))
        .then(pl.lit("uscc_charset"))
        .when(~s.str.slice(0, 1).is_in(list("123456789ANY")))
        .then(pl.lit("uscc_authority"))
        .when(~s.str.slice(2, 6).str.contains(r"^[0-9]{6}$"))
        .then(pl.lit("uscc_region"))
        .when(~pl.col("checksum_ok"))
        .then(pl.lit("uscc_checksum"))
    )
    found = frame.select(
        rule=rule, expected=pl.when(rule == "uscc_checksum").then(pl.col("expected"))
    )
    return _scatter(values.len(), bad, found)


def _today() -> dt.date:
    return dt.datetime.now(ZoneInfo("Asia/Shanghai")).date()


_MONTH_DAYS = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])


def ric_verdicts(values: pl.Series, today: dt.date | None = None) -> pl.DataFrame:
    """One row per value of `values` (already normalised) with `rule` (None when the value is a
    valid 18-digit 居民身份证号码: format, birth date between 1900-01-01 and `today`, check
    character) and `expected` (the correct check character when the rule is ric_checksum).
    The address code is not checked (an unknown region is advice, not an error)."""
    today = today or _today()
    return _by_distinct(values.cast(pl.String), lambda v: _ric_verdicts(v, today))


def _ric_verdicts(values: pl.Series, today: dt.date) -> pl.DataFrame:
    matrix, ok18 = byte_matrix(values)
    digits = matrix.astype(np.int16) - 48
    is_digit = (digits >= 0) & (digits <= 9)
    format_ok = ok18 & is_digit[:, :17].all(axis=1) & (is_digit[:, 17] | (matrix[:, 17] == 88))
    total = np.einsum("ij,j->i", digits, _RIC_W)
    expected = _RIC_CHARS[total % 11]
    checksum_ok = expected == matrix[:, 17]
    d = digits[:, 6:14].astype(np.int32)
    year = d[:, 0] * 1000 + d[:, 1] * 100 + d[:, 2] * 10 + d[:, 3]
    month = d[:, 4] * 10 + d[:, 5]
    day = d[:, 6] * 10 + d[:, 7]
    leap = ((year % 4 == 0) & (year % 100 != 0)) | (year % 400 == 0)
    last = _MONTH_DAYS[np.clip(month, 0, 12)] + ((month == 2) & leap)
    ymd = year * 10000 + month * 100 + day
    born_ok = (
        (month >= 1)
        & (month <= 12)
        & (day >= 1)
        & (day <= last)
        & (year >= 1900)
        & (ymd <= today.year * 10000 + today.month * 100 + today.day)
    )
    fast_ok = format_ok & born_ok & checksum_ok
    nulls = values.is_null().to_numpy()
    if values.len() == 0 or (fast_ok | nulls).all():
        return _all_valid(values.len())
    bad = np.flatnonzero(~(fast_ok | nulls))
    s = pl.col("value")
    frame = pl.DataFrame(
        {
            "value": values.cast(pl.String).gather(bad),
            "format_ok": format_ok[bad],
            "born_ok": born_ok[bad],
            "checksum_ok": checksum_ok[bad],
            "expected": _chars(expected[bad]),
        }
    )
    rule = (
        pl.when(s.str.contains(SCIENTIFIC))
        .then(pl.lit("excel_scientific"))
        .when(s.str.contains(r"^[0-9]{15}$"))
        .then(pl.lit("ric_old15"))
        .when(s.str.len_chars() != 18)
        .then(pl.lit("ric_length"))
        .when(~pl.col("format_ok"))
        .then(pl.lit("ric_format"))
        .when(~pl.col("born_ok"))
        .then(pl.lit("ric_birth_date"))
        .when(~pl.col("checksum_ok"))
        .then(pl.lit("ric_checksum"))
    )
    found = frame.select(
        rule=rule, expected=pl.when(rule == "ric_checksum").then(pl.col("expected"))
    )
    return _scatter(values.len(), bad, found)
