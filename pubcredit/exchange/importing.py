"""下发 import of an exchange batch directory (the files `exporting` writes, or another
platform's in the same format): records go through intake (intake.services.submit_file, so
records.writing and the records-changed flow do the writing and the lists that derive from
records follow), withdrawals through records.services.withdraw_record, the console's list
entries through lists.services (identify_entry, remove_entry).

The json files are read (the canonical content; csv/xlsx are the same rows for people). Each
(category, department) group is one submission (channel 命令行) of the rows' catalogue fields.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from pubcredit.accounts.permissions import Principal
from pubcredit.catalog.models import Category, Department, Field
from pubcredit.exchange.exporting import LIST_FILE, OP_WITHDRAW, RECORD_META
from pubcredit.intake import services as intake
from pubcredit.intake.models import Submission
from pubcredit.lists import services as lists
from pubcredit.lists.models import EntrySource, EntryStatus, ListEntry, ListType
from pubcredit.records.models import Record, RecordStatus
from pubcredit.records.services import withdraw_record
from pubcredit.subjects import crypto
from pubcredit.subjects.services import register_subject


class ImportRefused(ValueError):
    """The directory is not an exchange batch this platform can take (message in Chinese)."""


@dataclass
class ImportResult:
    batch: str
    records: int = 0
    list_entries: int = 0
    withdrawals: int = 0
    submissions: list[int] = field(default_factory=list)
    rejected: int = 0

    def as_dict(self) -> dict:
        return {
            "batch": self.batch,
            "records": self.records,
            "list_entries": self.list_entries,
            "withdrawals": self.withdrawals,
            "submissions": self.submissions,
            "rejected": self.rejected,
        }


def _read(path: Path) -> list[dict]:
    rows = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
        raise ImportRefused(_("文件 %(f)s 不是交换格式的 JSON 数组。") % {"f": path.name})
    return rows


# 下发 marking: the submissions an import makes carry intake's source (省级下发 / 国家下发).
SOURCES = (Submission.Source.NATIONAL.value, Submission.Source.PROVINCIAL.value)


def import_directory(
    directory: Path | str, principal: Principal | None = None, *, source: str = "national"
) -> ImportResult:
    """Import a batch directory; its submissions are marked as handed down from `source`
    (national or provincial) where intake records a source."""
    if source not in SOURCES:
        raise ImportRefused(_("数据来源无效:%(s)s") % {"s": source})
    directory = Path(directory)
    principal = principal or Principal.system("exchange")
    manifest_path = directory / "manifest.json"
    if not manifest_path.is_file():
        raise ImportRefused(_("目录中没有 manifest.json:%(d)s") % {"d": directory})
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    result = ImportResult(batch=str(manifest.get("batch", "")))
    for path in sorted(directory.glob("*.json")):
        stem = path.stem
        if stem in ("manifest", LIST_FILE):
            continue
        category = Category.objects.filter(code=stem).first()
        if category is None:
            raise ImportRefused(_("未知的信息类别:%(c)s") % {"c": stem})
        _import_records(principal, category, _read(path), result, source)
    list_path = directory / f"{LIST_FILE}.json"
    if list_path.is_file():
        _import_entries(principal, _read(list_path), result)
    return result


def _import_records(principal, category: Category, rows: list[dict], result, source) -> None:
    by_department: dict[str, list[dict]] = {}
    for row in rows:
        by_department.setdefault(row.get("BSBMDM", ""), []).append(row)
    for code, group in sorted(by_department.items()):
        department = Department.objects.filter(code=code).first()
        if department is None:
            raise ImportRefused(_("未知的部门编码:%(c)s") % {"c": code})
        payload = [{k: v for k, v in r.items() if k not in RECORD_META} for r in group]
        submission = intake.submit_file(
            principal,
            department=department,
            category=category,
            source=json.dumps(payload, ensure_ascii=False).encode("utf-8"),
            filename=f"exchange-{category.code}-{department.code}.json",
            channel=Submission.Channel.CLI,
            background=False,
            data_source=source,
        )
        result.submissions.append(submission.pk)
        result.rejected += submission.rejected
        if submission.status != Submission.Status.DONE:
            raise ImportRefused(
                _("类别 %(c)s 部门 %(d)s 的数据入库失败:%(m)s")
                % {"c": category.code, "d": department.code, "m": submission.error_message}
            )
        withdrawn = [r for r in group if r.get("CZLX") == OP_WITHDRAW]
        result.records += len(group) - len(withdrawn)
        for row in withdrawn:
            record = _find_record(category, department, row)
            if record is None:
                continue
            if record.status != RecordStatus.WITHDRAWN:
                withdraw_record(principal, record, row.get("CXYY") or _("上级平台撤销"))
            result.withdrawals += 1


def _find_record(category: Category, department: Department, row: dict) -> Record | None:
    """The current record of a withdrawn row: by the category's business-key fields as stored
    (document numbers masked)."""
    kinds = dict(category.fields.values_list("code", "type"))
    lookup = {}
    for code in category.business_key:
        value = row.get(code) or ""
        if not value:
            continue
        if kinds.get(code) == Field.Type.ID_NUMBER:
            value = crypto.mask_id(value.upper())
        lookup[f"data__{code}"] = value
    if not lookup:
        return None
    return Record.objects.filter(category=category, department=department, **lookup).first()


def _date(value: str) -> dt.date | None:
    return dt.date.fromisoformat(value) if value else None


def _import_entries(principal, rows: list[dict], result) -> None:
    for row in rows:
        with transaction.atomic():
            list_type = ListType.objects.filter(code=row["MDLX"]).first()
            if list_type is None:
                raise ImportRefused(_("未知的名单类型:%(c)s") % {"c": row["MDLX"]})
            subject = register_subject(
                principal,
                kind=row["ZTLB"],
                name=row["ZTMC"],
                uscc=row.get("TYSHXYDM") or None,
                id_number=row.get("ZJHM") or None,
                reason=_("上级平台下发名单"),
            )
            valid_from = _date(row["YXQZ"])
            entry = ListEntry.objects.filter(
                list_type=list_type,
                subject=subject,
                valid_from=valid_from,
                source=EntrySource.CONSOLE,
            ).first()
            if entry is None:
                department = Department.objects.filter(code=row.get("RDBMDM")).first()
                try:
                    entry = lists.identify_entry(
                        principal,
                        list_type=list_type,
                        subject=subject,
                        basis=row["RDYJ"],
                        decided_on=_date(row["RDRQ"]),
                        valid_from=valid_from,
                        valid_to=_date(row.get("YXQZI", "")),
                        document_number=row.get("RDWSH", ""),
                        department=department,
                    )
                except ValidationError as exc:
                    raise ImportRefused(
                        _("名单条目 %(n)s 无法认定:%(m)s") % {"n": row["ZTMC"], "m": exc}
                    ) from exc
            if row.get("CZLX") == OP_WITHDRAW:
                if entry.status == EntryStatus.PUBLISHED:
                    lists.remove_entry(principal, entry, row.get("CXYY") or _("上级平台移出"))
                result.withdrawals += 1
            else:
                result.list_entries += 1
