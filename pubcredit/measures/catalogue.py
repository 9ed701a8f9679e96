"""The matters and measures catalogue: the active matters a check may name, and the seed file
(data/measures.json) of matters and measures with their departments, trigger list types and
matters, checked as a whole and upserted by code (`pubcredit measures import`, `pubcredit setup`).
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from pubcredit.accounts.audit import record_event, snapshot
from pubcredit.accounts.permissions import Principal
from pubcredit.catalog.models import Department
from pubcredit.core.drafting import take_out_markers
from pubcredit.lists.models import ListType
from pubcredit.measures import rules as rules_mod
from pubcredit.measures.models import Matter, Measure


def matters_catalogue() -> list[dict]:
    """The active matters as [{"code", "name"}] in catalogue order (the `pubcredit matters
    --json` contract)."""
    return [
        {"code": code, "name": name}
        for code, name in Matter.objects.filter(active=True)
        .order_by("sort_order", "code")
        .values_list("code", "name")
    ]


DATA_FILE = Path(__file__).resolve().parent / "data" / "measures.json"
MATTER_FIELDS = ("name", "description", "sort_order", "active")
MEASURE_FIELDS = (
    "name",
    "kind",
    "measure_class",
    "incentive_category",
    "content",
    "legal_basis",
    "note",
    "record_conditions",
    "subject_kinds",
    "effective_from",
    "effective_to",
    "active",
    "sort_order",
)


class SeedError(ValueError):
    """The seed file is malformed; the message (Chinese) lists every problem."""


def read_measures(path: Path | str | None = None) -> dict:
    path = Path(path or DATA_FILE)
    document = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(document, dict) or not isinstance(document.get("matters"), list):
        raise SeedError(_("%s:缺少 matters 数组") % path.name)
    if not isinstance(document.get("measures"), list):
        raise SeedError(_("%s:缺少 measures 数组") % path.name)
    problems: list[str] = []
    seen: set[str] = set()
    for i, row in enumerate(document["matters"], 1):
        code = str(row.get("code") or "")
        if not code or not code.isascii() or code in seen:
            problems.append(
                _("事项第 %(n)s 项:编码“%(code)s”应为唯一的英文编码") % {"n": i, "code": code}
            )
        seen.add(code)
        if not row.get("name"):
            problems.append(_("事项 %s:缺少名称") % code)
    seen = set()
    for i, row in enumerate(document["measures"], 1):
        code = str(row.get("code") or "")
        where = _("措施第 %(n)s 项(%(code)s)") % {"n": i, "code": code or "无编码"}
        if not code or not code.isascii() or code in seen:
            problems.append(_("%s:编码应为唯一的英文编码") % where)
        seen.add(code)
        probe = Measure(**{k: row.get(k) for k in MEASURE_FIELDS if k in row})
        probe.legal_basis = probe.legal_basis or ""
        probe.incentive_category = probe.incentive_category or ""
        try:
            rules_mod.validate_measure_fields(probe)
        except ValidationError as exc:
            problems.extend(f"{where}:{m}" for m in exc.messages)
        for key in ("departments", "list_types", "matters"):
            if not isinstance(row.get(key, []), list):
                problems.append(_("%(where)s:%(key)s 应为编码数组") % {"where": where, "key": key})
    if problems:
        raise SeedError("\n".join(problems))
    return document


# Fields the public sees (portal catalogue, public API, check answers), with their labels for the
# admin note.
PUBLIC_TEXT_FIELDS = (("name", "措施名称"), ("content", "措施内容"), ("legal_basis", "依据"))


def _review(values: dict) -> None:
    """Take the drafting markers ([UNCONFIRMED …]) out of the public fields into the admin note
    and flag the measure 待核实 (`needs_review`) if it had any; seed it inactive when a public
    field had one (its content or legal basis is not confirmed: an administrator activates it
    after checking). A marker only in the note flags the measure but leaves it as active as the
    file says: what the public sees and a check applies is confirmed."""
    if take_out_markers(values, PUBLIC_TEXT_FIELDS):
        values["active"] = False


def _measure_values(row: dict) -> dict:
    values = {k: row.get(k) for k in MEASURE_FIELDS if k in row}
    for key in ("effective_from", "effective_to"):
        if values.get(key):
            values[key] = dt.date.fromisoformat(values[key])
    values["incentive_category"] = values.get("incentive_category") or ""
    values["note"] = values.get("note") or ""
    values["content"] = values.get("content") or ""
    values["subject_kinds"] = values.get("subject_kinds") or []
    values["record_conditions"] = rules_mod.normalise_conditions(values.get("record_conditions"))
    _review(values)
    return values


@transaction.atomic
def import_measures(principal: Principal, path: Path | str | None = None) -> dict:
    """Upsert the matters and measures of the seed file by code (default:
    measures/data/measures.json), with their departments, trigger list types and matters.
    Drafting markers ([UNCONFIRMED …]) never reach a public field: they go to the admin note
    and flag the measure 待核实, inactive when its content or basis carried one (`_review`).
    Requires "measures.change". The whole file is checked first
    (every measure needs a legal basis, a class or incentive category, well-formed record
    conditions, known department / list type / matter codes). Idempotent: a second run changes
    nothing and writes no audit event; rows absent from the file are left alone. Returns
    {"matters": counts, "measures": counts} with counts {"created", "updated", "unchanged"}."""
    with rules_mod.one_bump():
        return _import_measures(principal, path)


def _import_measures(principal: Principal, path: Path | str | None) -> dict:
    principal.require("measures.change")
    document = read_measures(path)
    departments = dict(Department.objects.values_list("code", "id"))
    list_types = dict(ListType.objects.values_list("code", "id"))
    file_matters = {row["code"] for row in document["matters"]}
    known_matters = file_matters | set(Matter.objects.values_list("code", flat=True))
    problems = []
    for row in document["measures"]:
        for key, known, label in (
            ("departments", departments, _("实施部门")),
            ("list_types", list_types, _("触发名单")),
            ("matters", known_matters, _("适用事项")),
        ):
            unknown = [c for c in row.get(key, []) if c not in known]
            if unknown:
                problems.append(
                    _("措施 %(code)s:未知的%(label)s编码 %(codes)s")
                    % {"code": row["code"], "label": label, "codes": "、".join(unknown)}
                )
    if problems:
        raise SeedError("\n".join(problems))

    matter_counts = dict.fromkeys(("created", "updated", "unchanged"), 0)
    existing = {m.code: m for m in Matter.objects.all()}
    for row in document["matters"]:
        values = {k: row[k] for k in MATTER_FIELDS if k in row}
        values.setdefault("description", "")
        matter = existing.get(row["code"])
        if matter is None:
            matter = Matter.objects.create(code=row["code"], **values)
            record_event(principal, "measures.matter_create", matter, after=snapshot(matter))
            matter_counts["created"] += 1
            continue
        changed = {k: v for k, v in values.items() if getattr(matter, k) != v}
        if not changed:
            matter_counts["unchanged"] += 1
            continue
        before = snapshot(matter)
        for k, v in changed.items():
            setattr(matter, k, v)
        matter.save()
        record_event(
            principal, "measures.matter_update", matter, before=before, after=snapshot(matter)
        )
        matter_counts["updated"] += 1
    matter_ids = dict(Matter.objects.values_list("code", "id"))

    counts = dict.fromkeys(("created", "updated", "unchanged"), 0)
    existing_measures = {
        m.code: m for m in Measure.objects.prefetch_related("departments", "list_types", "matters")
    }
    for row in document["measures"]:
        values = _measure_values(row)
        links = {
            "departments": {departments[c] for c in row.get("departments", [])},
            "list_types": {list_types[c] for c in row.get("list_types", [])},
            "matters": {matter_ids[c] for c in row.get("matters", [])},
        }
        measure = existing_measures.get(row["code"])
        if measure is None:
            measure = Measure(code=row["code"], **values)
            measure.full_clean(
                validate_unique=False, exclude=["departments", "list_types", "matters"]
            )
            measure.save()
            for key, ids in links.items():
                getattr(measure, key).set(ids)
            record_event(principal, "measures.create", measure, after=_measure_snapshot(measure))
            counts["created"] += 1
            continue
        changed = {k: v for k, v in values.items() if getattr(measure, k) != v}
        changed_links = {
            k: ids for k, ids in links.items() if {o.pk for o in getattr(measure, k).all()} != ids
        }
        if not changed and not changed_links:
            counts["unchanged"] += 1
            continue
        before = _measure_snapshot(measure)
        for k, v in changed.items():
            setattr(measure, k, v)
        rules_mod.validate_measure_fields(measure)
        measure.save()
        for key, ids in changed_links.items():
            getattr(measure, key).set(ids)
        record_event(
            principal, "measures.update", measure, before=before, after=_measure_snapshot(measure)
        )
        counts["updated"] += 1
    return {"matters": matter_counts, "measures": counts}


def measure_snapshot(measure: Measure) -> dict:
    """The measure's fields and links (codes) for audit events."""
    return _measure_snapshot(measure)


def _measure_snapshot(measure: Measure) -> dict:
    data = snapshot(measure, exclude=("updated_at",))
    if measure.pk:
        data["departments"] = sorted(measure.departments.values_list("code", flat=True))
        data["list_types"] = sorted(measure.list_types.values_list("code", flat=True))
        data["matters"] = sorted(measure.matters.values_list("code", flat=True))
    return data
