"""Batch credit checks (批量核查): a file of up to 100,000 subjects checked set-based.

The file (.xlsx/.xls/.csv, read by the intake reader) has a code column (统一社会信用代码 and/or
身份证号, or one mixed 代码 column) or a name column, and a 事项 column (code or name) unless the
batch names one matter for every row. Columns are found by their header (see HEADERS).

`run_batch` does per file what `checks.run_check` does per subject, with the same rules, but
set-based: identifiers are validated column-wise (numpy/polars, subjects.bulk_checks), subjects
are found with one `IN` query per 10,000 codes (persons by blind index), the check read model is
read in bulk (`measures.applicability.applicable_measures_many`), and the checks are logged with
one bulk write (PostgreSQL COPY). The same semantics as a single check, with one difference for names:
a row with only a name is identified when the name equals the current name of exactly one
organisation / 个体工商户; otherwise the row is "未能唯一确定" (several) or "未找到" (none) and
nothing is asserted — near-name candidates need an interactive check (window page or API).

Results: one row per input row, in input order, as xlsx (for a workbook upload) or UTF-8 csv
with BOM (Excel opens it), with the check number of each row and the commitments in force
(信用承诺) of each subject checked, as a single check lists them, and its credit grade: the general
scorecard's grade (信用等级, 未评价 when never evaluated) with the scorecard, version, score and 评价
基准日, and the sector grades (行业信用评价), read set-based (`scoring.current.current_grades_many`,
one query per 2,000 subjects) and kept in each row's logged answer (`grade`, `sector_grades`) as a
single check keeps them. Persons are masked in the results file and the log (the clear 身份证号 of
the upload stays only in the uploaded file), and their 个人信用积分 is never read nor shown: it is
not public and a results file is a download (a staff member sees it in a single check).

A batch is all or nothing: the checks and the "done" state commit together; a crashed run can
be run again (`run_batch` on a batch that is not done starts over).
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import time
from dataclasses import dataclass
from pathlib import Path

import polars as pl
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from pubcredit.accounts.permissions import Principal
from pubcredit.catalog.headers import normalise_header
from pubcredit.catalog.models import SubjectKind
from pubcredit.checks.answers import (
    QUERY_KEYS,
    answer_json,
    answer_own,
    answer_shared,
    applicability_json,
    conclusion_for,
    grades_json,
    hit_json,
    labels_translated_once,
    measures_json,
    name_caution,
)
from pubcredit.checks.models import CheckBatch, CheckChannel, CheckOutcome, CreditCheck
from pubcredit.checks.services import (
    ACTION,
    ALL_CHECKS_ROLES,
    NAME_KINDS,
    plain_text,
    resolve_matter,
)
from pubcredit.checks.tasks import run_batch_task
from pubcredit.commitments.queries import commitments_in_force
from pubcredit.core.bulkload import bulk_copy, reserve_ids
from pubcredit.core.jobs import retry_locked
from pubcredit.core.spreadsheets import formula_safe_frame
from pubcredit.intake.engine.reading import ROW, UnreadableFile
from pubcredit.intake.engine.untrusted import RefusedFile, read_untrusted
from pubcredit.measures import rules as rules_mod
from pubcredit.measures.applicability import applicable_measures_many
from pubcredit.scoring.current import current_grades_many
from pubcredit.subjects import crypto
from pubcredit.subjects.bulk_checks import normalize_identifier_expr, ric_verdicts, uscc_verdicts
from pubcredit.subjects.models import FormerName, Subject
from pubcredit.subjects.names import mask_person_name, normalize_names
from pubcredit.subjects.services import person_id_index

log = logging.getLogger(__name__)

MAX_ROWS = 100_000
MAX_BYTES = 50 * 1024 * 1024
SUFFIXES = (".xlsx", ".xlsm", ".xls", ".csv", ".txt")
LOOKUP_CHUNK = 10_000

# Header spellings (normalised with catalog.headers.normalise_header) of the columns we use.
HEADERS = {
    "uscc": ("统一社会信用代码", "社会信用代码", "信用代码", "uscc", "xdr_shxym"),
    "id": ("身份证号", "身份证号码", "证件号码", "公民身份号码", "id_number", "idnumber"),
    "code": ("代码", "号码", "主体代码", "code", "统一社会信用代码或身份证号"),
    "name": ("名称", "主体名称", "企业名称", "单位名称", "姓名", "name", "xdr_mc"),
    "matter": ("事项", "核查事项", "事项编码", "事项名称", "matter"),
}
_LOOKUP = {normalise_header(s): role for role, spellings in HEADERS.items() for s in spellings}

OUTCOME_SHORT = {
    "uscc": gettext_lazy("统一社会信用代码一致"),
    "id_number": gettext_lazy("证件号码一致"),
    "name_exact": gettext_lazy("名称一致(唯一)"),
    "ambiguous": gettext_lazy("名称未能唯一确定主体"),
    "not_found": gettext_lazy("未找到主体"),
    "invalid": gettext_lazy("号码或事项无效"),
}


# --------------------------------------------------------------------------- submit / read


def submit_batch(
    principal: Principal, upload, *, filename: str, matter: str | None = None
) -> CheckBatch:
    """Store an uploaded file as a batch and enqueue its check (after commit).

    Guarantees: requires "checks.run"; the file is .xlsx/.xls/.csv, not empty, at most 50 MB;
    `matter`, when given, is an active matter (it applies to rows without their own). The file
    is kept untouched with its sha256. Raises ValidationError (Chinese)."""
    principal.require(ACTION)
    filename = Path(plain_text(filename, 255) or "upload").name or "upload"
    if Path(filename).suffix.lower() not in SUFFIXES:
        raise ValidationError({"file": [_("请上传 xlsx、xls 或 csv 文件。")]})
    data = upload.read() if hasattr(upload, "read") else bytes(upload)
    if not data:
        raise ValidationError({"file": [_("文件为空。")]})
    if len(data) > MAX_BYTES:
        raise ValidationError({"file": [_("文件过大(不超过 50 MB)。")]})
    matter_id = resolve_matter(matter).id if matter else None
    with transaction.atomic():
        batch = CheckBatch(
            filename=filename,
            sha256=hashlib.sha256(data).hexdigest(),
            matter_id=matter_id,
            user=principal.user,
            api_key=principal.api_key,
            actor_label=principal.label[:150],
            department_id=principal.department_id,
        )
        batch.upload.save(filename, ContentFile(data), save=False)
        batch.save()
        batch_id = batch.pk
        transaction.on_commit(lambda: run_batch_task.enqueue(batch_id))
    batch.refresh_from_db()
    return batch


def visible_batches(principal: Principal):
    if not principal.can(ACTION):
        return CheckBatch.objects.none()
    qs = CheckBatch.objects.all()
    if principal.role in ALL_CHECKS_ROLES:
        return qs
    if principal.api_key is not None:
        return qs.filter(api_key=principal.api_key)
    if principal.department_id:
        return qs.filter(department_id=principal.department_id)
    return qs.filter(user=principal.user)


def get_batch(principal: Principal, batch_id: int) -> CheckBatch:
    principal.require(ACTION)
    return visible_batches(principal).get(pk=batch_id)


def result_filename(batch: CheckBatch) -> str:
    stem = Path(batch.filename).stem or "batch"
    suffix = Path(batch.result_file.name).suffix if batch.result_file else ".csv"
    return f"{stem}-核查结果{suffix}"


# --------------------------------------------------------------------------- run


class BatchError(Exception):
    """A problem with the file itself; the message is one Chinese line for the clerk."""


def _header_score(cells) -> float:
    return sum(1 for c in cells if c and normalise_header(str(c)) in _LOOKUP)


def _columns(table) -> dict[str, str]:
    found: dict[str, str] = {}
    for header, column in zip(table.headers, table.columns, strict=False):
        role = _LOOKUP.get(normalise_header(header or ""))
        if role and role not in found:
            found[role] = column
    return found


@retry_locked
def _progress(batch_id: int, percent: int) -> None:
    CheckBatch.objects.filter(pk=batch_id).update(progress=percent)


def run_batch(batch_id: int, *, today=None) -> CheckBatch:
    """Check every row of the batch's file and write the results file (see module docstring).
    A batch already done is returned as is. On a problem with the file the batch is marked
    failed with a Chinese message; on any other error too (logged), and the checks of the run
    are rolled back."""
    batch = CheckBatch.objects.get(pk=batch_id)
    if batch.status == CheckBatch.Status.DONE:
        return batch
    CheckBatch.objects.filter(pk=batch_id).update(
        status=CheckBatch.Status.RUNNING, started_at=timezone.now(), progress=0, error_message=""
    )
    try:
        _run(batch, today or timezone.localdate())
    except (BatchError, UnreadableFile) as exc:
        _fail(batch_id, str(exc))
    except Exception:
        log.exception("batch check %s failed", batch_id)
        _fail(batch_id, _("批量核查出错,请稍后重试或联系平台管理员。"))
    return CheckBatch.objects.get(pk=batch_id)


@retry_locked
def _fail(batch_id: int, message: str) -> None:
    CheckBatch.objects.filter(pk=batch_id).update(
        status=CheckBatch.Status.FAILED, error_message=message, finished_at=timezone.now()
    )


@dataclass
class _Table:
    frame: pl.DataFrame
    headers: list[str]
    columns: list[str]

    @property
    def rows(self) -> int:
        return self.frame.height


def _read_simple(data: bytes, filename: str) -> _Table:
    """A file whose header is its first row, read with polars. The intake reader wants a header
    of at least two cells; a batch file is often one column (names, or codes)."""
    if data[:4] == b"PK\x03\x04" or data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        frame = pl.read_excel(io.BytesIO(data), engine="calamine", infer_schema_length=0)
    else:
        for encoding in ("utf-8-sig", "gb18030"):
            try:
                text = data.decode(encoding)
                break
            except UnicodeDecodeError:
                continue
        else:
            raise UnreadableFile(_("无法识别文件的字符编码,请另存为 UTF-8 编码的 csv 文件"))
        frame = pl.read_csv(text.encode(), infer_schema_length=0)
    frame = frame.select(pl.all().cast(pl.String)).filter(
        ~pl.all_horizontal(pl.all().is_null() | (pl.all().str.strip_chars() == ""))
    )
    headers = list(frame.columns)
    frame = frame.with_row_index(ROW, offset=2).with_columns(pl.col(ROW).cast(pl.Int64))
    return _Table(frame, headers, headers)


def _read(batch: CheckBatch) -> tuple[pl.DataFrame, dict[str, str]]:
    with batch.upload.open("rb") as fh:
        data = fh.read()
    try:
        # In a limited child process: an upload may be built to exhaust the reader.
        table = read_untrusted(data, batch.filename, header_score=_header_score)
    except RefusedFile:
        raise  # over the limits: no second reader tries it
    except UnreadableFile:
        table = _read_simple(data, batch.filename)
        if not _columns(table):
            raise
    cols = _columns(table)
    if not ({"uscc", "id", "code", "name"} & cols.keys()):
        raise BatchError(
            _("文件中没有找到“统一社会信用代码”“身份证号”“代码”或“名称”列。请检查表头。")
        )
    if "matter" not in cols and batch.matter_id is None:
        raise BatchError(_("文件中没有“事项”列,请在上传时选择核查事项。"))
    if table.rows > MAX_ROWS:
        raise BatchError(
            _("文件有 %(n)d 行,超过批量核查上限 %(max)d 行。") % {"n": table.rows, "max": MAX_ROWS}
        )
    if table.rows == 0:
        raise BatchError(_("文件中没有数据行。"))
    frame = table.frame
    pick = {ROW: pl.col(ROW)}
    for role in ("uscc", "id", "code", "name", "matter"):
        pick[role] = (
            pl.col(cols[role]).cast(pl.String).str.strip_chars()
            if role in cols
            else pl.lit(None, dtype=pl.String)
        )
    return frame.select(**pick), cols


def _classify(frame: pl.DataFrame) -> pl.DataFrame:
    """Adds `code` (normalised), `qkind` (uscc / id / name / invalid / empty) and `shown` (what
    the results file and log show: the code, a masked ID number or the name)."""
    norm = frame.select(
        u=normalize_identifier_expr(pl.col("uscc")),
        i=normalize_identifier_expr(pl.col("id")),
        c=normalize_identifier_expr(pl.col("code")),
    )
    code = norm.select(pl.coalesce("u", "i", "c")).to_series()
    uscc_bad = uscc_verdicts(code).get_column("rule").is_not_null()
    ric_bad = ric_verdicts(code).get_column("rule").is_not_null()
    has_code = code.is_not_null()
    has_name = frame.get_column("name").fill_null("").str.len_chars() > 0
    out = frame.with_columns(code=code, _u=~uscc_bad & has_code, _r=~ric_bad & has_code)
    qkind = (
        pl.when(pl.col("_u"))
        .then(pl.lit("uscc"))
        .when(pl.col("_r"))
        .then(pl.lit("id"))
        .when(pl.col("code").is_not_null())
        .then(pl.lit("invalid"))
        .when(has_name)
        .then(pl.lit("name"))
        .otherwise(pl.lit("empty"))
    )
    return out.with_columns(qkind=qkind).drop("_u", "_r")


def _subjects_by(field: str, values: list[str], kinds=None) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    fields = ("id", "kind", "name", "uscc", "id_masked", "region", field)
    for i in range(0, len(values), LOOKUP_CHUNK):
        qs = Subject.objects.filter(**{f"{field}__in": values[i : i + LOOKUP_CHUNK]})
        if kinds:
            qs = qs.filter(kind__in=kinds)
        for row in qs.values(*dict.fromkeys(fields)):
            out.setdefault(row[field], []).append(row)
    return out


def _former_name_users(norms: list[str]) -> dict[str, set[int]]:
    """{normalised name: ids of the organisations / 个体工商户 that used it as a former name}."""
    out: dict[str, set[int]] = {}
    for i in range(0, len(norms), LOOKUP_CHUNK):
        rows = FormerName.objects.filter(
            name_norm__in=norms[i : i + LOOKUP_CHUNK], subject__kind__in=NAME_KINDS
        ).values_list("name_norm", "subject_id")
        for norm, subject_id in rows:
            out.setdefault(norm, set()).add(subject_id)
    return out


def _matters(frame: pl.DataFrame, default_id: int | None, rules) -> pl.Series:
    """The matter id of each row (null: unknown matter): the 事项 cell by code or name, else
    the batch's default."""
    by_text = {}
    for m in rules.matters.values():
        if m.active:
            by_text[m.code.upper()] = m.id
            by_text[m.name] = m.id
    cells = frame.get_column("matter")
    distinct = [v for v in cells.unique().to_list() if v]
    mapping = {v: by_text.get(v.strip()) or by_text.get(v.strip().upper()) for v in distinct}
    ids = [
        (mapping.get(v) if v else default_id) for v in cells.to_list()
    ]  # one dict lookup per row: cheap next to the queries
    return pl.Series("matter_id", ids, dtype=pl.Int64)


def _run(batch: CheckBatch, day) -> None:
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    frame, _cols = _read(batch)
    timings["read"] = round(time.perf_counter() - t0, 3)
    _progress(batch.pk, 15)

    t = time.perf_counter()
    rules = rules_mod.current_rules()
    frame = _classify(frame)
    frame = frame.with_columns(_matters(frame, batch.matter_id, rules))
    n = frame.height
    qkinds = frame.get_column("qkind").to_list()
    codes = frame.get_column("code").to_list()
    names_in = frame.get_column("name").to_list()

    uscc_values = sorted({c for c, k in zip(codes, qkinds, strict=True) if k == "uscc"})
    ric_values = sorted({c for c, k in zip(codes, qkinds, strict=True) if k == "id"})
    index_of = {v: person_id_index(v) for v in ric_values}
    name_rows = [i for i, k in enumerate(qkinds) if k == "name"]
    name_norms = normalize_names([names_in[i] for i in name_rows])
    norm_of_row = dict(zip(name_rows, (s[:200] for s in name_norms), strict=True))

    by_uscc = _subjects_by("uscc", uscc_values)
    by_index = _subjects_by("id_index", sorted(set(index_of.values())))
    distinct_names = sorted(set(norm_of_row.values()))
    by_name = _subjects_by("name_norm", distinct_names, kinds=NAME_KINDS)
    former_users = _former_name_users(distinct_names)
    timings["lookup"] = round(time.perf_counter() - t, 3)
    _progress(batch.pk, 40)

    t = time.perf_counter()
    subject_of: list[dict | None] = [None] * n
    match_of: list[str] = [""] * n
    for i, k in enumerate(qkinds):
        if k == "uscc":
            rows = by_uscc.get(codes[i])
            match_of[i] = "uscc" if rows else "not_found"
        elif k == "id":
            rows = by_index.get(index_of[codes[i]])
            match_of[i] = "id_number" if rows else "not_found"
        elif k == "name":
            # As a single check: asserted only when the name is the current name of exactly one
            # subject and no other subject used it before (曾用名).
            rows = by_name.get(norm_of_row[i]) or []
            others = former_users.get(norm_of_row[i], set()) - {r["id"] for r in rows}
            if len(rows) == 1 and not others:
                match_of[i] = "name_exact"
            else:
                match_of[i] = "ambiguous" if rows or others else "not_found"
                rows = None
        else:
            rows = None
            match_of[i] = "invalid"
        subject_of[i] = rows[0] if rows else None

    matter_ids = frame.get_column("matter_id").to_list()
    matter_by_id = {m.id: m for m in rules.matters.values()}
    apps: dict[tuple[int, int], object] = {}
    wanted: dict[int, set[int]] = {}
    for i in range(n):
        if subject_of[i] is not None and matter_ids[i] is not None:
            wanted.setdefault(matter_ids[i], set()).add(subject_of[i]["id"])
    kinds = {s["id"]: s["kind"] for s in subject_of if s is not None}
    for mid, sids in wanted.items():
        found = applicable_measures_many(sids, matter_by_id[mid].code, day, subject_kinds=kinds)
        for sid, app in found.items():
            apps[(sid, mid)] = app
    commitments = commitments_in_force(kinds, day)
    # Current grades: one query per 2,000 subjects; persons' points are never in a batch.
    grades = current_grades_many(sid for sid, kind in kinds.items() if kind != SubjectKind.PERSON)
    timings["evaluate"] = round(time.perf_counter() - t, 3)
    _progress(batch.pk, 65)

    t = time.perf_counter()
    with labels_translated_once():
        out_rows, check_rows, check_of_row = _rows(
            batch, day, frame, subject_of, match_of, matter_by_id, apps, commitments, grades
        )
    counts = {"invalid": n - len(check_rows)}
    for row in check_rows:
        counts[row[4]] = counts.get(row[4], 0) + 1
    timings["results"] = round(time.perf_counter() - t, 3)
    _progress(batch.pk, 75)

    t = time.perf_counter()
    now = timezone.now()
    with transaction.atomic():
        ids = _new_ids(len(check_rows))
        day_text = f"{timezone.localtime(now):%Y%m%d}"
        numbers = [f"HC{day_text}{ids[j]:010d}" if j is not None else "" for j in check_of_row]
        results = pl.DataFrame(out_rows, orient="row", schema=list(_labels()["columns"]))
        results = results.with_columns(pl.Series(_("核查编号"), numbers, dtype=pl.String))
        content, suffix = _results_file(results, batch.filename)
        log = pl.DataFrame(
            check_rows,
            orient="row",
            schema={
                "matter_id": pl.Int64,
                "query_kind": pl.String,
                "query_value": pl.String,
                "subject_id": pl.Int64,
                "outcome": pl.String,
                "hit_count": pl.Int32,
                "punishment_count": pl.Int32,
                "reward_count": pl.Int32,
                "result": pl.String,
            },
        ).with_columns(
            id=pl.Series(ids, dtype=pl.Int64),
            checked_at=pl.lit(now),
            checked_on=pl.lit(day),
            channel=pl.lit(CheckChannel.BATCH.value),
            client=pl.lit(batch.filename[:150]),
            user_id=pl.lit(batch.user_id, dtype=pl.Int64),
            api_key_id=pl.lit(batch.api_key_id, dtype=pl.Int64),
            actor_label=pl.lit(batch.actor_label),
            department_id=pl.lit(batch.department_id, dtype=pl.Int64),
            batch_id=pl.lit(batch.pk, dtype=pl.Int64),
        )
        bulk_copy(CreditCheck, list(log.columns), log)
        name = f"{Path(batch.filename).stem[:80] or 'batch'}-results{suffix}"
        batch.result_file.save(name, ContentFile(content), save=False)
        timings["write"] = round(time.perf_counter() - t, 3)
        timings["total"] = round(time.perf_counter() - t0, 3)
        CheckBatch.objects.filter(pk=batch.pk).update(
            status=CheckBatch.Status.DONE,
            progress=100,
            rows=n,
            counts=counts,
            timings=timings,
            result_file=batch.result_file.name,
            finished_at=timezone.now(),
        )


def _new_ids(n: int) -> list[int]:
    """n primary keys for CreditCheck rows. PostgreSQL: from the identity sequence (no table
    lock, so live checks go on during a batch); elsewhere a reserved block."""
    if connection.vendor == "postgresql":
        table = CreditCheck._meta.db_table
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                [table, n],
            )
            return [r[0] for r in cursor.fetchall()]
    return list(reserve_ids(CreditCheck, n))


def _labels() -> dict:
    """Column names and labels of the results file, translated once per batch."""
    columns = (
        _("行号"),
        _("查询内容"),
        _("核查事项"),
        _("匹配结果"),
        _("主体名称"),
        _("统一社会信用代码/证件号码"),
        _("核查结论"),
        _("命中信息"),
        _("惩戒措施"),
        _("激励措施"),
        _("信用承诺"),
        _("信用等级"),
        _("信用评价"),
        _("评价基准日"),
        _("行业信用评价"),
        _("说明"),
    )
    return {
        "columns": columns,
        "outcome": {value: str(label) for value, label in CheckOutcome.choices},
        "match": {k: str(v) for k, v in OUTCOME_SHORT.items()},
        "unknown_matter": _("未知的核查事项:%(m)s"),
        "invalid": _("号码既不是有效的统一社会信用代码,也不是有效的身份证号:%(c)s"),
        "empty": _("该行没有填写代码或名称。"),
        "ambiguous": _(
            "名称与多个主体的现用名或曾用名相同,未能唯一确定主体,未作核查结论;"
            "请以统一社会信用代码核查。"
        ),
        "not_found": _("主体库中未找到该主体,平台未归集到其信用信息,无法作出核查结论。"),
        "not_graded": _("未评价"),
        "person_grade": _("个人信用积分不公开,不在批量核查结果中显示"),
        "scorecard": _("%(scorecard_name)s(第 %(version)s 版,得分 %(score)s)"),
        "sector_grade": _("%(scorecard_name)s:%(grade)s(%(as_of)s)"),
    }


def _rows(batch, day, frame, subject_of, match_of, matter_by_id, apps, commitments, grades):
    """(results-file rows as tuples, CreditCheck rows as tuples, index of each input row's check
    or None), in input order. A checked subject's commitments in force (`commitments`, by
    subject id) are listed as code (type, accepting department), its current grades (`grades`,
    by subject id, `scoring.current.grade_dicts`) as the general grade with its scorecard,
    version and date, and the sector grades. Strings are translated once; a conclusion is built
    once per distinct (matter, hits, measures)."""
    labels = _labels()
    outcome_label, match_label = labels["outcome"], labels["match"]
    invalid = CheckOutcome.INVALID.value
    row_numbers = frame.get_column(ROW).to_list()
    qkinds = frame.get_column("qkind").to_list()
    codes = frame.get_column("code").to_list()
    names_in = frame.get_column("name").to_list()
    matter_cells = frame.get_column("matter").to_list()
    matter_ids = frame.get_column("matter_id").to_list()
    conclusions: dict[tuple, tuple[str, str]] = {}
    # The measures of each distinct answer (long legal-basis texts) are serialised once and
    # spliced into the log row's text; everything else is the answer as `answer_json` makes it.
    no_hits = {"hits": []}
    empty = {k: v for k, v in applicability_json(None).items() if k not in no_hits}
    measures_text: dict[tuple, str] = {(): json.dumps(empty)[1:-1]}
    rules_version = rules_mod.current_rules().version
    caution = name_caution()
    out_rows, check_rows, check_of_row = [], [], []
    dumps = json.dumps
    for i in range(frame.height):
        k = qkinds[i]
        if k == "uscc":
            shown = codes[i]
        elif k == "id":
            shown = crypto.mask_id(codes[i])
        elif k == "name":
            shown = names_in[i] or ""
        else:
            shown = codes[i] or names_in[i] or ""
        mid = matter_ids[i]
        matter = matter_by_id.get(mid) if mid is not None else None
        subject = subject_of[i]
        hits = punish = rewards = ()
        parts, version, measure_key = no_hits, rules_version, ()
        if matter is None:
            outcome = invalid
            conclusion = labels["unknown_matter"] % {"m": matter_cells[i] or "—"}
        elif k == "invalid":
            outcome, conclusion = invalid, labels["invalid"] % {"c": shown}
        elif k == "empty":
            outcome, conclusion = invalid, labels["empty"]
        elif subject is None:
            ambiguous = match_of[i] == "ambiguous"
            outcome = CheckOutcome.CANDIDATES.value if ambiguous else CheckOutcome.NOT_FOUND.value
            conclusion = labels["ambiguous" if ambiguous else "not_found"]
        else:
            app = apps[(subject["id"], matter.id)]
            hits, punish, rewards = app.hits, app.punishments, app.rewards
            if hits:
                # The conclusion names the hits' lists and categories, not the entries.
                measure_key = (
                    matter.id,
                    tuple(m.code for m in punish),
                    tuple(m.code for m in rewards),
                    tuple(m.code for m in app.withheld_rewards),
                )
                key = (*measure_key, tuple((h.kind, h.source, h.name) for h in hits))
                parts = {"hits": [hit_json(h) for h in hits]}
                if measure_key not in measures_text:
                    measures_text[measure_key] = dumps(measures_json(app), ensure_ascii=False)[1:-1]
            else:
                key = (matter.id,)
            found = conclusions.get(key)
            if found is None:
                found = conclusions[key] = tuple(map(str, conclusion_for(app, matter.name)))
            outcome, conclusion = found
            version = app.rules_version
            if match_of[i] == "name_exact":
                conclusion += caution
        promised = commitments.get(subject["id"], ()) if subject is not None else ()
        graded = grades.get(subject["id"], ()) if subject is not None else ()
        shown_grades = grades_json(list(graded))
        if subject is not None:
            person = subject["kind"] == "person"
            subject_name = mask_person_name(subject["name"]) if person else subject["name"]
            subject_code = subject["id_masked"] if person else (subject["uscc"] or "")
            general = shown_grades["grade"]
            if person:
                grade_cells = (labels["person_grade"], "", "")
            elif general is None:
                grade_cells = (labels["not_graded"], "", "")
            else:
                grade_cells = (
                    general["grade"],
                    labels["scorecard"] % general,
                    general["as_of"],
                )
            sector_cell = "、".join(
                labels["sector_grade"] % g for g in shown_grades["sector_grades"]
            )
        else:
            subject_name = subject_code = sector_cell = ""
            grade_cells = ("", "", "")
        out_rows.append(
            (
                row_numbers[i],
                shown,
                matter.name if matter else (matter_cells[i] or ""),
                match_label.get(match_of[i], match_of[i]),
                subject_name,
                subject_code,
                outcome_label[outcome],
                "、".join(f"{h.name}({h.authority})" for h in hits),
                "、".join(m.name for m in punish),
                "、".join(m.name for m in rewards),
                "、".join(
                    f"{c['code']}({c['commitment_type']},{c['department']})" for c in promised
                ),
                *grade_cells,
                sector_cell,
                conclusion,
            )
        )
        if outcome == invalid:
            # Rejected input (invalid code, unknown matter, empty row) is reported in the
            # results file but is not a check, so it is not logged as one.
            check_of_row.append(None)
            continue
        check_of_row.append(len(check_rows))
        own = answer_own(
            day=day,
            query={QUERY_KEYS[k]: shown},
            match="candidates" if match_of[i] == "ambiguous" else match_of[i],
            subject=subject,
            candidates=[],
            commitments=list(promised),
            grades=list(graded),
        )
        own["batch"] = {"id": batch.pk, "row": row_numbers[i]}
        shared = answer_shared(
            matter=matter,
            parts=parts,  # the hits; the measures are spliced in below
            outcome=outcome,
            conclusion=conclusion,
            rules_version=version,
        )
        measures = measures_text[measure_key]
        text = dumps(answer_json(own=own, shared=shared), ensure_ascii=False)
        check_rows.append(
            (
                matter.id,
                k,
                (shown or "")[:200],
                subject["id"] if subject else None,
                outcome,
                len(hits),
                len(punish),
                len(rewards),
                f"{text[:-1]}, {measures}}}",
            )
        )
    return out_rows, check_rows, check_of_row


def _results_file(results: pl.DataFrame, filename: str) -> tuple[bytes, str]:
    suffix = Path(filename).suffix.lower()
    results = formula_safe_frame(results)  # echoed cells (codes, names) never become formulas
    buffer = io.BytesIO()
    if suffix in (".xlsx", ".xlsm", ".xls"):
        results.write_excel(buffer, worksheet=str(_("核查结果")), autofit=False)
        return buffer.getvalue(), ".xlsx"
    buffer.write(b"\xef\xbb\xbf")
    results.write_csv(buffer)
    return buffer.getvalue(), ".csv"


__all__ = [
    "MAX_ROWS",
    "BatchError",
    "get_batch",
    "result_filename",
    "run_batch",
    "submit_batch",
    "visible_batches",
]
