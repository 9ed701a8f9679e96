# ruff: noqa: F811 (pytest fixtures imported from loadkit)
"""The bulletin's files: the PDF (embedded CJK font, the ranking table in its extracted text,
the named lists, the districts, the formulas) and the workbook (its sheets, rates as numbers,
names from data neutralised), from a content dict written by hand; then one bulletin issued
end to end, whose stored files match their digests and stay as issued after new data."""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import io
import json
import time
from zoneinfo import ZoneInfo

import pytest
from pypdf import PdfReader
from python_calamine import CalamineWorkbook

from pubcredit.bulletins import render
from pubcredit.bulletins.compose import DEPARTMENT_COUNTS
from pubcredit.bulletins.periods import Period
from pubcredit.bulletins.services import issue
from pubcredit.testing.loadkit import (  # noqa: F401 (fixtures)
    calendar_2026,
    cf,
    department,
    make_submission,
)

TITLE = "关于2026年11月份全市公共信用信息归集情况的通报"
NUMBER = "信用归集通报〔2026〕12号"
SUMMARY = (
    "2026年11月份,全市3个有报送责任或报送数据的部门中,2个部门报送信用信息1,700条,"
    "较上月增加200条(+13.3%)。"
)
FORMULAS = [
    {
        "name": "coverage",
        "label": "报送覆盖率",
        "text": "报送覆盖率 = 有报送的报送责任数 ÷ 应报送的报送责任数",
    },
    {"name": "compliance", "label": "合规率", "text": "合规率 = 校验通过条数 ÷ 报送条数"},
    {"name": "timeliness", "label": "及时率", "text": "及时率 = 按期报送条数 ÷ 应按期报送条数"},
    {"name": "completeness", "label": "完整率", "text": "完整率 = 已填写的选填项数 ÷ 选填项总数"},
]


def _department(code, name, district, submitted, accepted, rejected, rates, score, rank, **more):
    return {
        "department_id": rank,
        "code": code,
        "name": name,
        "district": district,
        "district_name": "张店区" if district else "市直部门",
        "submissions": more.get("submissions", 1),
        "submitted": submitted,
        "accepted": accepted,
        "rejected": rejected,
        "duties": more.get("duties", 2),
        "duties_reported": more.get("duties_reported", 2),
        "zero_report": more.get("zero_report", False),
        "zero_duties": [],
        "rates": rates,
        "score": score,
        "rank": rank,
    }


def bulletin_content() -> dict:
    """A November 2026 bulletin of three departments, every figure written by hand. Scores
    (weights 30/30/25/15): 生态环境局 30×1 + 30×0.975 + 25×0.955 + 15×0.825 = 95.50;
    市场监管局 30×0.5 + 30×0.85 + 25×0.82 + 15×0.6 = 70.00; the third reported nothing, so
    only its coverage 0 counts: 0.00."""
    sthj = _department(
        "ZB-STHJ",
        "淄博市生态环境局",
        None,
        200,
        191,
        9,
        {"coverage": 1.0, "compliance": 0.955, "timeliness": 0.975, "completeness": 0.825},
        95.5,
        1,
    )
    scjg = _department(
        "ZB-SCJG",
        "淄博市市场监督管理局",
        None,
        1500,
        1230,
        270,
        {"coverage": 0.5, "compliance": 0.82, "timeliness": 0.85, "completeness": 0.6},
        70.0,
        2,
        submissions=4,
        duties=4,
    )
    # A name from data that a spreadsheet would take for a formula.
    hostile = _department(
        "ZB-ZD-YJ",
        "=淄博市张店区应急管理局",
        "370303",
        0,
        0,
        0,
        {"coverage": 0.0, "compliance": None, "timeliness": None, "completeness": None},
        0.0,
        3,
        submissions=0,
        duties_reported=0,
        zero_report=True,
    )
    totals = {"submissions": 5, "submitted": 1700, "accepted": 1421, "rejected": 279}
    previous = {"submissions": 4, "submitted": 1500, "accepted": 1350, "rejected": 150}
    return {
        "period": {
            "kind": "month",
            "key": "2026-11",
            "start": "2026-11-01",
            "end": "2026-11-30",
            "label": "2026年11月份",
        },
        "title": TITLE,
        "scheme": {
            "name": "归集工作综合评分(默认)",
            "effective_from": "2026-01-01",
            "weights": {
                "coverage": 30.0,
                "timeliness": 30.0,
                "compliance": 25.0,
                "completeness": 15.0,
            },
            "threshold": 0.9,
            "praise_count": 3,
            "note": "",
        },
        "formulas": FORMULAS,
        "summary": {
            "totals": totals,
            "previous": previous,
            "rates": {
                "coverage": 0.5,
                "compliance": 0.8359,
                "timeliness": 0.9,
                "completeness": 0.7,
            },
            "previous_rates": {
                "coverage": 0.6,
                "compliance": 0.9,
                "timeliness": None,
                "completeness": 0.7,
            },
            "departments": 3,
            "reporting_departments": 2,
            "text": SUMMARY,
        },
        "departments": [sthj, scjg, hostile],
        "categories": [
            {
                "department_id": 1,
                "code": "ZB-STHJ",
                "category": "CF",
                "category_name": "行政处罚",
                "submissions": 1,
                "submitted": 200,
                "accepted": 191,
                "rejected": 9,
                "rates": {"compliance": 0.955},
            },
            {
                "department_id": 2,
                "code": "ZB-SCJG",
                "category": "CF",
                "category_name": "行政处罚",
                "submissions": 3,
                "submitted": 1000,
                "accepted": 900,
                "rejected": 100,
                "rates": {"compliance": 0.9},
            },
            {
                "department_id": 2,
                "code": "ZB-SCJG",
                "category": "XK",
                "category_name": "行政许可",
                "submissions": 1,
                "submitted": 500,
                "accepted": 330,
                "rejected": 170,
                "rates": {"compliance": 0.66},
            },
        ],
        "zero_reports": [
            {
                "code": "ZB-ZD-YJ",
                "name": "=淄博市张店区应急管理局",
                "category": "CF",
                "category_name": "行政处罚",
                "months": 1,
            },
            {
                "code": "ZB-ZD-YJ",
                "name": "=淄博市张店区应急管理局",
                "category": "XK",
                "category_name": "行政许可",
                "months": 1,
            },
        ],
        "below_threshold": [
            {
                "code": "ZB-SCJG",
                "name": "淄博市市场监督管理局",
                "rate": "timeliness",
                "label": "及时率",
                "value": 0.85,
            },
            {
                "code": "ZB-SCJG",
                "name": "淄博市市场监督管理局",
                "rate": "compliance",
                "label": "合规率",
                "value": 0.82,
            },
        ],
        "praised": [
            {"code": "ZB-STHJ", "name": "淄博市生态环境局", "score": 95.5, "rank": 1},
            {"code": "ZB-SCJG", "name": "淄博市市场监督管理局", "score": 70.0, "rank": 2},
        ],
        "districts": [
            {
                "district": None,
                "name": "市直部门",
                "departments": 2,
                "submissions": 5,
                "submitted": 1700,
                "accepted": 1421,
                "rejected": 279,
                "rates": {
                    "coverage": 0.75,
                    "compliance": 0.8359,
                    "timeliness": 0.9,
                    "completeness": 0.7,
                },
            },
            {
                "district": "370303",
                "name": "张店区",
                "departments": 1,
                "submissions": 0,
                "submitted": 0,
                "accepted": 0,
                "rejected": 0,
                "rates": {
                    "coverage": 0.0,
                    "compliance": None,
                    "timeliness": None,
                    "completeness": None,
                },
            },
        ],
        "number": NUMBER,
        "version": 1,
        "issued_at": "2026-12-03T10:00:00+08:00",
        "issued_on": "2026-12-03",
        "issuer": "淄博市社会信用中心",
    }


def pdf_text(data: bytes) -> tuple[PdfReader, str]:
    """The reader and its text, every run of whitespace one space (a table cell is a line)."""
    reader = PdfReader(io.BytesIO(data))
    text = " ".join(page.extract_text() for page in reader.pages)
    return reader, " ".join(text.split())


def in_order(text: str, *parts: str) -> bool:
    at = 0
    for part in parts:
        found = text.find(part, at)
        if found < 0:
            return False
        at = found + len(part)
    return True


def sheets(data: bytes) -> dict[str, list[list]]:
    book = CalamineWorkbook.from_filelike(io.BytesIO(data))
    return {name: book.get_sheet_by_name(name).to_python() for name in book.sheet_names}


# --------------------------------------------------------------------------- PDF


def test_the_pdf_embeds_a_truetype_cjk_font():
    data = render.pdf(bulletin_content())
    assert b"/FontFile2" in data  # an embedded TrueType font program
    assert b"STSong-Light" not in data  # not the reader-supplied CID font of the letters
    assert b"/BaseFont /AAAAAA+WenQuanYiZenHei" in data  # a subset of the font, embedded
    assert b"/Helvetica" not in data  # no font the reader must supply


def test_the_pdf_text_has_the_title_number_summary_and_ranking_table_in_order():
    reader, text = pdf_text(render.pdf(bulletin_content()))
    assert in_order(text, TITLE, NUMBER, SUMMARY[:20], "表1")
    assert SUMMARY in text.replace(" ", "")  # a wrapped line is a space in the text
    assert in_order(
        text,
        "表1 各部门归集情况排名(按综合得分)",
        "排名 部门 报送条数 校验通过 未通过 合规率 及时率 完整率 报送覆盖率 综合得分",
        "1 淄博市生态环境局 200 191 9 95.5% 97.5% 82.5% 100.0% 95.50",
        "2 淄博市市场监督管理局 1,500 1,230 270 82.0% 85.0% 60.0% 50.0% 70.00",
        "3 =淄博市张店区应急管理局 0 0 0 — — — 0.0% 0.00",
    )
    assert reader.metadata.title == TITLE
    assert reader.metadata.subject == NUMBER
    assert reader.metadata.creation_date.date() == dt.date(2026, 12, 3)


def test_the_pdf_names_the_lists_the_districts_and_the_method():
    reader, text = pdf_text(render.pdf(bulletin_content()))
    pages = len(reader.pages)
    assert in_order(
        text,
        "一、零报送单位",
        "1 =淄博市张店区应急管理局 行政处罚(CF)、行政许可(XK)",
        "二、及时率或合规率低于阈值(90.0%)的单位",
        "序号 单位 指标 数值",
        "1 淄博市市场监督管理局 及时率 85.0%",
        "2 淄博市市场监督管理局 合规率 82.0%",
        "三、表扬",
        "1 淄博市生态环境局 95.50",
        "2 淄博市市场监督管理局 70.00",
        "表2 各区县归集情况",
        "市直部门 2 1,700 1,421 279 83.6% 90.0% 70.0% 75.0%",
        "张店区 1 0 0 0 — — — 0.0%",
        "淄博市社会信用中心 2026年12月3日",
        "附:计算方法",
        "合规率 = 校验通过条数 ÷ 报送条数",
        "权重:报送覆盖率 30 分、合规率 25 分、及时率 30 分、完整率 15 分",
        "及时率或合规率低于 90.0% 的单位列入通报名单",
    )
    assert f"第 1 页 共 {pages} 页" in text
    assert f"第 {pages} 页 共 {pages} 页" in text


def test_empty_lists_say_so():
    content = bulletin_content()
    content.update(zero_reports=[], below_threshold=[], praised=[])
    _, text = pdf_text(render.pdf(content))
    assert in_order(text, "一、零报送单位 本期无零报送单位。", "二、", "无。", "三、表扬 无。")


def test_the_same_content_draws_the_same_bytes_also_from_its_stored_json():
    content = bulletin_content()
    stored = json.loads(json.dumps(content, ensure_ascii=False, sort_keys=True))
    assert render.pdf(content) == render.pdf(stored)
    assert render.xlsx(content) == render.xlsx(stored)


def test_200_departments_and_2000_category_rows_render_fast():
    content = bulletin_content()
    base = content["departments"][0]
    content["departments"] = [
        {**copy.deepcopy(base), "code": f"ZB-T{i:03d}", "name": f"淄博市第{i}测试局", "rank": i}
        for i in range(1, 201)
    ]
    category = content["categories"][0]
    content["categories"] = [
        {**category, "code": f"ZB-T{i % 200 + 1:03d}", "category": f"C{i:04d}"} for i in range(2000)
    ]
    content["zero_reports"] = content["zero_reports"] * 100
    render.pdf(bulletin_content())  # the font and reportlab loaded once, as in a worker
    started = time.perf_counter()
    pdf, workbook = render.pdf(content), render.xlsx(content)
    assert time.perf_counter() - started < 5.0
    assert len(PdfReader(io.BytesIO(pdf)).pages) > 5
    assert len(sheets(workbook)["分类明细"]) == 2001


# --------------------------------------------------------------------------- xlsx


def test_the_workbook_has_every_part_with_rates_as_numbers():
    book = sheets(render.xlsx(bulletin_content()))
    assert list(book) == ["汇总", "部门排名", "分类明细", "零报送", "低于阈值", "区县", "计算公式"]

    ranking = book["部门排名"]
    assert ranking[0] == [
        "排名", "部门编码", "部门", "区县", "报送批次", "报送条数", "校验通过条数", "未通过条数",
        "报送覆盖率", "合规率", "及时率", "完整率", "综合得分", "零报送",
    ]  # fmt: skip
    assert ranking[1:] == [
        [1.0, "ZB-STHJ", "淄博市生态环境局", "市直部门", 1.0, 200.0, 191.0, 9.0,
         1.0, 0.955, 0.975, 0.825, 95.5, "否"],
        [2.0, "ZB-SCJG", "淄博市市场监督管理局", "市直部门", 4.0, 1500.0, 1230.0, 270.0,
         0.5, 0.82, 0.85, 0.6, 70.0, "否"],
        # The name from data is text, never a formula; a rate with nothing to divide is empty.
        [3.0, "ZB-ZD-YJ", "'=淄博市张店区应急管理局", "张店区", 0.0, 0.0, 0.0, 0.0,
         0.0, "", "", "", 0.0, "是"],
    ]  # fmt: skip

    summary = book["汇总"]
    assert summary[0][0] == TITLE
    assert ["通报编号", NUMBER, "", ""] in summary
    assert ["期间", "2026年11月份(2026-11-01 至 2026-11-30)", "", ""] in summary
    assert ["概述", SUMMARY, "", ""] in summary
    assert ["报送条数", 1700.0, 1500.0, 200.0] in summary
    assert ["未通过条数", 279.0, 150.0, 129.0] in summary
    assert ["及时率", 0.9, "", ""] in summary  # nothing to compare with

    assert book["分类明细"][1:] == [
        ["ZB-STHJ", "淄博市生态环境局", "CF", "行政处罚", 1.0, 200.0, 191.0, 9.0, 0.955],
        ["ZB-SCJG", "淄博市市场监督管理局", "CF", "行政处罚", 3.0, 1000.0, 900.0, 100.0, 0.9],
        ["ZB-SCJG", "淄博市市场监督管理局", "XK", "行政许可", 1.0, 500.0, 330.0, 170.0, 0.66],
    ]
    assert book["零报送"][1:] == [
        ["ZB-ZD-YJ", "'=淄博市张店区应急管理局", "CF", "行政处罚", 1.0],
        ["ZB-ZD-YJ", "'=淄博市张店区应急管理局", "XK", "行政许可", 1.0],
    ]
    assert book["低于阈值"][1:] == [
        ["ZB-SCJG", "淄博市市场监督管理局", "及时率", 0.85, 0.9],
        ["ZB-SCJG", "淄博市市场监督管理局", "合规率", 0.82, 0.9],
    ]
    assert book["区县"][1] == [
        "",
        "市直部门",
        2.0,
        5.0,
        1700.0,
        1421.0,
        279.0,
        0.75,
        0.8359,
        0.9,
        0.7,
    ]
    formulas = book["计算公式"]
    assert formulas[1] == ["coverage", "报送覆盖率", FORMULAS[0]["text"], 30.0]
    assert any("及时率或合规率低于 90.0% 的单位列入通报名单" in row[0] for row in formulas)


def test_the_workbook_formats_rates_as_percentages():
    """The rate cells are numbers shown as 0.0% (the style is in the sheet's XML)."""
    import zipfile

    with zipfile.ZipFile(io.BytesIO(render.xlsx(bulletin_content()))) as archive:
        styles = archive.read("xl/styles.xml").decode()
    assert 'formatCode="0.0%"' in styles


def test_every_count_a_department_carries_has_a_column_name():
    assert set(DEPARTMENT_COUNTS) <= set(render.count_labels())


# --------------------------------------------------------------------------- issued


SH = ZoneInfo("Asia/Shanghai")


@pytest.mark.django_db
@pytest.mark.usefixtures("calendar_2026")
def test_an_issued_bulletin_keeps_its_files_after_new_data(make_submission, system):
    october = Period.month(2026, 10)
    make_submission(
        received_at=dt.datetime(2026, 10, 14, 9, 0, tzinfo=SH), rows=5, accepted=3, rejected=2
    )
    bulletin, created = issue(october, system)
    assert created
    with bulletin.pdf.open("rb") as handle:
        pdf = handle.read()
    with bulletin.xlsx.open("rb") as handle:
        workbook = handle.read()
    assert hashlib.sha256(pdf).hexdigest() == bulletin.pdf_sha256
    assert hashlib.sha256(workbook).hexdigest() == bulletin.xlsx_sha256
    _, text = pdf_text(pdf)
    assert in_order(text, "关于2026年10月份全市公共信用信息归集情况的通报", bulletin.number, "表1")
    assert "淄博市市场监督管理局 5 3 2 60.0%" in text  # 3 of 5 rows passed
    # The frozen content draws the stored files again, byte for byte.
    assert render.pdf(bulletin.content) == pdf
    assert render.xlsx(bulletin.content) == workbook

    # New rows for October arrive; re-issuing re-prints the bulletin as it was issued.
    make_submission(received_at=dt.datetime(2026, 10, 20, 9, 0, tzinfo=SH), rows=40, accepted=40)
    again, created = issue(october, system)
    assert (again.pk, created) == (bulletin.pk, False)
    with again.pdf.open("rb") as handle:
        assert handle.read() == pdf
    with again.xlsx.open("rb") as handle:
        assert handle.read() == workbook
    assert again.pdf_sha256 == bulletin.pdf_sha256
