"""Batches of credit reports (批量出具, e.g. for a tender's bidders): a list of 统一社会信用代码 in,
a zip of the reports' PDFs and an index.xlsx out.

`submit_batch` takes the list (an uploaded .xlsx/.xls/.csv with a 统一社会信用代码 column, or
one column of codes; or the API's list), validates every code up front (core.identifiers) and
stores the batch with the valid rows (`items`) and the refused ones (`problems`: row, value and
a Chinese message each: an invalid code, a repeated one); a refused row is reported, it does not
stop the batch. The job (`tasks.run_report_batch_task`, leased through core.jobs) then finds
every subject with one query, issues one report per remaining row through `services.issue`
(channel 批量), and writes the zip: one PDF per report and index.xlsx (input order: row, code,
name, report number, validity, sha256, verification address, or why no report was issued),
every text cell through core.spreadsheets.formula_safe_frame.

Reports are issued one by one (each is its own frozen document with its own number, audit row
and transaction); nothing else is read per report. A run that dies is run again by the sweeper
and issues only the rows that have no report in the batch yet.
"""

from __future__ import annotations

import io
import logging
import tempfile
import time
import zipfile
from pathlib import Path

import polars as pl
from django.core.exceptions import ValidationError
from django.core.files import File
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from pubcredit.accounts.permissions import Principal
from pubcredit.catalog.headers import normalise_header
from pubcredit.core import identifiers
from pubcredit.core.jobs import retry_locked
from pubcredit.core.spreadsheets import formula_safe_frame
from pubcredit.intake.engine.reading import ROW, UnreadableFile
from pubcredit.intake.engine.untrusted import RefusedFile, read_untrusted
from pubcredit.reports import channels, services
from pubcredit.reports.models import Report, ReportBatch, ReportChannel, ReportKind
from pubcredit.reports.tasks import run_report_batch_task
from pubcredit.subjects.models import Subject

log = logging.getLogger(__name__)

ACTION = channels.ACTION
MAX_ROWS = 5_000
MAX_BYTES = 5 * 1024 * 1024
SUFFIXES = (".xlsx", ".xlsm", ".xls", ".csv", ".txt")
LOOKUP_CHUNK = 1_000
HEADERS = ("统一社会信用代码", "社会信用代码", "信用代码", "代码", "uscc")
_HEADER_SET = {normalise_header(h) for h in HEADERS}


# --------------------------------------------------------------------------- submit / read


def _header_score(cells) -> float:
    return sum(1 for c in cells if c and normalise_header(str(c)) in _HEADER_SET)


def _simple_frame(data: bytes) -> pl.DataFrame:
    """A file whose first row is its header, every cell text (one column of codes is common,
    which the intake reader does not take)."""
    if data[:4] == b"PK\x03\x04" or data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        return pl.read_excel(io.BytesIO(data), engine="calamine", infer_schema_length=0)
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise ValidationError(
            {"file": [_("无法识别文件的字符编码,请另存为 UTF-8 编码的 csv 文件。")]}
        )
    return pl.read_csv(text.encode(), infer_schema_length=0, has_header=True)


def read_codes(data: bytes, filename: str) -> list[tuple[int, str]]:
    """(row number as the clerk sees it, cell) of the code column of an uploaded file: the
    column headed 统一社会信用代码 (or 代码…), else the only column; a file without a header
    (its first cell a code) starts at row 1."""
    try:
        table = read_untrusted(data, filename, header_score=_header_score)
        frame, headers, columns = table.frame, table.headers, table.columns
    except RefusedFile as exc:
        raise ValidationError({"file": [str(exc)]}) from None
    except UnreadableFile:
        try:
            frame = _simple_frame(data)
        except ValidationError:
            raise
        except Exception:
            raise ValidationError(
                {"file": [_("无法读取该文件,请上传 xlsx、xls 或 csv 文件。")]}
            ) from None
        headers = columns = list(frame.columns)
        frame = frame.with_row_index(ROW, offset=2)
    column = next(
        (
            c
            for h, c in zip(headers, columns, strict=False)
            if normalise_header(h or "") in _HEADER_SET
        ),
        None,
    )
    cells: list[tuple[int, str]] = []
    if column is None:
        if len(columns) != 1:
            raise ValidationError({"file": [_("文件中没有找到“统一社会信用代码”列,请检查表头。")]})
        column = columns[0]
        if identifiers.check_uscc(headers[0] or "").valid:  # no header: the first row is a code
            cells.append((1, headers[0]))
    rows = frame.get_column(ROW).cast(pl.Int64).to_list()
    values = frame.get_column(column).cast(pl.String).to_list()
    cells.extend((int(r), v or "") for r, v in zip(rows, values, strict=True))
    return cells


def validate_rows(cells: list[tuple[int, str]]) -> tuple[list[list], list[dict]]:
    """([row, code] of each valid, first-seen code; {row, value, message} of each refused row).
    Blank cells are skipped."""
    items: list[list] = []
    problems: list[dict] = []
    seen: dict[str, int] = {}
    for row, value in cells:
        text = (value or "").strip()
        if not text:
            continue
        result = identifiers.check_uscc(text)
        if not result.valid:
            problems.append({"row": row, "value": text[:64], "message": ";".join(result.errors)})
        elif result.normalized in seen:
            problems.append(
                {
                    "row": row,
                    "value": result.normalized,
                    "message": _("与第 %(n)d 行的统一社会信用代码重复,不重复出具。")
                    % {"n": seen[result.normalized]},
                }
            )
        else:
            seen[result.normalized] = row
            items.append([row, result.normalized])
    return items, problems


def submit_batch(
    principal: Principal,
    *,
    codes: list[str] | None = None,
    upload=None,
    filename: str = "",
    kind: str | None = None,
    period_from=None,
    period_to=None,
    fields=None,
    client_address: str | None = None,
) -> ReportBatch:
    """Store a batch (a list of codes, or an uploaded file) and enqueue its job after commit.
    Requires "reports.issue". ValidationError (Chinese) for a file that cannot be read, no rows,
    too many rows, or a bad kind / period / field; a bad code is a refused row, not an error."""
    principal.require(ACTION)
    kind = channels.parse_kind(kind)
    period = channels.resolve_period(kind, period_from, period_to)
    chosen = channels.clean_fields(kind, fields)
    if upload is not None:
        filename = Path(filename or getattr(upload, "name", "") or "upload").name[:255]
        if Path(filename).suffix.lower() not in SUFFIXES:
            raise ValidationError({"file": [_("请上传 xlsx、xls 或 csv 文件。")]})
        data = upload.read() if hasattr(upload, "read") else bytes(upload)
        if not data:
            raise ValidationError({"file": [_("文件为空。")]})
        if len(data) > MAX_BYTES:
            raise ValidationError({"file": [_("文件过大(不超过 5 MB)。")]})
        cells = read_codes(data, filename)
    else:
        cells = [(i, str(c)) for i, c in enumerate(codes or [], start=1)]
    if len(cells) > MAX_ROWS:
        raise ValidationError(
            _("共 %(n)d 行,超过批量出具上限 %(max)d 行。") % {"n": len(cells), "max": MAX_ROWS}
        )
    items, problems = validate_rows(cells)
    if not items and not problems:
        raise ValidationError(_("没有需要出具报告的统一社会信用代码。"))
    with transaction.atomic():
        batch = ReportBatch.objects.create(
            kind=kind,
            period_from=period[0] if period else None,
            period_to=period[1] if period else None,
            fields=chosen or [],
            filename=filename[:255],
            items=items,
            problems=problems,
            rows=len(items) + len(problems),
            user=principal.user,
            api_key=principal.api_key,
            actor_label=principal.label[:150],
            client_address=client_address,
        )
        batch_id = batch.pk
        transaction.on_commit(lambda: run_report_batch_task.enqueue(batch_id))
    batch.refresh_from_db()
    return batch


def visible_batches(principal: Principal):
    """Every batch for the centre, its own for the other roles with "reports.issue"."""
    if not principal.can(ACTION):
        return ReportBatch.objects.none()
    if principal.role in channels.CENTRE_ROLES:
        return ReportBatch.objects.all()
    if principal.api_key is not None:
        return ReportBatch.objects.filter(api_key=principal.api_key)
    if principal.user is not None:
        return ReportBatch.objects.filter(user=principal.user)
    return ReportBatch.objects.none()


def get_batch(principal: Principal, batch_id: int) -> ReportBatch:
    principal.require(ACTION)
    return visible_batches(principal).get(pk=batch_id)


def zip_filename(batch: ReportBatch) -> str:
    stem = Path(batch.filename).stem[:60] if batch.filename else ""
    return f"{stem or '信用报告'}-批量出具-{batch.pk}.zip"


# --------------------------------------------------------------------------- run


@retry_locked
def _update(batch_id: int, **values) -> None:
    ReportBatch.objects.filter(pk=batch_id).update(**values)


def run_batch(batch_id: int) -> ReportBatch:
    """Issue the batch's reports and write its zip (see the module docstring). A batch done
    already is returned as is; an unexpected error fails the batch with a Chinese message (the
    reports issued so far stay: each is a complete document)."""
    batch = ReportBatch.objects.get(pk=batch_id)
    if batch.status == ReportBatch.Status.DONE:
        return batch
    _update(
        batch_id,
        status=ReportBatch.Status.RUNNING,
        started_at=timezone.now(),
        error_message="",
    )
    try:
        _run(batch)
    except Exception:
        log.exception("report batch %s failed", batch_id)
        _update(
            batch_id,
            status=ReportBatch.Status.FAILED,
            error_message=_("批量出具信用报告出错,请稍后重试或联系平台管理员。"),
            finished_at=timezone.now(),
        )
    return ReportBatch.objects.get(pk=batch_id)


def _principal(batch: ReportBatch) -> Principal:
    return Principal.of(batch.user if batch.user_id else batch.api_key)


def _subjects(codes: list[str]) -> dict[str, Subject]:
    out: dict[str, Subject] = {}
    for i in range(0, len(codes), LOOKUP_CHUNK):
        qs = Subject.objects.filter(
            uscc__in=codes[i : i + LOOKUP_CHUNK], kind__in=channels.ORG_KINDS
        )
        out.update((s.uscc, s) for s in qs)
    return out


def _run(batch: ReportBatch) -> None:
    t0 = time.perf_counter()
    principal = _principal(batch)
    if not principal.can(ACTION):
        _update(
            batch.pk,
            status=ReportBatch.Status.FAILED,
            error_message=_("提交该批次的账号或接口密钥已无出具信用报告的权限。"),
            finished_at=timezone.now(),
        )
        return
    items = [(int(row), code) for row, code in batch.items]
    subjects = _subjects([code for _row, code in items])
    done = set(Report.objects.filter(batch=batch).values_list("subject_id", flat=True))
    problems = [p for p in batch.problems if not p.get("run")]
    not_found = _("主体库中没有该统一社会信用代码的主体,未出具报告。")
    failed = _("出具该主体的报告时出错,未出具报告;请稍后单独出具。")
    period = (
        (batch.period_from, batch.period_to)
        if batch.kind == ReportKind.NO_VIOLATION and batch.period_from
        else None
    )
    timings = {"lookup": round(time.perf_counter() - t0, 3)}
    t = time.perf_counter()
    step = max(1, len(items) // 50)
    for i, (row, code) in enumerate(items, start=1):
        subject = subjects.get(code)
        if subject is None:
            problems.append({"row": row, "value": code, "message": not_found, "run": True})
        elif subject.pk not in done:
            try:
                services.issue(
                    principal,
                    subject,
                    kind=batch.kind,
                    channel=ReportChannel.BATCH,
                    client_address=batch.client_address,
                    period=period,
                    fields=batch.fields or None,
                    batch=batch,
                )
            except Exception:
                log.exception("report batch %s: row %s (%s) failed", batch.pk, row, code)
                problems.append({"row": row, "value": code, "message": failed, "run": True})
            done.add(subject.pk)
        if i % step == 0:
            _update(batch.pk, progress=min(95, i * 95 // len(items)))
    timings["issue"] = round(time.perf_counter() - t, 3)
    t = time.perf_counter()
    reports = list(
        Report.objects.filter(batch=batch).only(
            "pk",
            "number",
            "subject_id",
            "subject_name",
            "identifier",
            "valid_until",
            "pdf",
            "pdf_sha256",
        )
    )
    issued = _write_zip(batch, items, problems, reports)
    timings["zip"] = round(time.perf_counter() - t, 3)
    timings["total"] = round(time.perf_counter() - t0, 3)
    _update(
        batch.pk,
        status=ReportBatch.Status.DONE,
        progress=100,
        issued=issued,
        problems=problems,
        timings=timings,
        zip_file=batch.zip_file.name,
        finished_at=timezone.now(),
    )


def _index(items, problems, reports) -> bytes:
    """index.xlsx: one row per input row, in input order."""
    by_code = {r.identifier: r for r in reports}
    rows = []
    for row, code in items:
        report = by_code.get(code)
        if report is not None:
            rows.append(
                (
                    row,
                    code,
                    report.subject_name,
                    report.number,
                    report.valid_until.isoformat(),
                    report.pdf_sha256,
                    services.verify_url(report.number),
                    f"{report.number}.pdf",
                    "",
                )
            )
    for p in problems:
        rows.append((p["row"], p["value"], "", "", "", "", "", "", p["message"]))
    rows.sort(key=lambda r: r[0])
    columns = [
        _("行号"),
        _("统一社会信用代码"),
        _("主体名称"),
        _("报告编号"),
        _("有效期至"),
        _("PDF 摘要(SHA-256)"),
        _("核验地址"),
        _("文件"),
        _("说明"),
    ]
    frame = pl.DataFrame(
        rows,
        orient="row",
        schema={c: (pl.Int64 if i == 0 else pl.String) for i, c in enumerate(columns)},
    )
    buffer = io.BytesIO()
    formula_safe_frame(frame).write_excel(buffer, worksheet=_("报告清单"), autofit=False)
    return buffer.getvalue()


def _write_zip(batch: ReportBatch, items, problems, reports) -> int:
    with tempfile.TemporaryFile() as fh:
        with zipfile.ZipFile(fh, "w", compression=zipfile.ZIP_STORED) as archive:
            archive.writestr("index.xlsx", _index(items, problems, reports))
            for report in reports:
                with report.pdf.open("rb") as pdf:
                    archive.writestr(f"{report.number}.pdf", pdf.read())
        fh.seek(0)
        batch.zip_file.save(f"batch-{batch.pk}.zip", File(fh), save=False)
    return len(reports)


__all__ = [
    "MAX_ROWS",
    "get_batch",
    "read_codes",
    "run_batch",
    "submit_batch",
    "validate_rows",
    "visible_batches",
    "zip_filename",
]
