"""What intake gets from the catalogue: category_spec, header mapping, code-list values and
conditional requirements."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pubcredit.catalog import conditions, services
from pubcredit.catalog.headers import normalise_header
from pubcredit.catalog.models import Category


@pytest.fixture
def cf(catalogue):
    return services.category_spec("CF")


@pytest.fixture
def fields(cf):
    return {f.code: f for f in cf.fields.all()}


def test_category_spec_prefetches_everything(catalogue, django_assert_num_queries):
    with django_assert_num_queries(3):  # category, fields (+ code lists), code items
        spec = services.category_spec("XK")
    with django_assert_num_queries(0):
        header = spec.header_map()
        assert header[normalise_header("许可机关")].code == "XK_XKJG"
        kind = spec.field_by_role("subject_kind")
        assert kind.codelist.normalise("个体户") == ["个体工商户"]
        assert spec.field_by_role("subject_uscc").is_required({"XK_XDR_LB": "个体工商户"})
        assert next(f.code for f in spec.fields.all()) == "XK_XDR_MC"


def test_category_spec_unknown_code(catalogue):
    with pytest.raises(Category.DoesNotExist, match="ZZ"):
        services.category_spec("ZZ")


CF_HEADERS = [
    ("CF_WSH", "CF_WSH"),
    ("cf_wsh", "CF_WSH"),
    ("决定文书号", "CF_WSH"),
    (" 处罚决定书文号* ", "CF_WSH"),
    ("处罚日期", "CF_JDRQ"),
    ("罚款金额", "CF_NR_FK"),
    ("罚款金额（万元）", "CF_NR_FK"),
    ("罚款金额(万元)", "CF_NR_FK"),
    ("统一社会信用代码", "CF_XDR_SHXYM"),
    ("社会信用代码", "CF_XDR_SHXYM"),
    ("xdr_shxym", "CF_XDR_SHXYM"),
    ("当事人名称", "CF_XDR_MC"),
    ("企业名称", "CF_XDR_MC"),
    ("法人代表", "CF_FRDB"),
    ("法定代表人姓名", "CF_FRDB"),
    ("FR_SFZH", "CF_FR_ZJHM"),
    ("cf_fr_sfzh", "CF_FR_ZJHM"),
    ("身份证号", "CF_XDR_ZJHM"),
    ("证件号码", "CF_XDR_ZJHM"),
    ("数据来源", "CF_SJLY"),
    ("备注", "BZ"),
    ("CF_BZ", "BZ"),
]


def test_header_variants_resolve(cf):
    header_map = cf.header_map()
    for header, code in CF_HEADERS:
        assert header_map[normalise_header(header)].code == code, header


def test_licence_header_variants(catalogue):
    xk = services.category_spec("XK").header_map()
    for header, code in [
        ("有效期起", "XK_YXQZ"),
        ("有效期止", "XK_YXQZI"),
        ("发证机关", "XK_XKJG"),
        ("许可机关", "XK_XKJG"),
        ("文书号", "XK_WSH"),
        ("XK_FR_SFZH", "XK_FR_ZJHM"),
        ("决定日期", "XK_JDRQ"),
    ]:
        assert xk[normalise_header(header)].code == code, header


def test_penalty_types_normalise_legacy_and_several_values(fields):
    penalty = fields["CF_CFLB"].codelist
    assert penalty.normalise("罚款") == ["罚款"]
    assert penalty.normalise("警告;罚款") == ["警告", "罚款"]
    assert penalty.normalise("警告、罚款、罚款") == ["警告", "罚款"]
    assert penalty.normalise("没收违法所得、没收非法财物") == ["没收违法所得", "没收非法财物"]
    assert penalty.normalise("暂扣或者吊销许可证、暂扣或者吊销执照") == ["暂扣许可证件"]
    assert penalty.normalise("罚款，暂扣或者吊销执照") == ["罚款", "暂扣许可证件"]
    assert penalty.normalise("吊销营业执照") == ["吊销许可证件"]
    assert penalty.normalise("法律、行政法规规定的其他行政处罚") == ["其他"]
    assert penalty.normalise("其他-责令改正") == ["其他-责令改正"]
    assert penalty.normalise("罚款；其它－取缔") == ["罚款", "其他-取缔"]
    assert penalty.normalise("") == [] and penalty.normalise(None) == []
    with pytest.raises(ValueError, match="罚酒三杯"):
        penalty.normalise("罚款、罚酒三杯")


def test_single_value_lists(fields):
    kinds = fields["CF_XDR_LB"].codelist
    assert kinds.normalise("法人及非法人组织") == ["法人及非法人组织"]
    assert kinds.normalise("person") == ["自然人"]
    with pytest.raises(ValueError, match="行政相对人类别"):
        kinds.normalise("自然人;个体工商户")
    id_type = fields["CF_XDR_ZJLX"].codelist
    assert id_type.normalise("居民身份证") == ["身份证"]
    assert id_type.normalise("其他-军官证") == ["其他-军官证"]
    assert id_type.normalise("台胞证") == ["台湾居民来往大陆通行证"]


def test_licence_status_accepts_codes(catalogue):
    status = services.category_spec("XK").header_map()["xk_zt"].codelist
    assert status.normalise("1") == ["有效"] and status.normalise("无效") == ["无效"]


def test_commitment_type_synonym(catalogue):
    spec = services.category_spec("CN")
    assert spec.header_map()["承诺类型"].codelist.normalise("主动公示型") == ["主动型"]


def test_inactive_items_are_not_accepted(fields):
    penalty = fields["CF_CFLB"].codelist
    item = next(i for i in penalty.items.all() if i.value == "行政拘留")
    item.active = False
    penalty._value_map = None
    with pytest.raises(ValueError):
        penalty.normalise("行政拘留")


def test_conditional_requirements(fields):
    org = {"CF_XDR_LB": "法人及非法人组织"}
    person = {"CF_XDR_LB": "自然人"}
    assert fields["CF_XDR_SHXYM"].is_required(org)
    assert fields["CF_FRDB"].is_required({"CF_XDR_LB": "个体工商户"})
    assert not fields["CF_XDR_SHXYM"].is_required(person)
    assert fields["CF_XDR_ZJHM"].is_required(person)
    assert not fields["CF_XDR_ZJHM"].is_required(org)
    assert fields["CF_NR_FK"].is_required({"CF_CFLB": ["警告", "罚款"]})
    assert not fields["CF_NR_FK"].is_required({"CF_CFLB": ["警告"]})
    assert fields["CF_NR_WFFF"].is_required({"CF_CFLB": ["没收非法财物"]})
    assert fields["CF_NR_ZKDX"].is_required({"CF_CFLB": ["吊销许可证件"]})
    assert fields["CF_WSH"].is_required({})
    assert not fields["CF_GSJZQ"].is_required({})


def test_commitment_conditions(catalogue):
    cn = {f.code: f for f in services.category_spec("CN").fields.all()}
    for status, required in [("全部履行", False), ("部分履行", True), ("全部未履行", True)]:
        assert cn["CN_WLXNR"].is_required({"CN_LXZT": status}) is required
        assert cn["CN_ZJNR"].is_required({"CN_LXZT": status}) is required


# --------------------------------------------------------------------------- conditions


def test_condition_language():
    values = {"A": "x", "B": ["p", "q"], "C": "", "D": None}
    assert conditions.evaluate({"field": "A", "in": ["x", "y"]}, values)
    assert not conditions.evaluate({"field": "A", "not_in": ["x"]}, values)
    assert conditions.evaluate({"field": "B", "in": ["q"]}, values)
    assert conditions.evaluate({"field": "C", "not_in": ["x"]}, values)
    assert not conditions.evaluate({"field": "C", "in": ["x"]}, values)
    assert conditions.evaluate({"field": "C", "filled": False}, values)
    assert conditions.evaluate({"field": "MISSING", "filled": False}, values)
    assert conditions.evaluate({"field": "A", "filled": True}, values)
    assert conditions.evaluate(
        {
            "all": [
                {"field": "A", "in": ["x"]},
                {"any": [{"field": "D", "filled": True}, {"field": "B", "in": ["p"]}]},
            ]
        },
        values,
    )
    assert not conditions.evaluate(None, values)


@pytest.mark.parametrize(
    "bad",
    [
        {},
        [],
        {"field": "A"},
        {"field": "A", "in": "x"},
        {"field": "A", "in": []},
        {"field": "A", "in": ["x"], "not_in": ["y"]},
        {"field": "A", "filled": "yes"},
        {"field": "A", "equals": "x"},
        {"all": []},
        {"all": [{"field": "A"}]},
        {"any": [{"field": "A", "in": ["x"]}], "field": "B"},
    ],
)
def test_malformed_conditions_are_reported(bad):
    assert conditions.validate_condition(bad)


def test_referenced_fields_and_values():
    cond = {"any": [{"field": "A", "in": ["x"]}, {"all": [{"field": "B", "not_in": ["y"]}]}]}
    assert conditions.validate_condition(cond) == []
    assert conditions.referenced_fields(cond) == {"A", "B"}
    assert conditions.referenced_values(cond) == {"A": {"x"}, "B": {"y"}}


@given(st.text())
def test_normalise_header_is_idempotent(text):
    once = normalise_header(text)
    assert normalise_header(once) == once
    assert " " not in once and "*" not in once
