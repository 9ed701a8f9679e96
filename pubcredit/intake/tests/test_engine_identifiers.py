"""The vectorised identifier checks agree with the scalar validators, value for value."""

from __future__ import annotations

import datetime as dt

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from pubcredit.core.identifiers import (
    USCC_CHARSET,
    check_ric,
    check_uscc,
    normalize_identifier,
    ric_check_char,
    uscc_check_char,
)
from pubcredit.intake.engine.cleaning import clean_identifiers
from pubcredit.intake.tests.messy import both_ways, ric_ending_in_x
from pubcredit.subjects.bulk_checks import normalize_identifier_expr, ric_verdicts, uscc_verdicts

TODAY = dt.datetime.now(dt.timezone(dt.timedelta(hours=8))).date()

USCC_FIXED = [
    "91370303MA3C0LXX1A",  # valid
    "91370303MA3C0LXX1L",  # wrong check character
    "N2370303MA3C0LXX1" + uscc_check_char("N2370303MA3C0LXX1"),  # rural collective (stdnum fails)
    "Y1370303MA3C0LXX1" + uscc_check_char("Y1370303MA3C0LXX1"),
    "B1370303MA3C0LXX1A",  # bad authority (B is a USCC character, not an authority)
    "91A70303MA3C0LXX1A",  # bad region
    "91370303MA3C0LXO1A",  # O is not allowed
    "9137030",  # too short
    "3.70303E+17",
    "9137 0303-ma3c0lxx1a",  # normalises to the valid one
    "９１３７０３０３ＭＡ３Ｃ０ＬＸＸ１Ａ",
    "中文中文中文",  # 18 bytes, 6 characters
    "",
]
RIC_FIXED = [
    "370303199001011239",
    "370303199001011234",
    ric_ending_in_x().lower(),
    "370303199002301239",
    "370303800101123",
    "3.70303E+17",
    "370322198001010" + "01" + ric_check_char("37032219800101001"),
    "37030329990101123" + ric_check_char("37030329990101123"),  # born in the future
    "37030318990101123" + ric_check_char("37030318990101123"),  # before 1900
    "37030320000229123" + ric_check_char("37030320000229123"),  # leap day
    "37030319000229123" + ric_check_char("37030319000229123"),  # 1900 is not a leap year
    "3703031990010112",
    "",
]


def _bulk(values: list[str], kind: str) -> list[tuple[str | None, str | None]]:
    series = pl.Series(values, dtype=pl.String)
    normalised = series.to_frame("v").select(normalize_identifier_expr(pl.col("v"))).to_series()
    verdicts = uscc_verdicts(normalised) if kind == "uscc" else ric_verdicts(normalised, TODAY)
    return list(zip(verdicts["rule"].to_list(), verdicts["expected"].to_list(), strict=True))


def _agree(values: list[str], kind: str) -> None:
    scalar = check_uscc if kind == "uscc" else check_ric
    for value, (rule, expected) in zip(values, _bulk(values, kind), strict=True):
        verdict = scalar(value)
        if not normalize_identifier(value):
            assert rule is None  # empty is for `required` to judge
            continue
        assert (rule is None) == verdict.valid, (value, rule, verdict.errors)
        if rule and rule.endswith("checksum"):
            assert f"应为 {expected}" in " ".join(verdict.errors)
        if rule == "excel_scientific":
            assert "科学计数法" in verdict.errors[0]


def test_fixed_uscc_cases_agree_with_scalar_validator():
    _agree(USCC_FIXED, "uscc")


def test_fixed_ric_cases_agree_with_scalar_validator():
    _agree(RIC_FIXED, "ric")


def test_rule_codes_name_the_first_problem():
    rules = [r for r, _e in _bulk(USCC_FIXED, "uscc")]
    assert rules[:9] == [
        None,
        "uscc_checksum",
        None,
        None,
        "uscc_authority",
        "uscc_region",
        "uscc_charset",
        "uscc_length",
        "excel_scientific",
    ]
    assert rules[9:] == [None, None, "uscc_length", None]
    assert [r for r, _e in _bulk(RIC_FIXED, "ric")] == [
        None,
        "ric_checksum",
        None,
        "ric_birth_date",
        "ric_old15",
        "excel_scientific",
        None,
        "ric_birth_date",
        "ric_birth_date",
        None,
        "ric_birth_date",
        "ric_length",
        None,
    ]


_uscc_chars = st.sampled_from(USCC_CHARSET + "IOSVZ ")


@st.composite
def usccs(draw):
    """Valid codes, codes with one character changed, and random strings."""
    body = draw(st.sampled_from("123456789ANY")) + draw(
        st.text(_uscc_chars, min_size=1, max_size=1)
    )
    body += "".join(draw(st.lists(st.sampled_from("0123456789"), min_size=6, max_size=6)))
    body += "".join(draw(st.lists(st.sampled_from(USCC_CHARSET), min_size=9, max_size=9)))
    code = (
        body + uscc_check_char(body)
        if " " not in body and all(c in USCC_CHARSET for c in body)
        else body + "0"
    )
    mode = draw(st.integers(0, 3))
    if mode == 1:
        i = draw(st.integers(0, 17))
        code = code[:i] + draw(_uscc_chars) + code[i + 1 :]
    elif mode == 2:
        code = draw(st.text(_uscc_chars, max_size=20))
    return code


@st.composite
def rics(draw):
    born = draw(st.dates(dt.date(1890, 1, 1), dt.date(2030, 12, 31)))
    first17 = f"370303{born:%Y%m%d}{draw(st.integers(0, 999)):03d}"
    code = first17 + ric_check_char(first17)
    mode = draw(st.integers(0, 3))
    if mode == 1:
        i = draw(st.integers(0, 17))
        code = code[:i] + draw(st.sampled_from("0123456789X")) + code[i + 1 :]
    elif mode == 2:
        code = draw(st.text(st.sampled_from("0123456789Xx -"), max_size=20))
    return code


@settings(max_examples=100, deadline=None)
@given(st.lists(usccs(), min_size=1, max_size=40))
def test_uscc_verdicts_agree_with_check_uscc(values):
    _agree(values, "uscc")


@settings(max_examples=100, deadline=None)
@given(st.lists(rics(), min_size=1, max_size=40))
def test_ric_verdicts_agree_with_check_ric(values):
    _agree(values, "ric")


def test_repeated_values_take_the_distinct_path_and_stay_right():
    valid, bad = USCC_FIXED[0], USCC_FIXED[1]
    values = [valid] * 30_000 + [bad] + [valid] * 10 + [None]
    verdicts = uscc_verdicts(pl.Series(values, dtype=pl.String))
    rules = verdicts["rule"].to_list()
    assert rules[30_000] == "uscc_checksum" and verdicts["expected"][30_000] == "A"
    assert rules.count(None) == len(values) - 1


@settings(max_examples=80, deadline=None)
@given(st.lists(st.text(st.sampled_from("0123456789ABCXxa -－０１\u3000\t"), max_size=22)))
def test_cleaning_identifiers_equals_scalar_normalisation(values):
    cleaned = both_ways(clean_identifiers, pl.Series(values, dtype=pl.String))
    assert cleaned == [normalize_identifier(v) or None for v in values]
