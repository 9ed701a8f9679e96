"""Read a department's file into a table of text cells, exactly as the clerk typed them.

Formats: .xlsx/.xlsm and .xls (python-calamine), .csv/.txt/.tsv (polars; UTF-8, UTF-8 with BOM,
UTF-16 with BOM and GB18030/GBK detected; comma, tab, semicolon or bar delimiter sniffed; quoted
cells with line breaks), .json (an array of objects, or an object holding one under "data",
"records", "rows" or "items"), and the markup files government systems save as .xls: an HTML
table (also .htm/.html) and an Excel 2003 XML Spreadsheet (also .xml), read by `markup` as sheets.
The content decides over the extension: an .xlsx renamed to .csv is still read as a workbook.
docs/intake-formats.md lists every format and layout, and what is refused.

What `read_table` guarantees:
- every cell is text (pl.String) or None for an empty cell; nothing is converted that could lose
  information. Numbers from a workbook are written the way Excel shows them in a General cell:
  integers below 10^15 in full, larger ones in scientific form ("3.70303E+17"), because a float
  that large has already lost its trailing digits (an 18-digit 身份证号 typed into a number cell)
  and must be recognisable as such, never passed on as a plausible wrong number. Date cells
  become ISO text ("2024-03-05", or "2024-03-05 10:30:00" with a time part);
- `__row__` is the row number the clerk sees: the spreadsheet row (1-based) or, for CSV, the
  record number as Excel or WPS would show it when opening the file (a quoted cell with a line
  break stays in one row); for JSON the 1-based position of the object in the array;
- the header row is found among the first rows (title lines and blank lines above it are skipped
  and listed in `skipped_rows`); a row right under it that is itself a header (field codes under
  Chinese names, as some templates have) is skipped too and kept as `subheaders`; a two-level
  header (a group such as 行政相对人 over 名称, 类别…) gives one combined header per column
  (`grouped_headers`);
- CSV lines may end in CRLF, LF or CR alone; a CSV whose header is found but none of whose
  records below it can be read while it has more content raises `UnreadableFile`, never an
  empty success;
- rows whose cells are all empty are dropped and not counted (`blank_rows` says how many);
- an unreadable file raises `UnreadableFile` with a one-line Chinese message.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl
from django.conf import settings
from django.utils.translation import gettext as _

from pubcredit.intake.engine import markup
from pubcredit.intake.engine.grouped_headers import find_grouped_header

__all__ = ["ROW", "RawTable", "SkippedRow", "UnreadableFile", "read_table"]

ROW = "__row__"
HEADER_SEARCH_ROWS = 20
# More columns than this is not a table a department keeps (a catalogue category has a few
# dozen fields) but a file that would cost memory per column: refused.
MAX_COLUMNS = 1024
# A CSV is parsed where it is asked for (polars, no native abort on bad input); what bounds its
# memory is this many cells (lines × columns) at most: PUBCREDIT_INTAKE_MAX_CSV_CELLS.
DEFAULT_MAX_CSV_CELLS = 60_000_000
_SAMPLE_BYTES = 256 * 1024
_DELIMITERS = (",", "\t", ";", "|")

HeaderScore = Callable[[Sequence[str | None]], float]


class UnreadableFile(Exception):
    """The file cannot be read as a table. `str(exc)` is one Chinese line for the clerk."""


@dataclass(frozen=True)
class SkippedRow:
    row: int
    reason: str  # "title", "blank" (above the header), "group" (of a two-level header), "subheader"
    text: str = ""


@dataclass
class RawTable:
    """A file read as text cells. `frame` has `__row__` (Int64) then one String column per
    header; `columns[i]` is the frame's name for the column whose header is `headers[i]` (made
    unique: a repeated or empty header gets a suffix)."""

    frame: pl.DataFrame
    headers: list[str]
    columns: list[str]
    format: str
    header_row: int | None = None
    subheaders: list[str] | None = None
    sheet: str | None = None
    encoding: str | None = None
    delimiter: str | None = None
    skipped_rows: list[SkippedRow] = field(default_factory=list)
    blank_rows: int = 0

    @property
    def rows(self) -> int:
        return self.frame.height


# --------------------------------------------------------------------------- entry point


def read_table(
    source: bytes | Path | str, filename: str, header_score: HeaderScore | None = None
) -> RawTable:
    """Read `source` (the file's bytes or its path) named `filename` into a RawTable.
    `header_score(cells)` rates how much a row looks like the header (e.g. how many cells name a
    catalogue field); without it, the first row with at least two cells is the header."""
    if isinstance(source, (Path, str)):
        # A CSV is parsed from the path (polars maps the file) so its bytes are never held
        # twice; only the beginning is read here.
        path = Path(source)
        with open(path, "rb") as fh:
            head = fh.read(_SAMPLE_BYTES)
        if not head.strip() and path.stat().st_size <= _SAMPLE_BYTES:
            raise UnreadableFile(_("文件为空"))
        kind = detect_format(head, filename)
        if kind == "csv":
            return _read_csv(path, header_score)
        data = path.read_bytes()
    else:
        data = source if isinstance(source, bytes) else bytes(source)
        if not data[:_SAMPLE_BYTES].strip() and not data.strip():
            raise UnreadableFile(_("文件为空"))
        kind = detect_format(data[:_SAMPLE_BYTES], filename)
    if kind == "excel":
        return _read_excel(data, header_score)
    if kind in markup.KINDS:
        return _read_markup(data, kind, header_score)
    if kind == "json":
        return _read_json(data)
    return _read_csv(data, header_score)


def detect_format(data: bytes, filename: str) -> str:
    """ "excel", one of `markup.KINDS`, "json" or "csv" from the file's first bytes (and its name
    where they do not tell); raises UnreadableFile for a type the engine does not read."""
    if data[:4] == b"PK\x03\x04" or data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        return "excel"
    if (kind := markup.sniff(data)) is not None:  # HTML or XML saved as .xls: the content decides
        return kind
    suffix = Path(filename or "").suffix.lower()
    if suffix in (".htm", ".html", ".xml"):
        raise UnreadableFile(_("无法读取文件:不是含表格的网页,也不是 Excel 2003 XML 表格"))
    if suffix in (".xlsx", ".xlsm", ".xls", ".xlsb", ".ods"):
        raise UnreadableFile(_("无法读取文件:不是有效的 Excel 文件"))
    if suffix == ".json":
        return "json"
    if suffix in (".csv", ".txt", ".tsv", ""):
        head = data.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
        return "json" if head in (b"[", b"{") and suffix == "" else "csv"
    raise UnreadableFile(
        _("不支持的文件类型“%(suffix)s”,请上传 xlsx、xls、csv 或 json 文件") % {"suffix": suffix}
    )


# --------------------------------------------------------------------------- header search


def _filled(cells: Sequence[str | None]) -> int:
    return sum(1 for c in cells if c is not None and str(c).strip())


def _find_header(
    rows: Sequence[Sequence[str | None]], header_score: HeaderScore | None
) -> tuple[int, bool]:
    """(index of the header row among `rows`, whether the next row is a sub-header)."""
    candidates = [i for i, r in enumerate(rows[:HEADER_SEARCH_ROWS]) if _filled(r) >= 2]
    if not candidates:
        raise UnreadableFile(
            _("未找到表头行:前 %(n)d 行中没有至少两个非空单元格的行") % {"n": HEADER_SEARCH_ROWS}
        )
    best, best_score = candidates[0], 0.0
    if header_score is not None:
        for i in candidates:
            score = header_score(rows[i])
            if score > best_score:
                best, best_score = i, score
    sub = False
    if header_score is not None and best + 1 < len(rows):
        nxt = rows[best + 1]
        filled = _filled(nxt)
        sub = filled >= 2 and header_score(nxt) >= max(2.0, filled / 2)
    return best, sub


def _header_texts(cells: Sequence[str | None], width: int) -> tuple[list[str], list[str]]:
    """(original header texts, unique frame column names) for `width` columns."""
    if width > MAX_COLUMNS:
        raise UnreadableFile(
            _("文件有 %(n)s 列,超过 %(limit)s 列的上限;请删除多余的列后重新上传")
            % {"n": f"{width:,}", "limit": f"{MAX_COLUMNS:,}"}
        )
    headers = [
        ("" if i >= len(cells) or cells[i] is None else str(cells[i]).strip()) for i in range(width)
    ]
    columns: list[str] = []
    seen: set[str] = {ROW}
    for i, text in enumerate(headers):
        name = text or _("(第%(n)d列)") % {"n": i + 1}
        base, k = name, 2
        while name in seen:
            name, k = f"{base}#{k}", k + 1
        seen.add(name)
        columns.append(name)
    return headers, columns


def _grouped_skipped(skipped: list[SkippedRow], grouped) -> list[SkippedRow]:
    """The group row of a two-level header is skipped as "group", not as a title."""
    if grouped is not None:
        s = skipped[grouped.top]
        skipped[grouped.top] = SkippedRow(s.row, "group", s.text)
    return skipped


def _skipped(rows: Sequence[Sequence[str | None]], upto: int, offset: int) -> list[SkippedRow]:
    out = []
    for i in range(upto):
        text = " ".join(str(c).strip() for c in rows[i] if c is not None and str(c).strip())
        out.append(SkippedRow(row=i + offset, reason="title" if text else "blank", text=text))
    return out


def _drop_blank(frame: pl.DataFrame) -> tuple[pl.DataFrame, int]:
    cells = [c for c in frame.columns if c != ROW]
    if not cells:
        return frame, 0
    keep = frame.select(pl.any_horizontal(pl.col(cells).is_not_null())).to_series()
    if keep.all():  # the usual case: no copy of the whole table
        return frame, 0
    kept = frame.filter(keep)
    return kept, frame.height - kept.height


# --------------------------------------------------------------------------- Excel


def _number_text(x: float) -> str:
    """A number as Excel's General format would show it, never inventing digits."""
    if math.isnan(x) or math.isinf(x):
        return str(x)
    if x.is_integer() and abs(x) < 1e15:
        return str(int(x))
    if x.is_integer():
        mantissa, exponent = f"{x:.5E}".split("E")
        mantissa = mantissa.rstrip("0").rstrip(".")
        exp = int(exponent)
        return f"{mantissa}E{'+' if exp >= 0 else '-'}{abs(exp):02d}"
    return format(x, ".15g")


def _cell_text(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value if value != "" else None
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _number_text(value)
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0):
            return value.date().isoformat()
        return value.isoformat(sep=" ", timespec="seconds")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dt.time):
        return value.isoformat(timespec="seconds")
    return str(value)


def _read_excel(data: bytes, header_score: HeaderScore | None) -> RawTable:
    # Imported here: the Excel reader is loaded only for Excel files.
    from python_calamine import CalamineWorkbook, SheetVisibleEnum

    try:
        workbook = CalamineWorkbook.from_filelike(io.BytesIO(data))
        sheets = [
            meta.name
            for meta in workbook.sheets_metadata
            if meta.visible == SheetVisibleEnum.Visible
        ] or list(workbook.sheet_names)
        loaded = []
        for name in sheets:
            rows = workbook.get_sheet_by_name(name).to_python(skip_empty_area=False)
            loaded.append((name, [[_cell_text(c) for c in r] for r in rows]))
    except UnreadableFile:
        raise
    except Exception:
        raise UnreadableFile(_("无法读取文件:不是有效的 Excel 文件")) from None
    return _read_sheets(loaded, header_score, "excel")


def _read_markup(data: bytes, kind: str, header_score: HeaderScore | None) -> RawTable:
    try:
        sheets = markup.read_sheets(data, kind)
    except markup.MarkupError as exc:
        raise UnreadableFile(str(exc)) from None
    loaded = [(name, [[_cell_text(c) for c in r] for r in rows]) for name, rows in sheets]
    return _read_sheets(loaded, header_score, kind)


def _read_sheets(loaded: list, header_score: HeaderScore | None, fmt: str) -> RawTable:
    """The table of the best of `loaded` [(sheet name, rows of text cells)]."""
    # The sheet whose header looks best (a workbook may start with an instructions sheet).
    choice, best = None, -1.0
    for name, rows in loaded:
        try:
            h, _sub = _find_header(rows, header_score)
        except UnreadableFile:
            continue
        score = header_score(rows[h]) if header_score else 0.0
        if score > best:
            choice, best = (name, rows), score
    if choice is None:
        raise UnreadableFile(_("未找到表头行:工作表中没有数据"))
    name, rows = choice
    h, sub = _find_header(rows, header_score)
    head = rows[h]
    if grouped := find_grouped_header(rows, h, header_score):
        h, sub, head = grouped.row, False, grouped.cells
    width = max((len(r) for r in rows), default=0)
    headers, columns = _header_texts(head, width)
    start = h + 1 + (1 if sub else 0)
    body = rows[start:]
    frame = pl.DataFrame(
        {
            ROW: pl.Series(ROW, range(start + 1, start + 1 + len(body)), dtype=pl.Int64),
            **{
                col: pl.Series(col, [r[i] if i < len(r) else None for r in body], dtype=pl.String)
                for i, col in enumerate(columns)
            },
        }
    )
    frame, blank = _drop_blank(frame)
    skipped = _grouped_skipped(_skipped(rows, h, 1), grouped)
    subheaders = None
    if sub:
        subheaders = _header_texts(rows[h + 1], width)[0]
        skipped.append(SkippedRow(h + 2, "subheader", " ".join(s for s in subheaders if s)))
    return RawTable(
        frame=frame,
        headers=headers,
        columns=columns,
        format=fmt,
        header_row=h + 1,
        subheaders=subheaders,
        sheet=name,
        skipped_rows=skipped,
        blank_rows=blank,
    )


# --------------------------------------------------------------------------- CSV


_UNKNOWN_ENCODING = "无法识别文件编码,请将文件另存为 UTF-8 编码的 CSV 后重新上传"


def _decode_sample(sample: bytes) -> tuple[str, str]:
    """(decoded beginning of the file, encoding) for the UTF-8 / GB18030 decision."""
    try:
        return codecs.getincrementaldecoder("utf-8")().decode(sample, final=False), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        text = codecs.getincrementaldecoder("gb18030")().decode(sample, final=False)
    except UnicodeDecodeError:
        raise UnreadableFile(_(_UNKNOWN_ENCODING)) from None
    return text, "gb18030"


def _all_bytes(source: bytes | Path) -> bytes:
    return source.read_bytes() if isinstance(source, Path) else source


def _transcode(source: bytes | Path, encoding: str, skip: int = 0) -> bytes:
    """The whole file decoded from `encoding` and written as UTF-8 (for polars)."""
    try:
        return _all_bytes(source)[skip:].decode(encoding).encode("utf-8")
    except UnicodeDecodeError:
        raise UnreadableFile(_(_UNKNOWN_ENCODING)) from None


def _sample_records(text: str, delimiter: str) -> list[list[str | None]]:
    """The complete CSV records of a decoded sample (the last, possibly cut one dropped)."""
    lines = text.splitlines(keepends=True)
    if len(lines) > 1:
        text = "".join(lines[:-1])  # the sample may end in the middle of a record
    records = []
    try:
        for rec in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter):
            records.append([c if c != "" else None for c in rec])
            if len(records) > HEADER_SEARCH_ROWS + 2:
                break
    except csv.Error:
        pass
    return records


def _sniff_delimiter(text: str) -> str:
    lines = [ln for ln in text.splitlines()[: HEADER_SEARCH_ROWS + 10] if ln.strip()]
    best, best_key = ",", (0, 0)
    for d in _DELIMITERS:
        counts = [len(r) for r in csv.reader(lines, delimiter=d)]
        counts = [c for c in counts if c >= 2]
        if not counts:
            continue
        modal = max(set(counts), key=counts.count)
        key = (counts.count(modal), modal)
        if key > best_key:
            best, best_key = d, key
    return best


def _read_csv(source: bytes | Path, header_score: HeaderScore | None) -> RawTable:
    if isinstance(source, Path):
        with open(source, "rb") as fh:
            head = fh.read(_SAMPLE_BYTES)
    else:
        head = source[:_SAMPLE_BYTES]
    utf8: bytes | Path = source  # what polars parses: UTF-8 (a UTF-8 BOM is fine)
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding = "utf-16"
        utf8 = _transcode(source, "utf-16")  # the BOM tells the byte order
        sample = utf8[:_SAMPLE_BYTES].decode("utf-8", errors="ignore").lstrip("\ufeff")
    elif head.startswith(codecs.BOM_UTF8):
        encoding = "utf-8-sig"
        sample, _guessed = _decode_sample(head[3:])
    else:
        sample, encoding = _decode_sample(head)
        if encoding == "gb18030":
            utf8 = _transcode(source, "gb18030")
            sample = utf8[:_SAMPLE_BYTES].decode("utf-8", errors="ignore")
    # Lines ended by CR alone (old exports): polars splits records at LF only.
    cr_only = "\r" in sample.replace("\r\n", "")
    if cr_only:
        utf8 = _lf_lines(_all_bytes(utf8))
    delimiter = _sniff_delimiter(sample)
    records = _sample_records(sample, delimiter)
    h, sub = _find_header(records, header_score)
    head = records[h]
    if grouped := find_grouped_header(records, h, header_score):
        h, sub, head = grouped.row, False, grouped.cells
    width = max(len(r) for r in records[h : h + HEADER_SEARCH_ROWS])
    headers, columns = _header_texts(head, width)
    _check_csv_cells(utf8, width)
    start = h + 1 + (1 if sub else 0)
    try:
        frame = _polars_csv(utf8, delimiter, start, columns)
    except pl.exceptions.ComputeError:
        if encoding != "utf-8":
            raise UnreadableFile(_("无法读取 CSV 文件,请检查文件格式")) from None
        # Valid UTF-8 at the start, not further on: a GB18030 file with an ASCII beginning.
        encoding = "gb18030"
        gb = _transcode(source, "gb18030")
        try:
            frame = _polars_csv(_lf_lines(gb) if cr_only else gb, delimiter, start, columns)
        except pl.exceptions.ComputeError:
            # Valid UTF-8 and still unreadable: a quoted cell that is not closed properly.
            raise UnreadableFile(
                _(
                    "无法读取 CSV 文件:有以英文双引号开头的单元格未正确结束(单元格内的双引号"
                    "应写成两个);请在 Excel 或 WPS 中另存为 CSV 后重新上传"
                )
            ) from None
    frame, blank = _drop_blank(frame)
    if frame.height == 0 and _content_after(sample, delimiter, start):
        # Never a silent empty success: the header was found, the rows below it were not read.
        raise UnreadableFile(
            _(
                "已找到表头(第 %(row)d 行),但未能读出其下的任何数据行;"
                "请检查文件的换行符、分隔符和引号后重新导出"
            )
            % {"row": h + 1}
        )
    skipped = _grouped_skipped(_skipped(records, h, 1), grouped)
    subheaders = None
    if sub:
        subheaders = _header_texts(records[h + 1], width)[0]
        skipped.append(SkippedRow(h + 2, "subheader", " ".join(s for s in subheaders if s)))
    return RawTable(
        frame=frame,
        headers=headers,
        columns=columns,
        format="csv",
        header_row=h + 1,
        subheaders=subheaders,
        encoding=encoding,
        delimiter=delimiter,
        skipped_rows=skipped,
        blank_rows=blank,
    )


def _lf_lines(data: bytes) -> bytes:
    """CRLF and lone CR line ends as LF (a CR byte is never part of a UTF-8 character)."""
    return data.replace(b"\r\n", b"\n").replace(b"\r", b"\n")


def _content_after(sample: str, delimiter: str, start: int) -> bool:
    """Whether the sample holds a non-empty cell in a record after the first `start` ones, lines
    split at any line boundary (also those no CSV reader knows: NEL, U+2028, form feed)."""
    try:
        for i, record in enumerate(
            csv.reader(sample.splitlines(keepends=True), delimiter=delimiter)
        ):
            if i >= start and any(cell.strip() for cell in record):
                return True
    except csv.Error:
        return True
    return False


def _line_count(source: bytes | Path) -> int:
    """Lines of the file (a last line without its line break counts)."""
    if isinstance(source, Path):
        lines, last = 0, b"\n"
        with open(source, "rb") as fh:
            while chunk := fh.read(1 << 22):
                lines += chunk.count(b"\n")
                last = chunk[-1:]
        return lines + (last != b"\n")
    return source.count(b"\n") + (not source.endswith(b"\n"))


def _check_csv_cells(source: bytes | Path, width: int) -> None:
    """Refuse a CSV whose table would hold more cells than PUBCREDIT_INTAKE_MAX_CSV_CELLS
    (lines × columns): an empty cell costs its file one byte and the table about sixteen, so
    lines of bare delimiters would otherwise turn a 512 MB upload into gigabytes."""
    limit = int(getattr(settings, "PUBCREDIT_INTAKE_MAX_CSV_CELLS", DEFAULT_MAX_CSV_CELLS))
    lines = _line_count(source)
    if lines * width > limit:
        raise UnreadableFile(
            _(
                "文件约 %(rows)s 行 × %(cols)s 列,超过 %(limit)s 个单元格的上限,已拒收;"
                "请删除多余的空列或拆分文件后重新上传"
            )
            % {"rows": f"{lines:,}", "cols": f"{width:,}", "limit": f"{limit:,}"}
        )


def _polars_csv(utf8: bytes | Path, delimiter: str, start: int, columns: list[str]) -> pl.DataFrame:
    try:
        frame = pl.read_csv(
            utf8,
            has_header=False,
            skip_rows=start,
            separator=delimiter,
            schema=dict.fromkeys(columns, pl.String),
            truncate_ragged_lines=True,
            missing_columns="insert",
            encoding="utf8",
            raise_if_empty=False,
        )
    except pl.exceptions.NoDataError:
        frame = pl.DataFrame(schema=dict.fromkeys(columns, pl.String))
    return frame.select(
        pl.int_range(start + 1, start + 1 + pl.len(), dtype=pl.Int64).alias(ROW), pl.all()
    )


# --------------------------------------------------------------------------- JSON


def _json_text(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, list):
        parts = [t for t in (_json_text(v) for v in value) if t]
        return ";".join(parts) if parts else None
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False)
    return _cell_text(value)


def _read_json(data: bytes) -> RawTable:
    text = None
    for enc in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(enc)
            break
        except UnicodeDecodeError:
            continue
    if text is None:
        raise UnreadableFile(_("无法识别文件编码,JSON 文件应为 UTF-8 编码"))
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UnreadableFile(
            _("无法读取文件:不是有效的 JSON(第 %(line)d 行第 %(col)d 列)")
            % {"line": exc.lineno, "col": exc.colno}
        ) from None
    if isinstance(doc, dict):
        for key in ("data", "records", "rows", "items"):
            if isinstance(doc.get(key), list):
                doc = doc[key]
                break
    if not isinstance(doc, list) or not all(isinstance(o, dict) for o in doc):
        raise UnreadableFile(_("无法读取文件:JSON 应为对象数组,或在 data / records 中包含对象数组"))
    headers: dict[str, None] = {}
    for obj in doc:
        for key in obj:
            headers.setdefault(str(key), None)
    keys = list(headers)
    names, columns = _header_texts(keys, len(keys))
    frame = pl.DataFrame(
        {
            ROW: pl.Series(ROW, range(1, len(doc) + 1), dtype=pl.Int64),
            **{
                col: pl.Series(col, [_json_text(o.get(key)) for o in doc], dtype=pl.String)
                for key, col in zip(keys, columns, strict=True)
            },
        }
    )
    frame, blank = _drop_blank(frame)
    return RawTable(
        frame=frame,
        headers=names,
        columns=columns,
        format="json",
        encoding="utf-8",
        blank_rows=blank,
    )
