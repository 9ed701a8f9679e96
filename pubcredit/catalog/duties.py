"""Reporting duties (报送责任) as data: `data/duties.json`, read and checked here, upserted by
`import_catalogue` (natural key: department code, category code, effective_from), written back by
`export_catalogue` (`export_duties`: every version, sorted by department, category and
effective_from, in the file's canonical form, so an export right after an import reproduces the
file byte for byte), and the duties in force on a day. Deadlines are counted on the holiday
table by `bulletins.metrics` (holidays sits beside catalog, so it is not imported here).
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from django.core.exceptions import ValidationError
from django.db.models import Q

from pubcredit.accounts.audit import record_event, snapshot
from pubcredit.accounts.permissions import Principal
from pubcredit.catalog.datafiles import CatalogueError
from pubcredit.catalog.models import Category, Department, ReportingDuty

DUTIES_FILE = "duties.json"
_FIELDS = ("channel", "rhythm", "workdays", "monthday", "effective_to", "note")
# Every row is written with every key, in this order (what import reads).
ROW_KEYS = (
    "department",
    "category",
    "channel",
    "rhythm",
    "workdays",
    "monthday",
    "effective_from",
    "effective_to",
    "note",
)
# The file's documentation, owned here: export writes it, import ignores it.
DUTIES_META = {
    "title": "淄博市各部门报送责任",
    "fields": (
        "department:部门编码;category:类别编码;channel:file 文件 / api 接口 / any 文件或接口;"
        "rhythm:within 决定后 workdays 个工作日内 / monthly 次月第 monthday 个工作日前;"
        "effective_from/effective_to:生效、失效日期(含),规则变更时新增一行并结束旧行。"
    ),
}


def _date(value, where: str, problems: list[str]) -> dt.date | None:
    if value in (None, ""):
        return None
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        problems.append(f"{where}:日期“{value}”应为 YYYY-MM-DD")
        return None


def read_duties(path: Path) -> list[dict]:
    """The rows of a duties file, checked: every problem is listed (CatalogueError) with the row
    number and field before anything is written."""
    problems: list[str] = []
    try:
        obj = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise CatalogueError([f"{DUTIES_FILE}:无法读取({exc})"]) from exc
    rows = obj.get("duties") if isinstance(obj, dict) else None
    if not isinstance(rows, list):
        raise CatalogueError([f"{DUTIES_FILE}:应为包含“duties”列表的 JSON 对象"])
    out: list[dict] = []
    seen: set[tuple] = set()
    for n, row in enumerate(rows, start=1):
        where = f"{DUTIES_FILE} 第 {n} 条"
        if not isinstance(row, dict):
            problems.append(f"{where}:应为对象")
            continue
        for key in ("department", "category", "rhythm", "effective_from"):
            if not row.get(key):
                problems.append(f"{where}:缺少字段 {key}")
        clean = {
            "department": row.get("department"),
            "category": row.get("category"),
            "channel": row.get("channel") or ReportingDuty.Channel.ANY,
            "rhythm": row.get("rhythm"),
            "workdays": row.get("workdays"),
            "monthday": row.get("monthday"),
            "effective_from": _date(row.get("effective_from"), f"{where} effective_from", problems),
            "effective_to": _date(row.get("effective_to"), f"{where} effective_to", problems),
            "note": row.get("note") or "",
        }
        key = (clean["department"], clean["category"], clean["effective_from"])
        if key in seen:
            problems.append(f"{where}:部门 {key[0]} 类别 {key[1]} 同一生效日期重复")
        seen.add(key)
        out.append(clean)
    if problems:
        raise CatalogueError(problems)
    return out


def import_duties(principal: Principal, path: Path) -> dict:
    """Upsert the duties of `path` (call inside the catalogue import's transaction); one audit
    event per created or changed row. Rows absent from the file are left as they are."""
    rows = read_duties(path)
    departments = {d.code: d for d in Department.objects.all()}
    categories = {c.code: c for c in Category.objects.all()}
    problems: list[str] = []
    for n, row in enumerate(rows, start=1):
        if row["department"] not in departments:
            problems.append(
                f"{DUTIES_FILE} 第 {n} 条 department:部门编码 {row['department']} 不存在"
            )
        if row["category"] not in categories:
            problems.append(f"{DUTIES_FILE} 第 {n} 条 category:类别编码 {row['category']} 不存在")
    if problems:
        raise CatalogueError(problems)
    existing = {
        (d.department_id, d.category_id, d.effective_from): d for d in ReportingDuty.objects.all()
    }
    counts = {"created": 0, "updated": 0, "unchanged": 0}
    for n, row in enumerate(rows, start=1):
        dept, cat = departments[row["department"]], categories[row["category"]]
        duty = existing.get((dept.pk, cat.pk, row["effective_from"]))
        before = snapshot(duty) if duty is not None else None
        if duty is None:
            duty = ReportingDuty(
                department=dept, category=cat, effective_from=row["effective_from"]
            )
        for name in _FIELDS:
            setattr(duty, name, row[name])
        try:
            duty.full_clean()
        except ValidationError as exc:
            raise CatalogueError(
                [
                    f"{DUTIES_FILE} 第 {n} 条 {field}:{'；'.join(msgs)}"
                    for field, msgs in exc.message_dict.items()
                ]
            ) from exc
        if before is not None and snapshot(duty) == before:
            counts["unchanged"] += 1
            continue
        duty.save()
        verb = "create" if before is None else "update"
        counts["created" if before is None else "updated"] += 1
        record_event(
            principal,
            f"catalog.{verb}_reportingduty",
            duty,
            before=before,
            after=snapshot(duty),
            reason=f"导入 {DUTIES_FILE}",
        )
    return counts


def duties_document() -> dict:
    """The database's duties as the document `read_duties` reads: {"_meta", "duties": [row…]},
    every version (effective_from/effective_to kept), sorted by department code, category code
    and effective_from."""
    rows = [
        {
            "department": duty.department.code,
            "category": duty.category.code,
            "channel": duty.channel,
            "rhythm": duty.rhythm,
            "workdays": duty.workdays,
            "monthday": duty.monthday,
            "effective_from": duty.effective_from.isoformat(),
            "effective_to": duty.effective_to.isoformat() if duty.effective_to else None,
            "note": duty.note,
        }
        for duty in ReportingDuty.objects.select_related("department", "category")
    ]
    rows.sort(key=lambda r: (r["department"], r["category"], r["effective_from"]))
    return {"_meta": DUTIES_META, "duties": [{k: r[k] for k in ROW_KEYS} for r in rows]}


def export_duties(target_dir: Path | str) -> Path:
    """Write `duties.json` into `target_dir` (overwritten if present); returns its path."""
    path = Path(target_dir) / DUTIES_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        json.dumps(duties_document(), ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )
    return path


def duties_on(day: dt.date):
    """The duties in force on `day` (a queryset)."""
    return ReportingDuty.objects.filter(effective_from__lte=day).filter(
        Q(effective_to__isnull=True) | Q(effective_to__gte=day)
    )


__all__ = [
    "DUTIES_FILE",
    "duties_document",
    "duties_on",
    "export_duties",
    "import_duties",
    "read_duties",
]
