"""Repair rules (versioned configuration): `data/repair_rules.json` → `RepairRule`, one rule per
window of filing dates, each with the conditions it requires and the working-day deadline of
each stage. An application or objection is judged by the rule in force on the day it is filed.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
from pathlib import Path

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from pubcredit.accounts.audit import record_event
from pubcredit.accounts.permissions import Principal
from pubcredit.repair.models import RepairRule

DATA_FILE = Path(__file__).resolve().parent / "data" / "repair_rules.json"


def rule_on(day: dt.date) -> RepairRule:
    """The repair rule in force on `day` (the day an application is filed)."""
    rule = (
        RepairRule.objects.filter(effective_from__lte=day)
        .filter(Q(effective_to__isnull=True) | Q(effective_to__gte=day))
        .order_by("-effective_from")
        .first()
    )
    if rule is None:
        raise ValidationError(
            _("%(d)s 没有适用的信用修复规则,请联系信用中心。") % {"d": day.isoformat()}
        )
    return rule


RULE_FIELDS = (
    "name",
    "legal_basis",
    "effective_from",
    "effective_to",
    "requires_min_period",
    "requires_obligations",
    "requires_commitment",
    "training_tiers",
    "training_valid_months",
    "deadlines",
    "note",
)
DEADLINE_KEYS = (
    "repair_accept",
    "repair_review",
    "repair_decide",
    "objection_accept",
    "objection_verify",
)


def read_rules(path: Path | str | None = None) -> list[dict]:
    """The rules of a rules file, checked: every deadline present and a whole number of working
    days ≥ 1; windows in order and not overlapping."""
    doc = json.loads(Path(path or DATA_FILE).read_text(encoding="utf-8"))
    rows = []
    for raw in doc["rules"]:
        row = {"code": raw["code"], **{f: raw.get(f) for f in RULE_FIELDS}}
        row["effective_from"] = dt.date.fromisoformat(raw["effective_from"])
        row["effective_to"] = (
            dt.date.fromisoformat(raw["effective_to"]) if raw.get("effective_to") else None
        )
        row["note"] = row["note"] or ""
        row["training_tiers"] = list(row["training_tiers"] or [])
        row["training_valid_months"] = int(row["training_valid_months"] or 12)
        for key in DEADLINE_KEYS:
            value = (row["deadlines"] or {}).get(key)
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"{raw['code']}: deadline {key} must be a whole number ≥ 1")
        rows.append(row)
    rows.sort(key=lambda r: r["effective_from"])
    for a, b in itertools.pairwise(rows):
        if a["effective_to"] is None or a["effective_to"] >= b["effective_from"]:
            raise ValueError(f"rules {a['code']} and {b['code']} overlap")
    return rows


@transaction.atomic
def import_rules(principal: Principal, path: Path | str | None = None) -> dict[str, int]:
    """Load the repair rules file into RepairRule (upsert by code; rules no longer in the file
    are kept, since applications refer to them). Idempotent; audited."""
    principal.require("catalog.change")
    counts = {"created": 0, "updated": 0, "unchanged": 0}
    for row in read_rules(path):
        current = RepairRule.objects.filter(code=row["code"]).first()
        values = {f: row[f] for f in RULE_FIELDS}
        if current is None:
            RepairRule.objects.create(code=row["code"], **values)
            counts["created"] += 1
        elif any(getattr(current, f) != v for f, v in values.items()):
            for f, v in values.items():
                setattr(current, f, v)
            current.save()
            counts["updated"] += 1
        else:
            counts["unchanged"] += 1
    record_event(
        principal,
        "repair.import_rules",
        object_type="repair.rules",
        object_id=Path(path).name if path else DATA_FILE.name,
        object_repr=_("信用修复规则"),
        after=counts,
    )
    return counts
