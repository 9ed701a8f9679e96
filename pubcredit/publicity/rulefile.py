"""The publicity rules file (data/publicity_rules.json): read and check it, import it into the
database, export the database back into it.

The file is the versioned source; the admin may edit the tables, and `export` turns those edits
back into the file. Import makes the tables equal to the file: rows are matched by `code`,
created or updated, and rows the file no longer has are deleted (a regime still used by the read
model cannot be deleted: it is reported instead).
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
from decimal import Decimal, InvalidOperation
from pathlib import Path

from django.db import transaction
from django.utils.translation import gettext as _

from pubcredit.accounts.audit import record_event
from pubcredit.accounts.permissions import Principal
from pubcredit.publicity.models import (
    PeriodRule,
    Publicity,
    PublicityOption,
    PublicityRegime,
    SectorRule,
    Tier,
    TierRule,
)

DATA_FILE = Path(__file__).resolve().parent / "data" / "publicity_rules.json"
SUBJECT_KINDS = {"org", "ind", "person"}
KNOWN_OPTIONS = {"long_term_from", "inactive_status_values"}

PERIOD_FIELDS = (
    "code",
    "order",
    "tier",
    "sectors",
    "departments",
    "published",
    "min_months",
    "max_months",
    "description",
)
TIER_FIELDS = (
    "code",
    "order",
    "tier",
    "penalty_types",
    "min_amount",
    "max_amount",
    "subject_kinds",
    "departments",
    "sectors",
    "regimes",
    "active",
    "description",
)
SECTOR_FIELDS = (
    "code",
    "order",
    "sector",
    "sector_name",
    "departments",
    "keywords",
    "fields",
    "active",
    "description",
)
REGIME_FIELDS = ("code", "name", "legal_basis", "description", "effective_from", "effective_to")


class RulesError(Exception):
    """The rules file is unreadable or inconsistent; the message lists every problem (Chinese)."""


def _date(value, where: str, problems: list[str]) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        problems.append(_("%(w)s:日期“%(v)s”无效,应为 YYYY-MM-DD") % {"w": where, "v": value})
        return None


def _amount(value, where: str, problems: list[str]) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        problems.append(_("%(w)s:金额“%(v)s”无效") % {"w": where, "v": value})
        return None
    if amount < 0:
        problems.append(_("%(w)s:金额不能为负数") % {"w": where})
    return amount


def _list(row: dict, key: str, where: str, problems: list[str]) -> list[str]:
    value = row.get(key) or []
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        problems.append(_("%(w)s:%(k)s 应为非空字符串的列表") % {"w": where, "k": key})
        return []
    return value


def check_rules(doc: dict) -> dict:
    """Check a parsed rules document and return it normalised (dates as dates, amounts as
    Decimal, defaults filled). Raises RulesError listing every problem."""
    problems: list[str] = []
    tiers = set(Tier.values)
    codes: set[str] = set()

    def unique(code, where):
        if not code or not isinstance(code, str):
            problems.append(_("%(w)s:缺少编码") % {"w": where})
        elif code in codes:
            problems.append(_("%(w)s:编码“%(c)s”重复") % {"w": where, "c": code})
        codes.add(code)

    options = {}
    for key, item in (doc.get("options") or {}).items():
        if key not in KNOWN_OPTIONS:
            problems.append(_("设置“%(k)s”未知") % {"k": key})
            continue
        value = item.get("value") if isinstance(item, dict) else item
        if key == "long_term_from":
            _date(value, key, problems)
        elif not isinstance(value, list):
            problems.append(_("设置“%(k)s”应为列表") % {"k": key})
        options[key] = {
            "value": value,
            "description": item.get("description", "") if isinstance(item, dict) else "",
        }

    regimes = []
    for i, r in enumerate(doc.get("regimes") or []):
        where = _("公示期规则第 %(n)d 条") % {"n": i + 1}
        unique(r.get("code"), where)
        start = _date(r.get("effective_from"), where, problems)
        end = _date(r.get("effective_to"), where, problems)
        if start is None:
            problems.append(_("%(w)s:缺少适用起始日期") % {"w": where})
        elif end is not None and end < start:
            problems.append(_("%(w)s:适用截止日期早于起始日期") % {"w": where})
        periods = []
        generic = set()
        for j, p in enumerate(r.get("periods") or []):
            pw = _("%(w)s的期限第 %(n)d 行") % {"w": where, "n": j + 1}
            unique(p.get("code"), pw)
            if p.get("tier") not in tiers:
                problems.append(_("%(w)s:严重程度“%(t)s”无效") % {"w": pw, "t": p.get("tier")})
            sectors = _list(p, "sectors", pw, problems)
            departments = _list(p, "departments", pw, problems)
            if not sectors and not departments:
                generic.add(p.get("tier"))
            published = bool(p.get("published", True))
            lo, hi = p.get("min_months", 0), p.get("max_months")
            if not isinstance(lo, int) or lo < 0 or not isinstance(hi, int) or hi < 0:
                problems.append(_("%(w)s:公示期(月)应为非负整数") % {"w": pw})
            elif published and hi < lo:
                problems.append(_("%(w)s:最长公示期短于最短公示期") % {"w": pw})
            elif published and hi == 0:
                problems.append(_("%(w)s:予以公示时最长公示期应大于 0") % {"w": pw})
            periods.append(
                {
                    "code": p.get("code"),
                    "order": int(p.get("order", 100)),
                    "tier": p.get("tier"),
                    "sectors": sectors,
                    "departments": departments,
                    "published": published,
                    "min_months": lo,
                    "max_months": hi,
                    "description": p.get("description", ""),
                }
            )
        missing = tiers - generic
        if missing:
            problems.append(
                _("%(w)s:缺少不限行业和部门的期限行:%(t)s")
                % {"w": where, "t": "、".join(str(Tier(t).label) for t in sorted(missing))}
            )
        regimes.append(
            {
                "code": r.get("code"),
                "name": r.get("name") or r.get("code"),
                "legal_basis": r.get("legal_basis", ""),
                "description": r.get("description", ""),
                "effective_from": start,
                "effective_to": end,
                "periods": periods,
            }
        )
    if not regimes:
        problems.append(_("至少需要一条公示期规则"))
    ordered = sorted((r for r in regimes if r["effective_from"]), key=lambda r: r["effective_from"])
    for a, b in itertools.pairwise(ordered):
        if a["effective_to"] is None or a["effective_to"] >= b["effective_from"]:
            problems.append(
                _("公示期规则“%(a)s”与“%(b)s”的适用期间重叠") % {"a": a["code"], "b": b["code"]}
            )
    regime_codes = {r["code"] for r in regimes}

    sectors = []
    for i, s in enumerate(doc.get("sectors") or []):
        where = _("行业认定规则第 %(n)d 条") % {"n": i + 1}
        unique(s.get("code"), where)
        if not s.get("sector"):
            problems.append(_("%(w)s:缺少行业编码") % {"w": where})
        departments = _list(s, "departments", where, problems)
        keywords = _list(s, "keywords", where, problems)
        if not departments and not keywords:
            problems.append(_("%(w)s:部门和关键词不能都为空") % {"w": where})
        sectors.append(
            {
                "code": s.get("code"),
                "order": int(s.get("order", 100)),
                "sector": s.get("sector"),
                "sector_name": s.get("sector_name") or s.get("sector"),
                "departments": departments,
                "keywords": keywords,
                "fields": _list(s, "fields", where, problems),
                "active": bool(s.get("active", True)),
                "description": s.get("description", ""),
            }
        )

    tier_rules = []
    for i, t in enumerate(doc.get("tier_rules") or []):
        where = _("严重程度认定规则第 %(n)d 条") % {"n": i + 1}
        unique(t.get("code"), where)
        if t.get("tier") not in tiers:
            problems.append(_("%(w)s:严重程度“%(t)s”无效") % {"w": where, "t": t.get("tier")})
        lo = _amount(t.get("min_amount"), where, problems)
        hi = _amount(t.get("max_amount"), where, problems)
        if lo is not None and hi is not None and hi < lo:
            problems.append(_("%(w)s:金额上限低于下限") % {"w": where})
        kinds = _list(t, "subject_kinds", where, problems)
        if set(kinds) - SUBJECT_KINDS:
            problems.append(_("%(w)s:主体类别只能是 org、ind、person") % {"w": where})
        regimes_of = _list(t, "regimes", where, problems)
        if set(regimes_of) - regime_codes:
            problems.append(_("%(w)s:引用了不存在的公示期规则") % {"w": where})
        tier_rules.append(
            {
                "code": t.get("code"),
                "order": int(t.get("order", 100)),
                "tier": t.get("tier"),
                "penalty_types": _list(t, "penalty_types", where, problems),
                "min_amount": lo,
                "max_amount": hi,
                "subject_kinds": kinds,
                "departments": _list(t, "departments", where, problems),
                "sectors": _list(t, "sectors", where, problems),
                "regimes": regimes_of,
                "active": bool(t.get("active", True)),
                "description": t.get("description", ""),
            }
        )
    if problems:
        raise RulesError(_("公示期规则文件有误:") + ";".join(problems))
    return {
        "options": options,
        "regimes": regimes,
        "sectors": sectors,
        "tier_rules": tier_rules,
    }


def read_rules(path: str | Path | None = None) -> dict:
    """Read and check the rules file (default: the one shipped in data/)."""
    path = Path(path) if path else DATA_FILE
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise RulesError(_("无法读取公示期规则文件 %(p)s:%(e)s") % {"p": path, "e": exc}) from None
    except json.JSONDecodeError as exc:
        raise RulesError(_("公示期规则文件不是有效的 JSON:%(e)s") % {"e": exc}) from None
    if not isinstance(doc, dict):
        raise RulesError(_("公示期规则文件应为 JSON 对象"))
    return check_rules(doc)


def _sync(model, rows: list[dict], fields: tuple[str, ...], counts: dict, **extra) -> None:
    existing = {o.code: o for o in model.objects.filter(**extra)}
    for row in rows:
        values = {f: row[f] for f in fields if f != "code"} | extra
        obj = existing.pop(row["code"], None)
        if obj is None:
            model.objects.create(code=row["code"], **values)
            counts["created"] += 1
            continue
        changed = [f for f, v in values.items() if getattr(obj, f) != v]
        if changed:
            for f in changed:
                setattr(obj, f, values[f])
            obj.save(update_fields=changed)
            counts["updated"] += 1
        else:
            counts["unchanged"] += 1
    for obj in existing.values():
        obj.delete()
        counts["deleted"] += 1


def _counts() -> dict:
    return {"created": 0, "updated": 0, "unchanged": 0, "deleted": 0}


@transaction.atomic
def import_rules(principal: Principal, path: str | Path | None = None) -> dict:
    """Make the rule tables equal to the rules file (checked first; nothing is written when it
    has errors). Idempotent: importing the same file again reports everything unchanged.

    Guarantees: requires "catalog.change"; one transaction; one audit event
    "publicity.import_rules" with the counts. Does not recompute the read model: callers run
    `services.refresh_publicity()` when `changed` is true (the command does)."""
    principal.require("catalog.change")
    doc = read_rules(path)
    counts = {k: _counts() for k in ("options", "regimes", "periods", "sectors", "tier_rules")}

    existing = {o.key: o for o in PublicityOption.objects.all()}
    for key, item in doc["options"].items():
        obj = existing.pop(key, None)
        if obj is None:
            PublicityOption.objects.create(key=key, **item)
            counts["options"]["created"] += 1
        elif (obj.value, obj.description) != (item["value"], item["description"]):
            obj.value, obj.description = item["value"], item["description"]
            obj.save()
            counts["options"]["updated"] += 1
        else:
            counts["options"]["unchanged"] += 1
    for obj in existing.values():
        obj.delete()
        counts["options"]["deleted"] += 1

    keep = {r["code"] for r in doc["regimes"]}
    stale = PublicityRegime.objects.exclude(code__in=keep)
    used = set(
        Publicity.objects.filter(regime__in=stale).values_list("regime__code", flat=True).distinct()
    )
    if used:
        raise RulesError(
            _("规则文件删除了仍被公示记录使用的公示期规则:%(c)s") % {"c": "、".join(sorted(used))}
        )
    regime_rows = [{f: r[f] for f in REGIME_FIELDS} for r in doc["regimes"]]
    _sync(PublicityRegime, regime_rows, REGIME_FIELDS, counts["regimes"])
    by_code = {r.code: r for r in PublicityRegime.objects.all()}
    all_periods = []
    for r in doc["regimes"]:
        for p in r["periods"]:
            all_periods.append(p | {"regime": by_code[r["code"]]})
    _sync(PeriodRule, all_periods, (*PERIOD_FIELDS, "regime"), counts["periods"])
    _sync(SectorRule, doc["sectors"], SECTOR_FIELDS, counts["sectors"])
    _sync(TierRule, doc["tier_rules"], TIER_FIELDS, counts["tier_rules"])

    changed = any(c["created"] or c["updated"] or c["deleted"] for c in counts.values())
    counts["changed"] = changed
    record_event(
        principal,
        "publicity.import_rules",
        object_type="publicity.rules",
        # The column holds an identifier, not a path: a temporary upload's path can be long.
        object_id=Path(path).name if path else DATA_FILE.name,
        object_repr=_("公示期规则"),
        after=counts | {"path": str(path) if path else str(DATA_FILE)},
    )
    return counts


def rules_document() -> dict:
    """The rules as stored, in the file's format (what `export` writes)."""
    meta = json.loads(DATA_FILE.read_text(encoding="utf-8")).get("_meta", {})

    def amount(value):
        return None if value is None else format(value.normalize(), "f")

    return {
        "_meta": meta,
        "options": {
            o.key: {"value": o.value, "description": o.description}
            for o in PublicityOption.objects.order_by("key")
        },
        "regimes": [
            {
                "code": r.code,
                "name": r.name,
                "legal_basis": r.legal_basis,
                "description": r.description,
                "effective_from": r.effective_from.isoformat(),
                "effective_to": r.effective_to.isoformat() if r.effective_to else None,
                "periods": [
                    {f: getattr(p, f) for f in PERIOD_FIELDS}
                    for p in r.periods.order_by("order", "code")
                ],
            }
            for r in PublicityRegime.objects.order_by("effective_from")
        ],
        "sectors": [
            {f: getattr(s, f) for f in SECTOR_FIELDS}
            for s in SectorRule.objects.order_by("order", "code")
        ],
        "tier_rules": [
            {
                f: amount(getattr(t, f)) if f in ("min_amount", "max_amount") else getattr(t, f)
                for f in TIER_FIELDS
            }
            for t in TierRule.objects.order_by("order", "code")
        ],
    }


def export_rules(path: str | Path) -> Path:
    """Write the stored rules to `path` as UTF-8 JSON; returns the path."""
    path = Path(path)
    text = json.dumps(rules_document(), ensure_ascii=False, indent=2) + "\n"
    path.write_text(text, encoding="utf-8")
    return path
