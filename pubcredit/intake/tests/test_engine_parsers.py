"""Properties of the cell parsers (dates, amounts, code lists) and of header mapping."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

import polars as pl
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from pubcredit.intake.engine import CategorySpec, auto_map, cleaning
from pubcredit.intake.engine.cleaning import (
    LONG_TERM,
    clean_amounts,
    clean_codes,
    clean_dates,
    clean_strings,
    clean_texts,
)
from pubcredit.intake.engine.mapping import header_key, relaxed_key
from pubcredit.intake.tests.messy import both_ways, fullwidth

EXCEL_EPOCH = dt.date(1899, 12, 30)


@pytest.fixture(scope="module")
def specs() -> dict[str, CategorySpec]:
    return {code: CategorySpec.from_files(code) for code in ("CF", "XK", "CN")}


def _dates(values: list[str | None], long_term: bool = False) -> list[dt.date | None]:
    dates, _issue = both_ways(clean_dates, pl.Series(values, dtype=pl.String), long_term=long_term)
    return dates


# --------------------------------------------------------------------------- dates

RENDERINGS = [
    lambda d: d.isoformat(),
    lambda d: f"{d.year}/{d.month}/{d.day}",
    lambda d: f"{d.year}/{d.month:02d}/{d.day:02d}",
    lambda d: f"{d.year}.{d.month:02d}.{d.day:02d}",
    lambda d: f"{d.year}.{d.month}.{d.day}",
    lambda d: f"{d.year}年{d.month}月{d.day}日",
    lambda d: f"{d.year} 年 {d.month:02d} 月 {d.day:02d} 日",
    lambda d: f"{d:%Y%m%d}",
    lambda d: f"{d.isoformat()} 10:30:00",
    lambda d: f"{d.isoformat()}T08:05",
    lambda d: f"{d:%Y/%m/%d} 23:59:59.500",
    lambda d: fullwidth(d.isoformat()),
    lambda d: f"  {d.year}-{d.month}-{d.day}\n",
]


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.tuples(st.dates(dt.date(1900, 1, 1), dt.date(9999, 12, 31)), st.integers(0, 12)),
        min_size=1,
        max_size=30,
    )
)
def test_any_valid_date_in_any_supported_format_parses_back_to_itself(items):
    values = [RENDERINGS[k](d) for d, k in items]
    assert _dates(values) == [d for d, _k in items]


@settings(max_examples=80, deadline=None)
@given(st.lists(st.integers(10_000, 99_999), min_size=1, max_size=30))
def test_excel_serial_numbers_are_days_since_1899_12_30(serials):
    values = [str(s) for s in serials] + [f"{s}.5" for s in serials]
    expected = [EXCEL_EPOCH + dt.timedelta(days=s) for s in serials] * 2
    assert _dates(values) == expected


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.text(
            st.sampled_from("0123456789-/.年月日 :Tabc一二三号？,x"),
            min_size=1,
            max_size=24,
        ).filter(lambda s: any(c in s for c in "abc一二三号？,x")),
        min_size=1,
        max_size=20,
    )
)
def test_garbage_never_parses_to_a_date(values):
    dates, issue = both_ways(clean_dates, pl.Series(values, dtype=pl.String))
    assert dates == [None] * len(values)
    assert issue == ["date_format" if v.strip() else None for v in values]


@settings(max_examples=100, deadline=None)
@given(st.integers(1000, 9999), st.integers(0, 99), st.integers(0, 99), st.integers(0, 4))
def test_impossible_calendar_dates_never_parse(year, month, day, style):
    try:
        dt.date(year, month, day)
        assume(False)
    except ValueError:
        pass
    text = [
        f"{year}-{month:02d}-{day:02d}",
        f"{year}/{month}/{day}",
        f"{year}年{month}月{day}日",
        f"{year}{month:02d}{day:02d}",
        f"{year}.{month}.{day}",
    ][style]
    assert _dates([text]) == [None]


@pytest.mark.parametrize(
    "text",
    [
        "2024",
        "202403",
        "1899-12-31",
        "0024-03-05",
        "24/3/5",
        "3/5/2024",
        "2024-03-05 25:00",
        "9999",
        "123456789",
        "2024--03-05",
        "2024-03",
        "45356.5.1",
        "-2024-03-05",
        "+45356",
    ],
)
def test_ambiguous_or_out_of_range_values_are_not_dates(text):
    assert _dates([text]) == [None]


def test_long_term_words_only_for_end_dates():
    values = ["长期", "长期有效", " 永久 ", "无固定期限", "2099-12-31"]
    assert _dates(values, long_term=True) == [LONG_TERM] * 5
    assert _dates(values, long_term=False) == [None] * 4 + [LONG_TERM]


# --------------------------------------------------------------------------- amounts

decimals = st.decimals(
    min_value=Decimal(0), max_value=Decimal("99999999"), places=6, allow_nan=False
)


def canonical(d: Decimal) -> str:
    text = format(d, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text or "0"


def thousands(d: Decimal) -> str:
    whole, _, frac = format(d, "f").partition(".")
    grouped = f"{int(whole):,}"
    return grouped + (f".{frac}" if frac else "")


AMOUNT_RENDERINGS = [
    lambda d: format(d, "f"),
    lambda d: thousands(d),
    lambda d: format(d, "f") + "万元",
    lambda d: " " + format(d, "f") + " 万 ",
    lambda d: "¥" + format(d, "f"),
    lambda d: fullwidth(format(d, "f")),
    lambda d: "+" + format(d, "f"),
    lambda d: "00" + format(d, "f"),
]


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(decimals, st.integers(0, 7)), min_size=1, max_size=30))
def test_any_amount_in_any_supported_form_parses_to_its_canonical_value(items):
    values = [AMOUNT_RENDERINGS[k](d) for d, k in items]
    amounts, issues = both_ways(clean_amounts, pl.Series(values, dtype=pl.String))
    assert amounts == [canonical(d) for d, _k in items]
    assert issues == [None] * len(items)


@settings(max_examples=80, deadline=None)
@given(st.lists(decimals, min_size=1, max_size=30))
def test_amounts_in_yuan_are_converted_exactly_with_a_warning(values):
    texts = [thousands(d) + "元" for d in values]
    amounts, issues = both_ways(clean_amounts, pl.Series(texts, dtype=pl.String))
    assert amounts == [canonical(d / 10_000) for d in values]
    assert issues == ["amount_unit_converted"] * len(values)


@settings(max_examples=80, deadline=None)
@given(st.lists(decimals, min_size=1, max_size=20))
def test_negative_amounts_keep_their_sign_for_validation(values):
    amounts, issues = clean_amounts(pl.Series(["-" + format(d, "f") for d in values]))
    expected = [canonical(d) if d == 0 else "-" + canonical(d) for d in values]
    assert amounts.to_list() == expected
    assert issues.to_list() == [None] * len(values)


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.text(st.sampled_from("0123456789.,万元abcE+- 两千"), min_size=1, max_size=12).filter(
            lambda s: any(c in s for c in "abcE两千") or s.count(".") > 1
        ),
        min_size=1,
        max_size=20,
    )
)
def test_non_numbers_are_amount_format_errors(values):
    amounts, issues = both_ways(clean_amounts, pl.Series(values, dtype=pl.String))
    assert amounts == [None] * len(values)
    assert issues == ["amount_format" if v.strip() else None for v in values]


@pytest.mark.parametrize(
    ("text", "value", "issue"),
    [
        ("0.2", "0.2", None),
        ("0.20万元", "0.2", None),
        ("2,000", "2000", None),
        ("2,000元", "0.2", "amount_unit_converted"),
        ("1,234.5元", "0.12345", "amount_unit_converted"),
        ("3元", "0.0003", "amount_unit_converted"),
        ("5.", "5", None),
        (".5", "0.5", None),
        ("-0", "0", None),
        ("2,00", None, "amount_format"),
        ("3.7E+2", None, "amount_format"),
        ("0.2 0.3", None, "amount_format"),
        ("  ", None, None),
    ],
)
def test_amount_examples(text, value, issue):
    amounts, issues = clean_amounts(pl.Series([text]))
    assert (amounts[0], issues[0]) == (value, issue)


# --------------------------------------------------------------------------- strings, codes


def test_string_and_text_cleaning():
    strings = clean_strings(
        pl.Series(["  张 三 丰 ", "ＡＢＣ１２３（张店）", "a\tb\r\nc", "   ", None, "正常名称"])
    )
    assert strings.to_list() == ["张三丰", "ABC123(张店)", "a b c", None, None, "正常名称"]
    texts = clean_texts(pl.Series(["第一句，\r\n\r\n   第二句。 ", "a  b\t c", " "]))
    assert texts.to_list() == ["第一句，\n第二句。", "a b c", None]


def test_code_lists_follow_the_catalogue_normalisation(specs):
    field = specs["CF"].field("CF_CFLB")
    raw = pl.Series(
        [
            "罚款",
            "警告、罚款",
            " 暂扣或者吊销执照 ",
            "罚金",
            "罚款;罚金;警告",
            "其它—责令改正",
            "；",
            None,
        ]
    )
    clean, issue, detail = clean_codes(raw, field)
    assert clean.to_list() == [
        ["罚款"],
        ["警告", "罚款"],
        ["暂扣许可证件"],
        None,
        None,
        ["其他-责令改正"],
        None,
        None,
    ]
    assert issue.to_list() == [None, None, None, "code_value", "code_value", None, None, None]
    assert detail.to_list()[3:5] == ["罚金", "罚金"]
    cleaned = clean.to_list()
    for i, text in enumerate(raw.to_list()):
        if text is not None:
            values, unknown = field.codelist.normalise(text)
            assert cleaned[i] == (None if unknown else (values or None))


# --------------------------------------------------------------------------- headers


def _random_case(text: str, rnd: random.Random) -> str:
    return "".join(c.upper() if rnd.random() < 0.5 else c.lower() for c in text)


@settings(max_examples=80, deadline=None)
@given(st.sampled_from(["CF", "XK", "CN"]), st.integers(0, 10_000))
def test_a_legacy_code_in_any_case_maps_to_its_field(specs, category, seed):
    rnd = random.Random(seed)
    spec = specs[category]
    field = rnd.choice(spec.fields)
    code = rnd.choice([field.code, *field.legacy_codes])
    header = _random_case(code, rnd)
    if rnd.random() < 0.3:
        header = f" {header} "
    [match] = auto_map([header], spec)
    assert (match.field_code, match.method) == (field.code, "legacy")


DECORATIONS = [
    lambda n: n,
    lambda n: f"{n}（必填）",
    lambda n: f"*{n}",
    lambda n: f"{n}\n(YYYY-MM-DD)",
    lambda n: f" {n} ：",
    lambda n: fullwidth(n),
    lambda n: f"{n}【选填】",
]


@settings(max_examples=80, deadline=None)
@given(st.sampled_from(["CF", "XK", "CN"]), st.integers(0, 10_000))
def test_a_decorated_field_name_maps_to_its_field(specs, category, seed):
    rnd = random.Random(seed)
    spec = specs[category]
    field = rnd.choice(spec.fields)
    header = rnd.choice(DECORATIONS)(field.name)
    [match] = auto_map([header], spec)
    assert match.field_code == field.code, (header, match)
    assert match.method == "exact"


def test_header_normalisation():
    assert header_key(" 罚款金额（万元）* ") == "罚款金额(万元)"
    assert relaxed_key("罚款金额（万元）（必填）") == "罚款金额"
    assert relaxed_key("处罚决定日期\n(YYYY-MM-DD)") == "处罚决定日期"
    assert header_key("CF_XDR_MC") == header_key("cf_xdr_mc")


def test_saved_mapping_wins_and_can_ignore_a_column(specs):
    spec = specs["CF"]
    matches = auto_map(
        ["处罚金额", "处罚决定书文号", "单位名称", "备注"],
        spec,
        saved={"处罚金额": "CF_NR_FK", "备注": None, "单位名称": "NO_SUCH_FIELD"},
    )
    got = [(m.field_code, m.method) for m in matches]
    assert got == [
        ("CF_NR_FK", "saved"),
        ("CF_WSH", "synonym"),
        ("CF_XDR_MC", "synonym"),  # a saved field the catalogue no longer has is dropped
        (None, "saved"),
    ]


def test_two_columns_never_map_to_one_field(specs):
    spec = specs["CF"]
    matches = auto_map(["文号", "CF_WSH", "行政处罚决定书文号"], spec)
    assert [m.field_code for m in matches] == [None, "CF_WSH", None]
    assert "第 2 列" in matches[0].note and "第 2 列" in matches[2].note


def test_fuzzy_matches_and_extra_columns(specs):
    spec = specs["CF"]
    matches = auto_map(["行政处罚决定书号", "处罚的决定日期", "序号", "经办人电话"], spec)
    got = [(m.field_code, m.method) for m in matches]
    assert got[0] == ("CF_WSH", "fuzzy") and got[1] == ("CF_JDRQ", "fuzzy")
    assert got[2:] == [(None, "none"), (None, "none")]
    assert 80 <= matches[0].score < 100


def test_sub_header_codes_are_used_when_names_do_not_match(specs):
    spec = specs["CF"]
    matches = auto_map(["名称(单位)", "码"], spec, subheaders=["CF_XDR_MC", "CF_XDR_SHXYM"])
    assert [m.field_code for m in matches] == ["CF_XDR_MC", "CF_XDR_SHXYM"]


def test_large_columns_take_every_path_with_the_same_result():
    """Large columns: distinct values (repeats), row by row (all different), and the filled
    cells only (mostly empty) — each must equal the row-by-row result."""
    from pubcredit.core.identifiers import normalize_identifier

    rnd = random.Random(7)
    n = 30_000

    def ident(i: int) -> str:
        text = f"37030319800101{i:04d}"
        return (
            fullwidth(text) if i % 7 == 0 else (text[:6] + " " + text[6:] if i % 5 == 0 else text)
        )

    columns = {
        "repeats": [ident(rnd.randrange(20)) for _ in range(n)],
        "all_different": [ident(i) for i in range(n)],
        "mostly_empty": [ident(i) if rnd.random() < 0.2 else None for i in range(n)],
    }
    for name, values in columns.items():
        auto = cleaning.clean_identifiers(pl.Series(values, dtype=pl.String)).to_list()
        assert auto == both_ways(cleaning.clean_identifiers, pl.Series(values, dtype=pl.String))
        assert auto == [normalize_identifier(v) or None if v else None for v in values], name
    dates = [f"2024/3/{rnd.randrange(1, 29)}" if rnd.random() < 0.3 else None for _ in range(n)]
    got, _issue = cleaning.clean_dates(pl.Series(dates, dtype=pl.String))
    assert got.to_list() == [
        dt.date(2024, 3, int(d.rsplit("/", 1)[1])) if d else None for d in dates
    ]
