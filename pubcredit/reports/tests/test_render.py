"""The PDF of a report: drawn from the content dict alone, the sections' titles and rows in its
text, the CJK font embedded, the report number on every page, long cells wrapped and split, the
columns shared out by the sections' width hints, the same content giving the same bytes."""

from __future__ import annotations

import io

import pytest
from pypdf import PdfReader

from pubcredit.reports.content import compose
from pubcredit.reports.render import column_widths, render_pdf
from pubcredit.testing.portalkit import make_uscc, penalty, subject_of, submit

NUMBER = "XYBG20261206K7Q2M9X4T1CD"


def _content(rows: list[list[str]] | None = None) -> dict:
    return {
        "title": "法人和非法人组织公共信用信息报告",
        "kind": "standard",
        "subject": {
            "kind": "org",
            "name": "淄博渲染测试有限公司",
            "identifier": "9137030300000001XX",
        },
        "data_as_of": "2026-12-06T10:30:00+08:00",
        "number": NUMBER,
        "issued_at": "2026-12-06T10:30:00+08:00",
        "issuer": "淄博市社会信用中心",
        "valid_until": "2027-01-05",
        "verify_url": f"https://credit.zibo.example/verify/{NUMBER}",
        "notes": ["一、本报告仅包含依法可以向社会公开的公共信用信息。"],
        "sections": [
            {
                "key": "penalties",
                "title": "行政处罚",
                "columns": ["行政处罚决定书文号", "处罚内容"],
                "rows": rows if rows is not None else [["淄市监罚〔2026〕1号", "罚款人民币5万元"]],
                "empty": "暂无",
                "widths": [1, 3],
            },
            {
                "key": "others",
                "title": "其他",
                "columns": ["信息类别"],
                "rows": [],
                "empty": "暂无",
            },
        ],
    }


def _pages(data: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(data)).pages]


def test_the_pdf_holds_the_sections_and_embeds_its_font():
    data = render_pdf(_content())
    text = "".join(_pages(data))
    for part in (
        "报告说明",
        "行政处罚",
        "淄市监罚〔2026〕1号",
        "其他",
        "暂无",
        "淄博渲染测试有限公司",
        "2026-12-06 10:30:00",  # the time of issue as a reader writes it, not ISO's T and offset
    ):
        assert part in text, part
    reader = PdfReader(io.BytesIO(data))
    embedded = []
    for page in reader.pages:
        for font in (page["/Resources"].get("/Font") or {}).values():
            font = font.get_object()
            descendants = font.get("/DescendantFonts")
            described = descendants[0].get_object() if descendants else font
            descriptor = described.get("/FontDescriptor")
            if descriptor is not None:
                descriptor = descriptor.get_object()
                embedded.append(any(k in descriptor for k in ("/FontFile", "/FontFile2")))
    assert embedded and all(embedded)


def test_long_cells_wrap_and_split_and_every_page_carries_the_number():
    long_text = "违法事实" * 1200  # taller than a page in a quarter of its width
    rows = [[f"淄市监罚〔2026〕{n}号", long_text if n == 3 else "罚款"] for n in range(1, 80)]
    pages = _pages(render_pdf(_content(rows)))
    assert len(pages) >= 4
    assert all(f"报告编号:{NUMBER}" in page for page in pages)
    assert f"第 1 页 共 {len(pages)} 页" in pages[0]
    assert "淄市监罚〔2026〕79号" in "".join(pages)


def test_column_widths_follow_the_hint():
    assert column_widths({"columns": ["a", "b"], "widths": [1, 3]}, 400) == [100, 300]
    assert column_widths({"columns": ["a", "b"], "widths": [1]}, 400) == [200, 200]
    assert column_widths({"columns": ["a", "b", "c", "d"]}, 400) == [100] * 4


def test_the_same_content_gives_the_same_bytes():
    assert render_pdf(_content()) == render_pdf(_content())


@pytest.mark.django_db
@pytest.mark.usefixtures("seeded")
def test_a_composed_report_prints_its_records(system):
    uscc = make_uscc(7301)
    submit(system, "CF", [penalty(7301, name="淄博渲染记录有限公司", uscc=uscc)])
    content = compose(subject_of(uscc)) | {"number": NUMBER, "issuer": "淄博市社会信用中心"}
    text = "".join(_pages(render_pdf(content)))
    assert "淄市监罚〔2026〕7301号" in text.replace("\n", "")  # a narrow column wraps it
    for title in ("登记基础信息", "行政许可", "严重失信主体名单", "信用承诺及履行情况", "信用评价"):
        assert title in text, title
