"""Per-field normalisers: a column of text cells → a column of clean, typed values.

Each field type has one normaliser working on a whole polars Series. They share a shape that keeps
large files fast: a cheap vectorised test finds the cells that are already clean (in a typical
file almost all of them) and the expensive path (NFKC, regular-expression rewriting, the lenient
date grammar, code-list lookups in Python) runs only on the others, whose results are scattered
back. Columns are cleaned in parallel threads (polars releases the GIL).

Output of `clean_frame`, for every mapped field F:
  F          the clean value: String (string, text, uscc, id_number, single-value code; canonical
             code-list value), List(String) (multi-value code, e.g. 处罚类别), Date (date),
             String canonical decimal text such as "0.2" (decimal, in the field's unit: 万元),
             Int64 (integer). Null when the cell is empty or could not be understood.
  F__original  the cell exactly as read (None for an empty cell).
  F__issue   why a non-empty cell could not be cleaned (a rule code: date_format,
             amount_format, integer_format, code_value), or a warning about a change the
             cleaning made (amount_unit_converted); null otherwise.
  F__detail  text for the message of F__issue (the unknown code values, the converted amount).
Fields without a column in the file get no columns at all.

Decisions, documented for clerks and reviewers:
- string fields: NFKC (full-width letters, digits and brackets → half-width), whitespace and line
  breaks collapsed to one space, trimmed, and spaces between two Chinese characters removed
  ("张 三" → "张三"); text fields (long prose): no NFKC (Chinese punctuation is kept), runs of
  spaces collapsed, blank lines removed, trimmed; identifiers: NFKC, all whitespace and hyphens
  removed, upper case.
- dates: 2024-03-05, 2024/3/5, 2024.03.05, 2024年3月5日, 20240305, with or without a time part
  ("2024-03-05 10:30:00"), and Excel serial numbers 10000–99999 (1927-05-18 … 2173-10-14; a
  four-digit number is never taken for a date); years 1900–9999. For a field with role valid_to,
  长期/长期有效/永久/永久有效/无固定期限 mean 2099-12-31.
- amounts (万元): digits with an optional decimal point; thousands separators ("2,000"), a
  trailing 万元/万 and a leading ¥ are removed; a trailing 元 converts yuan to 万元 (2000元 → 0.2)
  with a warning; a sign is kept so that validation can reject negatives; anything else
  (scientific notation, words, several numbers) is an amount_format error.
- code lists: exactly as `catalog.models.CodeList.normalise` (synonyms such as pre-2021 penalty
  type names map to the 2021 names; several values separated by ；;、,,/| for multi-value lists;
  "其他-…" where allowed).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import polars as pl

from pubcredit.catalog.headers import normalise_value
from pubcredit.intake.engine.mapping import ColumnMatch
from pubcredit.intake.engine.reading import ROW
from pubcredit.intake.engine.spec import CategorySpec, FieldSpec
from pubcredit.subjects.bulk_checks import IDENTIFIER_STRIP, byte_matrix

__all__ = [
    "LONG_TERM",
    "clean_amounts",
    "clean_codes",
    "clean_dates",
    "clean_frame",
    "clean_identifiers",
    "clean_integers",
    "clean_strings",
    "clean_texts",
    "detail_col",
    "issue_col",
    "orig_col",
    "unwrap_excel_text",
]

LONG_TERM = dt.date(2099, 12, 31)
# Bytes allowed in a clean identifier: 0-9 and A-Z.
_ALNUM = np.zeros(256, dtype=bool)
_ALNUM[48:58] = True
_ALNUM[65:91] = True
_LONG_TERM_WORDS = ["长期", "长期有效", "永久", "永久有效", "无固定期限", "无期限"]

# Characters NFKC leaves alone (checked): printable ASCII and space, CJK unified ideographs,
# common CJK and general punctuation. A cell made only of these needs no NFKC.
_NFKC_STABLE = (
    r"\x20-\x7E\u4E00-\u9FFF\u3001-\u3035\u3037\u2010\u2012-\u2016\u2018-\u2023\u2027\u00B7"
)
_STRING_NEEDS_WORK = rf"[^{_NFKC_STABLE}]|^ | $|  |\p{{Han}} +\p{{Han}}"
# Whitespace other than single spaces (a literal class: much faster than [^\S ]).
_TEXT_WHITESPACE = r"[\t\n\r\x0b\x0c\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]|  "

_YMD = (
    r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?"
    r"(?:(?:\s+|T)(?:[01]?\d|2[0-3]):[0-5]\d(?::[0-5]\d(?:\.\d+)?)?)?$"
)
_COMPACT = r"^(\d{4})(\d{2})(\d{2})$"
_SERIAL = r"^(\d{5})(?:\.\d+)?$"
_EXCEL_EPOCH = dt.date(1899, 12, 30)


def orig_col(code: str) -> str:
    return f"{code}__original"


def issue_col(code: str) -> str:
    return f"{code}__issue"


def detail_col(code: str) -> str:
    return f"{code}__detail"


def _patch(
    clean: pl.Series, mask: pl.Series, fn: Callable[[pl.Series], pl.Series], source: pl.Series
) -> pl.Series:
    """`clean` with the positions where `mask` holds replaced by fn(source at those positions)."""
    idx = mask.fill_null(False).arg_true()
    if idx.len() == 0:
        return clean
    return clean.clone().scatter(idx, fn(source.gather(idx)).cast(clean.dtype))


def _nulls(n: int, dtype) -> pl.Series:
    return pl.repeat(None, n, dtype=dtype, eager=True)


def _select(s: pl.Series, expr: pl.Expr) -> pl.Series:
    """expr evaluated with pl.col("v") bound to s."""
    return s.to_frame("v").select(expr.alias("v")).to_series()


def _non_empty(expr: pl.Expr) -> pl.Expr:
    return pl.when(expr.str.len_bytes() > 0).then(expr)


# --------------------------------------------------------------------------- distinct values

# How the cleaners run: "auto" computes on the distinct values of a column when a sample shows
# it is mostly repeats (dates, code values, authority names and codes usually are), "never" and
# "always" force one way (tests check both give the same result).
DISTINCT_MODE = "auto"
_SAMPLE = 5_000


def _distinct_values(raw: pl.Series) -> pl.Series | None:
    mode = DISTINCT_MODE
    if mode == "never":
        return None
    if mode == "auto" and raw.len() > 2 * _SAMPLE:
        if raw.head(_SAMPLE).n_unique() > _SAMPLE // 10:
            return None
    distinct = raw.drop_nulls().unique()
    if mode == "auto" and distinct.len() > max(raw.len() // 4, 1_000):
        return None
    return distinct


def _by_distinct(raw: pl.Series, impl) -> dict[str, pl.Series | None]:
    """impl(series) → {"clean": …, "issue": …, "detail": …} (aligned Series or None), computed
    on the distinct values when that is cheaper and mapped back. A "clean" that equals the input
    is returned as the input itself (no copy); all-null issue/detail columns become None. An
    empty string counts as an empty cell (null)."""
    if (raw.str.len_bytes() == 0).any():
        raw = _select(raw, _non_empty(pl.col("v")))
    distinct = _distinct_values(raw)
    nulls = raw.null_count()
    if distinct is None and DISTINCT_MODE == "auto" and nulls > raw.len() // 2:
        # A mostly empty column (证件号码 in a file of organisations): clean the filled cells.
        positions = raw.is_not_null().arg_true()
        filled = raw.gather(positions)
        result = {}
        for name, series in _by_distinct(filled, impl).items():
            if series is None or (name == "clean" and series is filled):
                result[name] = raw if series is not None else None
            else:
                result[name] = _nulls(raw.len(), series.dtype).scatter(positions, series)
        return result
    if distinct is None:
        out = impl(raw)
        result = {}
        for name, series in out.items():
            if series is None or (name != "clean" and series.null_count() == series.len()):
                result[name] = None
            else:
                result[name] = series
        return result
    out = impl(distinct)
    result = {}
    for name, series in out.items():
        if series is None or (name != "clean" and series.null_count() == series.len()):
            result[name] = None
        elif name == "clean" and series.dtype == raw.dtype:
            result[name] = _map_changes(raw, distinct, series)
        elif name == "clean":
            result[name] = raw.replace_strict(
                distinct, series, default=None, return_dtype=series.dtype
            )
        else:
            result[name] = _map_sparse(raw, distinct, series)
    return result


def _map_changes(raw: pl.Series, distinct: pl.Series, clean: pl.Series) -> pl.Series:
    """Per-distinct clean values → per row, touching only the rows whose value changed."""
    changed = ~clean.eq_missing(distinct)
    if not changed.any():
        return raw
    old, new = distinct.filter(changed), clean.filter(changed)
    positions = raw.is_in(old.implode()).arg_true()
    if positions.len() > raw.len() // 2:
        return raw.replace_strict(distinct, clean, default=None, return_dtype=clean.dtype)
    replaced = raw.gather(positions).replace_strict(old, new, return_dtype=clean.dtype)
    return raw.clone().scatter(positions, replaced)


def _map_sparse(raw: pl.Series, distinct: pl.Series, values: pl.Series) -> pl.Series:
    """Per-distinct, mostly null values (issues) → per row, touching only the rows concerned."""
    has = values.is_not_null()
    old, new = distinct.filter(has), values.filter(has)
    positions = raw.is_in(old.implode()).arg_true()
    replaced = raw.gather(positions).replace_strict(old, new, return_dtype=values.dtype)
    return _nulls(raw.len(), values.dtype).scatter(positions, replaced)


def _full(result: dict, name: str, n: int, dtype=pl.String) -> pl.Series:
    series = result.get(name)
    return _nulls(n, dtype) if series is None else series


# --------------------------------------------------------------------------- text


def _strings(raw: pl.Series) -> dict:
    def slow(s: pl.Series) -> pl.Series:
        f = pl.col("v").str.normalize("NFKC").str.replace_all(r"\s+", " ").str.strip_chars()
        f = f.str.replace_all(r"(\p{Han}) +(\p{Han})", "$1$2")
        f = f.str.replace_all(r"(\p{Han}) +(\p{Han})", "$1$2")  # overlapping pairs: 张 三 丰
        return _select(s, _non_empty(f))

    return {"clean": _patch(raw, raw.str.contains(_STRING_NEEDS_WORK), slow, raw)}


def clean_strings(raw: pl.Series) -> pl.Series:
    """Short strings (names, document numbers): NFKC, whitespace collapsed and trimmed, spaces
    between Chinese characters removed; empty → null."""
    return _by_distinct(raw, _strings)["clean"]


def _texts(raw: pl.Series) -> dict:
    def slow(s: pl.Series) -> pl.Series:
        f = (
            pl.col("v")
            .str.replace_all(r"\r\n?", "\n")
            .str.replace_all(r"[^\S\n]+", " ")
            .str.replace_all(r" ?\n\s*", "\n")
            .str.strip_chars()
        )
        return _select(s, _non_empty(f))

    needs = raw.str.contains(_TEXT_WHITESPACE) | raw.str.starts_with(" ") | raw.str.ends_with(" ")
    return {"clean": _patch(raw, needs, slow, raw)}


def clean_texts(raw: pl.Series) -> pl.Series:
    """Long prose: runs of spaces collapsed to one, line breaks kept but blank lines removed,
    trimmed; no NFKC (Chinese punctuation stays); empty → null."""
    return _by_distinct(raw, _texts)["clean"]


def _identifiers(raw: pl.Series) -> dict:
    def slow(s: pl.Series) -> pl.Series:
        f = (
            pl.col("v")
            .str.normalize("NFKC")
            .str.replace_all(IDENTIFIER_STRIP, "")
            .str.to_uppercase()
        )
        return _select(s, _non_empty(f))

    # 18 bytes of digits and capital letters (a typical USCC or 身份证号) are clean: checked in
    # numpy; every other filled cell goes through the slow path (rare: passports, typos).
    matrix, ok18 = byte_matrix(raw)
    clean18 = ok18 & _ALNUM[matrix].all(axis=1)
    todo = raw.is_not_null() & ~pl.Series(clean18)
    return {"clean": _patch(raw, todo, slow, raw)}


def clean_identifiers(raw: pl.Series) -> pl.Series:
    """USCC / ID numbers: NFKC, every whitespace, hyphen and invisible character removed, upper
    case; empty → null."""
    return _by_distinct(raw, _identifiers)["clean"]


# --------------------------------------------------------------------------- dates


def _parse_dates_lenient(s: pl.Series, long_term: bool) -> pl.Series:
    t = pl.col("v").str.normalize("NFKC").str.strip_chars()
    ymd = t.str.extract_groups(_YMD)
    compact = t.str.extract_groups(_COMPACT)
    y = pl.coalesce(ymd.struct.field("1"), compact.struct.field("1"))
    m = pl.coalesce(ymd.struct.field("2"), compact.struct.field("2"))
    d = pl.coalesce(ymd.struct.field("3"), compact.struct.field("3"))
    text = pl.concat_str([y, pl.lit("-"), m.str.zfill(2), pl.lit("-"), d.str.zfill(2)])
    parsed = text.str.to_date("%Y-%m-%d", strict=False)
    serial = t.str.extract(_SERIAL, 1).cast(pl.Int64, strict=False)
    from_serial = pl.lit(_EXCEL_EPOCH) + pl.duration(days=serial)
    out = pl.coalesce(parsed, pl.when(serial.is_not_null()).then(from_serial).cast(pl.Date))
    if long_term:
        words = t.str.replace_all(r"\s+", "")
        out = pl.when(words.is_in(_LONG_TERM_WORDS)).then(pl.lit(LONG_TERM)).otherwise(out)
    return _select(s, pl.when(out.dt.year().is_between(1900, 9999)).then(out))


def _dates(raw: pl.Series, long_term: bool) -> dict:
    fast = _select(raw, pl.col("v").str.to_date("%Y-%m-%d", strict=False))
    fast = _select(fast, pl.when(pl.col("v").dt.year().is_between(1900, 9999)).then("v"))
    todo = raw.is_not_null() & fast.is_null()
    dates = _patch(fast, todo, lambda s: _parse_dates_lenient(s, long_term), raw)
    bad = raw.is_not_null() & dates.is_null() & raw.str.contains(r"\S")
    return {
        "clean": dates,
        "issue": pl.select(pl.when(bad).then(pl.lit("date_format"))).to_series(),
    }


def clean_dates(raw: pl.Series, *, long_term: bool = False) -> tuple[pl.Series, pl.Series]:
    """(dates, issue): ISO text is parsed directly; other cells go through the lenient grammar
    described in the module docstring. issue is "date_format" for a non-empty cell that is not a
    date."""
    result = _by_distinct(raw, lambda s: _dates(s, long_term))
    return _full(result, "clean", raw.len(), pl.Date), _full(result, "issue", raw.len())


# --------------------------------------------------------------------------- numbers

_CANONICAL_AMOUNT = r"^(?:0|[1-9]\d*)(?:\.\d*[1-9])?$"


def _canonical_number(expr: pl.Expr) -> pl.Expr:
    """Text of a signed decimal number → canonical text: no '+', no leading zeros, no trailing
    fractional zeros, "-0" → "0"."""
    e = expr.str.replace(r"^\+", "")
    e = e.str.replace(r"^(-?)\.", "${1}0.")
    e = e.str.replace(r"^(-?)0+(\d)", "${1}${2}")
    e = e.str.replace(r"\.$", "")
    e = e.str.replace(r"(\.\d*?)0+$", "${1}").str.replace(r"\.$", "")
    return pl.when(e.str.contains(r"^-0$")).then(pl.lit("0")).otherwise(e)


def _amounts_lenient(s: pl.Series) -> pl.DataFrame:
    t = pl.col("v").str.normalize("NFKC").str.replace_all(r"\s+", "")
    t = t.str.replace(r"^(?:¥|RMB|人民币)", "")
    yuan = t.str.contains(r"\d元$") & ~t.str.contains(r"万元$")
    t = t.str.replace(r"(?:万元|万|元)$", "")
    t = (
        pl.when(t.str.contains(r"^[+-]?\d{1,3}(?:,\d{3})+(?:\.\d+)?$"))
        .then(t.str.replace_all(",", ""))
        .otherwise(t)
    )
    number = t.str.contains(r"^[+-]?(?:\d+\.?\d*|\.\d+)$")
    # yuan → 万元: move the decimal point four places to the left.
    sign = t.str.extract(r"^([+-]?)", 1)
    digits = t.str.replace(r"^[+-]", "")
    int_part = digits.str.extract(r"^(\d*)", 1).str.zfill(5)
    frac_part = digits.str.extract(r"\.(\d*)$", 1).fill_null("")
    shifted = pl.concat_str(
        [sign, int_part.str.head(-4), pl.lit("."), int_part.str.tail(4), frac_part]
    )
    value = pl.when(number & yuan).then(shifted).when(number).then(t)
    return s.to_frame("v").select(
        value=_canonical_number(value),
        issue=pl.when(~number)
        .then(pl.lit("amount_format"))
        .when(yuan)
        .then(pl.lit("amount_unit_converted")),
    )


def _amounts(raw: pl.Series) -> dict:
    ok = raw.str.contains(_CANONICAL_AMOUNT)
    todo = raw.is_not_null() & ~ok & raw.str.contains(r"\S")
    idx = todo.fill_null(False).arg_true()
    value = _select(raw, pl.when(ok).then("v"))
    issue = None
    if idx.len():
        slow = _amounts_lenient(raw.gather(idx))
        value = value.clone().scatter(idx, slow["value"])
        issue = _nulls(raw.len(), pl.String).scatter(idx, slow["issue"])
    return {"clean": value, "issue": issue}


def clean_amounts(raw: pl.Series) -> tuple[pl.Series, pl.Series]:
    """(canonical decimal text, issue) for amounts in the field's unit (万元); see the module
    docstring. issue: amount_format (not a number) or amount_unit_converted (a warning)."""
    result = _by_distinct(raw, _amounts)
    return _full(result, "clean", raw.len()), _full(result, "issue", raw.len())


def _integers(raw: pl.Series) -> dict:
    fast = raw.str.contains(r"^(?:0|[1-9]\d{0,17})$")

    def slow(s: pl.Series) -> pl.Series:
        t = (
            pl.col("v")
            .str.normalize("NFKC")
            .str.replace_all(r"[\s,]", "")
            .str.replace(r"\.0*$", "")
        )
        return _select(s, pl.when(t.str.contains(r"^[+-]?\d+$")).then(t))

    text = _patch(_select(raw, pl.when(fast).then("v")), ~fast, slow, raw)
    values = text.cast(pl.Int64, strict=False)
    bad = raw.is_not_null() & raw.str.contains(r"\S") & values.is_null()
    issue = pl.select(pl.when(bad).then(pl.lit("integer_format"))).to_series()
    return {"clean": values, "issue": issue}


def clean_integers(raw: pl.Series) -> tuple[pl.Series, pl.Series]:
    """(Int64, issue): digits with an optional sign; NFKC, spaces, thousands separators and a
    trailing ".0" removed. issue: integer_format."""
    result = _by_distinct(raw, _integers)
    return _full(result, "clean", raw.len(), pl.Int64), _full(result, "issue", raw.len())


# --------------------------------------------------------------------------- code lists


def _codes(raw: pl.Series, field: FieldSpec) -> dict:
    cl = field.codelist
    # Fast path: cells spelled exactly as a value, item code or synonym.
    exact = dict(cl.lookup)
    for value in cl.values:
        exact.setdefault(value, cl.lookup.get(normalise_value(value), value))
    fast = raw.replace_strict(
        list(exact), list(exact.values()), default=None, return_dtype=pl.String
    )
    todo = raw.is_not_null() & fast.is_null()
    idx = todo.fill_null(False).arg_true()
    # Values are joined with \x1f while patching (scatter works on strings, not on lists) and
    # split into lists at the end for multi-value fields.
    clean, issue, detail = fast, None, None
    if idx.len():
        sub = raw.gather(idx)
        distinct = sub.unique().drop_nulls().to_list()
        results = {text: cl.normalise(text) for text in distinct}
        keys = list(results)
        # A cell with an unknown part is not understood as a whole (as CodeList.normalise).
        values = [None if results[k][1] else "\x1f".join(results[k][0]) or None for k in keys]
        unknown = ["、".join(results[k][1]) or None for k in keys]
        sub_clean = sub.replace_strict(keys, values, default=None, return_dtype=pl.String)
        sub_unknown = sub.replace_strict(keys, unknown, default=None, return_dtype=pl.String)
        clean = clean.clone().scatter(idx, sub_clean)
        sub_issue = pl.select(pl.when(sub_unknown.is_not_null()).then(pl.lit("code_value")))
        issue = _nulls(raw.len(), pl.String).scatter(idx, sub_issue.to_series())
        detail = _nulls(raw.len(), pl.String).scatter(idx, sub_unknown)
    return {"clean": clean, "issue": issue, "detail": detail}


def _split_multi(clean: pl.Series, field: FieldSpec) -> pl.Series:
    """Multi-value lists travel as \x1f-joined text and become List(String) at the end."""
    return clean.str.split("\x1f") if field.codelist.multi_value else clean


def clean_codes(raw: pl.Series, field: FieldSpec) -> tuple[pl.Series, pl.Series, pl.Series]:
    """(canonical values, issue, detail). Single-value lists give String, multi-value lists
    List(String). issue "code_value" with detail = the unknown parts ("、"-joined)."""
    result = _by_distinct(raw, lambda s: _codes(s, field))
    return (
        _split_multi(result["clean"], field),
        _full(result, "issue", raw.len()),
        _full(result, "detail", raw.len()),
    )


# --------------------------------------------------------------------------- frame

# Exporters make Excel keep a value as text by writing it as a formula, ="91370303…", or with a
# leading apostrophe; Excel and WPS show the plain value.
_FORMULA_TEXT = r'^\s*="((?:[^"]|"")*)"\s*$'
_TEXT_WRAPPED = rf"{_FORMULA_TEXT}|^'"


def unwrap_excel_text(raw: pl.Series) -> pl.Series:
    """Cells written ="…" or '… → the text Excel shows ("" inside ="…" is one quote); `raw`
    itself when no cell is wrapped. Runs on every mapped column before its field's cleaner."""

    def unwrap(s: pl.Series) -> pl.Series:
        inner = pl.col("v").str.extract(_FORMULA_TEXT, 1).str.replace_all('""', '"', literal=True)
        plain = pl.col("v").str.strip_prefix("'")
        return _select(s, _non_empty(pl.when(inner.is_not_null()).then(inner).otherwise(plain)))

    return _patch(raw, raw.str.contains(_TEXT_WRAPPED), unwrap, raw)


def _clean_one(field: FieldSpec, raw: pl.Series) -> dict[str, pl.Series]:
    code = field.code
    original, raw = raw, unwrap_excel_text(raw)
    if field.type == "text":
        result = _by_distinct(raw, _texts)
    elif field.type in ("uscc", "id_number"):
        result = _by_distinct(raw, _identifiers)
    elif field.type == "date":
        result = _by_distinct(raw, lambda s: _dates(s, field.role == "valid_to"))
    elif field.type == "decimal":
        result = _by_distinct(raw, _amounts)
    elif field.type == "integer":
        result = _by_distinct(raw, _integers)
    elif field.type == "code" and field.codelist is not None:
        result = _by_distinct(raw, lambda s: _codes(s, field))
        result["clean"] = _split_multi(result["clean"], field)
    else:
        result = _by_distinct(raw, _strings)
    clean = result["clean"]
    out = {code: clean.rename(code)}
    if clean is not original:  # the original is kept only where cleaning changed something
        out[orig_col(code)] = original.rename(orig_col(code))
    if result.get("issue") is not None:
        out[issue_col(code)] = result["issue"].rename(issue_col(code))
    if result.get("detail") is not None:
        out[detail_col(code)] = result["detail"].rename(detail_col(code))
    return out


def clean_frame(
    frame: pl.DataFrame,
    mapping: Sequence[ColumnMatch],
    spec: CategorySpec,
    *,
    threads: int | None = None,
) -> pl.DataFrame:
    """The cleaned frame (see the module docstring) of a RawTable's frame, keeping `__row__`.
    Columns follow the order of the spec's fields."""
    by_field = {m.field_code: m.column for m in mapping if m.field_code is not None}
    jobs = [(f, frame.get_column(by_field[f.code])) for f in spec.fields if f.code in by_field]
    workers = threads or max(1, min(len(jobs), pl.thread_pool_size()))
    if workers > 1 and len(jobs) > 1:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            parts = list(pool.map(lambda job: _clean_one(*job), jobs))
    else:
        parts = [_clean_one(*job) for job in jobs]
    columns = [frame.get_column(ROW)]
    for part in parts:
        columns.extend(part.values())
    return pl.DataFrame(columns)
