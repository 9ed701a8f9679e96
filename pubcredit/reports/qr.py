"""A QR code (segno) as a reportlab flowable: vector squares, crisp at any size.

Drawn as one filled path of the dark modules, a rectangle per horizontal run of them: a report
is issued a thousand at a time in a batch, and one reportlab `Rect` shape per module (≈600 per
code) cost about 0.2 s per report."""

from __future__ import annotations

import segno
from reportlab.lib import colors
from reportlab.platypus import Flowable

BORDER = 4  # the standard quiet zone, in modules


def qr_runs(text: str) -> tuple[int, list[tuple[int, int, int]]]:
    """(modules across, quiet zone included; the dark runs as (x, y, length) in modules from
    the top left) of the QR code of `text` (error correction M)."""
    code = segno.make(text, error="m", micro=False)
    matrix = code.matrix
    runs = []
    for y, row in enumerate(matrix):
        x, width = 0, len(row)
        while x < width:
            if row[x]:
                start = x
                while x < width and row[x]:
                    x += 1
                runs.append((start + BORDER, y + BORDER, x - start))
            else:
                x += 1
    return len(matrix) + 2 * BORDER, runs


class QRCode(Flowable):
    """A `size`×`size` point QR code."""

    def __init__(self, text: str, size: float):
        super().__init__()
        self.size = size
        self.modules, self.runs = qr_runs(text)
        self.width = self.height = size

    def wrap(self, available_width, available_height):
        return self.size, self.size

    def draw(self):
        unit = self.size / self.modules
        canvas = self.canv
        path = canvas.beginPath()
        for x, y, length in self.runs:
            path.rect(x * unit, self.size - (y + 1) * unit, length * unit, unit)
        canvas.saveState()
        canvas.setFillColor(colors.black)
        canvas.drawPath(path, stroke=0, fill=1)
        canvas.restoreState()


def qr_drawing(text: str, size: float) -> QRCode:
    """A `size`×`size` point flowable of the QR code of `text` (error correction M, with the
    standard quiet zone of 4 modules)."""
    return QRCode(text, size)
