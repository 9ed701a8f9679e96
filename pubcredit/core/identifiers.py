"""Our own validators for 统一社会信用代码 (GB 32100-2015) and 居民身份证号码 (GB 11643-1999).

Why not python-stdnum: it rejects codes that are valid in the real world (USCCs starting with A, N
or Y; IDs whose county code was created after the holder's birth) and even raises KeyError for
counties missing from its table (brief §3.3). We implement the checksums and formats ourselves
and use stdnum's GB/T 2260 table (`cn/loc`, with years of validity) only as advice: an unknown or
abolished region code is a warning, never a rejection.

No database access here: these functions are called per cell by the intake and in bulk by the
demo generator.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import unicodedata
from dataclasses import asdict, dataclass, field
from zoneinfo import ZoneInfo

USCC_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_VALUE = {c: i for i, c in enumerate(USCC_CHARSET)}
# w_i = 3^(i-1) mod 31
USCC_WEIGHTS = tuple(pow(3, i, 31) for i in range(17))

RIC_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
RIC_CHECK_CHARS = "10X98765432"

ORGCODE_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)

_TZ = ZoneInfo("Asia/Shanghai")

# 登记管理部门代码 (position 1) → label.
REGISTRATION_AUTHORITIES: dict[str, str] = {
    "1": "机构编制",
    "2": "外交",
    "3": "司法行政",
    "4": "文化",
    "5": "民政",
    "6": "旅游",
    "7": "宗教",
    "8": "工会",
    "9": "工商(市场监管)",
    "A": "中央军委改革和编制办公室",
    "N": "农业",
    "Y": "其他",
}

# 机构类别代码 (positions 1–2) → label (GB 32100-2015 appendix, as in uscc-utils).
ORG_CATEGORIES: dict[str, str] = {
    "11": "机关",
    "12": "事业单位",
    "13": "中央编办直接管理机构编制的群众团体",
    "19": "其他(机构编制)",
    "21": "外国常驻新闻机构",
    "29": "其他(外交)",
    "31": "律师执业机构",
    "32": "公证处",
    "33": "基层法律服务所",
    "34": "司法鉴定机构",
    "35": "仲裁委员会",
    "39": "其他(司法行政)",
    "41": "外国在华文化中心",
    "49": "其他(文化)",
    "51": "社会团体",
    "52": "民办非企业单位",
    "53": "基金会",
    "59": "其他(民政)",
    "61": "外国旅游部门常驻代表机构",
    "62": "港澳台地区旅游部门常驻内地(大陆)代表机构",
    "69": "其他(旅游)",
    "71": "宗教活动场所",
    "72": "宗教院校",
    "79": "其他(宗教)",
    "81": "基层工会",
    "89": "其他(工会)",
    "91": "企业",
    "92": "个体工商户",
    "93": "农民专业合作社",
    "A1": "军队事业单位",
    "A9": "其他(军队)",
    "N1": "组级集体经济组织",
    "N2": "村级集体经济组织",
    "N3": "乡镇级集体经济组织",
    "N9": "其他(农业)",
    "Y1": "其他",
}

# Region codes used by registration authorities that are not GB/T 2260 divisions.
_SPECIAL_REGIONS = {"100000": "国家级(中央)登记机关"}

_SCIENTIFIC = re.compile(r"^[+-]?\d+(?:\.\d*)?E[+-]?\d+$")
_REMOVE = {ord(c): None for c in "-‐‑‒–—―−﹣_\u200b\u200c\u200d\u2060\ufeff"}


# --------------------------------------------------------------------------- check characters


def uscc_check_char(first17: str) -> str:
    """The 18th character of a USCC whose first 17 characters are given (GB 32100 mod 31)."""
    if len(first17) != 17:
        raise ValueError("need exactly 17 characters")
    try:
        total = sum(_USCC_VALUE[c] * w for c, w in zip(first17, USCC_WEIGHTS, strict=True))
    except KeyError as exc:
        raise ValueError(f"character {exc.args[0]!r} is not in the USCC character set") from None
    return USCC_CHARSET[(31 - total % 31) % 31]


def ric_check_char(first17: str) -> str:
    """The 18th character of a 身份证号 whose first 17 digits are given (GB 11643 mod 11)."""
    if len(first17) != 17 or not first17.isascii() or not first17.isdigit():
        raise ValueError("need exactly 17 digits")
    total = sum(int(c) * w for c, w in zip(first17, RIC_WEIGHTS, strict=True))
    return RIC_CHECK_CHARS[total % 11]


def _orgcode_value(c: str) -> int:
    if "0" <= c <= "9":
        return ord(c) - 48
    if "A" <= c <= "Z":
        return ord(c) - 55
    raise ValueError(f"character {c!r} is not allowed in an organisation code")


def orgcode_check_char(first8: str) -> str:
    """The 9th character of a GB 11714 organisation code (组织机构代码) from its first 8."""
    if len(first8) != 8:
        raise ValueError("need exactly 8 characters")
    total = sum(_orgcode_value(c) * w for c, w in zip(first8, ORGCODE_WEIGHTS, strict=True))
    check = 11 - total % 11
    return "X" if check == 10 else "0" if check == 11 else str(check)


# --------------------------------------------------------------------------- normalisation


def normalize_identifier(value: str) -> str:
    """NFKC (full-width → half-width), drop all whitespace (inner too) and hyphens, upper-case."""
    if value is None:
        return ""
    s = unicodedata.normalize("NFKC", str(value)).translate(_REMOVE)
    return "".join(s.split()).upper()


# --------------------------------------------------------------------------- regions


@dataclass(frozen=True)
class RegionInfo:
    code: str
    province: str
    name: str
    valid_from: int | None
    valid_to: int | None

    @property
    def abolished(self) -> bool:
        return self.valid_to is not None


_YEARS = re.compile(r"^\[(\d{4})?-(\d{4})?\]")


@functools.lru_cache(maxsize=8192)
def region_info(code: str) -> RegionInfo | None:
    """The GB/T 2260 division for a 6-digit code from python-stdnum's table, or None if unknown.

    Advisory only: any failure of the lookup (stdnum raises KeyError for some unknown counties)
    counts as "unknown".
    """
    if code in _SPECIAL_REGIONS:
        return RegionInfo(code, "", _SPECIAL_REGIONS[code], None, None)
    if len(code) != 6 or not code.isdigit():
        return None
    try:
        from stdnum import numdb  # heavy: parses its region database, only for region checks

        parts = numdb.get("cn/loc").info(code)
        if len(parts) < 2:
            return None
        province = parts[0][1].get("province", "")
        county = parts[1][1].get("county")
        if not province or not county:
            return None
        valid_from = valid_to = None
        m = _YEARS.match(county)
        if m:
            valid_from = int(m.group(1)) if m.group(1) else None
            valid_to = int(m.group(2)) if m.group(2) else None
            county = county[m.end() :]
        return RegionInfo(code, province, county, valid_from, valid_to)
    except Exception:
        return None


def region_label(code: str) -> str:
    """ "山东省 张店区" for 370303; "" when unknown."""
    info = region_info(code)
    if info is None:
        return ""
    if info.province and info.name != info.province:
        return f"{info.province} {info.name}"
    return info.name


def _region_warnings(code: str, what: str) -> list[str]:
    info = region_info(code)
    if info is None:
        return [
            f"{what} {code} 不在 GB/T 2260 行政区划参考表中,请核实(功能区或新设区划可能使用本地代码)"
        ]
    if info.abolished:
        return [f"{what} {code}({info.name})已于 {info.valid_to} 年停用,请核实(历史代码仍可能有效)"]
    return []


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class IdCheck:
    """The verdict on one identifier. `normalized` is the canonical form when `valid`, else None.
    `errors` make the value invalid; `warnings` are advice for a clerk (valid stays True)."""

    value: str
    kind: str | None
    valid: bool
    normalized: str | None
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return asdict(self)


def _result(value, kind, normalized, errors, warnings) -> IdCheck:
    ok = not errors
    return IdCheck(
        value="" if value is None else str(value),
        kind=kind,
        valid=ok,
        normalized=normalized if ok else None,
        errors=errors,
        warnings=warnings,
    )


def _excel_error(s: str) -> str:
    return (
        f"号码 {s} 是科学计数法形式,疑似被 Excel 当作数字处理,末尾数字已丢失;"
        "请将该列设置为“文本”格式后重新导出原始号码"
    )


# --------------------------------------------------------------------------- USCC


def org_category(uscc: str) -> tuple[str, str]:
    """The 2-character 机构类别代码 of a USCC and its Chinese label ("其他" when not in the table)."""
    code = normalize_identifier(uscc)[:2]
    return code, ORG_CATEGORIES.get(code, "其他")


def subject_kind_for_uscc(uscc: str) -> str:
    """SubjectKind value for a USCC holder: "ind" (个体工商户) for category 92, else "org"."""
    return "ind" if normalize_identifier(uscc)[:2] == "92" else "org"


def check_uscc(value: str) -> IdCheck:
    """Validate a 统一社会信用代码. Errors: length, characters, position 1, region digits,
    check character. Warnings: unknown category for the authority, unknown or abolished region,
    a mismatching GB 11714 check character in positions 9–17."""
    s = normalize_identifier(value)
    errors: list[str] = []
    warnings: list[str] = []
    if not s:
        return _result(value, "uscc", None, ["统一社会信用代码为空"], [])
    if _SCIENTIFIC.match(s):
        return _result(value, "uscc", None, [_excel_error(s)], [])
    if len(s) != 18:
        errors.append(f"统一社会信用代码应为 18 位,实为 {len(s)} 位")
    bad = sorted({c for c in s if c not in _USCC_VALUE})
    if bad:
        errors.append(
            f"统一社会信用代码含有不允许的字符:{'、'.join(bad)}"
            "(只用数字和除 I、O、S、V、Z 以外的大写字母)"
        )
    if s[0] not in REGISTRATION_AUTHORITIES:
        errors.append(f"第 1 位登记管理部门代码“{s[0]}”无效,应为 1–9、A、N 或 Y")
    region = s[2:8]
    if len(s) >= 8 and not (region.isascii() and region.isdigit()):
        errors.append(f"第 3–8 位登记管理机关行政区划码应为 6 位数字,实为 {region}")
    if len(s) == 18 and not bad:
        expected = uscc_check_char(s[:17])
        if expected != s[17]:
            errors.append(f"统一社会信用代码校验位错误:应为 {expected},实为 {s[17]}")
    if errors:
        return _result(value, "uscc", None, errors, warnings)

    category = s[:2]
    if category not in ORG_CATEGORIES:
        warnings.append(
            f"机构类别代码 {category} 不在登记管理部门“{REGISTRATION_AUTHORITIES[s[0]]}”的已知类别中,请核实"
        )
    warnings.extend(_region_warnings(region, "登记管理机关行政区划码"))
    orgcode = s[8:17]
    try:
        expected_org = orgcode_check_char(orgcode[:8])
    except ValueError:
        expected_org = None
    if expected_org is not None and expected_org != orgcode[8]:
        warnings.append(
            f"第 9–17 位主体标识码(组织机构代码 {orgcode})的校验位应为 {expected_org},"
            f"实为 {orgcode[8]},请核实"
        )
    return _result(value, "uscc", s, errors, warnings)


# --------------------------------------------------------------------------- RIC (身份证号)


def _today() -> dt.date:
    return dt.datetime.now(_TZ).date()


def _parse_date(yyyymmdd: str) -> dt.date | None:
    try:
        return dt.date(int(yyyymmdd[:4]), int(yyyymmdd[4:6]), int(yyyymmdd[6:8]))
    except ValueError:
        return None


def upgrade_ric15(old: str) -> str:
    """The 18-digit number of a 15-digit (pre-1999) ID: "19" inserted before the year, check
    character appended (GB 11643-1999)."""
    s = normalize_identifier(old)
    if len(s) != 15 or not s.isdigit():
        raise ValueError("need a 15-digit ID number")
    first17 = s[:6] + "19" + s[6:]
    return first17 + ric_check_char(first17)


def ric_birth_date(ric: str) -> dt.date | None:
    s = normalize_identifier(ric)
    return _parse_date(s[6:14]) if len(s) == 18 else None


def ric_sex(ric: str) -> str | None:
    """ "男" or "女" from the sequence digit (odd = male)."""
    s = normalize_identifier(ric)
    if len(s) != 18 or not s[16].isdigit():
        return None
    return "男" if int(s[16]) % 2 else "女"


def check_ric(value: str) -> IdCheck:
    """Validate an 18-digit 居民身份证号码: format, birth date (1900-01-01 … today), check
    character. The address code is advisory: unknown or abolished → warning only, and a code
    created after the birth year is normal (the code is assigned where one registers)."""
    s = normalize_identifier(value)
    errors: list[str] = []
    warnings: list[str] = []
    if not s:
        return _result(value, "ric", None, ["身份证号码为空"], [])
    if _SCIENTIFIC.match(s):
        return _result(value, "ric", None, [_excel_error(s)], [])
    if len(s) == 15 and s.isascii() and s.isdigit():
        msg = "这是 15 位旧版身份证号码,须使用 18 位居民身份证号码"
        new = upgrade_ric15(s)
        if _parse_date(new[6:14]) is not None:
            msg += f"(按 GB 11643 升位后为 {new},请与证件核对)"
        return _result(value, "ric", None, [msg], [])
    if len(s) != 18:
        return _result(value, "ric", None, [f"身份证号码应为 18 位,实为 {len(s)} 位"], [])
    if not (s[:17].isascii() and s[:17].isdigit() and (s[17].isdigit() or s[17] == "X")):
        return _result(value, "ric", None, ["身份证号码前 17 位应为数字,第 18 位为数字或 X"], [])
    born = _parse_date(s[6:14])
    if born is None:
        errors.append(f"出生日期 {s[6:14]} 不是有效日期")
    elif born > _today():
        errors.append(f"出生日期 {born.isoformat()} 晚于今天")
    elif born.year < 1900:
        errors.append(f"出生日期 {born.isoformat()} 早于 1900 年")
    expected = ric_check_char(s[:17])
    if expected != s[17]:
        msg = f"身份证号码校验位错误:应为 {expected},实为 {s[17]}"
        if s.endswith("000"):
            msg += ";末三位为 000,可能是 Excel 按数字处理后只保留了 15 位有效数字"
        errors.append(msg)
    if not errors:
        warnings.extend(_region_warnings(s[:6], "地址码"))
    return _result(value, "ric", s, errors, warnings)


# --------------------------------------------------------------------------- auto-detect


def _plausible_birth_date(s: str) -> bool:
    born = _parse_date(s[6:14])
    return born is not None and 1900 <= born.year and born <= _today()


def check_identifier(value: str) -> IdCheck:
    """Validate a value that is either a USCC or a 身份证号, detecting which.

    18 digits (last may be X) with a plausible birth date at positions 7–14 → 身份证号, unless it
    fails as one and passes as a USCC; other 18-character alphanumeric values → USCC (so that a
    typed O or I is explained); 15 digits → an old-format ID (rejected with a hint); anything
    else → kind None with an explanation.
    """
    s = normalize_identifier(value)
    if not s:
        return _result(value, None, None, ["号码为空"], [])
    if _SCIENTIFIC.match(s):
        return _result(value, None, None, [_excel_error(s)], [])
    if len(s) == 15 and s.isascii() and s.isdigit():
        return check_ric(s)
    if len(s) == 18 and s.isascii() and s.isalnum():
        if s[:17].isdigit() and (s[17].isdigit() or s[17] == "X") and _plausible_birth_date(s):
            ric = check_ric(value)
            if not ric.valid:
                uscc = check_uscc(value)
                if uscc.valid:
                    return uscc
            return ric
        return check_uscc(value)
    if len(s) == 18:
        return _result(
            value,
            None,
            None,
            ["号码含有数字和字母以外的字符,既不是统一社会信用代码也不是身份证号码"],
            [],
        )
    return _result(
        value,
        None,
        None,
        [f"号码长度为 {len(s)} 位;统一社会信用代码和居民身份证号码都应为 18 位"],
        [],
    )
