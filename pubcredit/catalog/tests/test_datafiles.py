"""The shipped data files: well-formed, canonical, self-consistent, and complete against the brief."""

import json
from collections import Counter

import pytest

from pubcredit.catalog import datafiles
from pubcredit.catalog.datafiles import DATA_DIR, CatalogueError
from pubcredit.catalog.headers import normalise_header, normalise_value
from pubcredit.catalog.models import SubjectKind
from pubcredit.catalog.regions import ZONES, build_regions, parse_history
from pubcredit.core.identifiers import check_uscc, orgcode_check_char

FILES = [
    "regions.json",
    "codelists.json",
    "departments.json",
    "duties.json",
    "categories/_catalogue.json",
    "categories/XK.json",
    "categories/CF.json",
    "categories/CN.json",
    "categories/SXJL.json",
    "categories/YZSX.json",
    "categories/SXBZXR.json",
    "categories/XZGXF.json",
    "categories/JYYC.json",
    "categories/NSXYDJ.json",
    "categories/SHZZPG.json",
    "categories/GYXW.json",
    "categories/JZFW.json",
    "categories/JZSC.json",
]


@pytest.fixture(scope="module")
def data():
    return datafiles.read_catalogue()


@pytest.fixture(scope="module")
def cats(data):
    return {c["code"]: c for c in data.categories}


@pytest.fixture(scope="module")
def lists(data):
    return {c["code"]: c for c in data.codelists}


@pytest.mark.parametrize("rel", FILES)
def test_files_are_utf8_json_in_canonical_form(rel):
    raw = (DATA_DIR / rel).read_bytes()
    text = raw.decode("utf-8")
    obj = json.loads(text)
    assert text == datafiles.dump_json(obj), "not in canonical form (indent 2, non-ASCII kept)"
    assert "\\u" not in text


def test_no_unexpected_files():
    found = sorted(str(p.relative_to(DATA_DIR)) for p in DATA_DIR.rglob("*.json"))
    assert found == sorted(FILES)


def test_shipped_catalogue_passes_the_checks(data):
    assert datafiles.check_catalogue(data) == []


# --------------------------------------------------------------------------- self-consistency
# These re-state the most important checks independently of check_catalogue, so a bug there
# cannot hide a broken file.


def test_every_field_codelist_exists_and_code_fields_have_one(data, lists):
    for cat in data.categories:
        for f in cat["fields"]:
            if f["codelist"] is not None:
                assert f["codelist"] in lists, (cat["code"], f["code"])
            assert (f["type"] == "code") == (f["codelist"] is not None), f["code"]


def test_conditions_reference_fields_and_values_of_the_category(data, lists):
    for cat in data.categories:
        by_code = {f["code"]: f for f in cat["fields"]}
        for f in cat["fields"]:
            cond = f["condition"]
            assert (f["requirement"] == "conditional") == (cond is not None), f["code"]
            if cond is None:
                continue
            target = by_code[cond["field"]]
            assert target["code"] != f["code"]
            if "filled" in cond:  # 移出原因: required once 移出日期 is filled
                assert isinstance(cond["filled"], bool), f["code"]
                continue
            values = cond.get("in") or cond.get("not_in")
            known = {i["value"] for i in lists[target["codelist"]]["items"]}
            assert set(values) <= known, (f["code"], values)


def test_business_keys_are_fields_of_the_category(data):
    for cat in data.categories:
        codes = {f["code"] for f in cat["fields"]}
        assert set(cat["business_key"]) <= codes, cat["code"]
        if cat["fields_complete"]:
            assert cat["business_key"]


def test_header_spellings_are_unambiguous_within_each_category(data):
    for cat in data.categories:
        owner = {}
        for f in cat["fields"]:
            spellings = {f["code"], *f["legacy_codes"], f["name"], *f["synonyms"]}
            for key in {normalise_header(s) for s in spellings}:
                assert owner.setdefault(key, f["code"]) == f["code"], (cat["code"], key)


def test_legacy_codes_are_unique_within_each_category(data):
    for cat in data.categories:
        codes = [c.upper() for f in cat["fields"] for c in (f["code"], *f["legacy_codes"])]
        assert not [c for c, n in Counter(codes).items() if n > 1], cat["code"]


def test_codelist_spellings_map_to_one_value(data):
    for cl in data.codelists:
        owner = {}
        for item in cl["items"]:
            for s in (item["value"], item["code"], *item["synonyms"]):
                if s:
                    assert owner.setdefault(normalise_value(s), item["value"]) == item["value"]


def test_roles_unique_within_category(data):
    for cat in data.categories:
        roles = [f["role"] for f in cat["fields"] if f["role"]]
        assert len(roles) == len(set(roles)), cat["code"]


# --------------------------------------------------------------------------- brief §1


SUBJECT_SUFFIXES = [
    "XDR_MC",
    "XDR_LB",
    "XDR_SHXYM",
    "XDR_GSZC",
    "XDR_ZZJG",
    "XDR_SWDJ",
    "XDR_SYDW",
    "XDR_SHZZ",
    "FRDB",
    "FR_ZJLX",
    "FR_ZJHM",
    "XDR_ZJLX",
    "XDR_ZJHM",
]
XK_CODES = [
    "XK_XKWS",
    "XK_WSH",
    "XK_XKLB",
    "XK_XKZS",
    "XK_XKBH",
    "XK_NR",
    "XK_JDRQ",
    "XK_YXQZ",
    "XK_YXQZI",
    "XK_XKJG",
    "XK_XKJGDM",
    "XK_ZT",
    "XK_LYDW",
    "XK_LYDWDM",
    "BZ",
]
CF_CODES = [
    "CF_WSH",
    "CF_WFXW",
    "CF_SY",
    "CF_YJ",
    "CF_CFLB",
    "CF_NR",
    "CF_NR_FK",
    "CF_NR_WFFF",
    "CF_NR_ZKDX",
    "CF_JDRQ",
    "CF_YXQ",
    "CF_GSJZQ",
    "CF_CFJG",
    "CF_CFJGDM",
    "CF_SJLY",
    "CF_SJLYDM",
    "BZ",
]
CN_NAMES = [
    "承诺编码",
    "承诺人名称",
    "承诺人类别",
    "承诺人代码",
    "承诺类型",
    "承诺事由",
    "承诺内容",
    "违诺责任",
    "承诺作出日期",
    "承诺有效期",
    "承诺履行状态",
    "未履行的承诺内容",
    "违诺责任追究内容",
    "承诺履行状态认定日期",
    "承诺履行状态认定单位",
    "承诺履行状态认定单位代码",
    "承诺受理单位",
    "承诺受理单位代码",
    "公开类型",
    "备注",
]
# Fields the brief marks Required.
REQUIRED = {
    "XK": "XK_XDR_MC XK_XDR_LB XK_XKWS XK_WSH XK_XKLB XK_NR XK_JDRQ XK_YXQZ XK_YXQZI XK_XKJG"
    " XK_XKJGDM XK_ZT XK_LYDW XK_LYDWDM".split(),
    "CF": "CF_XDR_MC CF_XDR_LB CF_WSH CF_WFXW CF_SY CF_YJ CF_CFLB CF_NR CF_JDRQ CF_YXQ CF_CFJG"
    " CF_CFJGDM CF_SJLY CF_SJLYDM".split(),
}


@pytest.mark.parametrize("prefix,codes", [("XK", XK_CODES), ("CF", CF_CODES)])
def test_double_publicity_categories_have_every_field_of_the_brief(cats, prefix, codes):
    expected = [f"{prefix}_{s}" for s in SUBJECT_SUFFIXES] + codes
    actual = [f["code"] for f in cats[prefix]["fields"]]
    assert actual == expected
    cat = cats[prefix]
    assert cat["catalogue_class"] == 3 and cat["fields_complete"]
    by_code = {f["code"]: f for f in cat["fields"]}
    for code in REQUIRED[prefix]:
        assert by_code[code]["requirement"] == "required", code
    for code in (f"{prefix}_XDR_SHXYM", f"{prefix}_FRDB"):
        assert by_code[code]["condition"] == {
            "field": f"{prefix}_XDR_LB",
            "in": ["法人及非法人组织", "个体工商户"],
        }
    for code in (f"{prefix}_XDR_ZJLX", f"{prefix}_XDR_ZJHM"):
        assert by_code[code]["condition"] == {"field": f"{prefix}_XDR_LB", "in": ["自然人"]}
    assert by_code[f"{prefix}_XDR_ZJHM"]["disclosure"] == "masked"
    assert by_code[f"{prefix}_FR_ZJHM"]["disclosure"] == "hidden"
    assert "FR_SFZH" in by_code[f"{prefix}_FR_ZJHM"]["legacy_codes"]
    for f in cat["fields"]:
        if f["type"] == "uscc":
            assert f["exact_length"] == 18, f["code"]
    assert by_code[f"{prefix}_XDR_ZZJG"]["exact_length"] == 9


def test_penalty_amounts_and_conditions(cats):
    by_code = {f["code"]: f for f in cats["CF"]["fields"]}
    for code in ("CF_NR_FK", "CF_NR_WFFF"):
        f = by_code[code]
        assert (f["type"], f["decimal_places"], f["unit"]) == ("decimal", 6, "万元")
    assert by_code["CF_NR_FK"]["condition"] == {"field": "CF_CFLB", "in": ["罚款"]}
    assert set(by_code["CF_NR_WFFF"]["condition"]["in"]) == {"没收违法所得", "没收非法财物"}
    assert by_code["CF_CFLB"]["codelist"] == "penalty_type"
    assert by_code["CF_WSH"]["max_length"] == 128
    assert by_code["CF_NR"]["max_length"] == 4000
    assert by_code["BZ"]["max_length"] == 512


def test_commitment_category(cats):
    cat = cats["CN"]
    assert cat["catalogue_class"] == 8 and cat["fields_complete"]
    assert [f["name"] for f in cat["fields"]] == CN_NAMES
    assert all(f["code"] == "BZ" or f["code"].startswith("CN_") for f in cat["fields"])
    assert "自定义" in cat["description"]
    assert cat["business_key"] == ["CN_CNBM"]
    by_name = {f["name"]: f for f in cat["fields"]}
    assert by_name["承诺编码"]["exact_length"] == 20
    for name in ("未履行的承诺内容", "违诺责任追究内容"):
        assert by_name[name]["condition"] == {"field": "CN_LXZT", "not_in": ["全部履行"]}
    assert by_name["承诺人类别"]["codelist"] == "subject_kind"
    assert by_name["承诺类型"]["codelist"] == "commitment_type"


def test_roles_that_intake_relies_on(cats):
    for code in ("XK", "CF", "CN"):
        roles = {f["role"] for f in cats[code]["fields"]}
        assert {"subject_name", "subject_kind", "decision_date", "authority_name"} <= roles
        assert "authority_uscc" in roles
    for code in ("XK", "CF"):
        roles = {f["role"] for f in cats[code]["fields"]}
        assert {"subject_uscc", "subject_id_type", "subject_id_number", "document_number"} <= roles
        assert {"legal_representative", "source_department_name", "source_department_uscc"} <= roles


def test_catalogue_classes(cats):
    classes = {c["catalogue_class"]: c for c in cats.values() if c["parent"] is None}
    assert sorted(classes) == list(range(1, 12))
    assert classes[6]["name"] == "严重失信主体名单信息"
    assert all(not c["fields_complete"] for c in classes.values())
    assert cats["XK"]["parent"] == cats["CF"]["parent"] == classes[3]["code"]
    assert cats["CN"]["parent"] == classes[8]["code"]
    # The categories carrying list entries are fully defined (their own files); the others
    # still wait for their fields.
    for code in ("SXJL", "YZSX", "SXBZXR", "XZGXF", "JYYC"):
        assert cats[code]["fields"] and cats[code]["fields_complete"], code
        assert cats[code]["parent"] in {c["code"] for c in classes.values()}
    for code in ("DJZC", "QZ", "ZYZG", "GGXYPJ"):
        assert cats[code]["fields"] == [] and not cats[code]["fields_complete"]


# --------------------------------------------------------------------------- code lists


def test_codelists(lists):
    kinds = {i["value"]: i["code"] for i in lists["subject_kind"]["items"]}
    assert kinds == {
        "法人及非法人组织": SubjectKind.ORG,
        "自然人": SubjectKind.PERSON,
        "个体工商户": SubjectKind.INDIVIDUAL_BUSINESS,
    }
    assert [i["value"] for i in lists["id_type"]["items"]] == [
        "身份证",
        "护照号",
        "港澳居民来往内地通行证",
        "台湾居民来往大陆通行证",
        "外国人永久居留身份证",
    ]
    assert lists["id_type"]["allow_other"]
    assert [i["value"] for i in lists["licence_type"]["items"]] == [
        "普通",
        "特许",
        "认可",
        "核准",
        "登记",
        "其他",
    ]
    status = {i["code"]: i["value"] for i in lists["licence_status"]["items"]}
    assert status == {"1": "有效", "2": "无效"}
    assert "UNCONFIRMED" in lists["licence_status"]["description"]
    penalty = lists["penalty_type"]
    assert penalty["multi_value"] and penalty["allow_other"]
    assert [i["value"] for i in penalty["items"]] == [
        "警告",
        "通报批评",
        "罚款",
        "没收违法所得",
        "没收非法财物",
        "暂扣许可证件",
        "降低资质等级",
        "吊销许可证件",
        "限制开展生产经营活动",
        "责令停产停业",
        "责令关闭",
        "限制从业",
        "行政拘留",
        "其他",
    ]
    commitment = {i["value"]: i["synonyms"] for i in lists["commitment_type"]["items"]}
    assert list(commitment) == [
        "审批替代型",
        "容缺受理型",
        "证明事项型",
        "信用修复型",
        "行业自律型",
        "主动型",
        "其他",
    ]
    assert "主动公示型" in commitment["主动型"]
    assert [i["value"] for i in lists["commitment_performance"]["items"]] == [
        "全部履行",
        "部分履行",
        "全部未履行",
    ]
    assert [i["value"] for i in lists["publicity_type"]["items"]] == [
        "可向社会公开",
        "特定范围内公开",
        "不可公开",
    ]


def test_pre_2021_penalty_names_are_mapped(lists):
    synonyms = {s: i["value"] for i in lists["penalty_type"]["items"] for s in i["synonyms"]}
    assert synonyms["暂扣或者吊销许可证"] == "暂扣许可证件"
    assert synonyms["暂扣或者吊销执照"] == "暂扣许可证件"
    assert synonyms["吊销许可证"] == "吊销许可证件"
    assert synonyms["法律、行政法规规定的其他行政处罚"] == "其他"


# --------------------------------------------------------------------------- regions


def test_regions_cover_shandong_and_zibo(data):
    regions = {r["code"]: r for r in data.regions}
    assert regions["370000"]["name"] == "山东省" and regions["370000"]["level"] == "province"
    assert regions["370300"]["name"] == "淄博市" and regions["370300"]["level"] == "city"
    zibo = {
        "370302": "淄川区",
        "370303": "张店区",
        "370304": "博山区",
        "370305": "临淄区",
        "370306": "周村区",
        "370321": "桓台县",
        "370322": "高青县",
        "370323": "沂源县",
    }
    for code, name in zibo.items():
        r = regions[code]
        assert (r["name"], r["parent"], r["level"], r["valid_to"]) == (
            name,
            "370300",
            "county",
            None,
        )
    assert regions["370322"]["valid_from"] == 1989
    assert all(code.startswith("37") for code in regions)
    assert sum(1 for r in regions.values() if r["level"] == "city" and r["valid_to"] is None) == 16


def test_abolished_and_renamed_codes_are_kept(data):
    regions = {r["code"]: r for r in data.regions}
    # 济阳县 became 济阳区 in 2018; 莱芜市 (prefecture) was merged into 济南 in 2018.
    assert regions["370125"]["valid_to"] == 2018
    assert regions["371200"]["valid_to"] == 2018
    # 372331 高青县 was under 惠民地区 until 1989, before Zibo's 370322.
    assert regions["372331"]["name"] == "高青县" and regions["372331"]["valid_to"] == 1989
    renamed = regions["370811"]
    assert renamed["name"] == "任城区"
    assert [h["name"] for h in renamed["name_history"]] == ["郊区", "任城区"]


def test_zones_have_local_codes(data):
    regions = {r["code"]: r for r in data.regions}
    gb = {c for c, r in regions.items() if r["is_gb2260"]}
    zones = [r for r in regions.values() if r["level"] == "zone"]
    assert {z["name"] for z in zones} == {
        "淄博高新技术产业开发区",
        "淄博经济开发区",
        "淄博文昌湖省级旅游度假区",
    }
    for z in zones:
        assert not z["is_gb2260"] and z["parent"] == "370300"
        assert len(z["code"]) <= 12 and not z["code"].isdigit() and z["code"] not in gb
    meta = json.loads((DATA_DIR / "regions.json").read_text(encoding="utf-8"))["_meta"]
    assert "370300Z01" in meta["zone_code_scheme"]
    assert len(ZONES) == len(zones)


def test_regions_file_is_what_the_generator_produces(data):
    assert build_regions() == [datafiles.canonical_row("region", r) for r in data.regions]


def test_parse_history():
    assert parse_history("[1983-1992]郊区,[1993-]任城区") == [
        {"name": "郊区", "valid_from": 1983, "valid_to": 1992},
        {"name": "任城区", "valid_from": 1993, "valid_to": None},
    ]
    assert parse_history("[-1983]烟台地区") == [
        {"name": "烟台地区", "valid_from": None, "valid_to": 1983}
    ]
    assert parse_history("济南市") == [{"name": "济南市", "valid_from": None, "valid_to": None}]


# --------------------------------------------------------------------------- departments


def test_departments(data):
    depts = data.departments
    by_code = {d["code"]: d for d in depts}
    city = [d for d in depts if d["level"] == "city"]
    district = [d for d in depts if d["level"] == "district"]
    assert 35 <= len(city) <= 45
    assert sorted(d["district"] for d in district) == [
        "370302",
        "370303",
        "370304",
        "370305",
        "370306",
        "370321",
        "370322",
        "370323",
    ]
    assert all(d["district"] is None for d in city)
    names = {d["name"] for d in depts}
    for name in (
        "淄博市社会信用中心",
        "淄博市市场监督管理局",
        "淄博市行政审批服务局",
        "淄博市生态环境局",
    ):
        assert name in names
    assert by_code["ZB-SCJG"]["name"] == "淄博市市场监督管理局"
    assert by_code["ZB-XZSP"]["submits_for"]
    assert set(by_code["ZB-XZSP"]["submits_for"]) <= set(by_code)


def test_department_usccs_are_valid_and_deterministic(data):
    seen = set()
    for d in data.departments:
        u = d["uscc"]
        verdict = check_uscc(u)
        assert verdict.valid, (d["code"], verdict.errors)
        assert verdict.warnings == [], (d["code"], verdict.warnings)
        assert u[:2] in ("11", "12")
        region = d["district"] or "370300"
        assert u[2:8] == region
        assert orgcode_check_char(u[8:16]) == u[16]
        seen.add(u)
    assert len(seen) == len(data.departments)


# --------------------------------------------------------------------------- the checker itself


def _copy_data(tmp_path):
    import shutil

    target = tmp_path / "data"
    shutil.copytree(DATA_DIR, target)
    return target


def _edit(path, fn):
    obj = json.loads(path.read_text(encoding="utf-8"))
    fn(obj)
    path.write_text(datafiles.dump_json(obj), encoding="utf-8")


def _problems(target) -> list[str]:
    with pytest.raises(CatalogueError) as exc:
        datafiles.read_catalogue(target)
    return exc.value.problems


def test_checker_reports_unknown_codelist_and_condition_field(tmp_path):
    target = _copy_data(tmp_path)

    def breaker(cat):
        cat["fields"][1]["codelist"] = "no_such_list"
        cat["fields"][2]["condition"] = {"field": "CF_NOPE", "in": ["x"]}

    _edit(target / "categories/CF.json", breaker)
    problems = _problems(target)
    assert any("no_such_list" in p for p in problems)
    assert any("CF_NOPE" in p for p in problems)


def test_checker_reports_ambiguous_header_and_bad_business_key(tmp_path):
    target = _copy_data(tmp_path)

    def breaker(cat):
        cat["fields"][0]["synonyms"].append("处罚日期")  # already CF_JDRQ's
        cat["business_key"].append("CF_GONE")

    _edit(target / "categories/CF.json", breaker)
    problems = _problems(target)
    assert any("处罚日期" in p and "CF_JDRQ" in p for p in problems)
    assert any("CF_GONE" in p for p in problems)


def test_checker_reports_bad_uscc_and_unknown_key(tmp_path):
    target = _copy_data(tmp_path)

    def breaker(doc):
        u = doc["departments"][0]["uscc"]
        doc["departments"][0]["uscc"] = u[:17] + ("0" if u[17] != "0" else "1")
        doc["departments"][1]["colour"] = "red"

    _edit(target / "departments.json", breaker)
    problems = _problems(target)
    assert any("校验位" in p for p in problems)
    assert any("colour" in p for p in problems)


def test_checker_reports_invalid_json_with_position(tmp_path):
    target = _copy_data(tmp_path)
    (target / "codelists.json").write_text("{\n  oops\n}", encoding="utf-8")
    problems = _problems(target)
    assert problems and "codelists.json" in problems[0] and "第 2 行" in problems[0]
