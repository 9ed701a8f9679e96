"""What the ways in (the console's upload pages and the API) share before and after a file
becomes a Submission: upload limits, the mapping preview of a file not yet submitted, staged
uploads waiting for the clerk to confirm the mapping, and the error report as a download.

Nothing here writes to the database: submissions are received and processed by
`pubcredit.intake.services` only. A staged upload is a file in the media storage that is not yet
a submission; it becomes one when the clerk confirms the mapping (`services.submit_file` with
the confirmed mapping) and is deleted then, or after `STAGING_TTL` if the clerk walks away.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import secrets
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

from django.conf import settings
from django.core.files.base import ContentFile, File
from django.core.files.storage import default_storage
from django.http import FileResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from pubcredit.catalog.models import Category, Department
from pubcredit.intake.engine import write_error_report_xlsx
from pubcredit.intake.engine.mapping import auto_map
from pubcredit.intake.engine.spec import CategorySpec
from pubcredit.intake.engine.untrusted import RefusedFile, SpecHeaderScore, read_untrusted
from pubcredit.intake.models import RowError
from pubcredit.intake.services import saved_mapping, submission_errors
from pubcredit.subjects import crypto

# Default limit of one uploaded file (bytes); settings.PUBCREDIT_INTAKE_MAX_UPLOAD_BYTES wins.
DEFAULT_MAX_UPLOAD_BYTES = 512 * 1024 * 1024
# Default limit of one JSON batch body (POST /api/v1/records); 10,000 rows of 双公示 data are a
# few MB, fields may hold up to 4,000 characters each.
DEFAULT_MAX_BATCH_BYTES = 64 * 1024 * 1024
# The extensions the intake engine reads (the content decides the format; the name is checked
# first so that a clerk who picked the wrong file hears it at once).
# .htm/.html/.xml: an HTML table or an Excel 2003 XML Spreadsheet, as government systems export.
ALLOWED_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".csv", ".tsv", ".txt", ".json", ".htm", ".html")
ALLOWED_SUFFIXES += (".xml",)

STAGING_DIR = "intake-staging"
STAGING_TTL = dt.timedelta(hours=24)
# A text file larger than this is previewed from its first PREVIEW_BYTES only.
PREVIEW_BYTES = 2 * 1024 * 1024
SAMPLE_ROWS = 3
SAMPLE_CHARS = 40

METHOD_LABELS = {
    "saved": gettext_lazy("已保存的映射"),
    "legacy": gettext_lazy("字段编码"),
    "exact": gettext_lazy("字段名称"),
    "synonym": gettext_lazy("同义词"),
    "fuzzy": gettext_lazy("近似匹配"),
    "none": gettext_lazy("未匹配"),
}


def max_upload_bytes() -> int:
    return int(getattr(settings, "PUBCREDIT_INTAKE_MAX_UPLOAD_BYTES", DEFAULT_MAX_UPLOAD_BYTES))


def max_batch_bytes() -> int:
    return int(getattr(settings, "PUBCREDIT_INTAKE_MAX_BATCH_BYTES", DEFAULT_MAX_BATCH_BYTES))


def human_size(n: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return str(n)  # pragma: no cover


class UploadRefused(Exception):
    """An upload refused before anything is stored: `status` is the HTTP status (413 too
    large, 422 otherwise), `code` the API error code, `str(exc)` one Chinese sentence."""

    def __init__(self, message: str, *, status: int = 422, code: str = "invalid_file"):
        super().__init__(message)
        self.status = status
        self.code = code


def check_upload(filename: str, size: int | None) -> None:
    """Raise UploadRefused unless a file of this name and size may be submitted."""
    suffix = Path(filename or "").suffix.lower()
    if suffix not in ALLOWED_SUFFIXES:
        raise UploadRefused(
            _("不支持的文件类型“%(suffix)s”,请上传 xlsx、xls、csv 或 json 文件。")
            % {"suffix": suffix or _("无扩展名")},
            code="unsupported_file_type",
        )
    limit = max_upload_bytes()
    if size is not None and size > limit:
        raise UploadRefused(
            _("文件过大(%(size)s),单个文件不能超过 %(limit)s;请拆分后分批上传。")
            % {"size": human_size(size), "limit": human_size(limit)},
            status=413,
            code="file_too_large",
        )
    if not size:
        raise UploadRefused(_("上传的文件是空的。"), code="empty_file")


def find_department(value: str | None) -> Department | None:
    """A department by its code (or its 统一社会信用代码)."""
    value = (value or "").strip()
    if not value:
        return None
    found = Department.objects.filter(code=value).first()
    if found is None and len(value) == 18:
        found = Department.objects.filter(uscc=value.upper()).first()
    return found


def submittable_categories():
    """Categories a file can be submitted for: active, with their fields completely defined."""
    return Category.objects.filter(active=True, fields_complete=True).order_by(
        "catalogue_class", "sort_order", "code"
    )


# --------------------------------------------------------------------------- mapping preview


@dataclass
class ColumnProposal:
    """One column of the file as the mapping screen shows it."""

    index: int
    header: str
    column: str
    field_code: str | None
    method: str
    score: float
    note: str
    samples: list[str]

    @property
    def method_label(self) -> str:
        return str(METHOD_LABELS.get(self.method, self.method))

    @property
    def mappable(self) -> bool:
        """A column without a header text cannot be remembered (nor chosen): it is ignored."""
        return bool(self.header.strip())


@dataclass
class MappingPreview:
    columns: list[ColumnProposal]
    fields: list  # the category's FieldSpecs, in catalogue order
    header_row: int | None
    sheet: str | None
    encoding: str | None
    format: str
    partial: bool = False  # read from the head of a large file only
    field_names: dict[str, str] = field(default_factory=dict)

    @property
    def mapped_codes(self) -> set[str]:
        return {c.field_code for c in self.columns if c.field_code}

    @property
    def missing_required(self) -> list:
        mapped = self.mapped_codes
        return [f for f in self.fields if f.requirement == "required" and f.code not in mapped]

    @property
    def extra_columns(self) -> list[str]:
        return [c.header or c.column for c in self.columns if not c.field_code]

    @property
    def fully_saved(self) -> bool:
        """Every column with a header was mapped (or ignored) by the department's saved mapping:
        the clerk has confirmed these headers before."""
        named = [c for c in self.columns if c.mappable]
        return bool(named) and all(c.method == "saved" for c in named)

    @property
    def needs_confirmation(self) -> bool:
        return not self.fully_saved or bool(self.missing_required)

    def as_mapping(self) -> dict[str, str | None]:
        return {c.header: c.field_code for c in self.columns if c.mappable}


_ID_LIKE = re.compile(r"^\s*\d{6}(?:\d{8}|\d{6})\d{3}[\dXx]?\s*$")


def _sample(value: str, id_field: bool) -> str:
    text = " ".join(str(value).split())
    if id_field or _ID_LIKE.match(text):
        # A document number is personal data: the preview never shows one in clear.
        return crypto.mask_id(text)
    return text if len(text) <= SAMPLE_CHARS else text[: SAMPLE_CHARS - 1] + "…"


def _is_workbook_or_json(head: bytes, filename: str) -> bool:
    if head[:4] == b"PK\x03\x04" or head[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        return True
    if head[:2] in (b"\xff\xfe", b"\xfe\xff"):  # UTF-16: never cut in the middle of a unit
        return True
    return Path(filename or "").suffix.lower() == ".json"


def _read_for_preview(fh, filename: str, header_score):
    """Read the table from an open binary file: a large text file from its head only (cut at a
    line end); whatever cannot be read that way is read whole."""

    fh.seek(0)
    head = fh.read(PREVIEW_BYTES + 1)
    if len(head) > PREVIEW_BYTES and not _is_workbook_or_json(head, filename):
        cut = head.rfind(b"\n", 0, PREVIEW_BYTES)
        if cut > 0:
            try:
                return read_untrusted(head[: cut + 1], filename, header_score=header_score), True
            except RefusedFile:
                raise
            except Exception:  # a quoted cell cut in two: read the whole file
                pass
    fh.seek(0)
    data = fh.read()
    fh.seek(0)
    return read_untrusted(data, filename, header_score=header_score), False


def preview_mapping(
    fh, filename: str, department: Department, category: Category
) -> MappingPreview:
    """How the engine would map the columns of this file (open binary file `fh`) for the
    department and category, with a few sample values per column: what the mapping screen
    shows. Uses the department's saved mapping exactly as processing will. Raises
    `UnreadableFile` (Chinese message) for a file the engine cannot read."""

    spec = CategorySpec.from_db(category.code)
    saved = saved_mapping(department, category)
    table, partial = _read_for_preview(fh, filename, SpecHeaderScore(spec, saved))
    matches = auto_map(
        table.headers, spec, saved, columns=table.columns, subheaders=table.subheaders
    )
    id_fields = {f.code for f in spec.fields if f.type == "id_number"}
    head = table.frame.head(200)
    columns = []
    for i, m in enumerate(matches):
        samples: list[str] = []
        if m.column in head.columns:
            for value in head.get_column(m.column).drop_nulls().to_list():
                if str(value).strip():
                    samples.append(_sample(value, m.field_code in id_fields))
                if len(samples) >= SAMPLE_ROWS:
                    break
        columns.append(
            ColumnProposal(
                index=i,
                header=str(m.header or ""),
                column=m.column,
                field_code=m.field_code,
                method=m.method,
                score=round(float(m.score), 1),
                note=m.note,
                samples=samples,
            )
        )
    return MappingPreview(
        columns=columns,
        fields=list(spec.fields),
        header_row=table.header_row,
        sheet=table.sheet,
        encoding=table.encoding,
        format=table.format,
        partial=partial,
        field_names={f.code: f.name for f in spec.fields},
    )


# --------------------------------------------------------------------------- staged uploads


@dataclass
class StagedUpload:
    """A file uploaded through the console and waiting for its mapping to be confirmed."""

    token: str
    filename: str
    size: int
    department_id: int
    category_id: int
    user_id: int
    created: str
    path: str = ""

    @property
    def department(self) -> Department:
        return Department.objects.get(pk=self.department_id)

    @property
    def category(self) -> Category:
        return Category.objects.get(pk=self.category_id)

    def open(self):
        return default_storage.open(self.path, "rb")


def _meta_name(token: str) -> str:
    return f"{STAGING_DIR}/{token}/meta.json"


def stage_upload(
    fh, *, filename: str, size: int, department: Department, category: Category, user
) -> StagedUpload:
    """Keep an uploaded file until the clerk confirms its mapping; only `user` may use it."""
    purge_stale_staging()
    token = secrets.token_urlsafe(18)
    suffix = Path(filename).suffix.lower()
    fh.seek(0)
    path = default_storage.save(f"{STAGING_DIR}/{token}/upload{suffix}", File(fh))
    staged = StagedUpload(
        token=token,
        filename=Path(filename).name[:180],
        size=int(size),
        department_id=department.pk,
        category_id=category.pk,
        user_id=user.pk,
        created=timezone.now().isoformat(),
        path=path,
    )
    default_storage.save(
        _meta_name(token),
        ContentFile(json.dumps(asdict(staged), ensure_ascii=False).encode("utf-8")),
    )
    return staged


_TOKEN = re.compile(r"^[A-Za-z0-9_-]{16,64}$")


def load_staged(token: str, user) -> StagedUpload | None:
    """The staged upload `token` of `user`, or None (unknown, expired or someone else's)."""
    if not _TOKEN.match(token or ""):
        return None
    name = _meta_name(token)
    if not default_storage.exists(name):
        return None
    with default_storage.open(name, "rb") as fh:
        try:
            staged = StagedUpload(**json.loads(fh.read().decode("utf-8")))
        except (ValueError, TypeError):
            return None
    if staged.user_id != getattr(user, "pk", None):
        return None
    if timezone.now() - dt.datetime.fromisoformat(staged.created) > STAGING_TTL:
        discard_staged(staged)
        return None
    return staged


def discard_staged(staged: StagedUpload) -> None:
    for name in (staged.path, _meta_name(staged.token)):
        if name and default_storage.exists(name):
            default_storage.delete(name)
    _remove_empty_dir(f"{STAGING_DIR}/{staged.token}")


def _remove_empty_dir(name: str) -> None:
    try:
        path = default_storage.path(name)
    except NotImplementedError:  # pragma: no cover - non-filesystem storage has no directories
        return
    try:
        os.rmdir(path)
    except OSError:
        pass


def purge_stale_staging() -> int:
    """Delete staged uploads older than STAGING_TTL (a clerk who never confirmed)."""
    if not default_storage.exists(STAGING_DIR):
        return 0
    dirs, _files = default_storage.listdir(STAGING_DIR)
    cutoff = timezone.now() - STAGING_TTL
    removed = 0
    for token in dirs:
        base = f"{STAGING_DIR}/{token}"
        try:
            _subdirs, files = default_storage.listdir(base)
            stamps = [default_storage.get_modified_time(f"{base}/{f}") for f in files]
        except (OSError, NotImplementedError):
            continue
        if stamps and max(stamps) >= cutoff:
            continue
        for f in files:
            default_storage.delete(f"{base}/{f}")
        _remove_empty_dir(base)
        removed += 1
    return removed


# --------------------------------------------------------------------------- error reports


def error_report_name(submission, suffix: str) -> str:
    stem = Path(submission.filename).stem or "submission"
    return f"错误报告-{submission.pk}-{stem}{suffix}"


REPORTS_DIR = "intake-error-reports"


def error_report_path(submission) -> str:
    """Where the submission's xlsx error report is kept: one file per processing of the
    submission (the name carries when it finished, so a re-run gets a new report)."""
    finished = submission.finished_at.strftime("%Y%m%dT%H%M%S%f") if submission.finished_at else "0"
    return f"{REPORTS_DIR}/{submission.pk}/{finished}.xlsx"


def stored_error_report(submission) -> str:
    """The storage name of the submission's xlsx error report, built on first use and kept:
    every later download serves the same file (a report of 10,000 lines is not rebuilt for
    each download). Reports of earlier runs of the submission are deleted."""
    name = error_report_path(submission)
    if default_storage.exists(name):
        return name
    handle, path = tempfile.mkstemp(suffix=".xlsx", prefix="pubcredit-errors-")
    os.close(handle)
    try:
        write_error_report_xlsx(
            submission_errors(submission),
            path,
            totals=submission.error_totals or [],
            note=submission.errors_note,
        )
        with open(path, "rb") as fh:
            saved = default_storage.save(name, File(fh))
    finally:
        os.unlink(path)
    folder = f"{REPORTS_DIR}/{submission.pk}"
    _dirs, files = default_storage.listdir(folder)
    for other in files:
        if f"{folder}/{other}" != saved:
            default_storage.delete(f"{folder}/{other}")
    return saved


def error_report_xlsx_response(submission) -> FileResponse:
    """The submission's error report as an xlsx download (row as the clerk sees it, field,
    original value, rule, message, severity; a 汇总 sheet with the count per rule), from the
    stored report (`stored_error_report`)."""
    return FileResponse(
        default_storage.open(stored_error_report(submission), "rb"),
        as_attachment=True,
        filename=error_report_name(submission, ".xlsx"),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )


def error_items(submission, *, severity: str | None = None, offset: int = 0, limit=None):
    """(total, [error dicts]) of a submission in file order, optionally one severity."""

    rows = RowError.objects.filter(submission=submission)
    if severity:
        rows = rows.filter(severity=severity)
    total = rows.count()
    rows = rows.order_by("row", "id")
    window = rows[offset : offset + limit] if limit is not None else rows[offset:]
    items = list(
        window.values("row", "field", "field_name", "value", "rule", "message", "severity")
    )
    return total, items
