"""Hostile files, generated small: what the intake and batch-check readers must refuse without
harm (tests in pubcredit/intake/tests/test_hostile_files.py, figures in
benchmarks/hostile_files.py).

- `one_cell_xlsx("XFD1048576")`: a workbook of a couple of KB whose one cell sits at the last
  column of the last row; a reader that allocates the sheet's whole area asks for 549 GB.
  `dimension=False` leaves out the `<dimension>` element that declares the area (a writer may),
  so only a scan of the cells finds it.
- `zip_bomb_xlsx(megabytes)`: a workbook whose sheet inflates to `megabytes` MB of empty rows
  from about a thousandth of that.
- `large_xlsx(rows, columns)`: an honest but large workbook (400,000 rows × 20 columns is the
  finding's 14 MB file that unzips to about 480 MB), written as a stream.
"""

from __future__ import annotations

import io
import zipfile

_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG = "http://schemas.openxmlformats.org/package/2006/relationships"
_HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'

_PARTS = {
    "[Content_Types].xml": (
        f'{_HEAD}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" '
        'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>'
    ),
    "_rels/.rels": (
        f'{_HEAD}<Relationships xmlns="{_PKG}"><Relationship Id="rId1" '
        f'Type="{_REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>'
    ),
    "xl/workbook.xml": (
        f'{_HEAD}<workbook xmlns="{_MAIN}" xmlns:r="{_REL}"><sheets>'
        '<sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>'
    ),
    "xl/_rels/workbook.xml.rels": (
        f'{_HEAD}<Relationships xmlns="{_PKG}"><Relationship Id="rId1" '
        f'Type="{_REL}/worksheet" Target="worksheets/sheet1.xml"/></Relationships>'
    ),
}
SHEET = "xl/worksheets/sheet1.xml"


def _package(sheet_writer) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for name, text in _PARTS.items():
            archive.writestr(name, text)
        with archive.open(SHEET, "w", force_zip64=True) as sheet:
            sheet_writer(sheet)
    return buffer.getvalue()


def _row_number(ref: str) -> int:
    return int("".join(ch for ch in ref if ch.isdigit()))


def one_cell_xlsx(ref: str, *, dimension: bool = True, text: str = "x") -> bytes:
    """A workbook whose only cell is `ref` (e.g. "XFD1048576")."""

    def write(sheet):
        declared = f'<dimension ref="{ref}"/>' if dimension else ""
        sheet.write(
            (
                f'{_HEAD}<worksheet xmlns="{_MAIN}">{declared}<sheetData>'
                f'<row r="{_row_number(ref)}"><c r="{ref}" t="inlineStr"><is><t>{text}</t></is>'
                "</c></row></sheetData></worksheet>"
            ).encode()
        )

    return _package(write)


def zip_bomb_xlsx(megabytes: int = 100) -> bytes:
    """A workbook whose one sheet is `megabytes` MB of empty rows once inflated."""
    block = b"<row></row>" * (1024 * 1024 // 11) + b" " * (1024 * 1024 % 11)

    def write(sheet):
        sheet.write(f'{_HEAD}<worksheet xmlns="{_MAIN}"><sheetData>'.encode())
        for _i in range(megabytes):
            sheet.write(block)
        sheet.write(b"</sheetData></worksheet>")

    return _package(write)


def _letters(n: int) -> str:
    out = ""
    while n:
        n, rest = divmod(n - 1, 26)
        out = chr(65 + rest) + out
    return out


def large_xlsx(rows: int, columns: int = 20) -> bytes:
    """A workbook of `rows` data rows (plus a header) × `columns` text cells, with its range
    declared as a writer declares it."""
    letters = [_letters(c + 1) for c in range(columns)]

    def write(sheet):
        last = f"{letters[-1]}{rows + 1}"
        sheet.write(f'{_HEAD}<worksheet xmlns="{_MAIN}"><dimension ref="A1:{last}"/>'.encode())
        sheet.write(b"<sheetData>")
        for r in range(1, rows + 2):
            cells = "".join(
                f'<c r="{col}{r}" t="inlineStr"><is><t>{"字段" if r == 1 else "值"}{r % 997}'
                "</t></is></c>"
                for col in letters
            )
            sheet.write(f'<row r="{r}">{cells}</row>'.encode())
        sheet.write(b"</sheetData></worksheet>")

    return _package(write)
