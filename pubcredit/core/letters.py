"""Official letters (文书) as PDF: commitment letters (信用承诺书), repair notices (信用修复告知书),
repair decisions (信用修复决定书), objection replies and training certificates.

One small seam over reportlab so every procedure prints the same way. The Chinese text is set in
the Adobe CID font STSong-Light, which PDF readers supply themselves: nothing is embedded or
downloaded, so it works on an intranet machine without any font installed. A letter carries its
number in the PDF metadata (`/Subject`) so a printed copy can be traced back to the platform.
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass, field
from functools import cache
from xml.sax.saxutils import escape

from django.conf import settings
from django.http import FileResponse, Http404, HttpResponse
from django.utils.cache import add_never_cache_headers
from django.utils.translation import get_language
from django.utils.translation import gettext as _

FONT = "STSong-Light"


def centre_name() -> str:
    """The issuing credit centre of the city this platform runs for (PUBCREDIT_CITY_NAME)."""
    english = (get_language() or "").startswith("en")
    city = settings.PUBCREDIT_CITY_NAME_EN if english else settings.PUBCREDIT_CITY_NAME
    return _("%(city)s市社会信用中心") % {"city": city}


@cache
def _register_font() -> None:
    # Imported here: reportlab is heavy; loaded only when a letter is drawn.
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont

    pdfmetrics.registerFont(UnicodeCIDFont(FONT))


@dataclass
class Letter:
    """A letter: title, the issuing unit, its number, then labelled facts and paragraphs."""

    title: str
    number: str
    issuer: str
    issued_on: dt.date
    addressee: str = ""
    facts: list[tuple[str, str]] = field(default_factory=list)
    paragraphs: list[str] = field(default_factory=list)
    signature: str = ""  # e.g. the signer's name for a commitment letter


def render_letter(letter: Letter) -> bytes:
    """The letter as PDF bytes (A4, one or more pages)."""
    # Imported here: reportlab is heavy; loaded only when a letter is drawn.
    from reportlab.lib import colors
    from reportlab.lib.enums import TA_CENTER, TA_RIGHT
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    _register_font()
    body = ParagraphStyle("body", fontName=FONT, fontSize=11.5, leading=19, firstLineIndent=23)
    plain = ParagraphStyle("plain", parent=body, firstLineIndent=0)
    title = ParagraphStyle("title", fontName=FONT, fontSize=20, leading=28, alignment=TA_CENTER)
    number = ParagraphStyle("number", parent=plain, alignment=TA_CENTER, fontSize=10.5)
    right = ParagraphStyle("right", parent=plain, alignment=TA_RIGHT)
    cell = ParagraphStyle("cell", parent=plain, fontSize=10.5, leading=15)

    def p(text: str, style) -> Paragraph:
        return Paragraph(escape(text).replace("\n", "<br/>"), style)

    story = [p(letter.title, title), p(letter.number, number), Spacer(1, 6 * mm)]
    if letter.addressee:
        story.append(p(f"{letter.addressee}:", plain))
        story.append(Spacer(1, 2 * mm))
    if letter.facts:
        table = Table(
            [[p(label, cell), p(value or "—", cell)] for label, value in letter.facts],
            colWidths=[38 * mm, 130 * mm],
        )
        table.setStyle(
            TableStyle(
                [
                    ("GRID", (0, 0), (-1, -1), 0.5, colors.grey),
                    ("BACKGROUND", (0, 0), (0, -1), colors.whitesmoke),
                    ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ]
            )
        )
        story += [table, Spacer(1, 5 * mm)]
    story += [p(text, body) for text in letter.paragraphs]
    story.append(Spacer(1, 12 * mm))
    if letter.signature:
        story.append(p(letter.signature, right))
    story.append(p(letter.issuer, right))
    story.append(
        p(f"{letter.issued_on.year}年{letter.issued_on.month}月{letter.issued_on.day}日", right)
    )

    out = io.BytesIO()
    doc = SimpleDocTemplate(
        out,
        pagesize=A4,
        leftMargin=22 * mm,
        rightMargin=22 * mm,
        topMargin=22 * mm,
        bottomMargin=20 * mm,
        title=letter.title,
        subject=letter.number,
        author=letter.issuer,
        creator="pubcredit",
    )
    doc.build(story)
    return out.getvalue()


def pdf_download(data: bytes, filename: str) -> HttpResponse:
    """A rendered letter as a PDF download, never cached."""
    response = HttpResponse(data, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    add_never_cache_headers(response)
    return response


def stored_pdf_download(file, filename: str, missing: str | None = None) -> FileResponse:
    """A stored letter (a FieldFile) as a PDF download, never cached. With `missing`, a file
    gone from the storage is a 404 with that text."""
    try:
        handle = file.open("rb")
    except FileNotFoundError:
        if missing is None:
            raise
        raise Http404(missing) from None
    response = FileResponse(
        handle, as_attachment=True, filename=filename, content_type="application/pdf"
    )
    add_never_cache_headers(response)
    return response
