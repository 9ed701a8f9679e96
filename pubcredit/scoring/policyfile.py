"""The shipped supervision policy (`scoring/data/supervision.json`) and its import.

    {"ratios": [{"scorecard": "SCORE_PUBLIC", "effective_from": "2026-01-01",
                 "effective_to": null, "grades": {"A": 3, "B": 10, "C": 30, "D": 100},
                 "basis": "…"}, …],                 → InspectionRatio, one row per grade
     "fields": [{"department": "ZB-SCJG", "scorecards": ["SCORE_PUBLIC"], "by_reports": true,
                 "note": "…"}, …]}                  → SupervisionField, one row per department

Drafting markers ("[UNCONFIRMED …]") in a basis or note are taken out into the admin-only note,
with the row flagged 待核实 (core.drafting), as for the scorecards.

`import_supervision` is idempotent: a ratio is identified by scorecard × grade × effective date
and a field by its department; a new one is created, a changed one updated in place, each with
an audit event; rows that are not in the file (added in the admin) are left alone. A changed
ratio belongs in a new entry with a later effective date (the file's _meta says so).
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal, InvalidOperation
from pathlib import Path

from django.db import transaction

from pubcredit.accounts.audit import record_event, snapshot
from pubcredit.accounts.permissions import Principal
from pubcredit.catalog.models import Department
from pubcredit.core.drafting import review_note, split_unconfirmed
from pubcredit.scoring.definition import parse_definition
from pubcredit.scoring.models import InspectionRatio, Scorecard, SupervisionField
from pubcredit.scoring.scorecards import CHANGE_ACTION

POLICY_FILE = Path(__file__).resolve().parent / "data" / "supervision.json"


class PolicyFileError(ValueError):
    """The supervision file is inconsistent: every problem, in Chinese."""

    def __init__(self, problems: list[str]):
        self.problems = list(problems)
        super().__init__(f"分级分类监管文件有 {len(problems)} 个问题:\n" + "\n".join(problems))


def _day(value, where: str, problems: list[str]) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        problems.append(f"{where}:日期“{value}”应写作 YYYY-MM-DD")
        return None


def _grades_of(card: Scorecard) -> set[str]:
    """The grades of every version of a scorecard (a few rows)."""
    grades: set[str] = set()
    for version in card.versions.all():
        defn = parse_definition(version.definition, base_points=version.base_points)
        grades |= set(defn.grades)
    return grades


def read_policy(path: Path | str | None = None) -> dict:
    """Parse and check the supervision file against the scorecards and departments in the
    database. Returns {"ratios": [row, …], "fields": [row, …]} ready to import; raises
    PolicyFileError listing every problem."""
    source = Path(path) if path else POLICY_FILE
    where = source.name
    try:
        raw = json.loads(source.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise PolicyFileError([f"{where}:不是有效的 UTF-8 JSON 文件({exc})"]) from None
    if not isinstance(raw, dict):
        raise PolicyFileError([f"{where}:应为 JSON 对象"])
    problems: list[str] = []
    unknown = sorted(set(raw) - {"_meta", "ratios", "fields"})
    if unknown:
        problems.append(f"{where}:未知的键 {', '.join(unknown)}")
    cards = {c.code: c for c in Scorecard.objects.all()}
    ratios: list[dict] = []
    seen: set[tuple] = set()
    for i, item in enumerate(raw.get("ratios") or [], start=1):
        at = f"{where} ratios[{i}]"
        if not isinstance(item, dict):
            problems.append(f"{at}:应为 JSON 对象")
            continue
        extra = sorted(
            set(item) - {"scorecard", "effective_from", "effective_to", "grades", "basis"}
        )
        if extra:
            problems.append(f"{at}:未知的键 {', '.join(extra)}")
        card = cards.get(item.get("scorecard"))
        if card is None:
            problems.append(f"{at}:没有编码为 {item.get('scorecard')} 的信用评价")
            continue
        start = _day(item.get("effective_from"), f"{at} effective_from", problems)
        end = _day(item.get("effective_to"), f"{at} effective_to", problems)
        if start is None:
            problems.append(f"{at}:缺少生效日期(effective_from)")
            continue
        if end and end < start:
            problems.append(f"{at}:失效日期早于生效日期")
        grades = item.get("grades")
        if not isinstance(grades, dict) or not grades:
            problems.append(f"{at}:缺少各等级的抽查比例(grades)")
            continue
        known = _grades_of(card)
        basis, details = split_unconfirmed(item.get("basis") or "")
        note = "\n".join(review_note("依据", details))
        for grade, value in grades.items():
            if grade not in known:
                problems.append(f"{at}:信用评价 {card.code} 没有 {grade} 级")
                continue
            try:
                ratio = Decimal(str(value))
            except InvalidOperation:
                problems.append(f"{at}:{grade} 级的抽查比例应为数字")
                continue
            if not (0 <= ratio <= 100):
                problems.append(f"{at}:{grade} 级的抽查比例应在 0 到 100 之间")
                continue
            key = (card.code, grade, start)
            if key in seen:
                problems.append(f"{at}:{card.code} {grade} 级自 {start} 的比例重复")
            seen.add(key)
            ratios.append(
                {
                    "scorecard": card,
                    "grade": grade,
                    "effective_from": start,
                    "values": {
                        "ratio": ratio.quantize(Decimal("0.01")),
                        "effective_to": end,
                        "basis": basis,
                        "note": note,
                        "needs_review": bool(details),
                        "source_file": where,
                    },
                }
            )
    departments = {d.code: d for d in Department.objects.all()}
    fields: list[dict] = []
    for i, item in enumerate(raw.get("fields") or [], start=1):
        at = f"{where} fields[{i}]"
        if not isinstance(item, dict):
            problems.append(f"{at}:应为 JSON 对象")
            continue
        extra = sorted(set(item) - {"department", "scorecards", "by_reports", "note"})
        if extra:
            problems.append(f"{at}:未知的键 {', '.join(extra)}")
        department = departments.get(item.get("department"))
        if department is None:
            problems.append(f"{at}:没有编码为 {item.get('department')} 的部门")
            continue
        codes = item.get("scorecards") or []
        if not isinstance(codes, list) or any(c not in cards for c in codes):
            problems.append(f"{at}:scorecards 应为已有信用评价编码的列表")
            continue
        note, details = split_unconfirmed(item.get("note") or "")
        fields.append(
            {
                "department": department,
                "values": {
                    "scorecards": list(codes),
                    "by_reports": bool(item.get("by_reports", True)),
                    "note": "\n".join([note, *review_note("", details)]).strip(),
                    "needs_review": bool(details),
                },
            }
        )
    if len({f["department"].pk for f in fields}) != len(fields):
        problems.append(f"{where}:同一部门的监管领域重复")
    if problems:
        raise PolicyFileError(problems)
    return {"ratios": ratios, "fields": fields}


def _upsert(principal, model, lookup: dict, values: dict, counts: dict, reason: str) -> None:
    row = model.objects.select_for_update().filter(**lookup).first()
    name = model._meta.model_name
    if row is None:
        row = model.objects.create(**lookup, **values)
        record_event(principal, f"scoring.{name}_create", row, after=snapshot(row), reason=reason)
        counts["created"] += 1
        return
    changed = {k: v for k, v in values.items() if getattr(row, k) != v}
    if not changed:
        counts["unchanged"] += 1
        return
    before = snapshot(row)
    for key, value in changed.items():
        setattr(row, key, value)
    row.save()
    record_event(
        principal,
        f"scoring.{name}_update",
        row,
        before=before,
        after=snapshot(row),
        reason=reason,
    )
    counts["updated"] += 1


@transaction.atomic
def import_supervision(principal: Principal, path: Path | str | None = None) -> dict:
    """Import the supervision file (module docstring); run after the scorecards' import.
    Guarantees: "catalog.change"; nothing is written unless the whole file is valid; one audit
    event per created or changed row. Returns {"ratios": {"created", "updated", "unchanged"},
    "fields": {…}}."""
    principal.require(CHANGE_ACTION)
    policy = read_policy(path)
    reason = Path(path).name if path else POLICY_FILE.name
    out = {}
    for key in ("ratios", "fields"):
        out[key] = {"created": 0, "updated": 0, "unchanged": 0}
    for row in policy["ratios"]:
        lookup = {
            "scorecard": row["scorecard"],
            "grade": row["grade"],
            "effective_from": row["effective_from"],
        }
        _upsert(principal, InspectionRatio, lookup, row["values"], out["ratios"], reason)
    for row in policy["fields"]:
        lookup = {"department": row["department"]}
        _upsert(principal, SupervisionField, lookup, row["values"], out["fields"], reason)
    return out
