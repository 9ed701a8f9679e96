"""The shipped scorecards (`scoring/data/scorecards/*.json`) and their import.

One file per scorecard:

    {"code": "SCORE_PUBLIC", "name": "公共信用综合评价", "subject_kinds": ["org", "ind"],
     "public": true, "sector": "", "sector_name": "", "description": "…", "sort_order": 1,
     "note": "…",                                    admin-only
     "version": {"effective_from": "2026-01-01", "effective_to": null, "base_points": 80,
                 "basis": "…", "definition": {…}}}   definition: see scoring.definition

Drafting notes: text not yet checked against the official source, and every number that is not
law (points, caps, windows, bands), carry "[UNCONFIRMED …]" (core.drafting). The import takes the
markers out of the description and of every basis, and keeps what they said in the admin-only
note, with the scorecard or version flagged 待核实.

`import_scorecards` is idempotent: a scorecard's own fields are updated in place (audited); a
version is compared by its digest (definition, base points, effective date, markers taken out)
with the scorecard's latest version, and a different one becomes a new version — an existing
version is never rewritten, so results computed under it keep meaning what they meant.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
from decimal import Decimal, InvalidOperation
from pathlib import Path

from django.db import transaction
from django.db.models import Max

from pubcredit.accounts.audit import record_event, snapshot
from pubcredit.accounts.permissions import Principal
from pubcredit.core.drafting import review_note, split_unconfirmed
from pubcredit.scoring.definition import (
    DefinitionError,
    card_problems,
    check_references,
    definition_digest,
    parse_definition,
)
from pubcredit.scoring.models import Scorecard, ScorecardVersion

DATA_DIR = Path(__file__).resolve().parent / "data" / "scorecards"
# Maintaining scorecards is maintaining the catalogue's rules (as the publicity rules are).
CHANGE_ACTION = "catalog.change"

CARD_KEYS = (
    "code",
    "name",
    "subject_kinds",
    "public",
    "sector",
    "sector_name",
    "description",
    "sort_order",
    "note",
    "version",
)
VERSION_KEYS = ("effective_from", "effective_to", "base_points", "basis", "definition")


class ScorecardFileError(ValueError):
    """The scorecard files are inconsistent: every problem, in Chinese."""

    def __init__(self, problems: list[str]):
        self.problems = list(problems)
        super().__init__(f"评价文件有 {len(problems)} 个问题:\n" + "\n".join(problems))


def _date(value, where: str, problems: list[str], *, required: bool) -> dt.date | None:
    if value is None:
        if required:
            problems.append(f"{where}:缺少日期")
        return None
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        problems.append(f"{where}:日期“{value}”应写作 YYYY-MM-DD")
        return None


def _clean_definition(definition: dict) -> tuple[dict, list[str]]:
    """The definition without drafting markers in its bases and names, and the review lines."""
    clean = copy.deepcopy(definition)
    lines: list[str] = []
    for key, label in (("indicators", "指标"), ("downgrades", "降级规则")):
        for rule in clean.get(key) or []:
            if not isinstance(rule, dict):
                continue
            for field, what in (("basis", "依据"), ("name", "名称")):
                if isinstance(rule.get(field), str):
                    rule[field], details = split_unconfirmed(rule[field])
                    lines += review_note(f"{label} {rule.get('code')} {what}", details)
    return clean, lines


def read_scorecards(directory: Path | str | None = None) -> list[dict]:
    """Parse and check every scorecard file of `directory` (default: the shipped ones).
    Returns rows ready to import ({"card": …, "version": …, "file": name}); raises
    ScorecardFileError listing every problem."""
    base = Path(directory) if directory else DATA_DIR
    problems: list[str] = []
    rows = []
    paths = sorted(base.glob("*.json"))
    if not paths:
        raise ScorecardFileError([f"{base}:没有评价文件(*.json)"])
    codes: dict[str, str] = {}
    for path in paths:
        where = path.name
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            problems.append(f"{where}:不是有效的 UTF-8 JSON({exc})")
            continue
        if not isinstance(raw, dict):
            problems.append(f"{where}:应为 JSON 对象")
            continue
        raw = {k: v for k, v in raw.items() if k != "_meta"}
        unknown = sorted(set(raw) - set(CARD_KEYS))
        if unknown:
            problems.append(f"{where}:未知的键 {', '.join(unknown)}")
        code = raw.get("code")
        if not isinstance(code, str) or not code:
            problems.append(f"{where}:缺少评价编码(code)")
            continue
        if code in codes:
            problems.append(f"{where}:评价编码 {code} 与 {codes[code]} 重复")
        codes[code] = where
        for p in card_problems(raw):
            problems.append(f"{where}:{p}")
        description, desc_notes = split_unconfirmed(raw.get("description") or "")
        note, note_notes = split_unconfirmed(raw.get("note") or "")
        card = {
            "name": str(raw.get("name") or "").strip(),
            "subject_kinds": raw.get("subject_kinds") or [],
            "public": bool(raw.get("public")),
            "sector": str(raw.get("sector") or ""),
            "sector_name": str(raw.get("sector_name") or ""),
            "description": description,
            "sort_order": int(raw.get("sort_order") or 0),
        }
        if not card["name"]:
            problems.append(f"{where}:缺少评价名称(name)")
        card_lines = review_note("说明", desc_notes) + review_note("", note_notes)
        card["note"] = "\n".join([note, *card_lines]).strip()
        card["needs_review"] = bool(card_lines)

        version = raw.get("version")
        if not isinstance(version, dict):
            problems.append(f"{where}:缺少版本(version)")
            continue
        unknown = sorted(set(version) - set(VERSION_KEYS))
        if unknown:
            problems.append(f"{where} version:未知的键 {', '.join(unknown)}")
        start = _date(
            version.get("effective_from"), f"{where} effective_from", problems, required=True
        )
        end = _date(version.get("effective_to"), f"{where} effective_to", problems, required=False)
        if start and end and end < start:
            problems.append(f"{where}:失效日期早于生效日期")
        try:
            base_points = Decimal(str(version.get("base_points")))
        except InvalidOperation:
            problems.append(f"{where}:基础分(base_points)应为数字")
            continue
        basis, basis_notes = split_unconfirmed(version.get("basis") or "")
        definition, def_notes = _clean_definition(version.get("definition") or {})
        try:
            parsed = parse_definition(definition, base_points=base_points)
        except DefinitionError as exc:
            problems += [f"{where}:{p}" for p in exc.problems]
            continue
        problems += [f"{where}:{p}" for p in check_references(parsed)]
        lines = review_note("依据", basis_notes) + def_notes
        rows.append(
            {
                "file": where,
                "code": code,
                "card": card,
                "version": {
                    "effective_from": start,
                    "effective_to": end,
                    "base_points": base_points,
                    "basis": basis,
                    "definition": definition,
                    "note": "\n".join(lines),
                    "needs_review": bool(lines),
                },
            }
        )
    if problems:
        raise ScorecardFileError(problems)
    return rows


@transaction.atomic
def import_scorecards(principal: Principal, directory: Path | str | None = None) -> dict:
    """Import the scorecard files (module docstring). Guarantees: "catalog.change"; nothing is
    written unless every file is valid; one audit event per created or changed scorecard and
    per new version; an existing version is never changed. Returns {"created", "updated",
    "unchanged", "versions"} (versions: new versions written)."""
    principal.require(CHANGE_ACTION)
    rows = read_scorecards(directory)
    counts = {"created": 0, "updated": 0, "unchanged": 0, "versions": 0}
    for row in rows:
        card = Scorecard.objects.select_for_update().filter(code=row["code"]).first()
        if card is None:
            card = Scorecard.objects.create(code=row["code"], **row["card"])
            record_event(principal, "scoring.scorecard_create", card, after=snapshot(card))
            counts["created"] += 1
        else:
            changed = {k: v for k, v in row["card"].items() if getattr(card, k) != v}
            if changed:
                before = snapshot(card)
                for k, v in changed.items():
                    setattr(card, k, v)
                card.save()
                record_event(
                    principal, "scoring.scorecard_update", card, before=before, after=snapshot(card)
                )
                counts["updated"] += 1
            else:
                counts["unchanged"] += 1
        values = row["version"]
        digest = definition_digest(
            values["definition"], values["base_points"], values["effective_from"]
        )
        latest = card.versions.order_by("-version").first()
        if latest is not None and latest.digest == digest:
            continue
        number = (card.versions.aggregate(n=Max("version"))["n"] or 0) + 1
        version = ScorecardVersion(
            scorecard=card, version=number, source_file=row["file"], **values
        )
        version.save()
        record_event(
            principal,
            "scoring.version_create",
            version,
            after=snapshot(version),
            reason=row["file"],
        )
        counts["versions"] += 1
    return counts


def version_in_force(scorecard: Scorecard, day: dt.date) -> ScorecardVersion | None:
    """The version of `scorecard` in force on `day`: the highest-numbered one whose window
    holds the day."""
    from django.db.models import Q

    return (
        scorecard.versions.filter(effective_from__lte=day)
        .filter(Q(effective_to__isnull=True) | Q(effective_to__gte=day))
        .order_by("-version")
        .first()
    )
