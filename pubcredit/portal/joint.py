"""联合奖惩 as the public sees it: the red lists (守信激励) and black lists (严重失信主体名单) with
their entries in force today, and the catalogue of reward and punishment measures in force.

The 重点关注名单 are internal (they steer supervision, they are not published): their types and
entries never appear here. Entries are read with `lists.services.active_entries_q`, the same
question a credit check asks, and rendered by `disclosure.public_list_entry`, which masks
persons. The pages and the public API both call these functions.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import asdict, dataclass, field

from django.core.cache import cache
from django.db.models import Count, Prefetch
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from pubcredit.catalog.models import Category, SubjectKind
from pubcredit.lists.models import ListEntry, ListType
from pubcredit.lists.services import active_entries_q, in_force_q
from pubcredit.measures.models import Matter, Measure
from pubcredit.measures.rules import normalise_conditions
from pubcredit.portal.disclosure import RecordPage, public_list_entry, today_or
from pubcredit.publicity.models import Tier

PUBLIC_LIST_KINDS = ("red", "black")
MEASURE_KINDS = ("punishment", "reward")
OVERVIEW_CACHE_SECONDS = 60
# List type codes are stable identifiers (ListType.code); anything else is not one,
# and is refused before it reaches the database (PostgreSQL rejects NUL bytes in text).
LIST_CODE = re.compile(r"[A-Za-z0-9_.-]{1,48}")


@dataclass(frozen=True)
class PublicListType:
    code: str
    name: str
    kind: str
    kind_label: str
    authority: str
    legal_basis: str
    validity: str
    subject_kinds: str
    entries: int

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class PublicMeasure:
    code: str
    name: str
    kind: str
    kind_label: str
    classification: str
    content: str
    legal_basis: str
    departments: list[str] = field(default_factory=list)
    triggers: list[str] = field(default_factory=list)
    matters: list[str] = field(default_factory=list)
    subject_kinds: str = ""
    effective_from: str = ""
    effective_to: str = ""

    def as_dict(self) -> dict:
        return asdict(self)


def _kinds_label(kinds: list[str]) -> str:

    labels = dict(SubjectKind.choices)
    if not kinds:
        return _("全部主体")
    return "、".join(str(labels.get(k, k)) for k in kinds)


def _public_list_type(list_type, entries: int) -> PublicListType:
    months = list_type.default_validity_months
    return PublicListType(
        code=list_type.code,
        name=list_type.name,
        kind=list_type.kind,
        kind_label=str(list_type.get_kind_display()),
        authority=list_type.authority_label,
        legal_basis=list_type.legal_basis,
        validity=_("%(n)s 个月") % {"n": months} if months else _("直至移出"),
        subject_kinds=_kinds_label(list_type.subject_kinds),
        entries=entries,
    )


def _list_types_in_force(day: dt.date):

    return ListType.objects.filter(in_force_q(day), kind__in=PUBLIC_LIST_KINDS).select_related(
        "authority"
    )


def public_list_types(today: dt.date | None = None, *, use_cache: bool = True):
    """The red and black list types in force today, each with its number of entries in force,
    in the catalogue's order. Cached for a minute (the counts are a group-by over all entries)."""

    day = today_or(today)
    key = f"portal:joint-lists:{day.isoformat()}:{get_language()}"
    found = cache.get(key) if use_cache else None
    if found is not None:
        return found
    counts = dict(
        ListEntry.objects.filter(active_entries_q(day), list_type__kind__in=PUBLIC_LIST_KINDS)
        .order_by()
        .values("list_type_id")
        .annotate(n=Count("pk"))
        .values_list("list_type_id", "n")
    )
    found = [_public_list_type(t, counts.get(t.pk, 0)) for t in _list_types_in_force(day)]
    cache.set(key, found, OVERVIEW_CACHE_SECONDS)
    return found


def list_type_entries(
    code: str, *, today: dt.date | None = None, offset: int = 0, limit: int = 20
) -> tuple[PublicListType, RecordPage] | None:
    """A public list type and one page of its entries in force today, newest decision first;
    None for an unknown, internal (重点关注) or retired list type."""

    if not LIST_CODE.fullmatch(code):
        return None
    day = today_or(today)
    list_type = _list_types_in_force(day).filter(code=code).first()
    if list_type is None:
        return None
    qs = (
        ListEntry.objects.filter(active_entries_q(day), list_type=list_type)
        .select_related("list_type", "identified_by", "subject")
        .order_by("-decided_on", "-id")
    )
    total = qs.count()
    rows = list(qs[offset : offset + limit]) if offset < total else []
    page = RecordPage([public_list_entry(e) for e in rows], total, offset, limit)
    return _public_list_type(list_type, total), page


def _condition_label(condition: dict, categories: dict[str, str]) -> str:

    (norm,) = normalise_conditions([condition])
    name = categories.get(norm["category"], norm["category"])
    tiers = norm.get("tier_in")
    if not tiers:
        return _("%(category)s记录(公示期内)") % {"category": name}
    labels = "、".join(str(Tier(t).label) for t in tiers)
    return _("%(category)s记录(%(tiers)s,公示期内)") % {"category": name, "tiers": labels}


def public_measures(kind: str, today: dt.date | None = None) -> list[PublicMeasure]:
    """The measures of `kind` (punishment 失信惩戒 / reward 守信激励) in force today, with their
    legal basis, implementing departments, what triggers them and the matters they apply to."""

    day = today_or(today)
    measures = (
        Measure.objects.filter(in_force_q(day), kind=kind)
        .prefetch_related(
            "departments",
            Prefetch("matters", queryset=Matter.objects.filter(active=True)),
            # A measure a 重点关注名单 triggers is public; the internal list's name is not.
            Prefetch(
                "list_types",
                queryset=ListType.objects.filter(in_force_q(day), kind__in=PUBLIC_LIST_KINDS),
            ),
        )
        .order_by("sort_order", "code")
    )
    categories = dict(Category.objects.values_list("code", "name"))
    out = []
    for m in measures:
        triggers = [t.name for t in m.list_types.all()]
        triggers += [_condition_label(c, categories) for c in m.record_conditions or []]
        out.append(
            PublicMeasure(
                code=m.code,
                name=m.name,
                kind=m.kind,
                kind_label=str(m.get_kind_display()),
                classification=str(
                    m.get_measure_class_display()
                    if m.measure_class
                    else m.get_incentive_category_display()
                ),
                content=m.content,
                legal_basis=m.legal_basis,
                departments=[d.name for d in m.departments.all()],
                triggers=triggers,
                matters=[x.name for x in m.matters.all()] or [_("全部事项")],
                subject_kinds=_kinds_label(m.subject_kinds),
                effective_from=m.effective_from.isoformat() if m.effective_from else "",
                effective_to=m.effective_to.isoformat() if m.effective_to else "",
            )
        )
    return out


def measure_counts(today: dt.date | None = None) -> dict[str, int]:

    rows = (
        Measure.objects.filter(in_force_q(today_or(today)))
        .order_by()
        .values("kind")
        .annotate(n=Count("pk"))
        .values_list("kind", "n")
    )
    return {kind: 0 for kind in MEASURE_KINDS} | dict(rows)
