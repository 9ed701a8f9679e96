"""Read the markup files that government systems export under an Excel name: an HTML page holding
a `<table>` (saved as .xls, .htm or .html) and an Excel 2003 XML Spreadsheet (SpreadsheetML,
`<Workbook xmlns="urn:schemas-microsoft-com:office:spreadsheet">`, saved as .xls or .xml).

The file's content decides (`sniff`), never its name. Both are parsed by real parsers in C and
streamed: HTML by libxml2's HTML parser through lxml (tolerant as browsers are; it fetches
nothing and knows only HTML's own named characters), SpreadsheetML by expat (the standard
library's, with handlers only for the elements read) with any DTD or entity declaration refused
(no entity expansion, no external entity, no DTD fetch).

`read_sheets(data, kind)` gives what `reading` makes a table of: a list of (sheet name, rows),
each row a list of cell values as the Excel reader gives them (text, float for a SpreadsheetML
Number, datetime for a DateTime, bool, or None for an empty cell), visible sheets only.

- HTML: the rows of every top-level table, in document order, as one sheet (Excel shows them one
  under the other); text outside tables is not a row. A cell spanning columns (colspan) holds its
  value in its first column and nothing in the others, as Excel shows a merged cell; a cell
  spanning rows (rowspan) gives its value to every row it covers (each record row keeps it).
  `<br>` and block boundaries (`<p>`, `<div>`, `<li>`) inside a cell are line breaks; other
  whitespace is collapsed as a browser does; `&nbsp;` is a space; script and style are ignored; a
  table inside a cell becomes text of that cell. The encoding is the BOM's, else the page's
  `<meta charset>`, else UTF-8, else GB18030.
- SpreadsheetML: one sheet per `<Worksheet>` (hidden ones skipped); `ss:Index` gaps on rows and
  cells give empty rows and cells, so row numbers are the ones Excel shows; `ss:MergeAcross`
  keeps the value in the first cell, and the cells a `ss:MergeDown` covers are skipped by the
  rows below; `Number` cells become floats (shown as Excel shows them, like a workbook's),
  `DateTime` cells datetimes, `Boolean` cells bools; comments are ignored.

Limits, as for any untrusted file: at most `MAX_CELLS` cells (counting the empty ones a gap
creates), columns and rows within Excel's (16,384 × 1,048,576); a span is clamped as browsers
clamp it (colspan ≤ 1,000, rowspan ≤ 65,534).
"""

from __future__ import annotations

import codecs
import datetime as dt
import re
from html.parser import HTMLParser
from xml.parsers import expat

from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from lxml import etree

__all__ = ["HTML", "KINDS", "MAX_CELLS", "SPREADSHEETML", "MarkupError", "read_sheets", "sniff"]

HTML = "html"
SPREADSHEETML = "spreadsheetml"
KINDS = (HTML, SPREADSHEETML)

MAX_CELLS = 5_000_000
MAX_COLUMNS = 16_384
MAX_ROWS = 1_048_576
MAX_COLSPAN = 1_000
MAX_ROWSPAN = 65_534
_SNIFF_BYTES = 256 * 1024
_SNIFF_CHUNK = 4096

SS_NAMESPACE = "urn:schemas-microsoft-com:office:spreadsheet"
# First elements that make a file an HTML page (a page, or a bare table as some systems write).
_HTML_STARTS = frozenset(
    "html head body meta title style link script table thead tbody tr center div p span font "
    "h1 h2 h3 h4 h5 h6".split()
)
_BLOCKS = frozenset({"p", "div", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6"})
_IGNORED = frozenset({"script", "style", "template"})
_CELLS = frozenset({"td", "th"})
_GB = frozenset({"gb2312", "gbk", "gb18030", "hz", "cp936"})
# HTML's own whitespace (not U+3000 or other Unicode spaces, which are text).
_HTML_SPACE = re.compile(r"[ \t\n\r\f]+")


_UNKNOWN_ENCODING = gettext_noop("无法识别文件编码,请将文件另存为 UTF-8 编码后重新上传")


_ROW, _COLUMN = gettext_noop("行"), gettext_noop("列")


class MarkupError(ValueError):
    """The file cannot be read; `str(exc)` is one Chinese line for the clerk."""


def _too_large() -> MarkupError:
    return MarkupError(
        _("文件中的表格过大(超过 %(n)s 个单元格),请另存为 xlsx 或 csv 后分批上传")
        % {"n": f"{MAX_CELLS:,}"}
    )


# --------------------------------------------------------------------------- sniffing


class _FirstTag(HTMLParser):
    """Finds the first element of a document (its name, lower case, and its attributes)."""

    def __init__(self):
        super().__init__(convert_charrefs=False)
        self.tag: str | None = None
        self.attrs: dict[str, str] = {}
        self.doctype_html = False

    def handle_starttag(self, tag, attrs):
        if self.tag is None:
            self.tag, self.attrs = tag, {k: v or "" for k, v in attrs}

    handle_startendtag = handle_starttag

    def handle_decl(self, decl):
        if decl.lower().split()[:2] == ["doctype", "html"]:
            self.doctype_html = True


def _head_text(head: bytes) -> str:
    """The beginning of a file as text good enough to find its tags (ASCII-compatible bytes are
    read as Latin-1, which never fails)."""
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return head.decode("utf-16", errors="ignore")
    return head.decode("latin-1")


def sniff(head: bytes) -> str | None:
    """HTML, SPREADSHEETML or None for the beginning of a file."""
    text = _head_text(head[:_SNIFF_BYTES]).lstrip("\ufeff\xef\xbb\xbf \t\r\n")
    if not text.startswith("<"):
        return None
    parser = _FirstTag()
    for start in range(0, len(text), _SNIFF_CHUNK):
        parser.feed(text[start : start + _SNIFF_CHUNK])
        if parser.tag is not None:
            break
    tag = parser.tag or ""
    if tag.rpartition(":")[2] == "workbook" and SS_NAMESPACE in parser.attrs.values():
        return SPREADSHEETML
    if tag in _HTML_STARTS or (parser.doctype_html and not tag):
        return HTML
    return None


def read_sheets(data: bytes, kind: str) -> list[tuple[str, list[list]]]:
    """(sheet name, rows of cell values) for the file's visible sheets; MarkupError if it cannot
    be read."""
    if kind == SPREADSHEETML:
        return _read_spreadsheetml(data)
    return [(_("网页表格"), _read_html(data))]


# --------------------------------------------------------------------------- HTML


class _MetaCharset(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=False)
        self.charset: str | None = None

    def handle_starttag(self, tag, attrs):
        if tag != "meta" or self.charset:
            return
        values = {k.lower(): (v or "") for k, v in attrs}
        if values.get("charset"):
            self.charset = values["charset"].strip()
        elif values.get("http-equiv", "").lower() == "content-type":
            for part in values.get("content", "").split(";"):
                key, _sep, value = part.strip().partition("=")
                if key.strip().lower() == "charset":
                    self.charset = value.strip(" \"'")


def _decode(data: bytes, declared_charset) -> str:
    """The text of a markup file: a byte-order mark decides; else the charset the file declares
    (`declared_charset(data)`: a <meta> or the XML declaration; GB2312/GBK read as GB18030), then
    UTF-8, then GB18030."""
    try:
        if data.startswith(codecs.BOM_UTF8):
            return data[3:].decode("utf-8")
        if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            return data.decode("utf-16")
    except UnicodeDecodeError:
        raise MarkupError(_(_UNKNOWN_ENCODING)) from None
    candidates = []
    if declared := declared_charset(data):
        try:
            name = codecs.lookup(declared).name
            candidates.append("gb18030" if name in _GB else name)
        except LookupError:
            pass
    for encoding in (*candidates, "utf-8", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise MarkupError(_(_UNKNOWN_ENCODING))


def _html_charset(data: bytes) -> str | None:
    meta = _MetaCharset()
    meta.feed(data[:_SNIFF_BYTES].decode("latin-1"))
    return meta.charset or None


def _decode_html(data: bytes) -> str:
    return _decode(data, _html_charset)


class _Tables:
    """The rows of the top-level tables of a page, spans expanded: the target of lxml's HTML
    parser, which calls `start`, `data` and `end` as it streams through the page."""

    def __init__(self):
        self.rows: list[list[str | None]] = []
        self.cells = 0
        self._depth = 0  # table nesting
        self._ignored = 0  # inside script/style
        self._row: list[tuple[str | None, int, int]] | None = None  # (text, colspan, rowspan)
        self._cell: list[str] | None = None
        self._span = (1, 1)
        self._carry: dict[int, tuple[str | None, int]] = {}  # column → (value, rows left)

    # -- structure
    def start(self, tag, attrs):
        if self._depth == 1 and tag in _CELLS:  # the common case first
            self._start_cell(attrs)
        elif tag in _IGNORED:
            self._ignored += 1
        elif tag == "br":
            self._text("\n")
        elif tag in _BLOCKS:
            self._line_break()
        elif self._depth > 1:  # a table inside a cell: its text belongs to that cell
            if tag == "table":
                self._depth += 1
            elif tag == "tr":
                self._line_break()
            elif tag in _CELLS:
                self._text(" ")
        elif tag == "table":
            if self._depth == 1 and self._cell is not None:
                self._depth = 2
                self._line_break()
            else:
                self._end_row()
                self._depth, self._carry = 1, {}
        elif self._depth == 0:
            return
        elif tag == "tr":
            self._end_row()
            self._row = []
        elif tag == "caption":
            self._end_row()
            self._row, self._cell, self._span = [], [], (1, 1)

    def _start_cell(self, attrs) -> None:
        self._end_cell()
        if attrs:
            values = {k.lower(): v for k, v in attrs.items()}
            self._span = (
                _span(values.get("colspan"), MAX_COLSPAN),
                _span(values.get("rowspan"), MAX_ROWSPAN),
            )
        else:
            self._span = (1, 1)
        self._cell = []

    def end(self, tag):
        if self._depth == 1 and tag in _CELLS:
            self._end_cell()
        elif tag in _IGNORED:
            self._ignored = max(0, self._ignored - 1)
        elif tag in _BLOCKS:
            self._line_break()
        elif self._depth > 1:
            if tag == "table":
                self._depth -= 1
                self._line_break()
        elif self._depth == 0:
            return
        elif tag == "table":
            self._end_row()
            self._depth = 0
        elif tag in ("tr", "caption"):
            self._end_row()

    def data(self, data):
        if self._cell is not None and not self._ignored:
            self._cell.append(_HTML_SPACE.sub(" ", data))

    def close(self):
        self._end_row()
        return self.rows

    # -- building rows
    def _text(self, text: str) -> None:
        if self._cell is not None:
            self._cell.append(text)

    def _line_break(self) -> None:
        """A block boundary: a new line unless the cell is at the start of one."""
        if self._cell and not self._cell[-1].endswith("\n"):
            self._cell.append("\n")

    def _end_cell(self) -> None:
        """The cell as a browser shows it: HTML whitespace collapsed and trimmed on each line,
        `&nbsp;` a space that stays, line breaks from <br> kept (blank lines too), the lines
        before the first and after the last text dropped; nothing visible: None."""
        cell = self._cell
        if cell is None:
            return
        if len(cell) == 1 and cell[0] != "\n":  # one piece of text, already collapsed
            text = cell[0].strip(" ").replace("\xa0", " ")
        else:
            lines = "".join(cell).split("\n")
            text = "\n".join(_HTML_SPACE.sub(" ", line).strip(" ") for line in lines)
            text = text.strip("\n").replace("\xa0", " ")
        if self._row is None:
            self._row = []
        self._row.append((text if text.strip() else None, *self._span))
        self._cell = None

    def _end_row(self) -> None:
        self._end_cell()
        if self._row is None:
            return
        out: list[str | None] = []
        col = 0
        carry = self._carry
        for text, colspan, rowspan in self._row:
            if carry:
                col = self._fill_carried(out, col)
            if col + colspan > MAX_COLUMNS:
                raise MarkupError(_("表格超过 Excel 的最大列数 %(n)d") % {"n": MAX_COLUMNS})
            if colspan == 1:
                out.append(text)
            else:
                out.extend([text] + [None] * (colspan - 1))
            if rowspan > 1:
                carry[col] = (text, rowspan - 1)
            col += colspan
        if carry:
            self._fill_carried(out, col, to_end=True)
        self._row = None
        self.cells += len(out)
        if self.cells > MAX_CELLS:
            raise _too_large()
        self.rows.append(out)

    def _fill_carried(self, out: list, col: int, to_end: bool = False) -> int:
        """Put the values of cells spanning down from rows above at `col` and on."""
        while col in self._carry or (to_end and any(c >= col for c in self._carry)):
            if col not in self._carry:
                out.append(None)
                col += 1
                continue
            value, left = self._carry[col]
            out.append(value)
            if left > 1:
                self._carry[col] = (value, left - 1)
            else:
                del self._carry[col]
            col += 1
        return col


def _span(value: str | None, limit: int) -> int:
    if value is None:
        return 1
    try:
        n = int(str(value).strip())
    except ValueError:
        return 1
    return min(max(n, 1), limit)


def _read_html(data: bytes) -> list[list[str | None]]:
    text = _decode_html(data)
    tables = _Tables()
    # The page is given as UTF-8 whatever its <meta> says: it is already decoded by the rules
    # above. libxml2's HTML parser knows HTML's named characters only and fetches nothing.
    parser = etree.HTMLParser(
        target=tables,
        encoding="utf-8",
        no_network=True,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
    )
    try:
        for start in range(0, len(text), 1 << 20):
            parser.feed(text[start : start + (1 << 20)].encode("utf-8"))
        parser.close()
    except etree.LxmlError:  # libxml2 recovers from any markup: only an empty page ends here
        if tables.close():  # never a silently shortened table
            raise MarkupError(_("无法读取文件:网页文件无法完整解析")) from None
    if not tables.rows:
        raise MarkupError(_("无法读取文件:网页文件中没有表格"))
    return tables.rows


# --------------------------------------------------------------------------- SpreadsheetML


def _attr(attrs: dict[str, str] | None, name: str) -> str | None:
    """The attribute `name` in any namespace (ss:Index, Index) of an element's attributes."""
    if attrs:
        for key, value in attrs.items():
            if key.rpartition("}")[2] == name:
                return value
    return None


def _index(value: str | None, limit: int, what: str, low: int = 1) -> int | None:
    """An ss:Index (low 1) or a span (low 0) within Excel's range; None when absent. `what`
    (行 or 列, gettext_noop) is translated only for the error."""
    if value is None:
        return None
    try:
        n = int(value.strip())
    except ValueError:
        raise MarkupError(
            _("无法读取文件:%(what)s序号“%(v)s”无效") % {"what": _(what), "v": value}
        ) from None
    if not low <= n <= limit:
        raise MarkupError(
            _("无法读取文件:%(what)s序号 %(n)d 超出 Excel 的范围(1–%(limit)d)")
            % {"what": _(what), "n": n, "limit": limit}
        )
    return n


def _data_value(kind: str | None, text: str):
    if kind == "Number":
        try:
            return float(text)
        except ValueError:
            return text or None
    if kind == "DateTime":
        try:
            return dt.datetime.fromisoformat(text.strip())
        except ValueError:
            return text or None
    if kind == "Boolean":
        return text.strip() not in ("0", "", "false", "FALSE")
    return text or None


def _xml_charset(data: bytes) -> str | None:
    declared: list[str] = []
    probe = expat.ParserCreate()
    probe.XmlDeclHandler = lambda _version, encoding, _standalone: declared.append(encoding or "")
    try:
        probe.Parse(data[:1024].decode("latin-1"), False)
    except expat.ExpatError:
        pass
    return declared[0] if declared and declared[0] else None


def _decode_xml(data: bytes) -> str:
    return _decode(data, _xml_charset)


class _Sheet:
    def __init__(self, name: str):
        self.name = name
        self.hidden = False
        self.rows: dict[int, dict[int, object]] = {}
        self.next_row = 1
        self.covered: dict[int, set[int]] = {}  # row → columns a MergeDown from above covers

    def add_row(self, attrs: dict | None, row: list[tuple[dict, str | None, str]]) -> None:
        """A Row: its attributes and its cells as (attributes, Data's ss:Type or None when the
        cell has no Data, Data's text)."""
        r = _index(_attr(attrs, "Index"), MAX_ROWS, _ROW) if attrs else None
        r = r or self.next_row
        if r > MAX_ROWS:
            raise MarkupError(_("表格超过 Excel 的最大行数 %(n)d") % {"n": MAX_ROWS})
        span = (_index(_attr(attrs, "Span"), MAX_ROWS, _ROW, low=0) if attrs else None) or 0
        self.next_row = r + 1 + span
        cells: dict[int, object] = {}
        covered = self.covered.pop(r, ())
        col = 0
        for cell, kind, text in row:
            across = down = 0
            explicit = _index(_attr(cell, "Index"), MAX_COLUMNS, _COLUMN) if cell else None
            if explicit is not None:
                col = explicit
            else:
                col += 1
                while col in covered:
                    col += 1
            if cell:
                across = _index(_attr(cell, "MergeAcross"), MAX_COLUMNS, _COLUMN, low=0) or 0
                down = _index(_attr(cell, "MergeDown"), MAX_ROWS, _ROW, low=0) or 0
            if col + across > MAX_COLUMNS:
                raise MarkupError(_("表格超过 Excel 的最大列数 %(n)d") % {"n": MAX_COLUMNS})
            if kind is not None:
                value = (text or None) if kind == "String" else _data_value(kind, text)
                if value is not None:
                    cells[col] = value
            if down:
                for below in range(r + 1, min(r + down, MAX_ROWS) + 1):
                    self.covered.setdefault(below, set()).update(range(col, col + across + 1))
            col += across
        if cells:
            self.rows[r] = cells

    def grid(self) -> list[list]:
        height = max(self.rows, default=0)
        width = max((max(cells) for cells in self.rows.values()), default=0)
        if height * width > MAX_CELLS:
            raise _too_large()
        return [
            [self.rows.get(r, {}).get(c) for c in range(1, width + 1)] for r in range(1, height + 1)
        ]


class _Forbidden(Exception):
    """A DTD or an entity declaration: never read."""


def _forbid(*_args) -> None:
    raise _Forbidden


_SS_TYPE = f"{{{SS_NAMESPACE}}}Type"


def _data_type(attrs: dict) -> str:
    if len(attrs) == 1 and _SS_TYPE in attrs:  # the usual ss:Type alone
        return attrs[_SS_TYPE] or "String"
    return _attr(attrs, "Type") or "String"


def _parse_workbook(parser, text: str) -> list[_Sheet]:
    """The sheets of a SpreadsheetML workbook, built by expat handlers as it streams by: a Row's
    direct Cell children, a Cell's first direct Data child (its text is all the text inside,
    rich-text markup included), a Worksheet's Name and its WorksheetOptions' Visible. The state
    is in closure variables: the handlers run for every element of the file."""
    sheets: list[_Sheet] = []
    sheet: _Sheet | None = None
    chars: list[str] = []  # the text since the last clear (expat appends it, no Python frame)
    names: dict[str, str] = {}  # element name → local name
    depth = cells = 0
    in_options = False
    open_rows: list[tuple] = []  # the Rows a Row is inside (each is read on its own)
    row: list | None = None
    row_depth, row_attrs, row_children = -2, None, 0
    cell_depth, cell_attrs, cell_kind, cell_text = -2, None, None, ""
    data_depth = visible_depth = 0
    visible_end: int | None = None

    def local(name: str) -> str:
        names[name] = found = name.rpartition("}")[2]
        return found

    def start(name: str, attrs: dict) -> None:
        nonlocal depth, sheet, in_options, row, row_depth, row_attrs, row_children
        nonlocal cell_depth, cell_attrs, cell_kind, data_depth, visible_depth, visible_end
        depth += 1
        if data_depth:  # markup inside the Data read is rich text
            return
        if visible_depth and visible_end is None:  # Visible's text ends at its first child
            visible_end = len(chars)
        tag = names.get(name) or local(name)
        if depth == row_depth + 1:
            row_children += 1
            if tag == "Cell":
                cell_depth, cell_attrs, cell_kind = depth, attrs, None
                return
        if tag == "Data":
            if depth == cell_depth + 1 and cell_kind is None:
                data_depth, cell_kind = depth, _data_type(attrs)
                chars.clear()
        elif tag == "Row":
            if row is not None:
                open_rows.append((row, row_depth, row_attrs, row_children, cell_depth))
            row, row_depth, row_attrs, row_children, cell_depth = [], depth, attrs, 0, -2
        elif tag == "Worksheet":
            sheet = _Sheet(_attr(attrs, "Name") or f"Sheet{len(sheets) + 1}")
            sheets.append(sheet)
            chars.clear()
        elif tag == "WorksheetOptions":
            in_options = True
        elif tag == "Visible" and in_options:
            visible_depth, visible_end = depth, None
            chars.clear()

    def end(name: str) -> None:
        nonlocal depth, sheet, in_options, row, row_depth, row_attrs, row_children, cells
        nonlocal cell_depth, cell_text, data_depth, visible_depth
        ended = depth
        depth -= 1
        if data_depth:
            if ended == data_depth:
                data_depth, cell_text = 0, "".join(chars)
            return
        if ended == cell_depth:
            row.append((cell_attrs, cell_kind, cell_text))
            cell_depth = -2
        elif ended == row_depth:
            if sheet is not None:
                sheet.add_row(row_attrs, row)
                cells += row_children
                if cells > MAX_CELLS:
                    raise _too_large()
            if open_rows:
                row, row_depth, row_attrs, row_children, cell_depth = open_rows.pop()
            else:
                row, row_depth, cell_depth = None, -2, -2
            chars.clear()
        elif ended == visible_depth:
            visible_depth = 0
            if sheet is not None:
                value = "".join(chars[:visible_end]).strip()
                sheet.hidden = value in ("SheetHidden", "SheetVeryHidden")
        else:
            tag = names.get(name) or local(name)
            if tag == "WorksheetOptions":
                in_options = False
            elif tag == "Worksheet":
                sheet = None

    parser.CharacterDataHandler = chars.append
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    for offset in range(0, len(text), 1 << 20):
        parser.Parse(text[offset : offset + (1 << 20)], False)
    parser.Parse("", True)
    return sheets


def _read_spreadsheetml(data: bytes) -> list[tuple[str, list[list]]]:
    text = _decode_xml(data)
    parser = expat.ParserCreate(None, "}")
    parser.buffer_text = True
    parser.buffer_size = 1 << 16
    parser.StartDoctypeDeclHandler = _forbid
    parser.EntityDeclHandler = _forbid
    parser.UnparsedEntityDeclHandler = _forbid
    parser.ExternalEntityRefHandler = _forbid
    try:
        sheets = _parse_workbook(parser, text)
    except _Forbidden:
        raise MarkupError(_("无法读取文件:XML 表格中含有不允许的 DTD 或实体声明")) from None
    except expat.ExpatError as exc:
        raise MarkupError(
            _("无法读取文件:不是有效的 XML 表格(第 %(line)d 行第 %(col)d 列)")
            % {"line": exc.lineno, "col": exc.offset}
        ) from None
    visible = [s for s in sheets if not s.hidden] or sheets
    if not visible:
        raise MarkupError(_("无法读取文件:XML 表格中没有工作表"))
    return [(s.name, s.grid()) for s in visible]
