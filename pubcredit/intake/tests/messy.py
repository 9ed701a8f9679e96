"""Messy 行政处罚 files, as departments really send them, with the exact expected outcome per row.

One logical table (`CASES`: clean rows, every kind of mess the engine must repair, and every kind
of fault it must reject) is rendered into every supported format and encoding: .xlsx (xlsxwriter:
an instructions sheet first, a title line, numbers and dates stored as numbers, an 身份证号 that
Excel turned into a float), .xls (xlwt), .csv in UTF-8, UTF-8 with BOM and CRLF, GB18030, a
tab-delimited variant, and .json (an array, or {"data": [...]}) with legacy codes as keys.

Around the data: a title line and a blank line above the header; headers as Chinese names,
synonyms, legacy codes in mixed case, decorated ("罚款金额（万元）（必填）", a line break and
"(YYYY-MM-DD)"); two extra columns (序号, 内部编号); a blank row and a row holding only a 序号
inside the data; blank rows at the end.

`messy_files()` returns `MessyFile`s whose `expected` maps the row number the clerk sees to the
`Case` written there, so a test can compare the engine's verdict row by row.
"""

from __future__ import annotations

import csv
import datetime as dt
import html
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass, field

from pubcredit.core.identifiers import ric_check_char, uscc_check_char

RECEIPT = dt.date(2024, 3, 20)
DECISION = dt.date(2024, 3, 15)  # 3 working days before RECEIPT: on time
EXCEL_EPOCH = dt.date(1899, 12, 30)


def uscc(first17: str) -> str:
    return first17 + uscc_check_char(first17)


def ric(first17: str) -> str:
    return first17 + ric_check_char(first17)


def wrong_check(code: str, charset: str = "0123456789") -> str:
    """`code` with a check character that is certainly wrong."""
    for c in charset:
        if c != code[-1]:
            return code[:-1] + c
    raise AssertionError


DEPARTMENT = uscc("11370303MB2850123")  # 淄博市张店区市场监督管理局 (made up, valid)
PARTNER = uscc("11370303MB285022X")  # a unit the department may submit for
STRANGER = uscc("11370302MB1234567")
ALLOWED_SOURCES = frozenset({DEPARTMENT, PARTNER})


def org_uscc(n: int, prefix: str = "91") -> str:
    return uscc(f"{prefix}370303MA3C{n:05d}")


def person_ric(n: int, birth: str = "19800101") -> str:
    return ric(f"370303{birth}{n:03d}")


def ric_ending_in_x() -> str:
    for seq in range(1000):
        first17 = f"37030319850612{seq:03d}"
        if ric_check_char(first17) == "X":
            return first17 + "X"
    raise AssertionError


def fullwidth(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


def both_ways(fn, *args, **kwargs):
    """fn (a cleaner) computed row by row and on distinct values: the results must be equal.
    Returns the result as Python lists."""
    from pubcredit.intake.engine import cleaning

    results = []
    for mode in ("never", "always"):
        saved, cleaning.DISTINCT_MODE = cleaning.DISTINCT_MODE, mode
        try:
            out = fn(*args, **kwargs)
        finally:
            cleaning.DISTINCT_MODE = saved
        results.append([s.to_list() for s in out] if isinstance(out, tuple) else out.to_list())
    assert results[0] == results[1]
    return results[0]


# --------------------------------------------------------------------------- cells


@dataclass(frozen=True)
class Num:
    """A number cell in a workbook; `text` is how Excel shows (and exports to CSV) it."""

    value: float
    text: str


@dataclass(frozen=True)
class DateCell:
    """A date (or date-time) cell in a workbook; ISO text in CSV and JSON."""

    value: dt.date | dt.datetime

    @property
    def text(self) -> str:
        if isinstance(self.value, dt.datetime):
            return self.value.isoformat(sep=" ", timespec="seconds")
        return self.value.isoformat()


@dataclass(frozen=True)
class Serial:
    """An Excel serial day number left in a date column (a number cell, shown as 45366)."""

    day: dt.date

    @property
    def value(self) -> int:
        return (self.day - EXCEL_EPOCH).days


@dataclass
class Case:
    """One data row and what the engine must make of it."""

    name: str
    cells: dict[str, object]
    errors: frozenset[tuple[str, str]] = frozenset()  # (field code or "", rule)
    warnings: frozenset[tuple[str, str]] = frozenset()
    clean: dict[str, object] = field(default_factory=dict)  # expected cleaned values
    duplicate_of: str | None = None
    late: bool = False

    @property
    def accepted(self) -> bool:
        return not self.errors


# --------------------------------------------------------------------------- the table

# (header as written, field code or None for an extra column, JSON key)
COLUMNS: list[tuple[str, str | None, str]] = [
    ("序号", None, "XH"),
    ("行政相对人名称", "CF_XDR_MC", "CF_XDR_MC"),
    ("cf_xdr_lb", "CF_XDR_LB", "cf_xdr_lb"),
    ("统一社会信用代码", "CF_XDR_SHXYM", "CF_XDR_SHXYM"),
    ("法定代表人", "CF_FRDB", "Cf_Frdb"),
    ("证件类型", "CF_XDR_ZJLX", "CF_XDR_ZJLX"),
    ("证件号码", "CF_XDR_ZJHM", "CF_XDR_ZJHM"),
    ("Cf_Wsh", "CF_WSH", "CF_WSH"),
    ("违法行为类型", "CF_WFXW", "CF_WFXW"),
    ("违法事实", "CF_SY", "CF_SY"),
    ("处罚依据", "CF_YJ", "CF_YJ"),
    ("处罚类别", "CF_CFLB", "CF_CFLB"),
    ("处罚内容", "CF_NR", "CF_NR"),
    ("罚款金额（万元）（必填）", "CF_NR_FK", "CF_NR_FK"),
    ("没收违法所得、没收非法财物的金额（万元）", "CF_NR_WFFF", "CF_NR_WFFF"),
    ("暂扣或吊销证照名称及编号", "CF_NR_ZKDX", "CF_NR_ZKDX"),
    ("处罚决定日期\n(YYYY-MM-DD)", "CF_JDRQ", "CF_JDRQ"),
    ("处罚有效期", "CF_YXQ", "CF_YXQ"),
    ("处罚机关", "CF_CFJG", "CF_CFJG"),
    ("处罚机关统一社会信用代码", "CF_CFJGDM", "CF_CFJGDM"),
    ("数据来源单位", "CF_SJLY", "CF_SJLY"),
    ("数据来源单位代码", "CF_SJLYDM", "CF_SJLYDM"),
    ("备注", "BZ", "BZ"),
    ("内部编号", None, "NBBH"),
]
EXTRA_HEADERS = ["序号", "内部编号"]
EXPECTED_METHODS = {
    "CF_XDR_MC": "exact",
    "CF_XDR_LB": "legacy",
    "CF_XDR_SHXYM": "synonym",
    "CF_WSH": "legacy",
    "CF_NR_FK": "exact",
    "CF_JDRQ": "exact",
    "CF_SJLYDM": "synonym",
}


def org(n: int, **cells) -> dict[str, object]:
    base = {
        "CF_XDR_MC": f"淄博市张店区测试{n}商贸有限公司",
        "CF_XDR_LB": "法人及非法人组织",
        "CF_XDR_SHXYM": org_uscc(n),
        "CF_FRDB": "张三",
        "CF_WSH": f"淄张市监罚〔2024〕{n}号",
        "CF_WFXW": "未按规定公示年度报告",
        "CF_SY": "当事人未按照规定的期限公示年度报告。",
        "CF_YJ": "《企业信息公示暂行条例》第十八条",
        "CF_CFLB": "罚款",
        "CF_NR": "罚款人民币贰仟元",
        "CF_NR_FK": "0.2",
        "CF_JDRQ": DECISION.isoformat(),
        "CF_YXQ": "2025-03-15",
        "CF_CFJG": "淄博市张店区市场监督管理局",
        "CF_CFJGDM": DEPARTMENT,
        "CF_SJLY": "淄博市张店区市场监督管理局",
        "CF_SJLYDM": DEPARTMENT,
    }
    base.update(cells)
    return base


def person(n: int, **cells) -> dict[str, object]:
    base = org(
        n,
        CF_XDR_MC=["李四", "王五", "赵六", "孙七"][n % 4],
        CF_XDR_LB="自然人",
        CF_XDR_SHXYM="",
        CF_FRDB="",
        CF_XDR_ZJLX="身份证",
        CF_XDR_ZJHM=person_ric(n),
    )
    base.update(cells)
    return base


def _cases() -> list[Case]:
    e = frozenset
    x_ric = ric_ending_in_x()
    u2 = org_uscc(2)
    return [
        Case(
            "clean_org",
            org(1),
            clean={
                "CF_XDR_SHXYM": org_uscc(1),
                "CF_CFLB": ["罚款"],
                "CF_NR_FK": "0.2",
                "CF_JDRQ": DECISION,
            },
        ),
        Case(
            "fullwidth_and_stray_spaces",
            org(
                2,
                CF_XDR_MC=" 淄博市张店区\u3000测试２商贸\n有限公司 ",
                CF_XDR_SHXYM=fullwidth(u2[:8]) + " - " + u2[8:].lower(),
                CF_WSH="淄张市监罚〔２０２４〕２号",
                CF_SY="第一句。\n\n  第二句。",
            ),
            clean={
                "CF_XDR_MC": "淄博市张店区测试2商贸有限公司",
                "CF_XDR_SHXYM": u2,
                "CF_WSH": "淄张市监罚〔2024〕2号",
                "CF_SY": "第一句。\n第二句。",
            },
        ),
        Case(
            "person_id_type_synonym_lowercase_x",
            person(3, CF_XDR_ZJLX="居民身份证", CF_XDR_ZJHM=x_ric[:-1] + "x"),
            clean={"CF_XDR_ZJLX": "身份证", "CF_XDR_ZJHM": x_ric, "CF_XDR_LB": "自然人"},
        ),
        Case(
            "excel_scientific_id",
            person(4, CF_XDR_ZJHM=Num(370303199001011234.0, "3.70303E+17")),
            errors=e({("CF_XDR_ZJHM", "excel_scientific")}),
        ),
        Case("date_slash", org(5, CF_JDRQ="2024/3/15"), clean={"CF_JDRQ": DECISION}),
        Case("date_dots", org(6, CF_JDRQ="2024.03.15"), clean={"CF_JDRQ": DECISION}),
        Case("date_chinese", org(7, CF_JDRQ="2024年3月15日"), clean={"CF_JDRQ": DECISION}),
        Case("date_compact", org(8, CF_JDRQ="20240315"), clean={"CF_JDRQ": DECISION}),
        Case(
            "date_excel_serial",
            org(9, CF_JDRQ=Serial(DECISION), CF_YXQ=DateCell(dt.date(2025, 3, 15))),
            clean={"CF_JDRQ": DECISION, "CF_YXQ": dt.date(2025, 3, 15)},
        ),
        Case(
            "date_with_time",
            org(10, CF_JDRQ=DateCell(dt.datetime(2024, 3, 15, 10, 30))),
            clean={"CF_JDRQ": DECISION},
        ),
        Case(
            "amounts_with_units_and_separators",
            org(
                11,
                CF_CFLB="罚款、没收违法所得",
                CF_NR_FK="0.20万元",
                CF_NR_WFFF="1,500",
            ),
            clean={
                "CF_CFLB": ["罚款", "没收违法所得"],
                "CF_NR_FK": "0.2",
                "CF_NR_WFFF": "1500",
            },
        ),
        Case(
            "amount_in_yuan",
            org(12, CF_NR_FK="2,000元"),
            warnings=e({("CF_NR_FK", "amount_unit_converted")}),
            clean={"CF_NR_FK": "0.2"},
        ),
        Case(
            "amount_number_cell",
            org(13, CF_NR_FK=Num(0.35, "0.35")),
            clean={"CF_NR_FK": "0.35"},
        ),
        Case(
            "pre_2021_penalty_type",
            org(
                14,
                CF_CFLB="暂扣或者吊销执照",
                CF_NR_FK="",
                CF_NR_ZKDX="营业执照 91370303MA3C00014X",
            ),
            clean={"CF_CFLB": ["暂扣许可证件"]},
        ),
        Case(
            "several_penalty_types",
            org(15, CF_CFLB="警告；罚款"),
            clean={"CF_CFLB": ["警告", "罚款"]},
        ),
        Case(
            "other_penalty_named",
            org(16, CF_CFLB="其他:责令改正", CF_NR_FK=""),
            clean={"CF_CFLB": ["其他-责令改正"]},
        ),
        Case(
            "valid_to_long_term",
            org(17, CF_YXQ="长期"),
            clean={"CF_YXQ": dt.date(2099, 12, 31)},
        ),
        Case(
            "passport_not_checked_as_id_card",
            person(18, CF_XDR_ZJLX="护照", CF_XDR_ZJHM="E12345678"),
            clean={"CF_XDR_ZJLX": "护照号", "CF_XDR_ZJHM": "E12345678"},
        ),
        Case(
            "individual_business_synonym",
            org(19, CF_XDR_LB="个体户", CF_XDR_SHXYM=org_uscc(19, "92")),
            clean={"CF_XDR_LB": "个体工商户"},
        ),
        Case(
            "late_decision",
            org(20, CF_JDRQ="2024-03-01"),
            clean={"CF_JDRQ": dt.date(2024, 3, 1)},
            late=True,
        ),
        # ---- rejected rows
        Case(
            "bad_uscc_check_character",
            org(21, CF_XDR_SHXYM=wrong_check(org_uscc(21))),
            errors=e({("CF_XDR_SHXYM", "uscc_checksum")}),
        ),
        Case(
            "decision_after_receipt",
            org(22, CF_JDRQ="2024-04-01", CF_YXQ="2025-04-01"),
            errors=e({("CF_JDRQ", "date_future")}),
        ),
        Case(
            "negative_fine",
            org(23, CF_NR_FK="-0.5"),
            errors=e({("CF_NR_FK", "amount_negative")}),
        ),
        Case(
            "unknown_penalty_type",
            org(24, CF_CFLB="罚金"),
            errors=e({("CF_CFLB", "code_value")}),
        ),
        Case("missing_name", org(25, CF_XDR_MC=""), errors=e({("CF_XDR_MC", "required")})),
        Case(
            "organisation_without_code_and_representative",
            org(26, CF_XDR_SHXYM="", CF_FRDB=" "),
            errors=e({("CF_XDR_SHXYM", "required_if"), ("CF_FRDB", "required_if")}),
        ),
        Case(
            "person_without_id_number",
            person(27, CF_XDR_ZJHM=""),
            errors=e({("CF_XDR_ZJHM", "required_if")}),
        ),
        Case(
            "valid_to_before_decision",
            org(28, CF_YXQ="2024-03-01"),
            errors=e({("CF_YXQ", "date_order")}),
        ),
        Case(
            "source_department_not_allowed",
            org(29, CF_SJLYDM=STRANGER),
            errors=e({("CF_SJLYDM", "source_department")}),
        ),
        Case(
            "partner_source_department_allowed",
            org(30, CF_SJLYDM=PARTNER),
            clean={"CF_SJLYDM": PARTNER},
        ),
        Case("garbage_date", org(31, CF_JDRQ="去年三月"), errors=e({("CF_JDRQ", "date_format")})),
        Case(
            "garbage_amount", org(32, CF_NR_FK="两千元"), errors=e({("CF_NR_FK", "amount_format")})
        ),
        Case(
            "old_15_digit_id",
            person(33, CF_XDR_ZJHM="370303800101123"),
            errors=e({("CF_XDR_ZJHM", "ric_old15")}),
        ),
        Case(
            "impossible_birth_date",
            person(34, CF_XDR_ZJHM=ric("37030319900230123")),
            errors=e({("CF_XDR_ZJHM", "ric_birth_date")}),
        ),
        Case(
            "bad_id_check_character",
            person(35, CF_XDR_ZJHM=wrong_check(person_ric(35))),
            errors=e({("CF_XDR_ZJHM", "ric_checksum")}),
        ),
        Case(
            "name_too_long",
            org(36, CF_XDR_MC="淄博" + "很" * 200 + "有限公司"),
            errors=e({("CF_XDR_MC", "max_length")}),
        ),
        Case(
            "fine_type_without_amount",
            org(37, CF_NR_FK=""),
            errors=e({("CF_NR_FK", "required_if")}),
        ),
        # ---- duplicates and conflicts
        Case(
            "duplicate_of_clean_org",
            org(1, CF_JDRQ="2024/03/15", CF_XDR_MC="淄博市张店区测试1商贸有限公司 "),
            warnings=e({("", "duplicate")}),
            duplicate_of="clean_org",
        ),
        Case("conflict_a", org(39), errors=e({("", "conflict")})),
        Case(
            "conflict_b",
            org(39, CF_NR="罚款人民币叁仟元", CF_NR_FK="0.3"),
            errors=e({("", "conflict")}),
        ),
    ]


CASES: list[Case] = _cases()
BLANK = "blank"
ONLY_SERIAL = "only_serial"
# The data area, in order: cases plus a blank row and a row holding only extra columns.
LAYOUT: list[Case | str] = [*CASES[:8], BLANK, *CASES[8:19], ONLY_SERIAL, *CASES[19:]]
TRAILING_BLANK_ROWS = 2
TITLE = "淄博市张店区市场监督管理局行政处罚信息公示表(2024年3月)"


@dataclass
class MessyFile:
    name: str
    data: bytes
    expected: dict[int, Case]  # row number as the clerk sees it → case
    header_row: int | None
    sheet: str | None = None
    encoding: str | None = None


def _rows() -> list[tuple[int, Case | str]]:
    """(serial number printed in 序号, entry) for the data area."""
    out = []
    serial = 0
    for entry in LAYOUT:
        if entry != BLANK:
            serial += 1
        out.append((serial, entry))
    return out


def _cell(entry: Case | str, code: str | None, header: str, serial: int):
    if entry == BLANK:
        return None
    if code is None:
        if header == "序号":
            return Num(float(serial), str(serial))
        return f"NB-{serial:04d}"
    if entry == ONLY_SERIAL:
        return None
    value = entry.cells.get(code)
    return None if value == "" else value


def _text(cell) -> str:
    if cell is None:
        return ""
    if isinstance(cell, (Num, DateCell)):
        return cell.text
    if isinstance(cell, Serial):
        return str(cell.value)
    return str(cell)


def _expected(first_row: int) -> dict[int, Case]:
    return {
        first_row + i: entry
        for i, (_serial, entry) in enumerate(_rows())
        if isinstance(entry, Case)
    }


# --------------------------------------------------------------------------- CSV


def csv_file(
    name: str,
    encoding: str = "utf-8",
    delimiter: str = ",",
    newline: str = "\n",
) -> MessyFile:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator=newline)
    width = len(COLUMNS)
    writer.writerow([TITLE] + [""] * (width - 1))
    out.write(newline)  # a blank line
    writer.writerow([h for h, _c, _k in COLUMNS])
    for serial, entry in _rows():
        row = [_text(_cell(entry, code, header, serial)) for header, code, _k in COLUMNS]
        if entry == BLANK:
            out.write(delimiter * (width - 1) + newline)
        else:
            writer.writerow(row)
    out.write(newline)
    out.write(delimiter * (width - 1) + newline)
    data = out.getvalue().encode(encoding)
    return MessyFile(name, data, _expected(4), header_row=3, encoding=encoding)


# --------------------------------------------------------------------------- workbooks


def xlsx_file(name: str = "messy.xlsx") -> MessyFile:
    import xlsxwriter

    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True})
    notes = book.add_worksheet("填报说明")
    notes.write_string(0, 0, "填报说明")
    notes.write_string(1, 0, "1. 日期格式为 YYYY-MM-DD")
    notes.write_string(2, 0, "字段")
    notes.write_string(2, 1, "说明")
    sheet = book.add_worksheet("行政处罚")
    date_format = book.add_format({"num_format": "yyyy-mm-dd"})
    datetime_format = book.add_format({"num_format": "yyyy-mm-dd hh:mm"})
    bordered = book.add_format({"border": 1})
    sheet.merge_range(0, 0, 0, 8, TITLE)
    for c, (header, _code, _key) in enumerate(COLUMNS):
        sheet.write_string(2, c, header)
    r = 3
    for serial, entry in _rows():
        for c, (header, code, _key) in enumerate(COLUMNS):
            _write_xlsx(
                sheet, r, c, _cell(entry, code, header, serial), date_format, datetime_format
            )
        r += 1
    for _ in range(TRAILING_BLANK_ROWS):  # formatted but empty cells: the sheet extends here
        sheet.write_blank(r, 0, None, bordered)
        sheet.write_blank(r, 3, None, bordered)
        r += 1
    book.close()
    return MessyFile(name, out.getvalue(), _expected(4), header_row=3, sheet="行政处罚")


def _write_xlsx(sheet, r, c, cell, date_format, datetime_format) -> None:
    if cell is None:
        return
    if isinstance(cell, Num):
        sheet.write_number(r, c, cell.value)
    elif isinstance(cell, Serial):
        sheet.write_number(r, c, cell.value)
    elif isinstance(cell, DateCell):
        value = cell.value
        if isinstance(value, dt.datetime):
            sheet.write_datetime(r, c, value, datetime_format)
        else:
            sheet.write_datetime(r, c, dt.datetime.combine(value, dt.time()), date_format)
    else:
        sheet.write_string(r, c, str(cell))


def xls_file(name: str = "messy.xls") -> MessyFile:
    import xlwt

    book = xlwt.Workbook(encoding="utf-8")
    sheet = book.add_sheet("行政处罚")
    date_style = xlwt.easyxf(num_format_str="YYYY-MM-DD")
    datetime_style = xlwt.easyxf(num_format_str="YYYY-MM-DD hh:mm")
    sheet.write(0, 0, TITLE)
    for c, (header, _code, _key) in enumerate(COLUMNS):
        sheet.write(2, c, header)
    r = 3
    for serial, entry in _rows():
        for c, (header, code, _key) in enumerate(COLUMNS):
            _write_xls(sheet, r, c, _cell(entry, code, header, serial), date_style, datetime_style)
        r += 1
    out = io.BytesIO()
    book.save(out)
    return MessyFile(name, out.getvalue(), _expected(4), header_row=3, sheet="行政处罚")


def _write_xls(sheet, r, c, cell, date_style, datetime_style) -> None:
    if cell is None:
        return
    if isinstance(cell, (Num, Serial)):
        sheet.write(r, c, float(cell.value))
    elif isinstance(cell, DateCell):
        style = datetime_style if isinstance(cell.value, dt.datetime) else date_style
        value = cell.value
        if not isinstance(value, dt.datetime):
            value = dt.datetime.combine(value, dt.time())
        sheet.write(r, c, value, style)
    else:
        sheet.write(r, c, str(cell))


# --------------------------------------------------------------------------- any grid, any kind
#
# A grid is a list of rows of cells (None, text, Num, DateCell, Serial); `merges` are (row, first
# column, last column) of merged cells whose value is in the first column (a title, a group).

Merge = tuple[int, int, int]


def grid_xlsx(grid: list[list], merges: Sequence[Merge] = (), sheet: str = "Sheet1") -> bytes:
    import xlsxwriter

    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True, "strings_to_numbers": False})
    ws = book.add_worksheet(sheet)
    date_format = book.add_format({"num_format": "yyyy-mm-dd"})
    datetime_format = book.add_format({"num_format": "yyyy-mm-dd hh:mm"})
    for r, row in enumerate(grid):
        for c, cell in enumerate(row):
            _write_xlsx(ws, r, c, cell, date_format, datetime_format)
    for r, first, last in merges:
        ws.merge_range(r, first, r, last, _text(grid[r][first]))
    book.close()
    return out.getvalue()


def grid_xls(grid: list[list], merges: Sequence[Merge] = (), sheet: str = "Sheet1") -> bytes:
    import xlwt

    book = xlwt.Workbook(encoding="utf-8")
    ws = book.add_sheet(sheet)
    date_style = xlwt.easyxf(num_format_str="YYYY-MM-DD")
    datetime_style = xlwt.easyxf(num_format_str="YYYY-MM-DD hh:mm")
    merged = {(r, first) for r, first, _last in merges}
    for r, row in enumerate(grid):
        for c, cell in enumerate(row):
            if (r, c) not in merged:
                _write_xls(ws, r, c, cell, date_style, datetime_style)
    for r, first, last in merges:
        ws.write_merge(r, r, first, last, _text(grid[r][first]))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def grid_csv(
    grid: list[list], encoding: str = "utf-8", newline: str = "\r\n", delimiter: str = ","
) -> bytes:
    """As Excel's "CSV" (or, UTF-16 with tabs, "Unicode text") export writes it."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator=newline)
    for row in grid:
        writer.writerow([_text(c) for c in row])
    return out.getvalue().encode(encoding)


def _html_text(cell) -> str:
    """A cell as HTML that a browser shows exactly as `cell` reads: spaces that HTML would
    collapse (at a line's ends, in runs) written as &nbsp;, line breaks as <br>."""
    lines = []
    for line in _text(cell).split("\n"):
        body = line.strip(" ")
        lead, trail = len(line) - len(line.lstrip(" ")), len(line) - len(line.rstrip(" "))
        body = html.escape(body).replace("  ", " &nbsp;")
        lines.append("&nbsp;" * lead + body + "&nbsp;" * trail)
    return "<br>".join(lines)


def grid_html(
    grid: list[list],
    merges: Sequence[Merge] = (),
    header_rows: Sequence[int] = (),
    encoding: str = "utf-8",
    rowspans: Sequence[tuple[int, int, int]] = (),
) -> bytes:
    """An HTML page holding the grid as one <table>, as report systems export it under an .xls
    name: a charset <meta>, <th> header cells, merges as colspan, (row, column, rows) as
    rowspan (the cells below it left out)."""
    spans = {(r, first): last - first + 1 for r, first, last in merges}
    covered = {(r, c) for r, first, last in merges for c in range(first + 1, last + 1)}
    down = {(r, c): n for r, c, n in rowspans}
    covered |= {(r + k, c) for r, c, n in rowspans for k in range(1, n)}
    charset = "gb2312" if encoding == "gb18030" else encoding
    out = [
        "<html xmlns:x='urn:schemas-microsoft-com:office:excel'><head>",
        f'<meta http-equiv="Content-Type" content="text/html; charset={charset}">',
        "<style>td { mso-number-format: '\\@'; }</style></head><body>",
        "<table border='1' cellspacing='0'>",
    ]
    for r, row in enumerate(grid):
        out.append("<tr>")
        for c, cell in enumerate(row):
            if (r, c) in covered:
                continue
            tag = "th" if r in header_rows else "td"
            attrs = f" colspan='{spans[(r, c)]}'" if (r, c) in spans else ""
            attrs += f" rowspan={down[(r, c)]}" if (r, c) in down else ""
            out.append(f"<{tag}{attrs}>{_html_text(cell)}</{tag}>")
        out.append("</tr>\n")
    out.append("</table></body></html>")
    return "".join(out).encode(encoding)


_SS = "urn:schemas-microsoft-com:office:spreadsheet"


def grid_spreadsheetml(
    grid: list[list], merges: Sequence[Merge] = (), sheet: str = "Sheet1", notes: bool = True
) -> bytes:
    """An Excel 2003 XML Spreadsheet as Java report exports write it: an instructions sheet
    first (hidden), then the grid with empty rows and cells left out (the next one carries
    ss:Index), merges as ss:MergeAcross, numbers as Number, dates as DateTime."""
    from xml.etree import ElementTree as ET

    ET.register_namespace("ss", _SS)
    ss = f"{{{_SS}}}"
    book = ET.Element(f"{ss}Workbook")
    if notes:
        hidden = ET.SubElement(book, f"{ss}Worksheet", {f"{ss}Name": "填报说明"})
        cell = ET.SubElement(
            ET.SubElement(ET.SubElement(hidden, f"{ss}Table"), f"{ss}Row"), f"{ss}Cell"
        )
        ET.SubElement(cell, f"{ss}Data", {f"{ss}Type": "String"}).text = "日期格式为 YYYY-MM-DD"
        options = ET.SubElement(hidden, "{urn:schemas-microsoft-com:office:excel}WorksheetOptions")
        ET.SubElement(
            options, "{urn:schemas-microsoft-com:office:excel}Visible"
        ).text = "SheetHidden"
    ws = ET.SubElement(book, f"{ss}Worksheet", {f"{ss}Name": sheet})
    table = ET.SubElement(ws, f"{ss}Table")
    across = {(r, first): last - first for r, first, last in merges}
    covered = {(r, c) for r, first, last in merges for c in range(first + 1, last + 1)}
    written_row = 0
    for r, row in enumerate(grid, start=1):
        cells = [(c, v) for c, v in enumerate(row, start=1) if v is not None and _text(v) != ""]
        cells = [(c, v) for c, v in cells if (r - 1, c - 1) not in covered]
        if not cells:
            continue
        attrs = {} if r == written_row + 1 else {f"{ss}Index": str(r)}
        xrow = ET.SubElement(table, f"{ss}Row", attrs)
        written_row, last_col = r, 0
        for c, value in cells:
            attrs = {} if c == last_col + 1 else {f"{ss}Index": str(c)}
            if (r - 1, c - 1) in across:
                attrs[f"{ss}MergeAcross"] = str(across[(r - 1, c - 1)])
            xcell = ET.SubElement(xrow, f"{ss}Cell", attrs)
            kind, text = _ss_data(value)
            ET.SubElement(xcell, f"{ss}Data", {f"{ss}Type": kind}).text = text
            last_col = c + across.get((r - 1, c - 1), 0)
    body = ET.tostring(book, encoding="unicode")
    head = '<?xml version="1.0" encoding="UTF-8"?>\n<?mso-application progid="Excel.Sheet"?>\n'
    return (head + body).encode("utf-8")


def _ss_data(cell) -> tuple[str, str]:
    if isinstance(cell, (Num, Serial)):
        return "Number", repr(float(cell.value))
    if isinstance(cell, DateCell):
        value = cell.value
        if not isinstance(value, dt.datetime):
            value = dt.datetime.combine(value, dt.time())
        return "DateTime", value.isoformat(timespec="milliseconds")
    return "String", str(cell)


def messy_grid() -> tuple[list[list], list[Merge]]:
    """The messy table as a grid: title (merged over the first nine columns), a blank row, the
    header, the data area and blank rows at the end."""
    width = len(COLUMNS)
    grid: list[list] = [[TITLE] + [None] * (width - 1), [None] * width]
    grid.append([h for h, _c, _k in COLUMNS])
    for serial, entry in _rows():
        grid.append([_cell(entry, code, header, serial) for header, code, _k in COLUMNS])
    grid.extend([None] * width for _ in range(TRAILING_BLANK_ROWS))
    return grid, [(0, 0, 8)]


def html_file(name: str = "report-html.xls", encoding: str = "utf-8") -> MessyFile:
    grid, merges = messy_grid()
    data = grid_html(grid, merges, header_rows=(2,), encoding=encoding)
    return MessyFile(name, data, _expected(4), header_row=3, sheet="网页表格")


def spreadsheetml_file(name: str = "report-xml.xls") -> MessyFile:
    grid, merges = messy_grid()
    data = grid_spreadsheetml(grid, merges, sheet="行政处罚")
    return MessyFile(name, data, _expected(4), header_row=3, sheet="行政处罚")


# --------------------------------------------------------------------------- two-level headers

# 行政相对人 over 名称/类别/统一社会信用代码, 处罚决定书文号 spanning both rows, 处罚机关 and
# 数据来源单位 over 名称/统一社会信用代码: the generic names alone map to nothing or to the
# wrong field (统一社会信用代码 alone is the 行政相对人's).
GROUPS = [
    ("行政相对人", ["名称", "类别", "统一社会信用代码"]),
    ("处罚决定书文号", [None]),
    ("违法行为类型", [None]),
    ("违法事实", [None]),
    ("处罚依据", [None]),
    ("处罚类别", [None]),
    ("处罚内容", [None]),
    ("罚款金额(万元)", [None]),
    ("处罚决定日期", [None]),
    ("处罚有效期", [None]),
    ("处罚机关", ["名称", "统一社会信用代码"]),
    ("数据来源单位", ["名称", "统一社会信用代码"]),
    ("法定代表人", [None]),
]
GROUPED_CODES = [
    "CF_XDR_MC", "CF_XDR_LB", "CF_XDR_SHXYM", "CF_WSH", "CF_WFXW", "CF_SY", "CF_YJ", "CF_CFLB",
    "CF_NR", "CF_NR_FK", "CF_JDRQ", "CF_YXQ", "CF_CFJG", "CF_CFJGDM", "CF_SJLY", "CF_SJLYDM",
    "CF_FRDB",
]  # fmt: skip
COMBINED = [
    "行政相对人名称", "行政相对人类别", "行政相对人统一社会信用代码", "处罚决定书文号",
    "违法行为类型", "违法事实", "处罚依据", "处罚类别", "处罚内容", "罚款金额(万元)",
    "处罚决定日期", "处罚有效期", "处罚机关名称", "处罚机关统一社会信用代码", "数据来源单位名称",
    "数据来源单位统一社会信用代码", "法定代表人",
]  # fmt: skip


def grouped_grid(layout: str) -> tuple[list[list], list, list]:
    """(grid, merges, rowspans): a title, the two header rows, 3 good rows and 1 bad one.
    layout "first": a group's value in its first column only (merged cells);
    "repeated": the value in every column of the group and a single-level name in both rows."""
    top: list = []
    below: list = []
    merges, rowspans = [(0, 0, len(GROUPED_CODES) - 1)], []
    for group, names in GROUPS:
        if names == [None]:
            top.append(group)
            below.append(group if layout == "repeated" else None)
            rowspans.append((1, len(top) - 1, 2))
            continue
        merges.append((1, len(top), len(top) + len(names) - 1))
        for i, name in enumerate(names):
            top.append(group if i == 0 or layout == "repeated" else None)
            below.append(name)
    title = ["淄博市张店区行政处罚信息"] + [None] * (len(top) - 1)
    data = [[org(n).get(code) for code in GROUPED_CODES] for n in (1, 2, 3, 4)]
    data[3][GROUPED_CODES.index("CF_CFJGDM")] = wrong_check(DEPARTMENT)
    return [title, top, below, *data], merges, rowspans


def grouped_files() -> list[tuple[str, bytes]]:
    first, merges, rowspans = grouped_grid("first")
    repeated, _m, _r = grouped_grid("repeated")
    return [
        ("merged.xlsx", grid_xlsx(first, merges)),
        ("repeated.xlsx", grid_xlsx(repeated)),
        ("merged.xls", grid_xls(first, merges)),
        ("colspan-rowspan.xls", grid_html(first, merges, (1, 2), rowspans=rowspans)),
        ("repeated.html", grid_html(repeated, header_rows=(1, 2))),
        ("merge-across.xls", grid_spreadsheetml(first, merges)),
        ("first-only.csv", grid_csv(first, "gb18030")),
        ("repeated.csv", grid_csv(repeated)),
    ]


# --------------------------------------------------------------------------- JSON


def _json_value(cell):
    if cell is None:
        return None
    if isinstance(cell, Num):
        return int(cell.value) if cell.value.is_integer() and cell.value < 1e15 else cell.value
    if isinstance(cell, Serial):
        return cell.value
    if isinstance(cell, DateCell):
        return cell.text
    return cell


def json_file(name: str = "messy.json", wrapped: bool = True) -> MessyFile:
    objects = []
    for serial, entry in _rows():
        obj = {}
        for header, code, key in COLUMNS:
            value = _json_value(_cell(entry, code, header, serial))
            if value is not None:
                obj[key] = value
        objects.append(obj)
    objects.extend({} for _ in range(TRAILING_BLANK_ROWS))
    doc = {"total": len(objects), "data": objects} if wrapped else objects
    data = json.dumps(doc, ensure_ascii=False, indent=1).encode("utf-8")
    return MessyFile(name, data, _expected(1), header_row=None, encoding="utf-8")


def messy_files() -> list[MessyFile]:
    return [
        xlsx_file(),
        xls_file(),
        csv_file("utf8.csv"),
        csv_file("utf8-bom.csv", encoding="utf-8-sig", newline="\r\n"),
        csv_file("gb18030.csv", encoding="gb18030"),
        csv_file("tab.csv", delimiter="\t"),
        json_file("wrapped.json"),
        json_file("array.json", wrapped=False),
        html_file(),
        html_file("report-gb.htm", encoding="gb18030"),
        spreadsheetml_file(),
        spreadsheetml_file("report.xml"),
    ]
