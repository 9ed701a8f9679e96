"""The measure rules in memory: compiled once per process, invalidated when they change.

A credit check must not query the catalogue of measures, matters and list types each time.
`current_rules()` returns an immutable `RuleSet`; it is rebuilt when the `RulesVersion` counter
changes. Within the process that made the change a signal drops the cache at once; other
processes read the counter (one primary-key read) at most every
`settings.PUBCREDIT_RULES_CHECK_SECONDS` seconds (default 2), so a change reaches every worker
within that delay.

Record conditions (`Measure.record_conditions`) are a list of objects, any of which triggers:
    {"category": "CF"}                                      any public record of the category
    {"category": "CF", "tier_in": ["serious"]}              … of one of these tiers
    {"category": "CF", "publicity_state": "public"}         explicit form of the default
Tiers may be written as codes (minor / general / serious) or as 轻微 / 一般 / 严重.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from pubcredit.catalog.models import Category, Department
from pubcredit.core import invalidation
from pubcredit.lists.models import ListType

TIER_CODES = {"minor": "minor", "general": "general", "serious": "serious"}
TIER_CODES.update({"轻微": "minor", "一般": "general", "严重": "serious"})
CONDITION_KEYS = {"category", "tier_in", "publicity_state"}
# Only records public today can hit (repaired, ended, withdrawn records never do).
PUBLICITY_STATES = {"public"}


def normalise_conditions(conditions) -> list[dict]:
    """The conditions with tiers as codes; raises ValidationError (Chinese) when malformed."""
    if conditions in (None, ""):
        return []
    if not isinstance(conditions, list):
        raise ValidationError(_("触发记录条件应为 JSON 数组。"))
    out = []
    for cond in conditions:
        if not isinstance(cond, dict) or not cond:
            raise ValidationError(_("每个触发记录条件应为非空的 JSON 对象:%s") % (cond,))
        unknown = set(cond) - CONDITION_KEYS
        if unknown:
            raise ValidationError(_("触发记录条件中有无法识别的键:%s") % "、".join(sorted(unknown)))
        category = cond.get("category")
        if not isinstance(category, str) or not category.strip():
            raise ValidationError(_("触发记录条件缺少信息类别编码“category”。"))
        norm: dict = {"category": category.strip()}
        if "tier_in" in cond:
            tiers = cond["tier_in"]
            if not isinstance(tiers, list) or not tiers:
                raise ValidationError(_("“tier_in”应为非空的严重程度列表。"))
            bad = [t for t in tiers if t not in TIER_CODES]
            if bad:
                raise ValidationError(
                    _("“tier_in”中有无法识别的严重程度:%s(可用 轻微、一般、严重)")
                    % "、".join(map(str, bad))
                )
            norm["tier_in"] = sorted({TIER_CODES[t] for t in tiers})
        state = cond.get("publicity_state", "public")
        if state not in PUBLICITY_STATES:
            raise ValidationError(_("“publicity_state”只能为 public(公示中的记录才会触发措施)。"))
        out.append(norm)
    return out


def validate_measure_fields(measure) -> None:
    """Model-level validation of a Measure (admin forms and services call it)."""
    errors: dict[str, list[str]] = {}
    if not (measure.legal_basis or "").strip():
        errors.setdefault("legal_basis", []).append(_("措施必须有法律、法规或政策依据。"))
    if measure.kind == "punishment" and not measure.measure_class:
        errors.setdefault("measure_class", []).append(
            _("惩戒措施须注明《全国失信惩戒措施基础清单》中的分类。")
        )
    if measure.kind == "reward" and not measure.incentive_category:
        errors.setdefault("incentive_category", []).append(_("激励措施须注明激励类别。"))
    if measure.kind == "reward" and measure.measure_class:
        errors.setdefault("measure_class", []).append(_("激励措施不适用惩戒措施分类。"))
    if (
        measure.effective_from
        and measure.effective_to
        and measure.effective_to < measure.effective_from
    ):
        errors.setdefault("effective_to", []).append(_("失效日期不能早于生效日期。"))
    try:
        measure.record_conditions = normalise_conditions(measure.record_conditions)
    except ValidationError as exc:
        errors.setdefault("record_conditions", []).extend(exc.messages)
    if errors:
        raise ValidationError(errors)


# --------------------------------------------------------------------------- compiled rules


@dataclass(frozen=True)
class CompiledListType:
    id: int
    code: str
    name: str
    kind: str
    authority: str
    active: bool
    effective_from: dt.date | None
    effective_to: dt.date | None

    def in_force_on(self, day: dt.date) -> bool:
        return (
            self.active
            and (self.effective_from is None or self.effective_from <= day)
            and (self.effective_to is None or day <= self.effective_to)
        )


@dataclass(frozen=True)
class CompiledMeasure:
    id: int
    code: str
    name: str
    kind: str
    measure_class: int | None
    incentive_category: str
    content: str
    legal_basis: str
    note: str
    departments: tuple[str, ...]
    list_type_ids: frozenset[int]
    # (category code, tiers or None for any tier)
    record_conditions: tuple[tuple[str, frozenset[str] | None], ...]
    matter_ids: frozenset[int]  # empty: every matter
    subject_kinds: frozenset[str]  # empty: every kind
    effective_from: dt.date | None
    effective_to: dt.date | None
    sort_key: tuple

    def in_force_on(self, day: dt.date) -> bool:
        return (self.effective_from is None or self.effective_from <= day) and (
            self.effective_to is None or day <= self.effective_to
        )

    def applies_to_matter(self, matter_id: int | None) -> bool:
        return matter_id is None or not self.matter_ids or matter_id in self.matter_ids

    def triggered_by_record(self, category: str, tier: str) -> bool:
        for cat, tiers in self.record_conditions:
            if cat == category and (tiers is None or tier in tiers):
                return True
        return False


@dataclass(frozen=True)
class CompiledMatter:
    id: int
    code: str
    name: str
    active: bool


@dataclass(frozen=True)
class RuleSet:
    version: int
    matters: dict[str, CompiledMatter]
    list_types: dict[int, CompiledListType]
    measures: tuple[CompiledMeasure, ...]  # active measures only, in display order
    # Categories whose public records may hit: those named by a measure's record condition and
    # the configured negative categories, minus the categories that carry list entries.
    record_categories: frozenset[str]
    record_category_ids: tuple[int, ...]
    categories: dict[int, tuple[str, str]]  # id → (code, name) of record_categories
    list_category_ids: frozenset[int] = frozenset()  # categories carrying list entries
    departments: dict[int, str] | None = None  # id → name (authority of record hits)

    def matter(self, code: str) -> CompiledMatter | None:
        return self.matters.get(code)


DEFAULT_NEGATIVE_CATEGORIES = ("CF", "QZ", "JYYC", "SXBZXR", "XZGXF", "YZSX")


def negative_categories() -> tuple[str, ...]:
    return tuple(getattr(settings, "PUBCREDIT_NEGATIVE_CATEGORIES", DEFAULT_NEGATIVE_CATEGORIES))


def build_rules(version: int) -> RuleSet:
    # Imported here: the models module imports this cache's invalidation: a cycle inside the app.
    from pubcredit.measures.models import Matter, Measure

    matters = {m.code: CompiledMatter(m.id, m.code, m.name, m.active) for m in Matter.objects.all()}
    list_types = {}
    list_categories = set()
    list_category_ids = set()
    for lt in ListType.objects.select_related("authority", "category"):
        list_types[lt.id] = CompiledListType(
            lt.id,
            lt.code,
            lt.name,
            lt.kind,
            lt.authority_label,
            lt.active,
            lt.effective_from,
            lt.effective_to,
        )
        if lt.category_id and lt.active:
            list_categories.add(lt.category.code)
            list_category_ids.add(lt.category_id)
    measures = []
    record_categories = set(negative_categories())
    qs = Measure.objects.filter(active=True).prefetch_related(
        "departments", "list_types", "matters"
    )
    for m in qs.order_by("kind", "sort_order", "code"):
        conditions = []
        for cond in normalise_conditions(m.record_conditions):
            tiers = frozenset(cond["tier_in"]) if "tier_in" in cond else None
            conditions.append((cond["category"], tiers))
            record_categories.add(cond["category"])
        measures.append(
            CompiledMeasure(
                id=m.id,
                code=m.code,
                name=m.name,
                kind=m.kind,
                measure_class=m.measure_class,
                incentive_category=m.incentive_category,
                content=m.content,
                legal_basis=m.legal_basis,
                note=m.note,
                departments=tuple(d.name for d in m.departments.all()),
                list_type_ids=frozenset(lt.id for lt in m.list_types.all()),
                record_conditions=tuple(conditions),
                matter_ids=frozenset(x.id for x in m.matters.all()),
                subject_kinds=frozenset(m.subject_kinds or ()),
                effective_from=m.effective_from,
                effective_to=m.effective_to,
                sort_key=(m.kind, m.sort_order, m.code),
            )
        )

    record_categories -= list_categories
    categories = {
        c.id: (c.code, c.name) for c in Category.objects.filter(code__in=record_categories)
    }
    return RuleSet(
        version=version,
        matters=matters,
        list_types=list_types,
        measures=tuple(measures),
        record_categories=frozenset(record_categories),
        record_category_ids=tuple(sorted(categories)),
        categories=categories,
        list_category_ids=frozenset(list_category_ids),
        departments=dict(Department.objects.values_list("id", "name")),
    )


# --------------------------------------------------------------------------- cache

_lock = threading.Lock()
_cache: dict = {"rules": None, "checked": 0.0}


def _check_interval() -> float:
    return float(getattr(settings, "PUBCREDIT_RULES_CHECK_SECONDS", 2.0))


def stored_version() -> int:
    # Imported here: the models module imports this cache's invalidation: a cycle inside the app.
    from pubcredit.measures.models import RulesVersion

    row = RulesVersion.objects.filter(pk=1).values_list("version", flat=True).first()
    return row or 0


def current_rules() -> RuleSet:
    """The compiled rules, rebuilt when they changed (see module docstring)."""
    now = time.monotonic()
    rules = _cache["rules"]
    if rules is not None and now - _cache["checked"] < _check_interval():
        return rules
    version = stored_version()
    with _lock:
        rules = _cache["rules"]
        if rules is None or rules.version != version:
            rules = build_rules(version)
            _cache["rules"] = rules
        _cache["checked"] = now
    return rules


def invalidate_local() -> None:
    """Drop this process's compiled rules (the next call rebuilds them)."""
    _cache["rules"] = None
    _cache["checked"] = 0.0


def bump_version() -> None:
    """Mark the rules changed for every process: one counter update in the current transaction,
    and this process's cache dropped now and again after commit."""
    # Imported here: the models module imports this cache's invalidation: a cycle inside the app.
    from pubcredit.measures.models import RulesVersion

    updated = RulesVersion.objects.filter(pk=1).update(
        version=F("version") + 1, changed_at=timezone.now()
    )
    if not updated:
        RulesVersion.objects.get_or_create(
            pk=1, defaults={"version": 1, "changed_at": timezone.now()}
        )
    invalidate_local()
    transaction.on_commit(invalidate_local)


@contextmanager
def one_bump():
    """Within this block, changes to measures, matters and list types bump the rules version
    once, at the end (seed imports change dozens of rows). The same as
    `core.invalidation.coalesced()`, which lower layers (lists) use without importing this."""
    with invalidation.coalesced():
        yield


def _changed() -> None:
    invalidation.invalidate("measures.rules", bump_version)


def _on_change(sender, **kwargs):
    if kwargs.get("raw"):
        return
    _changed()


def _on_m2m_change(sender, action, **kwargs):
    if action in ("post_add", "post_remove", "post_clear"):
        _changed()


def connect_invalidation() -> None:
    # Imported here: connected from AppConfig.ready().
    from django.db.models.signals import m2m_changed, post_delete, post_save

    # Imported here: the models module imports this cache's invalidation: a cycle inside the app.
    from pubcredit.measures.models import Matter, Measure

    # Department and category names are part of the compiled rules (hit authorities, names).
    for model in (Measure, Matter, ListType, Department, Category):
        post_save.connect(_on_change, sender=model, dispatch_uid=f"rules-save-{model.__name__}")
        post_delete.connect(_on_change, sender=model, dispatch_uid=f"rules-del-{model.__name__}")
    for through in (
        Measure.departments.through,
        Measure.list_types.through,
        Measure.matters.through,
    ):
        m2m_changed.connect(
            _on_m2m_change, sender=through, dispatch_uid=f"rules-m2m-{through.__name__}"
        )
