"""信用代证: the sections of the 公共信用信息报告(无违法违规记录证明版).

For a period and a set of fields (领域, `models.NoViolationField`), the report states per field
either "无违法违规记录" or lists the records that count (document number, date, authority, type,
summary). What counts is data (data/noviolation_fields.json, edited in the admin):

- a public record of a listed category (行政处罚, CF) decided within the period, of a listed
  publicity tier: the shipped fields count 一般 and 严重 penalties, not 轻微 ones. No catalogue
  field carries the procedure (程序类型); the publicity rules' 轻微 tier is exactly what the
  简易程序 may decide (警告, 通报批评, fines up to 3,000 元 for an organisation and 200 元 for a
  person, 《行政处罚法》第五十一条), and a department that decided a small fine under the
  普通程序 states it by setting the tier (publicity.TierOverride), so "tiers: general, serious"
  is "penalties under the 普通程序". Attributed to the field of the deciding department (the
  department whose code is the record's 处罚机关代码, else the submitting one) or of its sector;
- an entry on a listed 严重失信主体名单 that hits today and began on or before the period's end.

Only what is public today counts (the publicity read model, `publicity.services.is_public_q`, and
`lists.services.active_entries_q`): repaired, withdrawn, ended or not published records and
removed or expired list entries never appear.

The period: by default the 36 months up to the day of issue (`default_period`); an applicant may
choose a shorter one, never longer than 36 months, ending no later than the day of issue
(`resolve_period`). The query: one per counted category and one for the list entries, for all
fields at once (the rows are the subject's own, a handful).
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from pubcredit.accounts.audit import record_event, snapshot
from pubcredit.accounts.permissions import Principal
from pubcredit.catalog import conditions
from pubcredit.catalog.models import Category, Department
from pubcredit.core.drafting import take_out_markers
from pubcredit.lists.models import ListEntry, ListKind, ListType
from pubcredit.lists.services import active_entries_q, add_months
from pubcredit.publicity.models import SectorRule, Tier
from pubcredit.publicity.public import category_fields, public_fields
from pubcredit.publicity.services import is_public_q
from pubcredit.records.models import Record, document_number
from pubcredit.reports.models import NoViolationField
from pubcredit.subjects.masking import redact_id_numbers
from pubcredit.subjects.models import Subject

FIELDS_FILE = Path(__file__).resolve().parent / "data" / "noviolation_fields.json"
MAX_MONTHS = 36
NO_RECORD = "无违法违规记录"
SUMMARY_CHARS = 120
# The values an import compares and writes (besides the code).
VALUE_KEYS = (
    "name",
    "departments",
    "sectors",
    "counts",
    "list_types",
    "sort_order",
    "effective_from",
    "effective_to",
    "policy_basis",
    "active",
    "needs_review",
    "note",
)
COUNT_KEYS = frozenset({"category", "tiers", "condition"})


class NoViolationError(ValueError):
    """A bad field file, period or field choice; the message (Chinese) says what is wrong."""


# --------------------------------------------------------------------------- period and fields


def default_period(as_of: dt.date) -> tuple[dt.date, dt.date]:
    """The 36 months up to `as_of` (both ends inclusive)."""
    return add_months(as_of, -MAX_MONTHS), as_of


def resolve_period(
    period: tuple[dt.date, dt.date] | None, as_of: dt.date
) -> tuple[dt.date, dt.date]:
    """The period to report on: the default, or the applicant's, checked."""
    if period is None:
        return default_period(as_of)
    start, end = period
    if start > end:
        raise NoViolationError(_("查询期间的起始日期不能晚于截止日期。"))
    if end > as_of:
        raise NoViolationError(_("查询期间的截止日期不能晚于出具日期。"))
    if start < add_months(end, -MAX_MONTHS):
        raise NoViolationError(_("查询期间最长为 %(n)d 个月。") % {"n": MAX_MONTHS})
    return start, end


def fields_in_force(day: dt.date) -> list[NoViolationField]:
    return [f for f in NoViolationField.objects.filter(active=True) if f.in_force_on(day)]


def choose_fields(codes: list[str] | None, day: dt.date) -> list[NoViolationField]:
    """The fields chosen by code (default: every field in force), in the report's order; an
    unknown or inactive code is refused."""
    available = {f.code: f for f in fields_in_force(day)}
    if not codes:
        return list(available.values())
    unknown = [c for c in codes if c not in available]
    if unknown:
        raise NoViolationError(
            _("未知或未启用的证明领域:%(codes)s") % {"codes": "、".join(map(str, unknown))}
        )
    wanted = set(codes)
    return [f for f in available.values() if f.code in wanted]


# --------------------------------------------------------------------------- sections


def _short(text: str) -> str:
    text = redact_id_numbers(" ".join(str(text or "").split()))
    return text if len(text) <= SUMMARY_CHARS else text[: SUMMARY_CHARS - 1] + "…"


def _count_matches(rule: dict, record: Record) -> bool:
    tiers = rule.get("tiers") or []
    if tiers and record.publicity.tier not in tiers:
        return False
    condition = rule.get("condition")
    return not condition or conditions.evaluate(condition, record.data)


def _record_rows(subject: Subject, chosen, period, day) -> dict[str, list[tuple]]:
    """{field code: [(sort key, row)]} of the counting public records, one query per category."""
    departments = {d.pk: d for d in Department.objects.all()}
    by_uscc = {d.uscc: d for d in departments.values()}
    rules_by_category: dict[str, list[tuple[NoViolationField, dict]]] = {}
    for field in chosen:
        for rule in field.counts:
            rules_by_category.setdefault(rule["category"], []).append((field, rule))
    out: dict[str, list[tuple]] = {}
    categories = {c.code: c for c in Category.objects.filter(code__in=rules_by_category)}
    for code, rules in rules_by_category.items():
        category = categories.get(code)
        if category is None:
            continue
        records = Record.objects.filter(
            is_public_q(day),
            publicity__subject_id=subject.pk,
            publicity__category_id=category.pk,
            decision_date__gte=period[0],
            decision_date__lte=period[1],
        ).select_related("publicity")
        _cat, cat_fields = category_fields(category.pk)
        roles = {f.role: f.code for f in cat_fields if f.role}
        for record in records:
            shown = {
                f.code: f.value for f in public_fields(record, cat_fields, include_subject=False)
            }
            authority = str(record.data.get(roles.get("authority_uscc", ""), "") or "")
            decider = by_uscc.get(authority.strip().upper()) or departments.get(
                record.department_id
            )
            decider_code = decider.code if decider else ""
            row = None
            for field, rule in rules:
                in_field = decider_code in field.departments or (
                    record.publicity.sector and record.publicity.sector in field.sectors
                )
                if not in_field or not _count_matches(rule, record):
                    continue
                if row is None:
                    types = shown.get(roles.get("penalty_types", ""), "")
                    row = [
                        shown.get(roles.get("document_number", ""))
                        or document_number(record.business_key),
                        record.decision_date.isoformat() if record.decision_date else "",
                        shown.get(roles.get("authority_name", ""))
                        or (decider.name if decider else ""),
                        f"{category.name}({types})" if types else category.name,
                        _short(
                            shown.get(roles.get("content", ""))
                            or shown.get(roles.get("violation_type", ""))
                            or ""
                        ),
                    ]
                out.setdefault(field.code, []).append((row[1], row[0], record.pk, row))
    return out


def _entry_rows(subject: Subject, chosen, period, day) -> dict[str, list[tuple]]:
    """{field code: [(sort key, row)]} of the subject's serious-list entries that hit today and
    began on or before the period's end, one query for all fields."""
    codes = {c for field in chosen for c in field.list_types}
    out: dict[str, list[tuple]] = {}
    if not codes:
        return out
    entries = (
        ListEntry.objects.filter(
            active_entries_q(day),
            subject=subject,
            list_type__code__in=codes,
            list_type__kind=ListKind.BLACK,
            valid_from__lte=period[1],
        )
        .select_related("list_type", "list_type__authority", "identified_by")
        .order_by("-decided_on", "-id")
    )
    for entry in entries:
        lt = entry.list_type
        authority = entry.identified_by.name if entry.identified_by_id else lt.authority_label
        summary = entry.basis
        if entry.valid_to:
            summary = _("%(basis)s(有效期至 %(to)s)") % {
                "basis": entry.basis,
                "to": entry.valid_to.isoformat(),
            }
        row = [
            entry.document_number,
            entry.decided_on.isoformat(),
            authority,
            _("严重失信主体名单(%(name)s)") % {"name": lt.name},
            _short(summary),
        ]
        for field in chosen:
            if lt.code in field.list_types:
                out.setdefault(field.code, []).append((row[1], row[0], -entry.pk, row))
    return out


def columns() -> list[str]:
    return [_("决定文书号"), _("决定日期"), _("决定机关"), _("类别"), _("内容摘要")]


def sections(
    subject: Subject,
    *,
    period: tuple[dt.date, dt.date] | None = None,
    fields: list[str] | None = None,
    as_of: dt.datetime | None = None,
) -> list[dict]:
    """One section per chosen field: "无违法违规记录", or the counting records, newest first."""
    day = timezone.localdate(as_of) if as_of else timezone.localdate()
    period = resolve_period(period, day)
    chosen = choose_fields(fields, day)
    found = _record_rows(subject, chosen, period, day)
    for code, rows in _entry_rows(subject, chosen, period, day).items():
        found.setdefault(code, []).extend(rows)
    out = []
    for field in chosen:
        rows = sorted(found.get(field.code, []), key=lambda r: r[:3], reverse=True)
        out.append(
            {
                "key": f"field:{field.code}",
                "title": field.name,
                "columns": columns(),
                "rows": [list(r[3]) for r in rows],
                "empty": NO_RECORD,
                "text": _("查询期间内有以下违法违规记录(共 %(n)d 条):") % {"n": len(rows)}
                if rows
                else "",
            }
        )
    return out


def scope_section(period: tuple[dt.date, dt.date], field_sections: list[dict]) -> dict:
    """The head of the report's sections: the period, what counts, and per field the outcome."""
    return {
        "key": "scope",
        "title": _("查询期间和领域"),
        "columns": [_("领域"), _("查询结果")],
        "rows": [
            [
                s["title"],
                _("有违法违规记录 %(n)d 条") % {"n": len(s["rows"])} if s["rows"] else NO_RECORD,
            ]
            for s in field_sections
        ],
        "empty": _("未选择证明领域"),
        "text": _(
            "查询期间:%(start)s 至 %(end)s。查询领域:%(fields)s(共 %(n)d 个)。"
            "本报告所列违法违规记录为出证部门以普通程序作出的行政处罚(不含警告、通报批评及"
            "可适用简易程序的小额罚款)和严重失信主体名单信息;已信用修复、撤回或已不再公示的"
            "记录不列入。"
        )
        % {
            "start": period[0].isoformat(),
            "end": period[1].isoformat(),
            "fields": "、".join(s["title"] for s in field_sections),
            "n": len(field_sections),
        },
    }


def report_sections(
    subject: Subject,
    *,
    period: tuple[dt.date, dt.date] | None = None,
    fields: list[str] | None = None,
    as_of: dt.datetime | None = None,
) -> list[dict]:
    """What content.compose shows for kind no_violation: the scope, then one section per field."""
    day = timezone.localdate(as_of) if as_of else timezone.localdate()
    period = resolve_period(period, day)
    body = sections(subject, period=period, fields=fields, as_of=as_of)
    return [scope_section(period, body), *body]


# --------------------------------------------------------------------------- the field file


def _known() -> dict[str, set[str]]:
    return {
        "departments": set(Department.objects.values_list("code", flat=True)),
        "categories": set(Category.objects.values_list("code", flat=True)),
        "list_types": set(
            ListType.objects.filter(kind=ListKind.BLACK).values_list("code", flat=True)
        ),
        "sectors": set(SectorRule.objects.values_list("sector", flat=True)),
    }


def field_problems(row: dict, known: dict[str, set[str]] | None = None) -> list[str]:
    """What is wrong with one field's values, as Chinese messages naming the field."""
    known = known or _known()
    where = _("领域 %(code)s") % {"code": row.get("code") or _("(无编码)")}
    problems = []
    code = row.get("code")
    if not isinstance(code, str) or not code or not code.isascii():
        problems.append(_("%(w)s:编码应为英文") % {"w": where})
    if not str(row.get("name") or "").strip():
        problems.append(_("%(w)s:缺少领域名称") % {"w": where})
    for key, label, pool in (
        ("departments", _("部门编码"), "departments"),
        ("sectors", _("行业编码"), "sectors"),
        ("list_types", _("名单类型编码(严重失信主体名单)"), "list_types"),
    ):
        values = row.get(key) if row.get(key) is not None else []
        if not isinstance(values, list):
            problems.append(_("%(w)s:%(k)s应为列表") % {"w": where, "k": key})
            continue
        for value in values:
            if value not in known[pool]:
                problems.append(
                    _("%(w)s:未知的%(label)s %(v)s") % {"w": where, "label": label, "v": value}
                )
    counts = row.get("counts") if row.get("counts") is not None else []
    if not isinstance(counts, list):
        return [*problems, _("%(w)s:counts 应为列表") % {"w": where}]
    for rule in counts:
        if not isinstance(rule, dict) or set(rule) - COUNT_KEYS:
            problems.append(
                _("%(w)s:计入条件应为含 category、tiers、condition 的对象,实为 %(r)s")
                % {"w": where, "r": json.dumps(rule, ensure_ascii=False)}
            )
            continue
        if rule.get("category") not in known["categories"]:
            problems.append(
                _("%(w)s:未知的信息类别编码 %(v)s") % {"w": where, "v": rule.get("category")}
            )
        tiers = rule.get("tiers") or []
        if not isinstance(tiers, list) or any(t not in Tier.values for t in tiers):
            problems.append(
                _("%(w)s:严重程度应为 %(values)s 中的值,实为 %(v)s")
                % {"w": where, "values": "、".join(Tier.values), "v": tiers}
            )
        if rule.get("condition") is not None:
            problems += [f"{where}:{p}" for p in conditions.validate_condition(rule["condition"])]
    if not counts and not row.get("list_types"):
        problems.append(_("%(w)s:未规定计入的信息类别或名单类型") % {"w": where})
    if not row.get("departments") and not row.get("sectors") and counts:
        problems.append(_("%(w)s:未规定出证部门或行业") % {"w": where})
    return problems


def _date(row: dict, key: str, where: str, problems: list[str]) -> dt.date | None:
    value = row.get(key)
    if value in (None, ""):
        return None
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        problems.append(
            _("%(w)s:%(k)s 应为 YYYY-MM-DD,实为 %(v)s") % {"w": where, "k": key, "v": value}
        )
        return None


def read_fields(path: Path | str | None = None) -> list[dict]:
    """The field file's rows as model values, checked whole: any problem refuses the file."""
    path = Path(path or FIELDS_FILE)
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise NoViolationError(
            _("无法读取领域文件 %(f)s:%(e)s") % {"f": path.name, "e": exc}
        ) from None
    except ValueError as exc:
        raise NoViolationError(
            _("领域文件 %(f)s 不是有效的 JSON:%(e)s") % {"f": path.name, "e": exc}
        ) from None
    rows = document.get("fields") if isinstance(document, dict) else None
    if not isinstance(rows, list) or not rows:
        raise NoViolationError(_("%(f)s:缺少 fields 数组") % {"f": path.name})
    known = _known()
    problems: list[str] = []
    seen: set = set()
    out = []
    for i, row in enumerate(rows, 1):
        if not isinstance(row, dict):
            problems.append(_("%(f)s 第 %(i)d 项:应为对象") % {"f": path.name, "i": i})
            continue
        where = _("领域 %(code)s") % {"code": row.get("code") or _("(无编码)")}
        if row.get("code") in seen:
            problems.append(_("%(w)s:编码重复") % {"w": where})
        seen.add(row.get("code"))
        problems += field_problems(row, known)
        values = {
            "name": str(row.get("name") or ""),
            "departments": list(row.get("departments") or []),
            "sectors": list(row.get("sectors") or []),
            "counts": list(row.get("counts") or []),
            "list_types": list(row.get("list_types") or []),
            "sort_order": row.get("sort_order", i * 10),
            "effective_from": _date(row, "effective_from", where, problems),
            "effective_to": _date(row, "effective_to", where, problems),
            "policy_basis": str(row.get("policy_basis") or ""),
            "active": row.get("active", True),
            "note": str(row.get("note") or ""),
        }
        if not isinstance(values["sort_order"], int) or values["sort_order"] < 0:
            problems.append(_("%(w)s:sort_order 应为非负整数") % {"w": where})
        if not isinstance(values["active"], bool):
            problems.append(_("%(w)s:active 应为 true 或 false") % {"w": where})
        start, end = values["effective_from"], values["effective_to"]
        if start and end and end < start:
            problems.append(_("%(w)s:停用日期早于启用日期") % {"w": where})
        # Drafting markers go to the admin-only note, the field flagged 待核实.
        take_out_markers(values, (("name", "领域名称"), ("policy_basis", "政策依据")))
        out.append({"code": row.get("code"), **values})
    if problems:
        raise NoViolationError("\n".join(problems))
    return out


@transaction.atomic
def import_fields(principal: Principal, path: Path | str | None = None) -> dict[str, int]:
    """Upsert the fields of the file by code (default: the shipped file). Idempotent: a second
    run changes nothing and writes no audit event; fields absent from the file are left alone
    (deactivate them in the admin). Returns {"created", "updated", "unchanged"}."""
    principal.require("catalog.change")
    rows = read_fields(path)
    counts = dict.fromkeys(("created", "updated", "unchanged"), 0)
    existing = {f.code: f for f in NoViolationField.objects.all()}
    for row in rows:
        code, values = row["code"], {k: row[k] for k in VALUE_KEYS}
        field = existing.get(code)
        if field is None:
            field = NoViolationField.objects.create(code=code, **values)
            record_event(principal, "reports.create_noviolationfield", field, after=snapshot(field))
            counts["created"] += 1
            continue
        changed = {k: v for k, v in values.items() if getattr(field, k) != v}
        if not changed:
            counts["unchanged"] += 1
            continue
        before = snapshot(field)
        for k, v in changed.items():
            setattr(field, k, v)
        field.save()
        record_event(
            principal,
            "reports.update_noviolationfield",
            field,
            before=before,
            after=snapshot(field),
        )
        counts["updated"] += 1
    return counts


def setup_noviolation(principal: Principal) -> list[str]:
    """For `pubcredit setup`: import the shipped fields once, when none are loaded (fields an
    administrator edited are never overwritten; `pubcredit reports import` re-imports)."""
    if NoViolationField.objects.exists():
        return []
    counts = import_fields(principal)
    return [f"已导入无违法违规记录证明领域 {counts['created']} 个(信用代证)"]
