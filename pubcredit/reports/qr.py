"""A QR code (segno) as a reportlab drawing: vector squares, crisp at any size."""

from __future__ import annotations

import segno
from reportlab.graphics.shapes import Drawing, Rect
from reportlab.lib import colors


def qr_drawing(text: str, size: float) -> Drawing:
    """A `size`×`size` point drawing of the QR code of `text` (error correction M, with the
    standard quiet zone of 4 modules)."""
    code = segno.make(text, error="m", micro=False)
    matrix = code.matrix
    border = 4
    modules = len(matrix) + 2 * border
    unit = size / modules
    drawing = Drawing(size, size)
    for y, row in enumerate(matrix):
        for x, dark in enumerate(row):
            if dark:
                top = size - (y + border + 1) * unit
                drawing.add(
                    Rect(
                        (x + border) * unit, top, unit, unit, fillColor=colors.black, strokeWidth=0
                    )
                )
    return drawing
