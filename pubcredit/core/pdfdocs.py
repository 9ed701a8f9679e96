"""What every generated document (a bulletin, a credit report) shares: a canvas that numbers
the pages 第 N 页 共 M 页 and dates the file when it was issued."""

from __future__ import annotations

import datetime as dt

from django.utils.translation import gettext as _


def numbered_canvas(font: str, issued_at: dt.datetime | None):
    """A canvas class that writes 第 N 页 共 M 页 under every page (the pages are kept until
    the document is saved, when M is known) and dates the document `issued_at`."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm
    from reportlab.pdfgen.canvas import Canvas

    footer = _("第 %(page)d 页 共 %(pages)d 页")

    class NumberedCanvas(Canvas):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self._pages: list[dict] = []
            stamp = getattr(self._doc, "_timeStamp", None)
            if issued_at is not None and stamp is not None:
                # invariant=True fixes the creation date at 2000-01-01: date it when issued.
                stamp.YMDhms = issued_at.timetuple()[:6]
                offset = issued_at.utcoffset() or dt.timedelta()
                minutes = int(offset.total_seconds()) // 60
                stamp.dhh, stamp.dmm = divmod(minutes, 60)

        def showPage(self):
            self._pages.append(dict(self.__dict__))
            self._startPage()

        def save(self):
            total = len(self._pages)
            for number, state in enumerate(self._pages, 1):
                self.__dict__.update(state)
                self.setFont(font, 9)
                self.drawCentredString(
                    A4[0] / 2, 10 * mm, footer % {"page": number, "pages": total}
                )
                super().showPage()
            super().save()

    return NumberedCanvas


def build_a4(
    story: list,
    *,
    font: str,
    title: str,
    number: str = "",
    author: str = "",
    issued_at: dt.datetime | None = None,
    on_page=None,
) -> bytes:
    """`story` as an A4 portrait PDF with 20 mm margins, every page numbered, dated
    `issued_at`, with `number` as its /Subject and no reference to a base font that is not
    embedded (the CJK `font` is the initial one). `on_page(canvas, doc)` draws on each page
    (a running header). The same story and date give the same bytes."""
    import io

    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm
    from reportlab.platypus import SimpleDocTemplate

    out = io.BytesIO()
    doc = SimpleDocTemplate(
        out,
        pagesize=A4,
        leftMargin=20 * mm,
        rightMargin=20 * mm,
        topMargin=20 * mm,
        bottomMargin=20 * mm,
        title=title,
        subject=number,
        author=author,
        creator="pubcredit",
        invariant=True,
        initialFontName=font,
    )
    pages = {"onFirstPage": on_page, "onLaterPages": on_page} if on_page else {}
    doc.build(story, canvasmaker=numbered_canvas(font, issued_at), **pages)
    return out.getvalue()
