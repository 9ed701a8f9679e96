"""Validators for 统一社会信用代码 and 身份证号, including python-stdnum's known gaps (brief §3.3)."""

import datetime as dt
from pathlib import Path

import pytest
import stdnum.cn.ric
import stdnum.cn.uscc
from hypothesis import given, settings
from hypothesis import strategies as st

from pubcredit.core.identifiers import (
    ORG_CATEGORIES,
    REGISTRATION_AUTHORITIES,
    USCC_CHARSET,
    check_identifier,
    check_ric,
    check_uscc,
    normalize_identifier,
    org_category,
    orgcode_check_char,
    region_info,
    ric_birth_date,
    ric_check_char,
    ric_sex,
    subject_kind_for_uscc,
    upgrade_ric15,
    uscc_check_char,
)

# A copy of ../shared/testdata/real-uscc.txt (codes from python-stdnum's test suite), kept in the
# repository so the tests do not depend on what lies beside the checkout.
REAL_USCC = Path(__file__).resolve().parent / "data" / "real-uscc.txt"


def real_codes() -> list[str]:
    lines = REAL_USCC.read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def with_uscc_check(first17: str) -> str:
    return first17 + uscc_check_char(first17)


def with_ric_check(first17: str) -> str:
    return first17 + ric_check_char(first17)


# --------------------------------------------------------------------------- strategies

uscc_chars = st.sampled_from(USCC_CHARSET)
digits = st.sampled_from("0123456789")


@st.composite
def valid_usccs(draw) -> str:
    category = draw(st.sampled_from(sorted(ORG_CATEGORIES)))
    region = "".join(draw(st.lists(digits, min_size=6, max_size=6)))
    body = "".join(draw(st.lists(uscc_chars, min_size=9, max_size=9)))
    return with_uscc_check(category + region + body)


@st.composite
def valid_rics(draw) -> str:
    region = "".join(draw(st.lists(digits, min_size=6, max_size=6)))
    born = draw(st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date.today()))
    seq = "".join(draw(st.lists(digits, min_size=3, max_size=3)))
    return with_ric_check(region + born.strftime("%Y%m%d") + seq)


# --------------------------------------------------------------------------- USCC


def test_check_char_matches_gb32100_formula():
    # Σ value × 3^(i-1) mod 31 written out independently of the implementation.
    weights = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]
    first17 = "91110000600037341"
    total = sum(USCC_CHARSET.index(c) * w for c, w in zip(first17, weights, strict=True))
    assert uscc_check_char(first17) == USCC_CHARSET[(31 - total % 31) % 31] == "L"
    with pytest.raises(ValueError):
        uscc_check_char("9111000060003734I")


@pytest.mark.parametrize("code", real_codes())
def test_real_codes_are_valid(code):
    result = check_uscc(code)
    assert result.valid, result.errors
    assert result.normalized == code
    assert result.kind == "uscc"
    # their GB 11714 organisation-code check characters all agree, so we warn on a mismatch
    assert not any("组织机构代码" in w for w in result.warnings)
    assert check_identifier(code).valid


def test_real_codes_file_is_not_empty():
    assert len(real_codes()) >= 40


@settings(max_examples=200, deadline=None)
@given(valid_usccs())
def test_generated_usccs_are_valid(code):
    result = check_uscc(code)
    assert result.valid, result.errors
    assert check_identifier(code).valid


@settings(max_examples=60, deadline=None)
@given(valid_usccs())
def test_every_single_character_substitution_fails_uscc(code):
    for i in range(18):
        for c in USCC_CHARSET:
            if c == code[i]:
                continue
            mutated = code[:i] + c + code[i + 1 :]
            assert not check_uscc(mutated).valid, (code, mutated)


@pytest.mark.parametrize(
    "first17",
    ["N2370303MA3C0000K", "N1370303123456789", "Y1370303MA3C00001", "A1370303000000001"],
)
def test_a_n_y_prefixes_valid_for_us_but_not_for_stdnum(first17):
    code = with_uscc_check(first17)
    result = check_uscc(code)
    assert result.valid, result.errors
    assert result.kind == "uscc"
    assert not stdnum.cn.uscc.is_valid(code)  # stdnum requires digits at positions 1-8


def test_uscc_errors_are_explained():
    good = "91110000600037341L"
    assert check_uscc(good[:-1] + "M").errors == ["统一社会信用代码校验位错误:应为 L,实为 M"]
    assert "18 位" in check_uscc(good[:-1]).errors[0]
    assert "不允许的字符:O" in check_uscc("9111000O600037341L").errors[0]
    bad_first = with_uscc_check("B1110000600037341")
    assert any("第 1 位" in e for e in check_uscc(bad_first).errors)
    letters_in_region = with_uscc_check("9111A000600037341")
    assert any("第 3–8 位" in e for e in check_uscc(letters_in_region).errors)
    assert check_uscc("").errors == ["统一社会信用代码为空"]


def test_uscc_warnings_do_not_invalidate():
    unknown_category = with_uscc_check("94370303MA3C00001")
    result = check_uscc(unknown_category)
    assert result.valid
    assert any("机构类别代码 94" in w for w in result.warnings)

    unknown_region = with_uscc_check("91990000MA3C00001")
    result = check_uscc(unknown_region)
    assert result.valid
    assert any("990000" in w and "GB/T 2260" in w for w in result.warnings)

    bad_orgcode = with_uscc_check("91370303600037342")  # org code check should be 1
    result = check_uscc(bad_orgcode)
    assert result.valid
    assert any("组织机构代码" in w and "应为 1" in w for w in result.warnings)


def test_full_width_spaces_hyphens_and_lower_case():
    assert check_uscc("９１１１００００６０００３７３４１Ｌ").normalized == "91110000600037341L"
    assert check_uscc(" 9111-0000 6000 3734 1l\u3000").normalized == "91110000600037341L"
    assert normalize_identifier("３７０３０３－１９８０　０１０１") == "370303198001 01".replace(
        " ", ""
    )


@pytest.mark.parametrize(
    "value", ["3.70303E+17", "9.13703E+17", "3.703031980e17", "３．７０３０３Ｅ＋１７"]
)
def test_excel_scientific_notation_is_named(value):
    for result in (check_identifier(value), check_uscc(value), check_ric(value)):
        assert not result.valid
        assert "科学计数法" in result.errors[0] and "Excel" in result.errors[0]


def test_org_category_and_kind():
    assert org_category("91110000600037341L") == ("91", "企业")
    assert org_category("92340602MA2PBMEM24") == ("92", "个体工商户")
    assert org_category("121200004013590816") == ("12", "事业单位")
    assert org_category("N2370303MA3C0000K") == ("N2", "村级集体经济组织")
    assert org_category("51370303MA3C00001") == ("51", "社会团体")
    assert org_category("94370303MA3C00001") == ("94", "其他")
    assert subject_kind_for_uscc("92340602MA2PBMEM24") == "ind"
    assert subject_kind_for_uscc("91110000600037341L") == "org"
    assert subject_kind_for_uscc("N2370303MA3C0000K") == "org"
    assert set(REGISTRATION_AUTHORITIES) == set("123456789ANY")


def test_orgcode_check_char():
    assert orgcode_check_char("60003734") == "1"
    assert orgcode_check_char("07837757") == "X"
    weights = [3, 7, 9, 10, 5, 8, 4, 2]
    zero_case = next(
        f"{n:08d}"
        for n in range(10**6)
        if sum(int(c) * w for c, w in zip(f"{n:08d}", weights, strict=True)) % 11 == 0
    )
    assert orgcode_check_char(zero_case) == "0"
    assert orgcode_check_char("MA3C0000") == str(11 - (22 * 3 + 10 * 7 + 3 * 9 + 12 * 10) % 11)


# --------------------------------------------------------------------------- RIC


@settings(max_examples=200, deadline=None)
@given(valid_rics())
def test_generated_rics_are_valid(ric):
    result = check_ric(ric)
    assert result.valid, result.errors
    assert check_identifier(ric).valid


@settings(max_examples=60, deadline=None)
@given(valid_rics())
def test_every_single_character_substitution_fails_ric(ric):
    # A changed date digit may still be a valid date; the mod-11 checksum catches it anyway.
    for i in range(18):
        allowed = "0123456789X" if i == 17 else "0123456789"
        for c in allowed:
            if c == ric[i]:
                continue
            mutated = ric[:i] + c + ric[i + 1 :]
            assert not check_ric(mutated).valid, (ric, mutated)


def test_ric_check_char_formula():
    first17 = "11010519491231002"
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    total = sum(int(c) * w for c, w in zip(first17, weights, strict=True))
    assert ric_check_char(first17) == "10X98765432"[total % 11] == "X"
    assert check_ric("11010519491231002x").normalized == "11010519491231002X"


def test_region_created_after_birth_is_valid_though_stdnum_rejects_it():
    ric = with_ric_check("37032219800101123")  # 高青县 exists since 1989
    result = check_ric(ric)
    assert result.valid and result.errors == [] and result.warnings == []
    assert not stdnum.cn.ric.is_valid(ric)


def test_unknown_county_is_a_warning_and_stdnum_crashes():
    ric = with_ric_check("37031119800101123")
    result = check_ric(ric)
    assert result.valid
    assert any("370311" in w for w in result.warnings)
    assert region_info("370311") is None
    with pytest.raises(KeyError):
        stdnum.cn.ric.is_valid(ric)


def test_abolished_region_is_a_warning():
    ric = with_ric_check("37012019700101123")  # 济南市市区, until 1983
    result = check_ric(ric)
    assert result.valid
    assert any("1983" in w and "停用" in w for w in result.warnings)
    assert region_info("370303").name == "张店区"
    assert region_info("370322").valid_from == 1989


def test_ric_date_rules():
    tomorrow = dt.date.today() + dt.timedelta(days=2)
    future = with_ric_check("370303" + tomorrow.strftime("%Y%m%d") + "123")
    assert any("晚于今天" in e for e in check_ric(future).errors)
    old = with_ric_check("37030318991231123")
    assert any("早于 1900" in e for e in check_ric(old).errors)
    feb30 = with_ric_check("37030319800230123")
    assert any("不是有效日期" in e for e in check_ric(feb30).errors)
    ric = with_ric_check("37030319800101123")
    assert ric_birth_date(ric) == dt.date(1980, 1, 1)
    assert ric_sex(ric) == "男"


def test_ric_format_errors():
    assert "18 位" in check_ric("3703031980010112").errors[0]
    assert "数字" in check_ric("37030319800101A23X").errors[0]
    truncated = check_ric("370303198001011000")
    assert not truncated.valid and "Excel" in truncated.errors[0]


def test_old_15_digit_id_is_rejected_with_its_upgrade():
    result = check_identifier("370303800101123")
    assert result.kind == "ric" and not result.valid
    assert "15 位旧版" in result.errors[0]
    assert upgrade_ric15("370303800101123") in result.errors[0]
    assert upgrade_ric15("370303800101123") == with_ric_check("37030319800101123")


# --------------------------------------------------------------------------- auto-detect


def test_check_identifier_detects_kind():
    ric = with_ric_check("37030319800101123")
    assert check_identifier(ric).kind == "ric"
    assert check_identifier("91110000600037341L").kind == "uscc"
    assert check_identifier("121200004013590816").kind == "uscc"  # all digits, no birth date
    assert check_identifier("９１１１００００６０００３７３４１Ｌ").valid


def test_check_identifier_prefers_the_kind_that_validates():
    # all digits with a plausible birth date at 7-14, yet a valid USCC and not a valid RIC
    for n in range(1000):
        first17 = f"1137031980010{n:04d}"
        code = with_uscc_check(first17)
        if code[-1].isdigit() and not check_ric(code).valid:
            break
    result = check_identifier(code)
    assert result.kind == "uscc" and result.valid


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("", "为空"),
        ("1234", "长度为 4 位"),
        ("91110000600037341L9", "19 位"),
        ("9111000060003734#L", "字符"),
    ],
)
def test_check_identifier_explains_unknown_values(value, fragment):
    result = check_identifier(value)
    assert result.kind is None and not result.valid
    assert fragment in result.errors[0]


def test_as_dict_contract():
    d = check_identifier("91110000600037341L").as_dict()
    assert list(d) == ["value", "kind", "valid", "normalized", "errors", "warnings"]
    bad = check_identifier("91110000600037341M")
    assert bad.normalized is None and bad.valid is False
