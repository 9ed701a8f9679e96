"""The versioned catalogue files under `catalog/data/`: their layout, canonical form and checks.

Layout (all UTF-8 JSON, two-space indent, non-ASCII kept, a final newline):

    regions.json               {"_meta": …, "regions": [row, …]}          sorted by code
    codelists.json             {"_meta": …, "codelists": [list, …]}       sorted by code
    departments.json           {"_meta": …, "departments": [row, …]}      sorted by code
    categories/_catalogue.json {"_meta": …, "categories": [row, …]}       categories without fields
    categories/<CODE>.json     one category with its "fields"             one file per category
                                                                          that has fields

Every row is written with every key, in the order of the *_KEYS tuples below, so that
`export` reproduces a file byte for byte. Fields and code items are written in their sort order
(their position in the file is their sort order). The `_meta` blocks are documentation owned by
this module (FILE_META): export writes them, import ignores them.

`read_catalogue` parses a directory and runs `check_catalogue`, which reports every problem at once
in Chinese, naming the file and the row, so an administrator can fix a file before anything is
written to the database.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from pubcredit.catalog import conditions
from pubcredit.catalog.headers import normalise_header, normalise_value
from pubcredit.core.identifiers import check_uscc

DATA_DIR = Path(__file__).resolve().parent / "data"

REGIONS_FILE = "regions.json"
CODELISTS_FILE = "codelists.json"
DEPARTMENTS_FILE = "departments.json"
CATEGORIES_DIR = "categories"
CATALOGUE_FILE = "_catalogue.json"

REGION_KEYS = (
    "code",
    "name",
    "level",
    "parent",
    "valid_from",
    "valid_to",
    "is_gb2260",
    "name_history",
)
CODELIST_KEYS = ("code", "name", "description", "allow_other", "multi_value", "items")
CODEITEM_KEYS = ("value", "code", "synonyms", "description", "active")
CATEGORY_KEYS = (
    "code",
    "name",
    "catalogue_class",
    "parent",
    "subject_kinds",
    "publicity_class",
    "business_key",
    "legacy_prefix",
    "standard",
    "description",
    "sort_order",
    "fields_complete",
    "active",
)
FIELD_KEYS = (
    "code",
    "name",
    "type",
    "requirement",
    "condition",
    "max_length",
    "exact_length",
    "decimal_places",
    "unit",
    "codelist",
    "legacy_codes",
    "synonyms",
    "role",
    "disclosure",
    "description",
)
DEPARTMENT_KEYS = (
    "code",
    "name",
    "short_name",
    "uscc",
    "level",
    "district",
    "parent",
    "submits_for",
    "active",
)

# Defaults for keys a hand-written row may omit. Keys absent here are mandatory.
_DEFAULTS: dict[str, dict] = {
    "region": {
        "parent": None,
        "valid_from": None,
        "valid_to": None,
        "is_gb2260": True,
        "name_history": [],
    },
    "codelist": {"description": "", "allow_other": False, "multi_value": False, "items": []},
    "codeitem": {"code": "", "synonyms": [], "description": "", "active": True},
    "category": {
        "parent": None,
        "subject_kinds": [],
        "publicity_class": "public",
        "business_key": [],
        "legacy_prefix": "",
        "standard": "",
        "description": "",
        "sort_order": 0,
        "fields_complete": False,
        "active": True,
    },
    "field": {
        "type": "string",
        "requirement": "optional",
        "condition": None,
        "max_length": None,
        "exact_length": None,
        "decimal_places": None,
        "unit": "",
        "codelist": None,
        "legacy_codes": [],
        "synonyms": [],
        "role": "",
        "disclosure": "public",
        "description": "",
    },
    "department": {
        "short_name": "",
        "district": None,
        "parent": None,
        "submits_for": [],
        "active": True,
    },
}
_KEYS = {
    "region": REGION_KEYS,
    "codelist": CODELIST_KEYS,
    "codeitem": CODEITEM_KEYS,
    "category": CATEGORY_KEYS,
    "field": FIELD_KEYS,
    "department": DEPARTMENT_KEYS,
}

FILE_META: dict[str, dict] = {
    REGIONS_FILE: {
        "title": "行政区划(山东省,GB/T 2260,含历史代码)及淄博市功能区",
        "source": (
            "国标代码由 python-stdnum 的 stdnum/cn/loc.dat(GB/T 2260,含启用、停用年份)生成:"
            "pubcredit catalog regions。年份为含端点的年份;已撤销的代码保留并填写停用年份,"
            "因为证件号码和历史记录仍在使用它们。"
        ),
        "zone_code_scheme": (
            "功能区不在 GB/T 2260 中,使用本地代码:所在设区市的 6 位区划代码 + “Z” + 2 位序号"
            "(如 370300Z01)。“Z”不会出现在 6 位数字的国标区划代码中,也不在统一社会信用代码的"
            "字符集内,因此本地代码不会与国标代码或信用代码混淆;序号一经使用不再变更或复用。"
        ),
        "fields": (
            "level:province 省 / city 地市(含已撤销的地区)/ county 区县(含市辖区)/ zone 功能区;"
            "name_history:同一代码先后使用多个名称时的沿革,name 为最后的名称。"
        ),
    },
    CODELISTS_FILE: {
        "title": "代码表",
        "fields": (
            "items 的顺序即排序;value 为标准值;code 为代码(行政相对人类别的代码与主体类别 "
            "org/ind/person 一致);synonyms 为导入时映射到标准值的写法(旧称、简称),比较时忽略"
            "全角半角、大小写和空白;allow_other 允许“其他-具体类型”;multi_value 允许一格多个值,"
            "先整体匹配,再按“;；、,,/|”拆分逐个匹配。"
        ),
    },
    DEPARTMENTS_FILE: {
        "title": "淄博市信用信息报送部门及区县信用中心",
        "uscc_note": (
            "统一社会信用代码为演示用的生成值,不是这些单位的真实代码:机关为 11、事业单位为 12,"
            "登记管理机关行政区划码为 370300(区县信用中心为所在区县代码),主体标识码为"
            "“00”(机关)或“MB”(事业单位)加 6 位由部门编码派生的数字,按 GB 11714 计算校验位,"
            "第 18 位按 GB 32100 计算校验位。上线前替换为真实代码。"
        ),
        "fields": (
            "level:city 市级 / district 区县级;district:区县级单位所在区县的区划代码;"
            "parent:上级部门编码;submits_for:本部门可代为报送数据的部门编码。"
        ),
    },
    f"{CATEGORIES_DIR}/{CATALOGUE_FILE}": {
        "title": "《全国公共信用信息基础目录》的 11 个大类及尚未定义字段的信息类别(占位)",
        "fields": (
            "字段已定义的类别各有一个文件 categories/<编码>.json;本文件中的类别没有字段,"
            "fields_complete 为 false,在补齐字段前不能接收数据。catalogue_class 为基础目录大类(1–11)。"
        ),
    },
}

_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")
_REGION_CODE = re.compile(r"^[0-9A-Z]{1,12}$")

REGION_LEVELS = ("province", "city", "county", "zone")
DEPARTMENT_LEVELS = ("city", "district")
SUBJECT_KINDS = ("org", "ind", "person")
PUBLICITY_CLASSES = ("public", "shared", "authorised")
FIELD_TYPES = ("string", "text", "date", "decimal", "integer", "uscc", "id_number", "code")
REQUIREMENTS = ("required", "conditional", "optional")
DISCLOSURES = ("public", "masked", "hidden")


class CatalogueError(ValueError):
    """The catalogue files (or the data about to be imported) are inconsistent."""

    def __init__(self, problems: list[str]):
        self.problems = list(problems)
        shown = "\n".join(f"- {p}" for p in self.problems[:50])
        more = f"\n…另有 {len(self.problems) - 50} 个问题" if len(self.problems) > 50 else ""
        super().__init__(f"信息目录文件有 {len(self.problems)} 个问题:\n{shown}{more}")


@dataclass
class CatalogueData:
    """The whole catalogue as plain rows (the shape of the files). Each category row carries
    its "fields" (an empty list for the categories of `_catalogue.json`)."""

    regions: list[dict] = field(default_factory=list)
    codelists: list[dict] = field(default_factory=list)
    categories: list[dict] = field(default_factory=list)
    departments: list[dict] = field(default_factory=list)


# --------------------------------------------------------------------------- canonical JSON


def dump_json(obj) -> str:
    """The canonical text of a catalogue file."""
    return json.dumps(obj, ensure_ascii=False, indent=2) + "\n"


_CONDITION_KEY_ORDER = ("field", "in", "not_in", "filled", "all", "any")
_HISTORY_KEYS = ("name", "valid_from", "valid_to")


def canonical_condition(condition):
    """The condition with its keys in a fixed order. PostgreSQL's jsonb does not keep key order,
    so without this an export from PostgreSQL would differ from the file it was imported from."""
    if isinstance(condition, list):
        return [canonical_condition(c) for c in condition]
    if not isinstance(condition, dict):
        return condition
    ordered = _ordered(condition, _CONDITION_KEY_ORDER)
    return {k: canonical_condition(v) if k in ("all", "any") else v for k, v in ordered.items()}


def _ordered(obj: dict, order: tuple[str, ...]) -> dict:
    """`obj` with the keys of `order` first, in that order, then any others alphabetically."""
    rank = {k: i for i, k in enumerate(order)}
    return {k: obj[k] for k in sorted(obj, key=lambda k: (rank.get(k, len(rank)), k))}


def canonical_row(kind: str, row: dict) -> dict:
    """The row with every key of its kind, in file order (nested items, fields, conditions and
    name histories too)."""
    out = {key: row.get(key, _DEFAULTS[kind].get(key)) for key in _KEYS[kind]}
    if kind == "codelist":
        out["items"] = [canonical_row("codeitem", item) for item in out["items"] or []]
    elif kind == "field":
        out["condition"] = canonical_condition(out["condition"])
    elif kind == "region" and isinstance(out["name_history"], list):
        # Reorder only (extra or missing keys are left for check_catalogue to report).
        out["name_history"] = [
            _ordered(h, _HISTORY_KEYS) if isinstance(h, dict) else h for h in out["name_history"]
        ]
    return out


def _category_sort_key(row: dict):
    return (row["catalogue_class"], row["sort_order"], row["code"])


def regions_document(rows: list[dict]) -> dict:
    """The content of regions.json for these rows."""
    regions = sorted((canonical_row("region", r) for r in rows), key=lambda r: r["code"])
    return {"_meta": FILE_META[REGIONS_FILE], "regions": regions}


def write_catalogue(data: CatalogueData, target_dir: Path | str) -> list[Path]:
    """Write the catalogue files into `target_dir` in canonical form; return the paths."""
    target = Path(target_dir)
    (target / CATEGORIES_DIR).mkdir(parents=True, exist_ok=True)
    written: list[Path] = []

    def write(rel: str, obj) -> None:
        path = target / rel
        path.write_text(dump_json(obj), encoding="utf-8")
        written.append(path)

    write(REGIONS_FILE, regions_document(data.regions))
    codelists = sorted(
        (canonical_row("codelist", c) for c in data.codelists), key=lambda r: r["code"]
    )
    write(CODELISTS_FILE, {"_meta": FILE_META[CODELISTS_FILE], "codelists": codelists})
    departments = []
    for row in sorted(data.departments, key=lambda r: r["code"]):
        row = canonical_row("department", row)
        row["submits_for"] = sorted(row["submits_for"] or [])
        departments.append(row)
    write(DEPARTMENTS_FILE, {"_meta": FILE_META[DEPARTMENTS_FILE], "departments": departments})

    placeholders = []
    for row in sorted(data.categories, key=_category_sort_key):
        fields = row.get("fields") or []
        cat = canonical_row("category", row)
        if fields:
            cat["fields"] = [canonical_row("field", f) for f in fields]
            write(f"{CATEGORIES_DIR}/{cat['code']}.json", cat)
        else:
            placeholders.append(cat)
    rel = f"{CATEGORIES_DIR}/{CATALOGUE_FILE}"
    write(rel, {"_meta": FILE_META[rel], "categories": placeholders})
    return written


# --------------------------------------------------------------------------- reading


def _load(path: Path, problems: list[str]):
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        problems.append(f"{path.name}:文件不存在({path})")
    except UnicodeDecodeError:
        problems.append(f"{path.name}:不是 UTF-8 编码")
    except json.JSONDecodeError as exc:
        problems.append(f"{path.name}:JSON 格式错误,第 {exc.lineno} 行第 {exc.colno} 列:{exc.msg}")
    return None


def _rows(kind: str, rows, where: str, problems: list[str]) -> list[dict]:
    """Rows with defaults filled in; unknown or missing mandatory keys reported."""
    if not isinstance(rows, list):
        problems.append(f"{where}:应为列表")
        return []
    out = []
    for i, row in enumerate(rows, 1):
        label = f"{where} 第 {i} 项"
        if not isinstance(row, dict):
            problems.append(f"{label}:应为 JSON 对象")
            continue
        label = f"{where} {row.get('code') or row.get('value') or f'第 {i} 项'}"
        unknown = sorted(
            set(row) - set(_KEYS[kind]) - ({"fields"} if kind == "category" else set())
        )
        if unknown:
            problems.append(f"{label}:未知的键 {', '.join(unknown)}")
        missing = [k for k in _KEYS[kind] if k not in row and k not in _DEFAULTS[kind]]
        if missing:
            problems.append(f"{label}:缺少必填的键 {', '.join(missing)}")
            continue
        full = canonical_row(kind, row)
        if kind == "codelist":
            full["items"] = _rows("codeitem", row.get("items", []), label, problems)
        if kind == "category":
            full["fields"] = row.get("fields", [])
        out.append(full)
    return out


def read_catalogue(data_dir: Path | str | None = None) -> CatalogueData:
    """Parse and check the catalogue files of `data_dir` (default: the shipped data). Raises
    CatalogueError listing every problem; returns complete rows when there are none."""
    base = Path(data_dir) if data_dir else DATA_DIR
    problems: list[str] = []
    unreadable: list[str] = []
    data = CatalogueData()

    def section(rel: str, key: str):
        obj = _load(base / rel, problems)
        if obj is None:
            unreadable.append(rel)
            return []
        if not isinstance(obj, dict) or key not in obj:
            problems.append(f"{rel}:应为包含“{key}”列表的 JSON 对象")
            return []
        return obj[key]

    data.regions = _rows("region", section(REGIONS_FILE, "regions"), REGIONS_FILE, problems)
    data.codelists = _rows(
        "codelist", section(CODELISTS_FILE, "codelists"), CODELISTS_FILE, problems
    )
    data.departments = _rows(
        "department", section(DEPARTMENTS_FILE, "departments"), DEPARTMENTS_FILE, problems
    )
    catalogue_rel = f"{CATEGORIES_DIR}/{CATALOGUE_FILE}"
    for row in _rows("category", section(catalogue_rel, "categories"), catalogue_rel, problems):
        if row["fields"]:
            problems.append(
                f"{catalogue_rel} {row['code']}:有字段的类别应单独存放在 {CATEGORIES_DIR}/{row['code']}.json"
            )
        data.categories.append(row)
    category_dir = base / CATEGORIES_DIR
    for path in sorted(category_dir.glob("*.json")) if category_dir.is_dir() else []:
        if path.name == CATALOGUE_FILE:
            continue
        rel = f"{CATEGORIES_DIR}/{path.name}"
        obj = _load(path, problems)
        if obj is None:
            unreadable.append(rel)
            continue
        rows = _rows("category", [obj], rel, problems)
        for row in rows:
            if row["code"] != path.stem:
                problems.append(f"{rel}:文件名应与类别编码一致({row['code']}.json)")
            row["fields"] = _rows("field", row["fields"], f"{rel} 字段", problems)
            if not row["fields"]:
                problems.append(f"{rel}:没有字段的类别应放在 {catalogue_rel} 中")
            data.categories.append(row)
    # Consistency is checked on whatever parsed, so one run reports row-level and cross-file
    # problems together; a file that did not parse at all would only add noise.
    if not unreadable:
        problems.extend(check_catalogue(data))
    if problems:
        raise CatalogueError(problems)
    return data


# --------------------------------------------------------------------------- consistency


def _duplicates(values) -> list:
    seen, dups = set(), []
    for v in values:
        if v in seen and v not in dups:
            dups.append(v)
        seen.add(v)
    return dups


def _cycle(rows: list[dict], key: str = "parent") -> list[str]:
    by_code = {r["code"]: r for r in rows}
    bad = []
    for row in rows:
        seen = {row["code"]}
        parent = row.get(key)
        while parent in by_code:
            if parent in seen:
                bad.append(row["code"])
                break
            seen.add(parent)
            parent = by_code[parent].get(key)
    return bad


def check_catalogue(data: CatalogueData) -> list[str]:
    """Every inconsistency of the catalogue as a Chinese message (empty when consistent)."""
    problems: list[str] = []
    p = problems.append

    # Regions
    region_codes = [r["code"] for r in data.regions]
    for code in _duplicates(region_codes):
        p(f"{REGIONS_FILE}:区划代码 {code} 重复")
    regions = {r["code"]: r for r in data.regions}
    for r in data.regions:
        where = f"{REGIONS_FILE} {r['code']}"
        if not isinstance(r["code"], str) or not _REGION_CODE.match(r["code"]):
            p(f"{where}:区划代码应为不超过 12 位的数字或大写字母")
            continue
        if not r["name"]:
            p(f"{where}:名称为空")
        if r["level"] not in REGION_LEVELS:
            p(f"{where}:级别“{r['level']}”无效,应为 {'/'.join(REGION_LEVELS)}")
        is_six_digits = len(r["code"]) == 6 and r["code"].isdigit()
        if r["is_gb2260"] and not is_six_digits:
            p(f"{where}:国标区划代码应为 6 位数字")
        if not r["is_gb2260"] and is_six_digits:
            p(f"{where}:本地代码不能是 6 位数字,以免与国标区划代码混淆")
        if r["level"] == "zone" and r["is_gb2260"]:
            p(f"{where}:功能区没有国标代码,is_gb2260 应为 false")
        if r["parent"] is not None and r["parent"] not in regions:
            p(f"{where}:上级区划 {r['parent']} 不存在")
        if r["valid_from"] and r["valid_to"] and r["valid_from"] > r["valid_to"]:
            p(f"{where}:启用年份晚于停用年份")
        for entry in r["name_history"] or []:
            if not isinstance(entry, dict) or set(entry) != {"name", "valid_from", "valid_to"}:
                p(f"{where}:名称沿革的每一项应为 {{name, valid_from, valid_to}}")
                break
    for code in _cycle(data.regions):
        p(f"{REGIONS_FILE} {code}:上级区划形成循环")

    # Code lists
    codelists = {c["code"]: c for c in data.codelists}
    for code in _duplicates(c["code"] for c in data.codelists):
        p(f"{CODELISTS_FILE}:代码表 {code} 重复")
    for c in data.codelists:
        where = f"{CODELISTS_FILE} {c['code']}"
        if not _CODE.match(str(c["code"])):
            p(f"{where}:代码表编码只能由字母、数字、下划线和连字符组成")
        if not c["items"]:
            p(f"{where}:代码表没有代码项")
        for value in _duplicates(i["value"] for i in c["items"]):
            p(f"{where}:标准值“{value}”重复")
        owner: dict[str, str] = {}
        for item in c["items"]:
            if not item["value"]:
                p(f"{where}:有代码项的标准值为空")
            for spelling in (item["value"], item["code"], *item["synonyms"]):
                if not spelling:
                    continue
                key = normalise_value(spelling)
                if owner.setdefault(key, item["value"]) != item["value"]:
                    p(
                        f"{where}:写法“{spelling}”同时对应“{owner[key]}”和“{item['value']}”,"
                        "导入时无法确定标准值"
                    )

    # Categories and fields
    categories = {c["code"]: c for c in data.categories}
    for code in _duplicates(c["code"] for c in data.categories):
        p(f"信息类别 {code} 重复定义")
    for code in _cycle(data.categories):
        p(f"信息类别 {code}:上级类别形成循环")
    for cat in data.categories:
        where = f"信息类别 {cat['code']}"
        if not isinstance(cat["code"], str) or not _CODE.match(cat["code"]):
            p(f"{where}:类别编码只能由字母、数字、下划线和连字符组成")
        if not isinstance(cat["catalogue_class"], int) or not 1 <= cat["catalogue_class"] <= 11:
            p(f"{where}:基础目录大类应为 1–11 的整数")
        if cat["parent"] is not None and cat["parent"] not in categories:
            p(f"{where}:上级类别 {cat['parent']} 不存在")
        bad_kinds = [k for k in cat["subject_kinds"] if k not in SUBJECT_KINDS]
        if bad_kinds:
            p(f"{where}:适用主体 {bad_kinds} 无效,应为 {'/'.join(SUBJECT_KINDS)}")
        if cat["publicity_class"] not in PUBLICITY_CLASSES:
            p(f"{where}:公开属性“{cat['publicity_class']}”无效")
        fields = cat["fields"]
        codes = [f["code"] for f in fields]
        for code in _duplicates(codes):
            p(f"{where}:字段 {code} 重复")
        by_code = {f["code"]: f for f in fields}
        if cat["fields_complete"] and not fields:
            p(f"{where}:标为字段已完整定义,但没有字段")
        if cat["fields_complete"] and not cat["business_key"]:
            p(f"{where}:字段已完整定义的类别应指定业务主键字段")
        for key in cat["business_key"]:
            if key not in by_code:
                p(f"{where}:业务主键字段 {key} 不是本类别的字段")
        header_owner: dict[str, str] = {}
        for f in fields:
            fw = f"{where} 字段 {f['code']}"
            if not isinstance(f["code"], str) or not _CODE.match(f["code"]):
                p(f"{fw}:字段编码只能由字母、数字、下划线和连字符组成")
                continue
            if not f["name"]:
                p(f"{fw}:字段名称为空")
            if f["type"] not in FIELD_TYPES:
                p(f"{fw}:类型“{f['type']}”无效")
            if f["requirement"] not in REQUIREMENTS:
                p(f"{fw}:必填性“{f['requirement']}”无效")
            if f["disclosure"] not in DISCLOSURES:
                p(f"{fw}:公开方式“{f['disclosure']}”无效")
            if (f["requirement"] == "conditional") != (f["condition"] is not None):
                p(f"{fw}:条件必填的字段必须有条件,其他字段不能有条件")
            if f["condition"] is not None:
                structure = conditions.validate_condition(f["condition"])
                for problem in structure:
                    p(f"{fw}:{problem}")
                if not structure:
                    for ref in sorted(conditions.referenced_fields(f["condition"])):
                        if ref not in by_code:
                            p(f"{fw}:条件引用的字段 {ref} 不是本类别的字段")
                        elif ref == f["code"]:
                            p(f"{fw}:条件不能引用字段本身")
                    for ref, values in conditions.referenced_values(f["condition"]).items():
                        target = codelists.get((by_code.get(ref) or {}).get("codelist"))
                        if target is None:
                            continue
                        known = {i["value"] for i in target["items"]}
                        for value in sorted(values - known):
                            p(f"{fw}:条件中的值“{value}”不在字段 {ref} 的代码表中")
            if f["codelist"] is not None and f["codelist"] not in codelists:
                p(f"{fw}:代码表 {f['codelist']} 不存在")
            if (f["type"] == "code") != (f["codelist"] is not None):
                p(f"{fw}:代码值类型的字段必须指定代码表,其他类型不能指定")
            if f["type"] == "uscc" and f["exact_length"] != 18:
                p(f"{fw}:统一社会信用代码字段的固定长度应为 18")
            if f["decimal_places"] is not None and f["type"] != "decimal":
                p(f"{fw}:只有小数类型可以指定小数位数")
            if (
                f["exact_length"] is not None
                and f["max_length"] is not None
                and f["exact_length"] > f["max_length"]
            ):
                p(f"{fw}:固定长度大于最大长度")
            for spelling in (f["code"], *f["legacy_codes"], f["name"], *f["synonyms"]):
                key = normalise_header(spelling)
                if not key:
                    p(f"{fw}:有空的旧字段代码或同义词")
                    continue
                other = header_owner.setdefault(key, f["code"])
                if other != f["code"]:
                    p(
                        f"{where}:表头写法“{spelling}”同时对应字段 {other} 和 {f['code']},"
                        "导入时无法确定对应字段"
                    )
        roles = [f["role"] for f in fields if f["role"]]
        for role in _duplicates(roles):
            p(f"{where}:语义角色 {role} 被多个字段使用")

    # Departments
    departments = {d["code"]: d for d in data.departments}
    for code in _duplicates(d["code"] for d in data.departments):
        p(f"{DEPARTMENTS_FILE}:部门编码 {code} 重复")
    for uscc in _duplicates(d["uscc"] for d in data.departments):
        p(f"{DEPARTMENTS_FILE}:统一社会信用代码 {uscc} 重复")
    for d in data.departments:
        where = f"{DEPARTMENTS_FILE} {d['code']}"
        if not isinstance(d["code"], str) or not _CODE.match(d["code"]):
            p(f"{where}:部门编码只能由字母、数字、下划线和连字符组成")
        if not d["name"]:
            p(f"{where}:部门名称为空")
        verdict = check_uscc(str(d["uscc"] or ""))
        if not verdict.valid:
            p(f"{where}:统一社会信用代码 {d['uscc']} 无效:{';'.join(verdict.errors)}")
        elif verdict.normalized != d["uscc"]:
            p(f"{where}:统一社会信用代码应写作 {verdict.normalized}")
        if d["level"] not in DEPARTMENT_LEVELS:
            p(f"{where}:层级“{d['level']}”无效,应为 city 或 district")
        if (d["level"] == "district") != (d["district"] is not None):
            p(f"{where}:区县级单位必须填写所在区县,市级单位不填")
        if d["district"] is not None:
            region = regions.get(d["district"])
            if region is None:
                p(f"{where}:所在区县 {d['district']} 不在行政区划中")
            elif region["level"] not in ("county", "zone"):
                p(f"{where}:所在区县 {d['district']} 不是区县或功能区")
        if d["parent"] is not None and d["parent"] not in departments:
            p(f"{where}:上级部门 {d['parent']} 不存在")
        for other in d["submits_for"]:
            if other not in departments:
                p(f"{where}:可代为报送的部门 {other} 不存在")
            elif other == d["code"]:
                p(f"{where}:可代为报送的部门不能是本部门")
    for code in _cycle(data.departments):
        p(f"{DEPARTMENTS_FILE} {code}:上级部门形成循环")
    return problems
