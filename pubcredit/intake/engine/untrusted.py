"""Reading a file nobody vouches for: a department's submission, a staged upload, a batch-check
upload. `read_untrusted` is `reading.read_table` made safe for the platform:

1. before any sheet is loaded, a workbook (a zip: .xlsx/.xlsm) is inspected with the standard
   library: its members' uncompressed sizes and compression ratios (a zip bomb), each sheet's
   declared range (`<dimension ref="A1:Z1000000"/>`: rows × columns against the cell limit), and
   a stream scan of the sheets' XML for any cell or row reference beyond the row or column limit
   (a sheet that lies about its dimension, or has none). One cell at XFD1048576 makes the reader
   ask for 549 GB: such a file is refused here in milliseconds;
2. the read of a workbook or a JSON file runs in a child process (`pubcredit.core.untrusted`)
   with a memory and a time limit, so that a file that gets past the inspection (an .xls, a sheet
   that lies in a way the scan does not see, a JSON document that multiplies in memory) can at
   worst kill the child: the web server and db_worker keep serving and the caller gets
   `RefusedFile` with a clear Chinese message. A CSV is parsed in the caller's process (polars
   reports a bad CSV, it does not abort) with its columns and its cells (lines × columns,
   PUBCREDIT_INTAKE_MAX_CSV_CELLS) bounded first: sending a 1,000,000-row table back from a
   child costs about 7 s, more than parsing it.

The table comes back through an Arrow IPC file (never pickled through the pipe). Limits are
settings (`file_limits`): PUBCREDIT_INTAKE_MAX_UNZIPPED_MB (256), PUBCREDIT_INTAKE_MAX_ZIP_RATIO
(100, for members over 1 MB), PUBCREDIT_INTAKE_MAX_CELLS (5,000,000), PUBCREDIT_INTAKE_MAX_ROWS
(500,000), PUBCREDIT_INTAKE_MAX_COLUMNS (1,024), and the child's PUBCREDIT_UNTRUSTED_MEMORY_MB /
PUBCREDIT_UNTRUSTED_SECONDS.
"""

from __future__ import annotations

import re
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

import polars as pl
from django.conf import settings
from django.utils.translation import gettext as _

from pubcredit.core.untrusted import ChildFailed, default_limits, run_limited
from pubcredit.intake.engine.mapping import make_header_score
from pubcredit.intake.engine.reading import (
    MAX_COLUMNS,
    HeaderScore,
    RawTable,
    UnreadableFile,
    detect_format,
    read_table,
)

__all__ = ["FileLimits", "RefusedFile", "SpecHeaderScore", "file_limits", "read_untrusted"]

MB = 1024 * 1024
_RATIO_FROM_BYTES = 1 * MB  # members smaller than this are not judged by their ratio
_MAX_MEMBERS = 10_000
_DIMENSION_BYTES = 64 * 1024  # <dimension> sits near the start of a sheet part
_SCAN_CHUNK = 1 * MB
_REF = re.compile(rb'r="([A-Z]*)(\d+)"')
_DIMENSION = re.compile(
    rb'<(?:\w+:)?dimension\s+ref="\$?([A-Z]+)\$?(\d+)(?::\$?([A-Z]+)\$?(\d+))?"'
)


class RefusedFile(UnreadableFile):
    """A file refused because reading it would cost the platform too much (limits, or the child
    that read it ran out of memory or time). Never retried with another reader."""


@dataclass(frozen=True)
class FileLimits:
    max_unzipped_bytes: int = 256 * MB
    max_ratio: int = 100
    max_cells: int = 5_000_000
    max_rows: int = 500_000
    max_columns: int = MAX_COLUMNS
    memory_bytes: int = 2048 * MB
    seconds: float = 300.0


def file_limits() -> FileLimits:
    """The limits as configured (see the module docstring)."""
    child = default_limits()
    get = lambda name, default: int(getattr(settings, name, default))  # noqa: E731
    base = FileLimits()
    return FileLimits(
        max_unzipped_bytes=get("PUBCREDIT_INTAKE_MAX_UNZIPPED_MB", base.max_unzipped_bytes // MB)
        * MB,
        max_ratio=get("PUBCREDIT_INTAKE_MAX_ZIP_RATIO", base.max_ratio),
        max_cells=get("PUBCREDIT_INTAKE_MAX_CELLS", base.max_cells),
        max_rows=get("PUBCREDIT_INTAKE_MAX_ROWS", base.max_rows),
        max_columns=min(get("PUBCREDIT_INTAKE_MAX_COLUMNS", base.max_columns), MAX_COLUMNS),
        memory_bytes=child.memory_bytes,
        seconds=child.seconds,
    )


class SpecHeaderScore:
    """`mapping.make_header_score(spec, saved)` in a form that can be sent to the child."""

    def __init__(self, spec, saved=None):
        self.spec = spec
        self.saved = dict(saved or {})
        self._score = None

    def __call__(self, cells) -> float:
        if self._score is None:
            self._score = make_header_score(self.spec, self.saved)
        return self._score(cells)

    def __getstate__(self):
        return {"spec": self.spec, "saved": self.saved}

    def __setstate__(self, state):
        self.__init__(state["spec"], state["saved"])


# --------------------------------------------------------------------------- inspection


def _column_number(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n


def _column_letters(n: int) -> str:
    out = ""
    while n:
        n, rest = divmod(n - 1, 26)
        out = chr(65 + rest) + out
    return out


def _above(text: str, first: str, last: str, cls: str) -> str:
    """A regex for strings of the alphabet `first`–`last` (no leading `first` for numbers)
    that are greater than `text` when compared as numbers in that base."""
    n = len(text)
    alts = [f"[{chr(ord(first) + (first == '0'))}-{last}]{cls}{{{n},}}"]
    for i, ch in enumerate(text):
        if ch < last:
            alts.append(re.escape(text[:i]) + f"[{chr(ord(ch) + 1)}-{last}]{cls}{{{n - i - 1}}}")
    return "(?:" + "|".join(alts) + ")"


def _beyond_pattern(limits: FileLimits) -> re.Pattern:
    """Matches a cell reference r="…" (or a row's r="…") beyond the row or column limit."""
    col = _above(_column_letters(limits.max_columns), "A", "Z", "[A-Z]")
    row = _above(str(limits.max_rows), "0", "9", r"\d")
    return re.compile(f'r="(?:{col}\\d|[A-Z]{{0,3}}{row}")'.encode())


def _refuse_range(part: str, rows: int, cols: int, limits: FileLimits, ref: str = "") -> None:
    sheet = Path(part).stem
    where = ref or f"{_column_letters(cols)}{rows}"
    if cols > limits.max_columns:
        raise RefusedFile(
            _(
                "工作表“%(sheet)s”的数据延伸到 %(ref)s(%(cols)s 列),超过 %(limit)s 列的上限,已拒收。"
                "请删除多余的列(或其中不可见的内容)后重新上传。"
            )
            % {
                "sheet": sheet,
                "ref": where,
                "cols": f"{cols:,}",
                "limit": f"{limits.max_columns:,}",
            }
        )
    if rows > limits.max_rows:
        raise RefusedFile(
            _(
                "工作表“%(sheet)s”的数据延伸到第 %(rows)s 行%(ref)s,超过 %(limit)s 行的上限,已拒收。"
                "请删除多余的行(或其中不可见的内容)、拆分文件或另存为 CSV 后重新上传。"
            )
            % {
                "sheet": sheet,
                "ref": "" if where.isdigit() else f"({where})",
                "rows": f"{rows:,}",
                "limit": f"{limits.max_rows:,}",
            }
        )
    if rows * cols > limits.max_cells:
        raise RefusedFile(
            _(
                "工作表“%(sheet)s”的数据区域为 A1:%(ref)s(%(rows)s 行 × %(cols)s 列),超过 %(limit)s 个单元格的上限,已拒收。"
                "请删除多余的行列、拆分文件或另存为 CSV 后重新上传。"
            )
            % {
                "sheet": sheet,
                "ref": where,
                "rows": f"{rows:,}",
                "cols": f"{cols:,}",
                "limit": f"{limits.max_cells:,}",
            }
        )


def _check_members(archive: zipfile.ZipFile, limits: FileLimits) -> list[zipfile.ZipInfo]:
    members = archive.infolist()
    if len(members) > _MAX_MEMBERS:
        raise RefusedFile(_("文件内部结构异常(包含 %(n)s 个部件),已拒收。") % {"n": len(members)})
    total = sum(m.file_size for m in members)
    if total > limits.max_unzipped_bytes:
        raise RefusedFile(
            _(
                "文件解压后过大(%(size)d MB,上限 %(limit)d MB),已拒收。"
                "请删除多余的行列、拆分文件或另存为 CSV 后重新上传。"
            )
            % {"size": total // MB, "limit": limits.max_unzipped_bytes // MB}
        )
    for m in members:
        if m.file_size > _RATIO_FROM_BYTES and m.file_size > limits.max_ratio * max(
            m.compress_size, 1
        ):
            raise RefusedFile(
                _(
                    "文件压缩比异常(部件“%(name)s”解压后是压缩时的 %(ratio)d 倍,上限 %(limit)d 倍),"
                    "疑似压缩炸弹,已拒收。"
                )
                % {
                    "name": m.filename[-80:],
                    "ratio": m.file_size // max(m.compress_size, 1),
                    "limit": limits.max_ratio,
                }
            )
    return members


def _scan_part(archive: zipfile.ZipFile, member: zipfile.ZipInfo, limits, beyond) -> None:
    with archive.open(member) as fh:
        head = fh.read(_DIMENSION_BYTES)
        found = _DIMENSION.search(head)
        if found:
            last_col, last_row = found.group(3) or found.group(1), found.group(4) or found.group(2)
            _refuse_range(member.filename, int(last_row), _column_number(last_col.decode()), limits)
        chunk, tail = head, b""
        while chunk:
            text = tail + chunk
            hit = beyond.search(text)
            if hit:
                ref = _REF.match(text, hit.start())
                letters = ref.group(1).decode() if ref else ""
                rows = int(ref.group(2)) if ref else limits.max_rows + 1
                cols = _column_number(letters) if letters else 1
                _refuse_range(member.filename, rows, cols, limits, f"{letters}{rows}")
            tail = chunk[-64:]
            chunk = fh.read(_SCAN_CHUNK)


def inspect_workbook(path: Path, limits: FileLimits) -> None:
    """Raise RefusedFile if the zip-based workbook at `path` is a zip bomb or has a sheet
    larger than the limits (see the module docstring); nothing is loaded."""
    try:
        with zipfile.ZipFile(path) as archive:
            members = _check_members(archive, limits)
            beyond = _beyond_pattern(limits)
            for member in members:
                name = member.filename.lower()
                if name.endswith(".xml") and "sheet" in name and not member.is_dir():
                    _scan_part(archive, member, limits, beyond)
    except RefusedFile:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, OSError, EOFError):
        raise UnreadableFile(_("无法读取文件:不是有效的 Excel 文件")) from None


# --------------------------------------------------------------------------- the read


def _read_in_child(path: Path, filename: str, header_score, limits: FileLimits, out: Path):
    """The child's side: inspect, read, and leave the frame in `out` (Arrow IPC)."""
    with open(path, "rb") as fh:
        magic = fh.read(4)
    if magic == b"PK\x03\x04":
        inspect_workbook(path, limits)
    table = read_table(path, filename, header_score=header_score)
    table.frame.write_ipc(out, compression="uncompressed")
    table.frame = table.frame.clear()
    return table


def _format(source: bytes | Path | str, filename: str) -> str:
    if isinstance(source, (bytes, bytearray, memoryview)):
        head = bytes(source[:_DIMENSION_BYTES])
    else:
        with open(source, "rb") as fh:
            head = fh.read(_DIMENSION_BYTES)
    if not head.strip():
        return "csv"  # read_table says the file is empty
    return detect_format(head, filename)


def _refusal(exc: ChildFailed, limits: FileLimits) -> RefusedFile:
    if exc.reason == "timeout":
        return RefusedFile(
            _("读取文件超时(超过 %(s)d 秒),已拒收。请拆分文件或另存为 CSV 后重新上传。")
            % {"s": limits.seconds}
        )
    return RefusedFile(
        _(
            "文件过大或结构异常,读取时超出内存限制(%(mb)d MB),已拒收。"
            "请删除多余的空行空列、拆分文件或另存为 CSV 后重新上传。"
        )
        % {"mb": limits.memory_bytes // MB}
    )


def read_untrusted(
    source: bytes | Path | str,
    filename: str,
    header_score: HeaderScore | None = None,
    *,
    limits: FileLimits | None = None,
    usage: dict | None = None,
) -> RawTable:
    """`read_table(source, filename, header_score)` run safely (see the module docstring).
    `header_score` is sent to the child: a module-level function or a `SpecHeaderScore`.
    Raises `UnreadableFile` as `read_table` does, and `RefusedFile` (a subclass) for a file
    over the limits or one whose reading ran out of memory or time. `usage` (optional) receives
    the child's seconds, peak memory and outcome."""
    limits = limits or file_limits()
    if _format(source, filename) == "csv":
        # Parsed here: polars does not abort on a bad CSV and the cell limit bounds its memory
        # (reading._check_csv_cells); handing a million-row table back from a child through a
        # file would cost more than the parse itself.
        return read_table(source, filename, header_score=header_score)
    with tempfile.TemporaryDirectory(prefix="pubcredit-read-") as tmp:
        if isinstance(source, (bytes, bytearray, memoryview)):
            path = Path(tmp) / "upload"
            path.write_bytes(bytes(source))
        else:
            path = Path(source)
        out = Path(tmp) / "frame.arrow"
        try:
            table = run_limited(
                _read_in_child,
                path,
                filename,
                header_score,
                limits,
                out,
                memory_bytes=limits.memory_bytes,
                seconds=limits.seconds,
                usage=usage,
            )
        except ChildFailed as exc:
            raise _refusal(exc, limits) from None
        table.frame = pl.read_ipc(out)
    return table
