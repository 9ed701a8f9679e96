"""Intake services: receive a department's file or JSON batch, process it, resolve name matches.

The one write path for aggregation (归集):

- `submit_file` stores the raw file untouched (sha256, size) as a Submission and processes it,
  inline when it is small (or when asked), otherwise as a background task (intake.tasks).
- `submit_rows` does the same for a JSON batch pushed by a department system (≤ 10,000 rows).
- `process_submission` runs the engine on the stored file and loads the accepted rows in ONE
  transaction (pubcredit.intake.loading, writing through records.writing, whose write ends with
  the records-changed flow: publicity, list entries, commitments, flags): all or nothing. It is
  idempotent and safe to re-run: a submission already done is returned unchanged; one that
  failed, or whose process was killed mid-way (left in "processing"/"loading"), is processed
  again from its raw file; two workers processing the same submission at once load it exactly
  once (the load locks the submission row and re-checks its status).
- `resolve_match` links a record waiting in the review queue to the subject staff chose.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
from pathlib import Path

import polars as pl
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile, File
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from pubcredit.accounts.audit import record_event, snapshot
from pubcredit.accounts.permissions import DEPARTMENT_SCOPED, Principal, restrict
from pubcredit.catalog.models import Category, Department, Field
from pubcredit.core.bulkload import bulk_copy
from pubcredit.core.jobs import retry_locked, run_leased
from pubcredit.intake import loading
from pubcredit.intake.engine.pipeline import cap_errors, run_engine
from pubcredit.intake.engine.reading import UnreadableFile
from pubcredit.intake.engine.spec import CategorySpec
from pubcredit.intake.models import ColumnMapping, MatchReview, RowError, Submission
from pubcredit.intake.tasks import (
    SUBMISSION_JOB,
    backfill_subject_name_keys,
    process_submission_task,
)
from pubcredit.records.models import SubjectLink
from pubcredit.records.services import link_subject
from pubcredit.records.writing import WriteError
from pubcredit.subjects import crypto
from pubcredit.subjects.models import Subject

logger = logging.getLogger(__name__)

# Files up to this size are processed inline by default; larger ones go to the task queue.
INLINE_MAX_BYTES = int(getattr(settings, "PUBCREDIT_INTAKE_INLINE_BYTES", 2 * 1024 * 1024))
MAX_API_ROWS = 10_000
# Problems kept per submission (the rest are counted per rule): PUBCREDIT_INTAKE_MAX_STORED_ERRORS.
DEFAULT_MAX_STORED_ERRORS = 10_000
_HASH_CHUNK = 1024 * 1024


class SubmissionRefused(ValidationError):
    """The submission cannot even be received (unknown department or category, a category
    without complete fields, an empty batch…); the message is one Chinese sentence."""


# --------------------------------------------------------------------------- permission


def allowed_source_usccs(department: Department) -> set[str]:
    """The 数据来源单位 codes a department may submit under: its own USCC and those of the
    departments it submits for (Department.submits_for)."""
    codes = {department.uscc}
    codes.update(department.submits_for.values_list("uscc", flat=True))
    return {c for c in codes if c}


def check_can_submit(principal: Principal, department: Department, category: Category) -> None:
    """Raise PermissionDenied or SubmissionRefused unless `principal` may submit `category` data
    for `department`. A 部门报送员 (or a department system's key) submits only for its own
    department."""
    principal.require("records.submit")
    if principal.role in DEPARTMENT_SCOPED and principal.department_id != department.pk:
        raise PermissionDenied(_("部门报送员只能报送本部门的数据。"))
    if not department.active:
        raise SubmissionRefused(_("部门“%(d)s”已停用,不能报送数据。") % {"d": department.name})
    if not category.active or not category.fields_complete:
        raise SubmissionRefused(
            _("信息类别“%(c)s”尚未完整定义数据项,暂不能接收数据。") % {"c": category.name}
        )


def _principal_for(submission: Submission) -> Principal:
    if submission.api_key_id:
        return Principal.of(submission.api_key)
    if submission.submitted_by_id:
        return Principal.of(submission.submitted_by)
    return Principal.system(submission.submitted_by_label or "intake")


# --------------------------------------------------------------------------- receiving


def sha256_and_size(fh) -> tuple[str, int]:
    """The sha256 and size of an open binary file, read in chunks (left at its start)."""
    digest = hashlib.sha256()
    size = 0
    fh.seek(0)
    while chunk := fh.read(_HASH_CHUNK):
        digest.update(chunk)
        size += len(chunk)
    fh.seek(0)
    return digest.hexdigest(), size


def _safe_filename(filename: str) -> str:
    name = Path(str(filename or "")).name.strip() or "upload"
    return name.replace("\x00", "")[:180]


@transaction.atomic
def receive_file(
    principal: Principal,
    *,
    department: Department,
    category: Category,
    source,
    filename: str,
    channel: str,
    mapping: dict | None = None,
    data_source: str = Submission.Source.LOCAL,
) -> Submission:
    """Store the raw file as a new Submission (status 已接收) and write "intake.submit".

    `source` is a path, bytes, or a binary file object; its bytes are stored untouched under
    MEDIA_ROOT with their sha256 and size. `mapping` ({header: field code or None}) is the
    column mapping the clerk confirmed, used instead of the saved one. `data_source` marks
    data handed down by the provincial or national platform (Submission.Source). Nothing is
    processed."""
    check_can_submit(principal, department, category)
    if channel not in Submission.Channel.values:
        raise SubmissionRefused(_("报送渠道无效:%(c)s") % {"c": channel})
    if data_source not in Submission.Source.values:
        raise SubmissionRefused(_("数据来源无效:%(s)s") % {"s": data_source})
    filename = _safe_filename(filename)
    if isinstance(source, bytes | bytearray):
        fh = ContentFile(bytes(source))
        close = False
    elif isinstance(source, str | os.PathLike):
        fh = open(source, "rb")  # closed below
        close = True
    else:
        fh = source
        close = False
    try:
        sha, size = sha256_and_size(fh)
        submission = Submission(
            department=department,
            category=category,
            channel=channel,
            source=data_source,
            filename=filename,
            sha256=sha,
            size=size,
            received_at=timezone.now(),
            submitted_by=principal.user,
            api_key=principal.api_key,
            submitted_by_label=principal.label[:150],
            mapping_override=mapping or None,
        )
        submission.raw_file.save(filename, File(fh, name=filename), save=False)
        submission.save()
    finally:
        if close:
            fh.close()
    record_event(principal, "intake.submit", submission, after=_snapshot(submission))
    return submission


def _snapshot(submission: Submission) -> dict:
    data = snapshot(submission, exclude=("mapping", "timings", "raw_file", "mapping_override"))
    data["raw_file"] = submission.raw_file.name
    return data


def submit_file(
    principal: Principal,
    *,
    department: Department,
    category: Category,
    source,
    filename: str,
    channel: str,
    mapping: dict | None = None,
    background: bool | None = None,
    data_source: str = Submission.Source.LOCAL,
) -> Submission:
    """Receive a file (see `receive_file`) and process it: inline when `background` is False,
    as a background task when True, and by size when None (≤ INLINE_MAX_BYTES inline). Returns
    the submission, finished when it ran inline. The task is enqueued only once the submission is
    committed."""
    submission = receive_file(
        principal,
        department=department,
        category=category,
        source=source,
        filename=filename,
        channel=channel,
        mapping=mapping,
        data_source=data_source,
    )
    if background is None:
        background = submission.size > INLINE_MAX_BYTES
    if background:
        transaction.on_commit(lambda: process_submission_task.enqueue(submission.pk))
        return submission
    # Leased like the task (core.jobs): if this process dies mid-way, the sweeper hands the
    # submission to the task worker.
    done = run_leased(SUBMISSION_JOB, submission.pk, lambda: process_submission(submission.pk))
    return done or Submission.objects.get(pk=submission.pk)


def submit_rows(
    principal: Principal,
    *,
    department: Department,
    category: Category,
    rows: list[dict],
    data_source: str = Submission.Source.LOCAL,
) -> Submission:
    """A JSON batch from a department system (API `POST /api/v1/records`): at most 10,000 rows,
    each an object keyed by field code or header. Stored as a .json raw file and processed
    inline, so the returned submission carries the result."""
    if not isinstance(rows, list) or not rows:
        raise SubmissionRefused(_("请提交至少一行数据。"))
    if len(rows) > MAX_API_ROWS:
        raise SubmissionRefused(
            _("一次最多提交 %(n)d 行,本次 %(m)d 行;请分批提交。")
            % {"n": MAX_API_ROWS, "m": len(rows)}
        )
    if not all(isinstance(r, dict) for r in rows):
        raise SubmissionRefused(_("每一行都必须是一个 JSON 对象。"))
    payload = json.dumps(rows, ensure_ascii=False, default=str).encode("utf-8")
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
    return submit_file(
        principal,
        department=department,
        category=category,
        source=payload,
        filename=f"api-{stamp}.json",
        channel=Submission.Channel.API,
        background=False,
        data_source=data_source,
    )


# --------------------------------------------------------------------------- processing


def max_stored_errors() -> int:
    return int(getattr(settings, "PUBCREDIT_INTAKE_MAX_STORED_ERRORS", DEFAULT_MAX_STORED_ERRORS))


@retry_locked
def _update(submission_id: int, **values) -> int:
    """Commit a status/progress change at once (unless the caller holds a transaction), never
    touching a submission that is already done (retried while SQLite is locked by another
    writer)."""
    return (
        Submission.objects.filter(pk=submission_id)
        .exclude(status=Submission.Status.DONE)
        .update(**values)
    )


def _fail(submission_id: int, message: str, failure: str) -> None:
    _update(
        submission_id,
        status=Submission.Status.FAILED,
        error_message=message[:2000],
        failure=failure,
        finished_at=timezone.now(),
    )


def saved_mapping(department: Department | int, category: Category | int) -> dict:
    """The department's saved column mapping for the category: {header: field code or None}."""
    rows = ColumnMapping.objects.filter(department=department, category=category)
    return {header: code or None for header, code in rows.values_list("header", "field_code")}


def _save_mapping(submission: Submission, matches: list[dict]) -> None:
    """Remember how this file's headers mapped, for the department's next file."""
    confirmed = set((submission.mapping_override or {}).keys())
    existing = {
        m.header: m
        for m in ColumnMapping.objects.filter(
            department_id=submission.department_id, category_id=submission.category_id
        )
    }
    new, changed = [], []
    for match in matches:
        header = str(match.get("header") or "").strip()[:255]
        if not header:
            continue
        code = match.get("field") or ""
        row = existing.get(header)
        if row is None:
            new.append(
                ColumnMapping(
                    department_id=submission.department_id,
                    category_id=submission.category_id,
                    header=header,
                    field_code=code,
                    confirmed=header in confirmed,
                )
            )
        elif row.field_code != code or (header in confirmed and not row.confirmed):
            row.field_code = code
            row.confirmed = row.confirmed or header in confirmed
            changed.append(row)
    ColumnMapping.objects.bulk_create(new)
    ColumnMapping.objects.bulk_update(changed, ["field_code", "confirmed", "updated_at"])


def _mapping_dicts(mapping) -> list[dict]:
    out = []
    for m in mapping or []:
        out.append(m.as_dict() if hasattr(m, "as_dict") else dict(m))
    return out


def _masked_errors(errors: pl.DataFrame, category_id: int) -> pl.DataFrame:
    """The engine's error frame as RowError columns; the value of a 证件号码 cell is masked
    (the clerk finds the row by its number; the platform keeps no clear copy)."""
    sealed = list(
        Field.objects.filter(category_id=category_id, type=Field.Type.ID_NUMBER).values_list(
            "code", flat=True
        )
    )
    frame = errors.select(
        pl.col("row").cast(pl.Int64),
        pl.col("field").cast(pl.String).fill_null("").str.slice(0, 64),
        pl.col("field_name").cast(pl.String).fill_null("").str.slice(0, 128),
        pl.col("value").cast(pl.String).fill_null(""),
        pl.col("rule").cast(pl.String).fill_null("").str.slice(0, 64),
        pl.col("message").cast(pl.String).fill_null(""),
        pl.col("severity").cast(pl.String).fill_null("error"),
    )
    if sealed:
        values = frame.filter(pl.col("field").is_in(sealed)).get_column("value").unique()
        masks = {v: crypto.mask_id(v) for v in values.to_list()}
        frame = frame.with_columns(
            pl.when(pl.col("field").is_in(sealed))
            .then(pl.col("value").replace_strict(masks, default=pl.col("value")))
            .otherwise(pl.col("value"))
            .alias("value")
        )
    return frame


def _accepted_frame(result) -> pl.DataFrame:
    accepted = result.accepted
    return accepted if isinstance(accepted, pl.DataFrame) else result.accepted_frame


def _count(result, name: str) -> int:
    value = getattr(result, name, 0)
    if isinstance(value, pl.DataFrame):
        return value.height
    return int(value or 0)


def process_submission(submission_id: int) -> Submission:
    """Run the engine on the submission's raw file and load the accepted rows.

    Guarantees:
    - idempotent: a submission already done is returned as is; any other status (received,
      failed, or processing/loading left behind by a crash or a killed worker) is processed again
      from the raw file;
    - all or nothing: records, subjects created for them, history rows, review items, row errors,
      the saved column mapping and the final counts are written in one transaction, which first
      locks the submission row and re-checks that nobody finished it meanwhile, so two workers
      never load it twice;
    - a file the engine cannot read, or any failure, leaves status 失败 with a Chinese
      `error_message` and nothing loaded; it may be re-run;
    - progress: 5 when the engine starts, 60 when loading starts, 100 when done.
    Returns the submission as stored afterwards.
    """

    submission = Submission.objects.select_related("department", "category").get(pk=submission_id)
    if submission.status == Submission.Status.DONE:
        return submission
    started = time.perf_counter()
    _update(
        submission_id,
        status=Submission.Status.PROCESSING,
        progress=5,
        started_at=timezone.now(),
        attempts=submission.attempts + 1,
        error_message="",
        failure="",
    )
    try:
        result = _run_engine(submission)
    except UnreadableFile as exc:
        _fail(submission_id, str(exc), "unreadable")
        return Submission.objects.get(pk=submission_id)
    except Exception as exc:
        logger.exception("intake engine failed on submission %s", submission_id)
        _fail(submission_id, _("文件处理失败:%(e)s") % {"e": exc}, "engine")
        return Submission.objects.get(pk=submission_id)
    engine_seconds = time.perf_counter() - started
    table = getattr(result, "table", None)
    if table is not None and isinstance(getattr(table, "frame", None), pl.DataFrame):
        table.frame = table.frame.clear()  # the raw cells are not needed any more: free them
    _update(submission_id, status=Submission.Status.LOADING, progress=60)
    try:
        retry_locked(_load)(submission_id, result, engine_seconds)
    except Exception as exc:
        logger.exception("loading submission %s failed", submission_id)
        if isinstance(exc, WriteError):  # intake's LoadError, or the records writer's
            message = str(exc)
        else:  # the details are in the log; the clerk gets what to do
            message = _("数据库处理出错(%(t)s),可重新处理;如仍失败请联系平台管理员。") % {
                "t": type(exc).__name__
            }
        _fail(submission_id, _("入库失败,未写入任何记录:%(e)s") % {"e": message}, "load")
    return Submission.objects.get(pk=submission_id)


def _run_engine(submission: Submission):

    spec = CategorySpec.from_db(submission.category.code)
    try:
        # On disk (the default storage): the engine parses the file where it lies, never
        # holding its bytes (a 1,000,000-row CSV is ~470 MB of them).
        source = Path(submission.raw_file.path)
    except NotImplementedError:  # a storage without local paths
        with submission.raw_file.open("rb") as fh:
            source = fh.read()
    return run_engine(
        source,
        submission.filename,
        spec,
        receipt_date=timezone.localtime(submission.received_at).date(),
        allowed_source_usccs=allowed_source_usccs(submission.department),
        saved_mapping=saved_mapping(submission.department_id, submission.category_id),
        mapping_override=submission.mapping_override or None,
        sha256=submission.sha256 or None,
    )


def _load(submission_id: int, result, engine_seconds: float) -> None:
    with transaction.atomic():
        submission = (
            Submission.objects.select_for_update()
            .select_related("department", "category")
            .get(pk=submission_id)
        )
        if submission.status == Submission.Status.DONE:
            return  # another worker finished it while this one was running the engine
        t0 = time.perf_counter()
        loaded = loading.load_accepted(submission, _accepted_frame(result))
        t1 = time.perf_counter()
        RowError.objects.filter(submission=submission).delete()
        # At most PUBCREDIT_INTAKE_MAX_STORED_ERRORS problems are kept (in file order); every
        # problem is counted per rule in `error_totals`.
        errors, totals = cap_errors(result.errors, max_stored_errors())
        if errors.height:
            frame = _masked_errors(errors, submission.category_id).with_columns(
                pl.lit(submission.pk).alias("submission_id")
            )
            bulk_copy(
                RowError,
                [
                    "submission_id",
                    "row",
                    "field",
                    "field_name",
                    "value",
                    "rule",
                    "message",
                    "severity",
                ],
                frame,
            )
        error_count = sum(t["count"] for t in totals if t["severity"] == RowError.Severity.ERROR)
        warning_count = sum(t["count"] for t in totals) - error_count
        mapping = _mapping_dicts(getattr(result, "mapping", None))
        _save_mapping(submission, mapping)
        t2 = time.perf_counter()

        timings = dict(getattr(result, "timings", None) or {})
        timings["engine"] = round(engine_seconds, 3)
        timings.update(loaded.timings)
        # "load" is the write of the records; the flow after it is "derived" (records.changes).
        timings["load"] = round(t1 - t0 - loaded.timings.get("derived", 0.0), 3)
        timings["errors"] = round(t2 - t1, 3)
        before = _snapshot(submission)
        submission.rows = _count(result, "rows")
        submission.accepted = (
            result.accepted_count
            if hasattr(result, "accepted_count")
            else _accepted_frame(result).height
        )
        submission.rejected = _count(result, "rejected")
        submission.inserted = loaded.inserted
        submission.updated = loaded.updated
        submission.unchanged = loaded.unchanged
        submission.late = _count(result, "late")
        submission.duplicates = _count(result, "duplicates")
        submission.review = loaded.review
        submission.error_count = error_count
        submission.warning_count = warning_count
        submission.errors_stored = errors.height
        submission.error_totals = totals
        submission.mapping = {"columns": mapping}
        submission.extra_columns = list(getattr(result, "extra_columns", None) or [])
        submission.timings = timings
        submission.status = Submission.Status.DONE
        submission.progress = 100
        submission.error_message = ""
        submission.failure = ""
        submission.finished_at = timezone.now()
        # What derives from the records (publicity, list entries, commitments, flags) was
        # brought up to date by the loader's write (records.changes), timed as "derived".
        submission.save()
        if loaded.subjects_created:
            transaction.on_commit(backfill_subject_name_keys.enqueue)
        record_event(
            _principal_for(submission),
            "intake.load",
            submission,
            before=before,
            after={**submission.summary(), "subjects_created": loaded.subjects_created},
        )


# --------------------------------------------------------------------------- errors and reports


def submission_errors(submission: Submission) -> pl.DataFrame:
    """The submission's row errors as a frame (row, field, field_name, value, rule, message,
    severity), in file order: what the error report (xlsx/JSON) is made from."""
    rows = RowError.objects.filter(submission=submission).order_by("row", "id")
    columns = ["row", "field", "field_name", "value", "rule", "message", "severity"]
    data = list(rows.values_list(*columns))
    return pl.DataFrame(
        data,
        schema={
            "row": pl.Int64,
            "field": pl.String,
            "field_name": pl.String,
            "value": pl.String,
            "rule": pl.String,
            "message": pl.String,
            "severity": pl.String,
        },
        orient="row",
    )


# --------------------------------------------------------------------------- review queue


@transaction.atomic
def resolve_match(principal: Principal, review: MatchReview, subject: Subject) -> MatchReview:
    """Confirm that the record waiting in `review` belongs to `subject`.

    Guarantees: requires "subjects.change" and a review the principal's scope covers; the review
    must still be open (a resolved one is refused); the record's subject is set (its link
    becomes 人工确认) without touching its content or version; any other open review of the
    same department and category for the same normalised name is left open (staff decide each);
    one audit event "intake.resolve_match" with before/after, in the same transaction."""
    principal.require("subjects.change")
    scoped = restrict(MatchReview.objects.all(), principal, "subjects.change")
    locked = scoped.select_for_update().filter(pk=review.pk).first()
    if locked is None:
        raise PermissionDenied(_("无权处理该待确认记录。"))
    if locked.status != MatchReview.Status.OPEN:
        raise ValidationError({"status": [_("该待确认记录已处理。")]})
    if locked.subject_kind and (subject.kind == "person") != (locked.subject_kind == "person"):
        raise ValidationError({"subject": [_("所选主体的类别与记录不一致。")]})
    before = snapshot(locked)
    record = link_subject(locked.record_id, subject, SubjectLink.MANUAL)
    locked.status = MatchReview.Status.RESOLVED
    locked.resolved_subject = subject
    locked.resolved_by = principal.user
    locked.resolved_at = timezone.now()
    locked.save(update_fields=["status", "resolved_subject", "resolved_by", "resolved_at"])
    record_event(
        principal,
        "intake.resolve_match",
        locked,
        before=before,
        after={**snapshot(locked), "record": record.pk, "subject": subject.pk},
    )
    return locked
