"""What government systems really export: HTML tables and Excel 2003 XML saved as .xls, two-level
headers, CSV with CR line ends, ="…" keep-as-text wrappers; and never an empty success."""

from __future__ import annotations

import codecs
import datetime as dt

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pubcredit.intake.engine import CategorySpec, UnreadableFile, markup, read_table, run_engine
from pubcredit.intake.engine.mapping import make_header_score
from pubcredit.intake.engine.untrusted import SpecHeaderScore
from pubcredit.intake.tests import messy
from pubcredit.intake.tests.messy import DateCell, Num


@pytest.fixture(scope="module")
def spec() -> CategorySpec:
    return CategorySpec.from_files("CF")


@pytest.fixture(scope="module")
def score(spec):
    return make_header_score(spec)


def rows(table) -> list[tuple]:
    return table.frame.rows()


def run(data: bytes, name: str, spec: CategorySpec):
    return run_engine(
        data,
        name,
        spec,
        receipt_date=messy.RECEIPT,
        allowed_source_usccs=messy.ALLOWED_SOURCES,
        workdays_between_many=lambda starts, ends: np.zeros(len(starts), dtype=np.int64),
    )


# --------------------------------------------------------------------------- HTML


REPORT_HTML = """<!DOCTYPE html PUBLIC "-//W3C//DTD HTML 4.01//EN">
<html><head><meta http-equiv="Content-Type" content="text/html; charset=gb2312">
<title>行政处罚</title><style>.t { mso-number-format:"\\@"; }</style>
<script>var rows = "<tr><td>不是数据</td></tr>";</script></head>
<body><h2>不在表格里的标题</h2>
<table border=1>
<tr><td colspan=4>淄博市行政处罚信息</td></tr>
<tr><th>行政相对人名称</th><th>处罚决定书文号</th><th>违法事实</th><th>处罚机关</th></tr>
<tr><td>甲&nbsp;公司</td><td class=t>文1</td><td>第一句。<br>第二句。</td>
    <td rowspan=2>淄博市
        市场监督管理局</td></tr>
<tr><td>乙<b>公司</b></td><td>文2<td><p>一</p><p>二</p>
<tr><td>丙</td><td>文3</td><td><table><tr><td>内</td><td>表</td></tr></table></td><td>张店局</td></tr>
</table></body></html>"""


def test_html_table_saved_as_xls(score):
    table = read_table(REPORT_HTML.encode("gb18030"), "report.xls", score)
    assert table.format == "html" and table.header_row == 2
    assert table.headers == ["行政相对人名称", "处罚决定书文号", "违法事实", "处罚机关"]
    assert rows(table) == [
        (3, "甲 公司", "文1", "第一句。\n第二句。", "淄博市 市场监督管理局"),
        (4, "乙公司", "文2", "一\n二", "淄博市 市场监督管理局"),  # unclosed tags, rowspan
        (5, "丙", "文3", "内 表", "张店局"),  # a table inside a cell is text of the cell
    ]
    assert [(s.row, s.reason, s.text) for s in table.skipped_rows] == [
        (1, "title", "淄博市行政处罚信息")
    ]


@pytest.mark.parametrize("name", ["report.xls", "report.htm", "report.html", "export.csv"])
def test_the_content_decides_not_the_name(name, score):
    table = read_table(REPORT_HTML.encode("gb18030"), name, score)
    assert table.format == "html" and table.rows == 3


def test_html_encodings_bom_meta_and_guess(score):
    page = "<table><tr><td>行政相对人名称</td><td>处罚机关</td></tr><tr><td>甲</td><td>乙</td></tr></table>"
    for data in (
        codecs.BOM_UTF8 + page.encode("utf-8"),
        codecs.BOM_UTF16_LE + page.encode("utf-16-le"),
        page.encode("utf-8"),
        page.encode("gb18030"),  # no charset said: not UTF-8, so GB18030
        ('<meta charset="GBK">' + page).encode("gbk"),
    ):
        assert rows(read_table(data, "a.xls", score)) == [(2, "甲", "乙")]


def test_html_without_a_table_is_refused():
    with pytest.raises(UnreadableFile, match="网页文件中没有表格"):
        read_table("<html><body><p>登录已过期</p></body></html>".encode(), "a.xls")


def test_html_spans_are_clamped_and_the_table_is_limited(monkeypatch):
    wide = "<table><tr><td colspan=99999>标题</td></tr><tr><td>a</td><td>b</td></tr></table>"
    table = read_table(wide.encode(), "a.xls")
    assert table.frame.width == 1 + markup.MAX_COLSPAN  # as browsers clamp colspan
    monkeypatch.setattr(markup, "MAX_CELLS", 10)
    big = "<table>" + "<tr><td>a</td><td>b</td></tr>" * 6 + "</table>"
    with pytest.raises(UnreadableFile, match="表格过大"):
        read_table(big.encode(), "a.xls")


def test_html_cells_read_as_a_browser_shows_them():
    """Pins what the reader makes of a cell's markup (the parser changed from html.parser to
    libxml2's): a nested table's rows as lines, comments dropped, blocks and list items as
    lines, script and style ignored, HTML entities, text outside the tables left out."""
    page = (
        "<p>页首</p><table><tr><td>外<table><tr><td>内1</td><td>内2</td></tr>"
        "<tr><td>内3</td></tr></table>后</td><td>x<!-- 注释 -->y</td>"
        "<td><script>var td = '<td>';</script>甲<style>td {}</style></td></tr>"
        "<tr><td><p>一</p><p>二</p></td><td><ul><li>甲<li>乙</ul></td>"
        "<td>&lt;&amp;&#20013;&nbsp;&nbsp;</td></tr></table>页尾"
    )
    assert markup.read_sheets(page.encode(), markup.HTML) == [
        (
            "网页表格",
            [["外\n内1 内2\n内3\n后", "xy", "甲"], ["一\n二", "甲\n乙", "<&中  "]],
        )
    ]


# --------------------------------------------------------------------------- SpreadsheetML


REPORT_XML = """<?xml version="1.0" encoding="UTF-8"?>
<?mso-application progid="Excel.Sheet"?>
<Workbook xmlns="urn:schemas-microsoft-com:office:spreadsheet"
 xmlns:o="urn:schemas-microsoft-com:office:office" xmlns:x="urn:schemas-microsoft-com:office:excel"
 xmlns:ss="urn:schemas-microsoft-com:office:spreadsheet" xmlns:html="http://www.w3.org/TR/REC-html40">
 <Styles><Style ss:ID="d"><NumberFormat ss:Format="yyyy\\-mm\\-dd"/></Style></Styles>
 <Worksheet ss:Name="说明"><Table><Row><Cell><Data ss:Type="String">填报说明</Data></Cell></Row>
  </Table><WorksheetOptions xmlns="urn:schemas-microsoft-com:office:excel">
  <Visible>SheetHidden</Visible></WorksheetOptions></Worksheet>
 <Worksheet ss:Name="处罚信息">
  <Table ss:ExpandedColumnCount="5" ss:ExpandedRowCount="9">
   <Row><Cell ss:MergeAcross="4"><Data ss:Type="String">淄博市行政处罚信息</Data></Cell></Row>
   <Row ss:Index="3">
    <Cell><Data ss:Type="String">行政相对人名称</Data></Cell>
    <Cell><Data ss:Type="String">处罚决定书文号</Data></Cell>
    <Cell><Data ss:Type="String">罚款金额</Data></Cell>
    <Cell><Data ss:Type="String">处罚决定日期</Data></Cell>
    <Cell><Data ss:Type="String">处罚机关</Data></Cell>
   </Row>
   <Row>
    <Cell><Data ss:Type="String">甲公司</Data><Comment><Data>批注不是数据</Data></Comment></Cell>
    <Cell ss:Index="3"><Data ss:Type="Number">0.35</Data></Cell>
    <Cell ss:StyleID="d"><Data ss:Type="DateTime">2024-03-15T00:00:00.000</Data></Cell>
    <Cell ss:MergeDown="1"><Data ss:Type="String">张店局</Data></Cell>
   </Row>
   <Row>
    <Cell><ss:Data ss:Type="String"><html:B>乙</html:B>公司&#10;二行</ss:Data></Cell>
    <Cell><Data ss:Type="String">文2</Data></Cell>
    <Cell><Data ss:Type="Number">2000</Data></Cell>
    <Cell><Data ss:Type="DateTime">2024-03-15T10:30:00.000</Data></Cell>
   </Row>
   <Row ss:Index="7"><Cell><Data ss:Type="String">丙</Data></Cell>
    <Cell><Data ss:Type="Number">370303199001011234</Data></Cell></Row>
  </Table>
 </Worksheet>
</Workbook>"""


def test_spreadsheetml_saved_as_xls(score):
    table = read_table(REPORT_XML.encode(), "export.xls", score)
    assert (table.format, table.sheet, table.header_row) == ("spreadsheetml", "处罚信息", 3)
    assert rows(table) == [
        (4, "甲公司", None, "0.35", "2024-03-15", "张店局"),
        (5, "乙公司\n二行", "文2", "2000", "2024-03-15 10:30:00", None),  # MergeDown above
        (7, "丙", "3.70303E+17", None, None, None),  # ss:Index gap: row 6 is empty
    ]
    assert table.blank_rows == 1


@pytest.mark.parametrize("name", ["export.xls", "export.xml", "export.csv"])
def test_spreadsheetml_is_chosen_by_its_content(name, score):
    assert read_table(REPORT_XML.encode(), name, score).format == "spreadsheetml"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (  # an entity bomb: no DTD at all is accepted
            '<?xml version="1.0"?><!DOCTYPE Workbook [<!ENTITY a "aaaaaaaaaa">'
            '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
            '<Workbook xmlns="urn:schemas-microsoft-com:office:spreadsheet"><Worksheet><Table>'
            "<Row><Cell><Data>&b;</Data></Cell></Row></Table></Worksheet></Workbook>",
            "不允许的 DTD",
        ),
        (
            '<?xml version="1.0"?><!DOCTYPE Workbook SYSTEM "http://127.0.0.1:9/x.dtd">'
            '<Workbook xmlns="urn:schemas-microsoft-com:office:spreadsheet"></Workbook>',
            "不允许的 DTD",
        ),
        (
            '<Workbook xmlns="urn:schemas-microsoft-com:office:spreadsheet"><Worksheet><Table>'
            '<Row ss:Index="2000000" xmlns:ss="urn:schemas-microsoft-com:office:spreadsheet">'
            "<Cell><Data>x</Data></Cell></Row></Table></Worksheet></Workbook>",
            "超出 Excel 的范围",
        ),
        (
            '<Workbook xmlns="urn:schemas-microsoft-com:office:spreadsheet"><Worksheet><Table>'
            "<Row><Cell><Data>x</Data></Cell></Table></Worksheet></Workbook>",
            "不是有效的 XML 表格(第 1 行",
        ),
        ('<?xml version="1.0"?><orders><order id="1"/></orders>', "不是含表格的网页"),
    ],
)
def test_hostile_or_broken_xml_is_refused_with_one_chinese_line(data, message):
    with pytest.raises(UnreadableFile) as exc:
        read_table(data.encode(), "a.xml")
    assert message in str(exc.value) and "\n" not in str(exc.value)


def test_spreadsheetml_gaps_count_against_the_cell_limit(monkeypatch):
    monkeypatch.setattr(markup, "MAX_CELLS", 1000)
    data = (
        '<Workbook xmlns="urn:schemas-microsoft-com:office:spreadsheet"'
        ' xmlns:ss="urn:schemas-microsoft-com:office:spreadsheet"><Worksheet><Table>'
        "<Row><Cell><Data>a</Data></Cell><Cell><Data>b</Data></Cell></Row>"
        '<Row ss:Index="900"><Cell ss:Index="30"><Data>x</Data></Cell></Row>'
        "</Table></Worksheet></Workbook>"
    )
    with pytest.raises(UnreadableFile, match="表格过大"):
        read_table(data.encode(), "a.xls")


def test_spreadsheetml_spans_indexes_and_rich_text():
    """Pins the streamed reader (expat handlers instead of ElementTree): MergeAcross and
    MergeDown, a Row's ss:Span, ss:Index, a second Data and a comment ignored, rich text."""
    data = (
        '<Workbook xmlns="urn:schemas-microsoft-com:office:spreadsheet"'
        ' xmlns:ss="urn:schemas-microsoft-com:office:spreadsheet"'
        ' xmlns:html="http://www.w3.org/TR/REC-html40"><Worksheet ss:Name="表"><Table>'
        '<Row><Cell ss:MergeAcross="1" ss:MergeDown="1"><Data ss:Type="Number">1</Data></Cell>'
        "<Cell><Data>x</Data><Data>第二个</Data></Cell></Row>\n"
        "<Row><Cell><Data>a</Data><Comment><Data>批注</Data></Comment></Cell>"
        '<Cell><Data ss:Type="String"><html:B>富</html:B>文本</Data></Cell></Row>\n'
        '<Row ss:Span="1"><Cell><Data ss:Type="Boolean">1</Data></Cell></Row>'
        '<Row><Cell ss:Index="2"><Data ss:Type="DateTime">2024-03-15T10:30:00.000</Data>'
        "</Cell></Row></Table></Worksheet></Workbook>"
    )
    assert markup.read_sheets(data.encode(), markup.SPREADSHEETML) == [
        (
            "表",
            [
                [1.0, None, "x", None],
                [None, None, "a", "富文本"],  # columns 1–2 merged down from above
                [True, None, None, None],
                [None, None, None, None],  # covered by the Span of the row above
                [None, dt.datetime(2024, 3, 15, 10, 30), None, None],
            ],
        )
    ]


# --------------------------------------------------------------------------- two-level headers


@pytest.mark.parametrize(("name", "data"), messy.grouped_files(), ids=lambda v: str(v)[:20])
def test_two_level_headers_combine_group_and_name(name, data, spec):
    result = run(data, name, spec)
    assert result.table.headers == messy.COMBINED
    assert result.table.header_row == 3
    assert [(s.row, s.reason) for s in result.skipped_rows] == [(1, "title"), (2, "group")]
    assert [m.field_code for m in result.mapping] == messy.GROUPED_CODES
    assert result.missing_columns == []
    # The same counts as the same rows in a plain xlsx with one header row.
    assert (result.rows, result.accepted_count, result.rejected) == (4, 3, 1)
    assert result.errors.select("row", "field", "rule").rows() == [
        (7, "CF_CFJGDM", "uscc_checksum")
    ]


def test_a_title_or_a_code_row_is_not_taken_for_a_group(score):
    data = "淄博市行政处罚信息,,\n行政相对人名称,处罚机关,备注\nCF_XDR_MC,CF_CFJG,BZ\n甲,乙,丙\n"
    table = read_table(data.encode(), "a.csv", score)
    assert table.headers == ["行政相对人名称", "处罚机关", "备注"]
    assert table.subheaders == ["CF_XDR_MC", "CF_CFJG", "BZ"]
    assert [s.reason for s in table.skipped_rows] == ["title", "subheader"]


def test_a_decorative_group_leaves_the_names_alone(score):
    data = "基本信息,,处罚信息\n行政相对人名称,法定代表人,处罚机关\n甲,张三,乙\n"
    table = read_table(data.encode(), "a.csv", score)
    assert table.headers == ["行政相对人名称", "法定代表人", "处罚机关"]
    assert rows(table) == [(3, "甲", "张三", "乙")]


def test_the_mapping_screen_shows_the_combined_names(spec):
    from pubcredit.intake.uploads import _read_for_preview

    name, data = messy.grouped_files()[0]
    import io

    table, partial = _read_for_preview(io.BytesIO(data), name, SpecHeaderScore(spec))
    assert table.headers == messy.COMBINED and not partial


# --------------------------------------------------------------------------- line ends, empty


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030", "utf-16"])
def test_csv_lines_ended_by_cr_alone(encoding, score):
    text = '行政相对人名称,处罚决定书文号,违法事实\r甲,文1,"一行\r二行"\r乙,文2,x\r\r丙,文3,y\r'
    table = read_table(text.encode(encoding), "old.csv", score)
    assert rows(table) == [
        (2, "甲", "文1", "一行\n二行"),
        (3, "乙", "文2", "x"),
        (5, "丙", "文3", "y"),
    ]


def test_cr_alone_from_a_path(tmp_path, score):
    path = tmp_path / "old.csv"
    path.write_bytes("行政相对人名称,处罚决定书文号\r甲,文1\r乙,文2".encode("gb18030"))
    assert rows(read_table(path, path.name, score)) == [(2, "甲", "文1"), (3, "乙", "文2")]


@pytest.mark.parametrize("separator", ["\x85", "\u2028", "\x0c"])
def test_header_found_but_no_row_read_is_never_an_empty_success(separator, score):
    text = separator.join(["行政相对人名称,处罚决定书文号", "甲,文1", "乙,文2", ""])
    with pytest.raises(UnreadableFile) as exc:
        read_table(text.encode(), "a.csv", score)
    assert "已找到表头(第 1 行),但未能读出其下的任何数据行" in str(exc.value)


def test_a_header_with_only_blank_lines_below_is_still_an_empty_file(score):
    table = read_table("行政相对人名称,处罚决定书文号\r\n,\r\n\r\n".encode(), "a.csv", score)
    assert table.rows == 0


# --------------------------------------------------------------------------- ="…" wrappers


def test_keep_as_text_wrappers_are_unwrapped_before_validation(spec):
    headers = [h for h, c, _k in messy.COLUMNS if c]
    codes = [c for _h, c, _k in messy.COLUMNS if c]
    wrapped = [
        messy.org(1, CF_XDR_SHXYM=f'="{messy.org_uscc(1)}"', CF_WSH='="淄张市监罚〔2024〕1号"'),
        messy.org(2, CF_XDR_SHXYM=f"'{messy.org_uscc(2)}", CF_WSH='="文""2"""', CF_NR_FK="'0.2"),
    ]
    grid = [headers, *([row.get(c) for c in codes] for row in wrapped)]
    result = run(messy.grid_csv(grid), "a.csv", spec)
    assert (result.rows, result.accepted_count) == (2, 2)
    got = result.accepted.sort("__row__")
    assert got["CF_XDR_SHXYM"].to_list() == [messy.org_uscc(1), messy.org_uscc(2)]
    assert got["CF_XDR_SHXYM__original"].to_list() == [
        f'="{messy.org_uscc(1)}"',
        f"'{messy.org_uscc(2)}",
    ]
    assert got["CF_WSH"].to_list() == ["淄张市监罚〔2024〕1号", '文"2"']
    assert got["CF_NR_FK"].to_list() == ["0.2", "0.2"]


# --------------------------------------------------------------------------- round trip

HEADERS = [(h, c) for h, c, _k in messy.COLUMNS if c]
CJK = st.sampled_from("淄博张店市场监督管理局商贸有限公司甲乙丙丁")
names = st.lists(st.one_of(CJK, st.sampled_from([" ", "\u3000", "  ", "Ａ", "1"])), max_size=12)
texts = st.lists(st.one_of(CJK, st.sampled_from([" ", "\n", "。", "，", "A"])), max_size=20)


@st.composite
def cf_rows(draw):
    out = []
    for n in range(draw(st.integers(1, 4))):
        cells: dict = messy.org(n + 1)
        cells["CF_XDR_MC"] = "".join(draw(names)) or None
        cells["CF_SY"] = "".join(draw(texts)) or None
        code = cells["CF_XDR_SHXYM"]
        cells["CF_XDR_SHXYM"] = draw(st.sampled_from([code, f'="{code}"', f"'{code}", code[:-1]]))
        day = draw(st.dates(dt.date(2023, 1, 1), dt.date(2024, 3, 20)))
        cells["CF_JDRQ"] = draw(
            st.sampled_from(
                [DateCell(day), day.isoformat(), f"{day.year}年{day.month}月{day.day}日"]
            )
        )
        fine = draw(st.decimals(0, 500, places=2, allow_nan=False))
        cells["CF_NR_FK"] = draw(st.sampled_from([Num(float(fine), str(float(fine))), str(fine)]))
        out.append([cells.get(code) for _h, code in HEADERS])
    return [[h for h, _c in HEADERS], *out]


WRITERS = {
    "plain.xlsx": messy.grid_xlsx,
    "book.xls": messy.grid_xls,
    "utf8.csv": lambda g: messy.grid_csv(g, "utf-8-sig"),
    "gb18030.csv": lambda g: messy.grid_csv(g, "gb18030"),
    "unicode.txt": lambda g: messy.grid_csv(g, "utf-16", delimiter="\t"),
    "html.xls": lambda g: messy.grid_html(g, header_rows=(0,)),
    "spreadsheetml.xls": messy.grid_spreadsheetml,
}


def _outcome(result) -> tuple:
    clean = [c for c in result.accepted.columns if "__" not in c or c == "__row__"]
    return (
        result.rows,
        result.accepted_count,
        result.rejected,
        result.accepted.select(clean).rows(),
        sorted(result.errors.select("row", "field", "rule").rows()),
    )


@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(grid=cf_rows())
def test_every_writer_gives_the_same_result_as_a_plain_xlsx(grid):
    spec = CategorySpec.from_files("CF")
    results = {name: _outcome(run(write(grid), name, spec)) for name, write in WRITERS.items()}
    baseline = results.pop("plain.xlsx")
    assert baseline[0] == len(grid) - 1  # every row is read
    for name, outcome in results.items():
        assert outcome == baseline, name


def test_a_quoted_cell_left_open_is_a_chinese_error_not_a_crash():
    # A quote opens the cell and another one inside it is not doubled: no CSV reader can tell
    # where the cell ends. A quote inside an unquoted cell is text, as Excel reads it.
    with pytest.raises(UnreadableFile, match="双引号开头的单元格未正确结束"):
        read_table('名称,代码\n"他说"你好",1\n'.encode(), "a.csv")
    assert rows(read_table('名称,代码\n他说"你好",1\n'.encode(), "a.csv")) == [
        (2, '他说"你好"', "1")
    ]
