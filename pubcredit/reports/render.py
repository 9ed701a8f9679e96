"""A report's content (`content.compose` plus the head `services.issue` adds) as a PDF.

Reads only the content dict: an issued report can be drawn again from its frozen JSON, and the
same content gives the same bytes (the file is dated when issued, not when drawn). A4 portrait,
the CJK font embedded (core.pdffonts); the cover carries the number, the subject, the time of
issue, the issuing centre, the validity, the verification address as text and its QR code;
then 报告说明 and the sections, each a table (the header row repeated on every page) or 暂无;
a header with the title and the report number on every page, 第 N 页 共 M 页 under it.

Tables: a section's `widths` (relative, one per column) share the page width out; without them
the columns share it equally. Every cell is a paragraph that wraps (CJK: at any character), and
a row taller than a page is split across pages rather than refused.
"""

from __future__ import annotations

import datetime as dt
from xml.sax.saxutils import escape

from django.utils.translation import gettext as _

from pubcredit.core import pdfdocs, pdffonts
from pubcredit.reports.qr import qr_drawing


def _issued_at(content: dict) -> dt.datetime | None:
    value = content.get("issued_at")
    return dt.datetime.fromisoformat(value) if value else None


def _shown_time(value: str | None) -> str:
    """An ISO time of the content as a reader writes it (2026-12-07 07:55:09, local time)."""
    return dt.datetime.fromisoformat(value).strftime("%Y-%m-%d %H:%M:%S") if value else ""


CELL_PADDING = 3  # points left and right of a table cell's text


def _centred(flowable):
    flowable.hAlign = "CENTER"
    return flowable


def column_widths(section: dict, width: float) -> list[float]:
    """The section's columns' widths in points: its `widths` hint, proportionally, when it has
    one per column (positive numbers), else equal shares of `width`."""
    n = max(len(section.get("columns") or []), 1)
    hint = section.get("widths") or []
    if len(hint) == n and all(isinstance(w, int | float) and w > 0 for w in hint):
        total = float(sum(hint))
        return [width * w / total for w in hint]
    return [width / n] * n


def render_pdf(content: dict) -> bytes:
    """The report as PDF bytes."""
    # Imported here: reportlab's platypus is heavy and only a report needs it.
    from reportlab.lib import colors
    from reportlab.lib.enums import TA_CENTER
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.pdfbase.pdfmetrics import stringWidth
    from reportlab.platypus import (
        CondPageBreak,
        PageBreak,
        Paragraph,
        Spacer,
        Table,
        TableStyle,
    )

    font = pdffonts.embedded_font()
    body = ParagraphStyle("body", fontName=font, fontSize=11, leading=18, wordWrap="CJK")
    title = ParagraphStyle(
        "title", parent=body, fontSize=20, leading=30, alignment=TA_CENTER, spaceAfter=6 * mm
    )
    centred = ParagraphStyle("centred", parent=body, alignment=TA_CENTER)
    heading = ParagraphStyle(
        "heading", parent=body, fontSize=13, leading=20, spaceBefore=5 * mm, spaceAfter=2 * mm
    )
    note = ParagraphStyle("note", parent=body, fontSize=10, leading=16)
    cell = ParagraphStyle("cell", fontName=font, fontSize=8.5, leading=11, wordWrap="CJK")

    def p(text, style) -> Paragraph:
        return Paragraph(escape(str(text)), style)

    width = A4[0] - 40 * mm
    subject = content.get("subject", {})
    story: list = [Spacer(1, 30 * mm), p(content["title"], title)]
    cover = [
        (_("报告编号"), content.get("number", "")),
        (_("主体名称"), subject.get("name", "")),
        (_("主体标识"), subject.get("identifier", "")),
        (_("出具时间"), _shown_time(content.get("issued_at"))),
        (_("信息截止时间"), _shown_time(content.get("data_as_of"))),
        (_("有效期至"), content.get("valid_until", "")),
        (_("出具机构"), content.get("issuer", "")),
    ]
    grid = Table([[p(k, cell), p(v, cell)] for k, v in cover], colWidths=[35 * mm, width - 35 * mm])
    grid.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.5, colors.grey),
                ("BACKGROUND", (0, 0), (0, -1), colors.HexColor("#eef3fb")),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
            ]
        )
    )
    story.append(grid)
    if content.get("verify_url"):
        story += [
            Spacer(1, 10 * mm),
            _centred(qr_drawing(content["verify_url"], 32 * mm)),
            p(_("核验地址:%(url)s") % {"url": content["verify_url"]}, centred),
        ]
    story.append(PageBreak())
    if content.get("notes"):
        story.append(p(_("报告说明"), heading))
        story += [p(text, note) for text in content["notes"]]
    for section in content.get("sections", []):
        part = [p(section["title"], heading)]
        if section.get("text"):
            part.append(p(section["text"], note))
        rows = section.get("rows") or []
        if rows:
            columns = section.get("columns") or []
            widths = column_widths(section, width)
            room = [w - 2 * CELL_PADDING - 0.5 for w in widths]

            def fit(value, i: int, room=room):
                # A value that fits its column on one line is drawn as a string (a paragraph
                # only where it must wrap: measuring CJK paragraphs is most of the drawing).
                text = str(value)
                if "\n" not in text and stringWidth(text, font, cell.fontSize) <= room[i]:
                    return text
                return p(text, cell)

            data = [[p(c, cell) for c in columns]] + [
                [fit(v, i) for i, v in enumerate(r)] for r in rows
            ]
            table = Table(data, repeatRows=1, colWidths=widths, splitInRow=1)
            table.setStyle(
                TableStyle(
                    [
                        ("FONT", (0, 1), (-1, -1), font, cell.fontSize, cell.leading),
                        ("GRID", (0, 0), (-1, -1), 0.5, colors.grey),
                        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eef3fb")),
                        ("VALIGN", (0, 0), (-1, -1), "TOP"),
                        ("LEFTPADDING", (0, 0), (-1, -1), CELL_PADDING),
                        ("RIGHTPADDING", (0, 0), (-1, -1), CELL_PADDING),
                    ]
                )
            )
            part.append(table)
        elif not section.get("text"):
            part.append(p(section.get("empty") or _("暂无"), note))
        # A title never ends a page: with less than a few rows' room left, the section starts
        # on the next one (a long table then runs on, its header row repeated).
        story.append(CondPageBreak(35 * mm))
        story += part

    number = content.get("number", "")
    running = _("%(title)s    报告编号:%(number)s") % {"title": content["title"], "number": number}

    def page_header(canvas, doc) -> None:
        canvas.saveState()
        canvas.setFont(font, 8)
        canvas.setStrokeColor(colors.grey)
        top = A4[1] - 13 * mm
        canvas.drawString(20 * mm, top, running if number else content["title"])
        canvas.line(20 * mm, top - 2 * mm, A4[0] - 20 * mm, top - 2 * mm)
        canvas.restoreState()

    return pdfdocs.build_a4(
        story,
        font=font,
        title=content["title"],
        number=content.get("number", ""),
        author=content.get("issuer", ""),
        issued_at=_issued_at(content),
        on_page=page_header,
    )
