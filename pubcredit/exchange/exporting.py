"""上报: incremental export of 双公示 and list data in the national exchange format.

A batch holds what changed since the last ACKNOWLEDGED batch's `until` (the watermark) up to
now: per category (行政许可 XK, 行政处罚 CF and the categories that carry lists) the current
records whose content or status changed in the range, and the list entries identified in the
console (those that came through intake travel as their records). Columns are the national
basic catalogue's field codes as the catalogue holds them, after the exchange's own columns:

- CZLX 操作类型: 新增 (created in the range), 变更 (a correction: the superseded version is
  replaced by the one sent), 撤销 (withdrawn; the row carries the record's content);
- BBH 版本号, BSBMDM 报送部门编码, CXYY 撤销原因, CXSJ 撤销时间.

Document numbers (证件号码) are sent in clear (the receiving platform links subjects by them):
the files are for the exchange, never for download by the public.

Files per category `<CODE>.json` (the canonical content: the digest is computed from these),
`<CODE>.csv` and `<CODE>.xlsx` (text cells formula_safe), `MD.*` for the console's list entries
and `manifest.json` (batch id, range, digest, files' sha256, counts). The digest covers the
json files only: a workbook written again carries new timestamps, hence a new sha256.

Idempotent: exporting again while a batch for the same watermark is not acknowledged yields
that batch (same id, same digest) when nothing changed; when something did, the unacknowledged
batch is superseded by a new one covering the whole range.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import polars as pl
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Max, Q
from django.utils import timezone

from pubcredit.catalog.models import Category
from pubcredit.core.spreadsheets import formula_safe_frame
from pubcredit.exchange.models import BatchStatus, ExportBatch
from pubcredit.lists.models import EntrySource, EntryStatus, ListEntry, ListType
from pubcredit.records.models import Record, RecordStatus
from pubcredit.subjects import crypto

DEFAULT_CATEGORIES = ("XK", "CF")
EPOCH = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)

OP_NEW = "新增"
OP_UPDATE = "变更"
OP_WITHDRAW = "撤销"
RECORD_META = ("CZLX", "BBH", "BSBMDM", "CXYY", "CXSJ")
LIST_FILE = "MD"
LIST_COLUMNS = (
    "CZLX",
    "MDLX",
    "ZTMC",
    "ZTLB",
    "TYSHXYDM",
    "ZJHM",
    "RDBMDM",
    "RDYJ",
    "RDWSH",
    "RDRQ",
    "YXQZ",
    "YXQZI",
    "CXYY",
    "CXSJ",
)


@dataclass
class Content:
    frames: dict[str, pl.DataFrame]  # file stem → rows
    records: int
    list_entries: int
    withdrawals: int


def exported_categories() -> list[Category]:
    """XK, CF (setting PUBCREDIT_EXCHANGE_CATEGORIES) and the categories that carry lists."""
    codes = set(getattr(settings, "PUBCREDIT_EXCHANGE_CATEGORIES", DEFAULT_CATEGORIES))
    list_categories = ListType.objects.filter(category__isnull=False).values("category_id")
    return list(
        Category.objects.filter(Q(code__in=codes) | Q(pk__in=list_categories)).order_by("code")
    )


def watermark() -> dt.datetime:
    """The `until` of the last acknowledged batch (the start of everything before it)."""
    last = ExportBatch.objects.filter(status=BatchStatus.ACKNOWLEDGED).aggregate(m=Max("until"))
    return last["m"] or EPOCH


def safe_until(now: dt.datetime) -> dt.datetime:
    """The end of a batch: `now`, or on PostgreSQL just before the start of the oldest other
    transaction still open in this database. A record's `updated_at` (and a list entry's) is
    taken inside the transaction that writes it, so every row stamped at or before this end is
    committed and visible: a load still running when the batch is cut goes to the next batch
    instead of being skipped for good by the moved watermark."""
    if connection.vendor != "postgresql":
        return now
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT min(xact_start) FROM pg_stat_activity
               WHERE datname = current_database() AND pid <> pg_backend_pid()
                 AND xact_start IS NOT NULL"""
        )
        (oldest,) = cursor.fetchone()
    if oldest is None or oldest > now:
        return now
    return oldest - dt.timedelta(microseconds=1)


def _iso(value) -> str:
    return timezone.localtime(value).isoformat(timespec="seconds") if value else ""


def _clear(data: dict, sealed: dict | None) -> dict:
    if not sealed:
        return data
    out = dict(data)
    for code, cipher in sealed.items():
        out[code] = crypto.decrypt_id(base64.urlsafe_b64decode(cipher))
    return out


def _record_frame(category: Category, since, until) -> pl.DataFrame:
    """One query: the category's records whose content or status changed in (since, until]."""
    codes = list(category.fields.order_by("sort_order", "id").values_list("code", flat=True))
    changed = Q(updated_at__gt=since, updated_at__lte=until) | Q(
        status_changed_at__gt=since, status_changed_at__lte=until
    )
    rows = (
        Record.objects.filter(category=category)
        .filter(changed)
        .order_by("department__code", "business_key")
        .values_list(
            "department__code",
            "version",
            "created_at",
            "status",
            "status_reason",
            "status_changed_at",
            "data",
            "sealed",
        )
    )
    schema = {c: pl.String for c in (*RECORD_META, *codes)}
    out = []
    for dept, version, created, status, reason, changed_at, data, sealed in rows.iterator():
        withdrawn = status == RecordStatus.WITHDRAWN
        values = _clear(data or {}, sealed)
        out.append(
            {
                "CZLX": OP_WITHDRAW if withdrawn else (OP_NEW if created > since else OP_UPDATE),
                "BBH": str(version),
                "BSBMDM": dept,
                "CXYY": reason if withdrawn else "",
                "CXSJ": _iso(changed_at) if withdrawn else "",
                **{c: _text(values.get(c)) for c in codes},
            }
        )
    return pl.DataFrame(out, schema=schema, orient="row") if out else pl.DataFrame(schema=schema)


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return ";".join(str(v) for v in value)
    return str(value)


def _list_frame(since, until) -> pl.DataFrame:
    """One query: the console's list entries changed in (since, until]."""
    rows = (
        ListEntry.objects.filter(
            source=EntrySource.CONSOLE, updated_at__gt=since, updated_at__lte=until
        )
        .order_by("list_type__code", "subject_id", "valid_from")
        .values_list(
            "list_type__code",
            "subject_name",
            "subject__kind",
            "subject__uscc",
            "subject__id_cipher",
            "identified_by__code",
            "basis",
            "document_number",
            "decided_on",
            "valid_from",
            "valid_to",
            "status",
            "status_reason",
            "status_changed_at",
            "created_at",
        )
    )
    out = []
    for (lt, name, kind, uscc, cipher, dept, basis, doc, decided, start, end, status, reason,
         changed_at, created) in rows.iterator():  # fmt: skip
        removed = status == EntryStatus.REMOVED
        out.append(
            (
                OP_WITHDRAW if removed else (OP_NEW if created > since else OP_UPDATE),
                lt,
                name,
                kind,
                uscc or "",
                crypto.decrypt_id(cipher) if cipher else "",
                dept or "",
                basis,
                doc,
                decided.isoformat(),
                start.isoformat(),
                end.isoformat() if end else "",
                reason if removed else "",
                _iso(changed_at) if removed else "",
            )
        )
    schema = {c: pl.String for c in LIST_COLUMNS}
    return pl.DataFrame(out, schema=schema, orient="row") if out else pl.DataFrame(schema=schema)


def build_content(since, until) -> Content:
    frames: dict[str, pl.DataFrame] = {}
    records = withdrawals = 0
    for category in exported_categories():
        frame = _record_frame(category, since, until)
        if frame.height:
            frames[category.code] = frame
            gone = frame.filter(pl.col("CZLX") == OP_WITHDRAW).height
            withdrawals += gone
            records += frame.height - gone
    entries = _list_frame(since, until)
    removed = 0
    if entries.height:
        frames[LIST_FILE] = entries
        removed = entries.filter(pl.col("CZLX") == OP_WITHDRAW).height
    return Content(frames, records, entries.height - removed, withdrawals + removed)


def _json_bytes(frame: pl.DataFrame) -> bytes:
    return json.dumps(frame.to_dicts(), ensure_ascii=False, sort_keys=True, indent=1).encode()


def digest_of(content: Content) -> str:
    h = hashlib.sha256()
    for stem in sorted(content.frames):
        h.update(stem.encode() + b"\0" + hashlib.sha256(_json_bytes(content.frames[stem])).digest())
    return h.hexdigest()


def write_files(content: Content, directory: Path) -> dict[str, str]:
    """Write json, csv and xlsx per file stem; returns {file name: sha256}."""
    directory.mkdir(parents=True, exist_ok=True)
    files: dict[str, str] = {}
    for stem in sorted(content.frames):
        frame = content.frames[stem]
        (directory / f"{stem}.json").write_bytes(_json_bytes(frame))
        safe = formula_safe_frame(frame)
        safe.write_csv(directory / f"{stem}.csv")
        safe.write_excel(directory / f"{stem}.xlsx", worksheet=stem, autofit=False)
        for suffix in ("json", "csv", "xlsx"):
            name = f"{stem}.{suffix}"
            files[name] = hashlib.sha256((directory / name).read_bytes()).hexdigest()
    return files


def default_directory(batch: ExportBatch) -> Path:
    return Path(settings.MEDIA_ROOT) / "exchange" / batch.batch_id


def manifest(batch: ExportBatch) -> dict:
    return {
        "batch": batch.batch_id,
        "sequence": batch.sequence,
        "since": batch.since.isoformat(),
        "until": batch.until.isoformat(),
        "digest": batch.digest,
        "files": batch.files,
        "records": batch.records,
        "list_entries": batch.list_entries,
        "withdrawals": batch.withdrawals,
    }


def export_batch(
    *,
    since: dt.datetime | None = None,
    out: Path | str | None = None,
    now=None,
    skip_empty: bool = False,
) -> ExportBatch | None:
    """The batch of what changed since `since` (default: the watermark) up to now, its files
    written to `out` (default MEDIA_ROOT/exchange/<batch id>). See the module docstring for the
    idempotency rule. With `skip_empty`, nothing is made (None) when nothing changed and no
    batch for this watermark is waiting."""
    since = since or watermark()
    with transaction.atomic():
        until = safe_until(now or timezone.now())
        pending = (
            ExportBatch.objects.select_for_update()
            .filter(since=since, status__in=[BatchStatus.PENDING, BatchStatus.SENT])
            .order_by("-sequence")
            .first()
        )
        content = build_content(since, until)
        digest = digest_of(content)
        if skip_empty and pending is None and not content.frames:
            return None
        if pending is not None and pending.digest == digest:
            batch = pending  # same content: the same batch, its range unchanged
        else:
            if pending is not None:
                pending.status = BatchStatus.SUPERSEDED
                pending.save(update_fields=["status"])
            last = ExportBatch.objects.aggregate(m=Max("sequence"))["m"] or 0
            batch = ExportBatch.objects.create(
                sequence=last + 1,
                since=since,
                until=until,
                digest=digest,
                records=content.records,
                list_entries=content.list_entries,
                withdrawals=content.withdrawals,
            )
        directory = Path(out) if out else default_directory(batch)
        batch.files = write_files(content, directory)
        batch.directory = str(directory)
        batch.save(update_fields=["files", "directory"])
        (directory / "manifest.json").write_text(
            json.dumps(manifest(batch), ensure_ascii=False, indent=1), encoding="utf-8"
        )
    return batch
