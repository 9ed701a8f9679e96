"""Build the region rows of `data/regions.json`: Shandong's GB/T 2260 codes with their years of
validity, from python-stdnum's `cn/loc` table, plus the seed city's functional zones.

Run `pubcredit catalog regions` to regenerate the file (e.g. after a python-stdnum upgrade brings
new codes); the result is reviewed and committed like any other data change.

stdnum writes a code's history into its name: `[1983-]张店区` (valid from 1983), `[-1989]高青县`
(until 1989), `[1983-1992]郊区,[1993-]任城区` (renamed). Years are inclusive, as in stdnum. A code
with several names keeps its current (last) name and the whole sequence in `name_history`.
"""

from __future__ import annotations

import re

PROVINCE = "370000"
SEED_CITY = "370300"

# Functional zones of the seed city. They have no GB/T 2260 code; local platforms give them their
# own. Ours: the city's code, "Z", a two-digit serial (e.g. 370300Z01). "Z" cannot occur in a
# GB/T 2260 code (six digits) nor in a 统一社会信用代码 (its character set excludes Z), so such a
# code can never be mistaken for either. Keep serials stable: records refer to them.
ZONES: list[dict] = [
    {"code": "370300Z01", "name": "淄博高新技术产业开发区"},
    {"code": "370300Z02", "name": "淄博经济开发区"},
    {"code": "370300Z03", "name": "淄博文昌湖省级旅游度假区"},
]

ZONE_CODE_SCHEME = (
    "功能区不在 GB/T 2260 中,使用本地代码:所在设区市的 6 位区划代码 + “Z” + 2 位序号"
    "(如 370300Z01)。“Z”不会出现在 6 位数字的国标区划代码中,也不在统一社会信用代码的字符集内,"
    "因此本地代码不会与国标代码或信用代码混淆;序号一经使用不再变更或复用。"
)

_PERIOD = re.compile(r"^(?:\[(?P<from>\d{4})?-(?P<to>\d{4})?\])?(?P<name>.+)$")


def parse_history(raw: str) -> list[dict]:
    """`[1983-1992]郊区,[1993-]任城区` → [{name: 郊区, valid_from: 1983, valid_to: 1992}, …]."""
    periods = []
    for part in re.split(r",(?=\[)", raw):
        match = _PERIOD.match(part.strip())
        if not match:
            raise ValueError(f"unexpected cn/loc name {raw!r}")
        periods.append(
            {
                "name": match["name"].strip(),
                "valid_from": int(match["from"]) if match["from"] else None,
                "valid_to": int(match["to"]) if match["to"] else None,
            }
        )
    return periods


def _level(code: str) -> str:
    if code.endswith("0000"):
        return "province"
    if code.endswith("00"):
        return "city"
    return "county"


def _stdnum_rows(province: str) -> dict[str, str]:
    """code → raw name, for every code of the province in stdnum's table."""
    # Imported here: stdnum's region table is large; read only when regions are imported.
    from stdnum import numdb

    db = numdb.get("cn/loc")
    prefix = province[:2]
    rows: dict[str, str] = {}
    # numdb rows are (length, low, high, properties, children); cn/loc has no ranges.
    for _length, low, high, props, children in db.prefixes:
        if not low <= prefix <= high:
            continue
        for _clen, clow, chigh, county_props, _ in children:
            if clow != chigh:
                raise ValueError(f"unexpected range {clow}-{chigh} in cn/loc")
            rows[prefix + clow] = county_props["county"]
        rows.setdefault(province, props["province"])
    return rows


def build_regions(province: str = PROVINCE, city: str = SEED_CITY) -> list[dict]:
    """All region rows for `province` (sorted by code) plus the zones of `city`, in the shape
    of `regions.json`."""
    raw = _stdnum_rows(province)
    if province not in raw:
        raise ValueError(f"province {province} not in python-stdnum's cn/loc table")
    rows: dict[str, dict] = {}
    for code, name in raw.items():
        history = parse_history(name)
        rows[code] = {
            "code": code,
            "name": history[-1]["name"],
            "level": _level(code),
            "parent": None,
            "valid_from": history[0]["valid_from"],
            "valid_to": history[-1]["valid_to"],
            "is_gb2260": True,
            "name_history": history if len(history) > 1 else [],
        }
    for code, row in rows.items():
        if row["level"] == "city":
            row["parent"] = province
        elif row["level"] == "county":
            prefecture = code[:4] + "00"
            row["parent"] = prefecture if prefecture in rows else province
    if city not in rows:
        raise ValueError(f"city {city} not in province {province}")
    for zone in ZONES:
        if zone["code"] in rows:
            raise ValueError(f"zone code {zone['code']} collides with a GB/T 2260 code")
        rows[zone["code"]] = {
            "code": zone["code"],
            "name": zone["name"],
            "level": "zone",
            "parent": city,
            "valid_from": None,
            "valid_to": None,
            "is_gb2260": False,
            "name_history": [],
        }
    return [rows[code] for code in sorted(rows)]
