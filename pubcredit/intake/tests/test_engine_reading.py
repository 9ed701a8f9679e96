"""Reading files: formats, encodings, header detection, row numbers, unreadable files."""

from __future__ import annotations

import codecs
import io
import json

import polars as pl
import pytest

from pubcredit.intake.engine import CategorySpec, UnreadableFile, read_table
from pubcredit.intake.engine.mapping import make_header_score
from pubcredit.intake.engine.reading import ROW, _number_text
from pubcredit.intake.tests import messy


@pytest.fixture(scope="module")
def score():
    return make_header_score(CategorySpec.from_files("CF"))


def rows(table) -> list[tuple]:
    return table.frame.rows()


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (370303199001011234.0, "3.70303E+17"),
        (913703001234567890.0, "9.13703E+17"),
        (1e17, "1E+17"),
        (123456789012345.0, "123456789012345"),
        (2000.0, "2000"),
        (0.2, "0.2"),
        (45356.0, "45356"),
        (-3.0, "-3"),
        (1234.5600000000002, "1234.56"),
    ],
)
def test_numbers_are_shown_as_excel_shows_them(value, text):
    assert _number_text(value) == text


def test_header_found_below_title_and_blank_lines(score):
    data = "标题:淄博市行政处罚\n\n,,\n行政相对人名称,处罚决定书文号,备注\n甲公司,文1,\n".encode()
    table = read_table(data, "a.csv", score)
    assert table.header_row == 4
    assert table.headers == ["行政相对人名称", "处罚决定书文号", "备注"]
    assert rows(table) == [(5, "甲公司", "文1", None)]
    assert [(s.row, s.reason) for s in table.skipped_rows] == [
        (1, "title"),
        (2, "blank"),
        (3, "blank"),
    ]


def test_without_a_score_the_first_row_with_two_cells_is_the_header():
    table = read_table("只有一格\na,b\n1,2\n".encode(), "a.csv")
    assert table.header_row == 2 and table.headers == ["a", "b"]


def test_a_row_of_codes_under_the_names_is_a_sub_header(score):
    data = "行政相对人名称,处罚决定书文号\nCF_XDR_MC,CF_WSH\n甲公司,文1\n".encode()
    table = read_table(data, "a.csv", score)
    assert table.subheaders == ["CF_XDR_MC", "CF_WSH"]
    assert rows(table) == [(3, "甲公司", "文1")]
    assert table.skipped_rows[-1].reason == "subheader"


def test_quoted_line_breaks_stay_in_one_row_and_numbers_follow_records():
    data = 'a,b\n"第一行\n第二行",x\n\n3,y\r\n'.encode()
    table = read_table(data, "a.csv")
    assert rows(table) == [(2, "第一行\n第二行", "x"), (4, "3", "y")]
    assert table.blank_rows == 1


def test_ragged_rows_duplicate_and_empty_headers():
    data = b"a,b,,b\n1\n1,2,3,4,5\n"
    table = read_table(data, "a.csv")
    assert table.headers == ["a", "b", "", "b"]
    assert table.columns == ["a", "b", "(第3列)", "b#2"]
    assert rows(table) == [(2, "1", None, None, None), (3, "1", "2", "3", "4")]


@pytest.mark.parametrize(
    ("encoding", "bom", "label"),
    [
        ("utf-8", b"", "utf-8"),
        ("utf-8", codecs.BOM_UTF8, "utf-8-sig"),
        ("gb18030", b"", "gb18030"),
        ("gbk", b"", "gb18030"),
        ("utf-16-le", codecs.BOM_UTF16_LE, "utf-16"),
        ("utf-16-be", codecs.BOM_UTF16_BE, "utf-16"),
    ],
)
def test_encodings(encoding, bom, label):
    text = "名称\t文号\n淄博市张店区某某商贸有限公司\t淄张市监罚〔2024〕1号\n"
    table = read_table(bom + text.encode(encoding), "a.txt")
    assert table.encoding == label
    assert table.delimiter == "\t"
    assert rows(table) == [(2, "淄博市张店区某某商贸有限公司", "淄张市监罚〔2024〕1号")]


def test_gb18030_detected_even_when_the_beginning_is_ascii():
    head = "a,b\n" + "x,1\n" * 80_000  # more than the 256 KiB sample
    data = head.encode("ascii") + "张三,2\n".encode("gb18030")
    table = read_table(data, "a.csv")
    assert table.encoding == "gb18030"
    assert table.frame.row(-1) == (80_002, "张三", "2")


def test_semicolon_delimiter():
    table = read_table(b"a;b\n1;2\n", "a.csv")
    assert table.delimiter == ";" and rows(table) == [(2, "1", "2")]


def test_json_shapes_and_values():
    doc = {
        "records": [
            {"CF_XDR_MC": "甲", "CF_CFLB": ["警告", "罚款"], "n": 370303199001011234, "f": 0.2},
            {},
            {"CF_XDR_MC": "乙", "x": None, "flag": True},
        ]
    }
    table = read_table(json.dumps(doc, ensure_ascii=False).encode(), "a.json")
    assert table.headers == ["CF_XDR_MC", "CF_CFLB", "n", "f", "x", "flag"]
    assert rows(table) == [
        (1, "甲", "警告;罚款", "370303199001011234", "0.2", None, None),
        (3, "乙", None, None, None, None, "TRUE"),
    ]
    assert table.blank_rows == 1


def test_excel_renamed_to_csv_is_still_read_as_excel(score):
    file = messy.xlsx_file()
    table = read_table(file.data, "renamed.csv", score)
    assert table.format == "excel" and table.sheet == "行政处罚"


def test_hidden_sheets_are_ignored(score):
    import xlsxwriter

    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True})
    hidden = book.add_worksheet("旧表")
    hidden.write_row(0, 0, ["行政相对人名称", "处罚决定书文号", "处罚类别"])
    hidden.write_row(1, 0, ["旧公司", "旧文号", "罚款"])
    hidden.hide()
    sheet = book.add_worksheet("数据")
    sheet.write_row(0, 0, ["行政相对人名称", "处罚决定书文号"])
    sheet.write_row(1, 0, ["新公司", "新文号"])
    sheet.activate()
    book.close()
    table = read_table(out.getvalue(), "a.xlsx", score)
    assert table.sheet == "数据" and rows(table) == [(2, "新公司", "新文号")]


def test_a_path_can_be_read(tmp_path):
    path = tmp_path / "a.csv"
    path.write_bytes(b"a,b\n1,2\n")
    assert rows(read_table(path, path.name)) == [(2, "1", "2")]


@pytest.mark.parametrize(
    ("data", "name", "message"),
    [
        (b"", "a.csv", "文件为空"),
        (b"  \n\n", "a.csv", "文件为空"),
        (b"not a workbook", "a.xlsx", "无法读取文件:不是有效的 Excel 文件"),
        (b"PK\x03\x04garbage", "a.xlsx", "无法读取文件:不是有效的 Excel 文件"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1garbage", "a.xls", "无法读取文件:不是有效的 Excel 文件"),
        (b"%PDF-1.4", "a.pdf", "不支持的文件类型“.pdf”"),
        (b'{"data": [1, 2]}', "a.json", "JSON 应为对象数组"),
        (b'[{"a": 1},', "a.json", "不是有效的 JSON(第 1 行"),
        ("只有一个标题\n".encode(), "a.csv", "未找到表头行"),
        (bytes(range(128, 256)) * 4, "a.csv", "无法识别文件编码"),
    ],
)
def test_unreadable_files_get_one_clear_chinese_line(data, name, message):
    with pytest.raises(UnreadableFile) as exc:
        read_table(data, name)
    text = str(exc.value)
    assert message in text and "\n" not in text


def test_header_only_file_has_no_rows(score):
    table = read_table("行政相对人名称,处罚决定书文号\n,\n\n".encode(), "a.csv", score)
    assert table.frame.height == 0 and table.frame.columns[0] == ROW
    assert table.frame.schema["行政相对人名称"] == pl.String
