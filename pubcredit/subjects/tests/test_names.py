"""Name normalisation, legal forms, search keys and masking."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pubcredit.subjects.names import (
    LEGAL_FORM_SUFFIXES,
    legal_form_class,
    mask_person_name,
    match_key,
    name_key,
    name_keys,
    normalize_name,
    normalize_names,
    split_legal_form,
    strip_region_prefix,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("ＡＢＣ科技有限公司", "ABC科技有限公司"),  # full-width letters
        ("abc科技有限公司", "ABC科技有限公司"),  # case
        ("淄博 宏达\u3000机械\t有限公司 ", "淄博宏达机械有限公司"),  # all whitespace
        ("淄博宏达（集团）有限公司", "淄博宏达(集团)有限公司"),
        ("淄博宏达【集团】有限公司", "淄博宏达(集团)有限公司"),
        ("淄博宏达[集团]有限公司", "淄博宏达(集团)有限公司"),
        ("淄博宏达〔集团〕有限公司", "淄博宏达(集团)有限公司"),
        ("臺灣積體電路製造股份有限公司", "台湾积体电路制造股份有限公司"),  # traditional
        ("淄博市張店區華聯商廈", "淄博市张店区华联商厦"),
        ("阿卜杜·热合曼", "阿卜杜热合曼"),
        ("张三、李四", "张三李四"),
        ("A.B-C,有限公司", "ABC有限公司"),
        ("Ｘ•Ｙ", "XY"),
        ("", ""),
    ],
)
def test_normalize_name(raw, expected):
    assert normalize_name(raw) == expected


def test_phrase_fallback_only_when_traditional_text_needs_it():
    assert normalize_name("乾隆大酒店") == "乾隆大酒店"  # simplified text keeps 乾
    assert normalize_name("於陵鎮商店") == "于陵镇商店"  # traditional text: phrase decides
    assert normalize_names(["於陵鎮商店", "乾隆大酒店"]) == ["于陵镇商店", "乾隆大酒店"]


@given(st.text(max_size=40))
def test_normalize_is_idempotent_and_bulk_equals_single(text):
    once = normalize_name(text)
    assert normalize_name(once) == once
    assert normalize_names([text]) == [once]
    assert not any(c.isspace() for c in once)


def test_legal_form_split_and_classes():
    assert split_legal_form("淄博宏达有限责任公司") == ("淄博宏达", "有限责任公司")
    assert split_legal_form("淄博宏达股份有限公司") == ("淄博宏达", "股份有限公司")
    assert split_legal_form("淄博宏达律师事务所(普通合伙)") == ("淄博宏达律师事务所", "(普通合伙)")
    assert split_legal_form("张店区李四种植专业合作社")[1] == "专业合作社"
    assert split_legal_form("张三") == ("张三", "")
    assert split_legal_form("有限公司") == ("有限公司", "")  # never an empty core
    assert legal_form_class("有限责任公司") == legal_form_class("有限公司") == "有限公司"
    suffixes = [s for s, _ in LEGAL_FORM_SUFFIXES]
    assert [len(s) for s in suffixes] == sorted((len(s) for s in suffixes), reverse=True)
    for required in [
        "股份有限公司",
        "有限责任公司",
        "有限公司",
        "集团有限公司",
        "个人独资企业",
        "分公司",
        "农民专业合作社",
        "专业合作社",
        "个体工商户",
        "合伙企业(普通合伙)",
        "合伙企业(有限合伙)",
    ]:
        assert required in suffixes


def test_match_key_equivalences():
    assert match_key("淄博宏达有限责任公司") == match_key("淄博宏达有限公司")
    assert match_key("淄博宏达（集团）有限责任公司") == match_key("淄博宏达集团有限公司")
    assert match_key("淄博 宏达 有限公司") == match_key("淄博宏達有限公司")
    assert match_key("淄博宏达股份有限公司") != match_key("淄博宏达有限公司")
    assert match_key("淄博宏达有限公司张店分公司") == match_key("淄博宏达有限责任公司张店分公司")


def test_name_key_drops_places_and_legal_form():
    assert name_key("山东省淄博市张店区宏达机械制造有限公司") == "宏达机械制造"
    assert name_key("淄博宏达机械制造有限责任公司") == "宏达机械制造"
    assert name_key("张店宏达机械制造有限公司") == "宏达机械制造"
    assert (
        name_key("淄博宏达（集团）有限责任公司") == name_key("淄博宏达集团有限公司") == "宏达集团"
    )
    assert name_key("张三") == "张三"
    assert strip_region_prefix("淄博市") == "淄博市"  # keeps at least two characters
    assert name_keys(normalize_names(["淄博宏达有限公司"])) == ["宏达"]


@pytest.mark.parametrize(
    ("raw", "masked"),
    [
        ("张三", "张*"),
        ("张三丰", "张**"),
        ("欧阳娜娜", "欧阳**"),
        ("司马光", "司马*"),
        ("欧阳", "欧*"),
        ("王", "王"),
        ("", ""),
    ],
)
def test_mask_person_name(raw, masked):
    assert mask_person_name(raw) == masked


def test_normalize_is_idempotent_for_every_bmp_character():
    # catches chained traditional forms (薴 → 苧 → 苎) and marks that recompose after removal
    for cp in range(0x20, 0x10000):
        if 0xD800 <= cp < 0xE000:
            continue
        once = normalize_name("张" + chr(cp))
        assert normalize_name(once) == once, hex(cp)
