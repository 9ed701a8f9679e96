"""What the public portal shows: headline figures, the credit search, a subject's tabs and its
public credit grades. Read-only (the search may index a few newly registered subjects, see portal.search)."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.core.cache import cache
from django.db.models import Count
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from pubcredit.catalog.models import SubjectKind
from pubcredit.core.identifiers import (
    check_identifier,
    check_ric,
    check_uscc,
    normalize_identifier,
)
from pubcredit.portal import disclosure, search
from pubcredit.publicity.public import PublicSubject, public_subject
from pubcredit.scoring import services as scoring
from pubcredit.subjects import keys
from pubcredit.subjects.masking import mask_code, redact_id_numbers
from pubcredit.subjects.models import FormerName, Subject
from pubcredit.subjects.services import person_id_index

HEADLINE_CACHE_KEY = "portal:headline-figures"
# The home page is the most visited public page; a grouped count over the whole subject register
# is cheap on a demo database but not on a city's tens of millions of rows, so it is cached.
HEADLINE_CACHE_SECONDS = 300


def headline_figures(*, use_cache: bool = True) -> dict:
    """Subjects in the register by kind, for the public home page.

    Guarantees: one grouped query (or none, from the cache); every kind appears, with 0 when
    there are none; counts are plain ints, `total` is their sum. Labels are left to the caller so
    that a cached value serves every language.
    """
    if use_cache:
        cached = cache.get(HEADLINE_CACHE_KEY)
        if cached is not None:
            return cached
    counts = dict(
        Subject.objects.order_by().values("kind").annotate(n=Count("id")).values_list("kind", "n")
    )
    figures = {
        "by_kind": {kind.value: int(counts.get(kind.value, 0)) for kind in SubjectKind},
        "total": int(sum(counts.values())),
    }
    if use_cache:
        cache.set(HEADLINE_CACHE_KEY, figures, HEADLINE_CACHE_SECONDS)
    return figures


# --------------------------------------------------------------------------- search


@dataclass
class SearchOutcome:
    """What a public search found: `mode` is "name", "uscc", "id" (a person by full 身份证号) or
    "" (nothing searched); `message` explains an unusable query in Chinese."""

    query: str = ""
    mode: str = ""
    hits: list[SearchHit] = field(default_factory=list)
    total: int = 0
    more: bool = False
    offset: int = 0
    limit: int = 20
    message: str = ""

    def as_dict(self) -> dict:
        return {
            "query": self.query,
            "mode": self.mode,
            "total": self.total,
            "more": self.more,
            "offset": self.offset,
            "limit": self.limit,
            "message": self.message,
            "items": [hit.as_dict() for hit in self.hits],
        }


@dataclass(frozen=True)
class SearchHit:
    subject: PublicSubject
    matched_former_name: str = ""

    def as_dict(self) -> dict:
        data = self.subject.as_dict()
        if self.matched_former_name:
            data["matched_former_name"] = self.matched_former_name
        return data


def _identifier_like(compact: str) -> bool:
    """An 18-character code with enough digits, or a 15-digit old ID: searched as a number."""
    if len(compact) == 15 and compact.isascii() and compact.isdigit():
        return True
    return (
        len(compact) == 18
        and compact.isascii()
        and compact.isalnum()
        and sum(c.isdigit() for c in compact) >= 8
    )


def is_person_query(query: str) -> bool:
    """Whether a query has the shape of a 身份证号 (18 characters, 17 digits first, or 15
    digits): such a query is never put into a URL."""
    compact = normalize_identifier(query)
    if len(compact) == 15:
        return compact.isascii() and compact.isdigit()
    shaped = (
        len(compact) == 18
        and compact[:17].isascii()
        and compact[:17].isdigit()
        and (compact[17].isdigit() or compact[17] == "X")
    )
    # An all-digit 统一社会信用代码 (机关 and 事业单位 often have one) is not a person's number.
    return shaped and (check_ric(compact).valid or not check_uscc(compact).valid)


def search_subjects(
    query: str,
    *,
    district: str | None = None,
    kind: str | None = None,
    offset: int = 0,
    limit: int = 20,
) -> SearchOutcome:
    """The public credit search.

    Guarantees: an 18-character 统一社会信用代码 finds that organisation exactly; a full, valid
    身份证号 finds that natural person, shown masked (and never any other person), only while
    something about them is public (a person with nothing public gets exactly the answer of an
    unknown number); anything else is a name search over organisations and 个体工商户 only
    (natural persons are never found by name), by any substring of at least two characters of a current or former name, ranked
    shortest name first, optionally filtered by district and kind; at most
    search.RESULT_CAP results are counted and paged. Read-only, apart from indexing a few
    subjects registered since the last refresh."""
    query = (query or "").strip()[:100]
    limit = max(1, min(int(limit), 50))
    offset = max(0, int(offset))
    outcome = SearchOutcome(query=query, offset=offset, limit=limit)
    if not query:
        return outcome
    compact = normalize_identifier(query)
    if _identifier_like(compact):
        return _search_identifier(outcome, compact)
    norm = search.normalize_query(query)
    outcome.mode = "name"
    if len(norm) < search.MIN_QUERY_CHARS:
        outcome.message = _("请至少输入名称中连续的 2 个字。")
        return outcome
    if kind and kind not in search.SEARCHABLE_KINDS:
        outcome.message = _("自然人不能按姓名查询,请输入完整的身份证号码。")
        return outcome
    matches = search.search_names(
        norm, region=district or None, kind=kind or None, offset=offset, limit=limit
    )
    outcome.total, outcome.more = matches.total, matches.more
    subjects = Subject.objects.only(*_SUBJECT_FIELDS, "name_norm").in_bulk(matches.subject_ids)
    # Former names only for hits found through one (a result list shows the matched one; the
    # subject page lists them all): most searches need no second query.
    via_former = [sid for sid, s in subjects.items() if norm not in s.name_norm]
    formers: dict[int, list[tuple[str, str]]] = {}
    if via_former:
        for sid, name, name_norm in FormerName.objects.filter(
            subject_id__in=via_former
        ).values_list("subject_id", "name", "name_norm"):
            formers.setdefault(sid, []).append((name, name_norm))
    for sid in matches.subject_ids:
        subject = subjects.get(sid)
        if subject is None or subject.kind == SubjectKind.PERSON:
            continue
        matched = next((name for name, n in formers.get(sid, []) if norm in n), "")
        outcome.hits.append(SearchHit(public_subject(subject), matched))
    return outcome


def _search_identifier(outcome: SearchOutcome, compact: str) -> SearchOutcome:
    check = check_identifier(compact)
    if not check.valid:
        outcome.mode = "invalid"
        if compact[:15].isdigit():  # possibly someone's ID number with a typo: do not echo it
            outcome.query = mask_code(compact)
        error = check.errors[0] if check.errors else ""
        outcome.message = redact_id_numbers(
            _("号码有误:%(error)s。请核对后重新输入。") % {"error": error}
        )
        return outcome
    if check.kind == "ric":
        outcome.mode = "id"
        outcome.query = mask_code(check.normalized)  # never echo a full ID number
        # On Citus through the key table (subjects.keys: one shard, then the subject's).
        register = Subject.objects.filter(kind=SubjectKind.PERSON)
        subject = (
            keys.find(register, "id_index", person_id_index(check.normalized))
            .only(*_SUBJECT_FIELDS)
            .first()
        )
        if subject is not None and not any(subject_tab_counts(subject.pk).values()):
            # Nothing about this person is public: answered exactly as an unknown number, so
            # the lookup never confirms that someone is in the register.
            subject = None
    else:
        outcome.mode = "uscc"
        subject = (
            keys.find(Subject.objects.exclude(kind=SubjectKind.PERSON), "uscc", check.normalized)
            .only(*_SUBJECT_FIELDS)
            .first()
        )
    if subject is not None:
        former = (
            []
            if subject.kind == SubjectKind.PERSON
            else list(subject.former_names.values_list("name", flat=True))
        )
        outcome.hits.append(SearchHit(public_subject(subject, former_names=former)))
        outcome.total = 1
    return outcome


_SUBJECT_FIELDS = (
    "id",
    "kind",
    "name",
    "uscc",
    "id_masked",
    "id_type",
    "region",
    "legal_representative",
    "established_on",
)


# --------------------------------------------------------------------------- subject page


@dataclass(frozen=True)
class Tab:
    slug: str
    label: str
    categories: tuple[str, ...] = ()  # catalogue category codes whose public records it shows
    list_kind: str = ""  # or: the kind of credit list whose entries in force it shows
    # or: a register kept by another app that it shows instead of records ("commitments": the
    # commitment register of pubcredit.commitments, which CN records arriving through intake
    # feed, so the category's records are not shown a second time)
    register: str = ""

    @property
    def has_items(self) -> bool:
        return bool(self.categories or self.list_kind or self.register)


# 信用中国-style tabs. Records come through the publicity rules (pubcredit.publicity); the
# 红名单 and 严重失信主体名单 tabs show the list entries in force (pubcredit.lists), which is where
# records of their carrier categories (SXJL, YZSX) end up; the 信用承诺 tab shows the commitment
# register (pubcredit.commitments: signed online, at a window, or received as CN records),
# those 可向社会公开 and made by today.
TABS: tuple[Tab, ...] = (
    Tab("basic", gettext_lazy("基本信息")),
    Tab("licences", gettext_lazy("行政许可"), ("XK",)),
    Tab("penalties", gettext_lazy("行政处罚"), ("CF",)),
    Tab("red", gettext_lazy("守信激励(红名单)"), list_kind="red"),
    Tab("serious", gettext_lazy("严重失信主体名单"), list_kind="black"),
    Tab("commitments", gettext_lazy("信用承诺"), ("CN",), register="commitments"),
)
TAB_BY_SLUG = {tab.slug: tab for tab in TABS}


def subject_tab_counts(subject_id: int, today=None) -> dict[str, int]:
    """{tab slug: items public today} for every tab but 基本信息."""
    counts = disclosure.subject_counts(subject_id, today)
    lists = disclosure.subject_list_counts(subject_id, today)
    out = {}
    for tab in TABS:
        if not tab.has_items:
            continue
        if tab.register == "commitments":
            out[tab.slug] = disclosure.subject_commitment_count(subject_id, today)
        elif tab.list_kind:
            out[tab.slug] = lists.get(tab.list_kind, 0)
        else:
            out[tab.slug] = sum(counts.get(code, 0) for code in tab.categories)
    return out


def black_list_names(subject_id: int, today=None, *, count: int | None = None) -> list[str]:
    """The names of the 严重失信主体名单 the subject is on today (entries in force), in order of
    the newest decision, each once: the warning at the top of its page. `count`: the
    严重失信主体名单 tab's count, if the caller has it (0 reads nothing)."""
    if count == 0:
        return []
    page = disclosure.subject_list_entries(subject_id, "black", today=today, limit=50)
    return list(dict.fromkeys(entry.category_name for entry in page.items))


def subject_tab_records(
    subject_id: int,
    tab: Tab,
    *,
    today=None,
    offset: int = 0,
    limit: int = 20,
    total: int | None = None,
) -> disclosure.RecordPage:
    """One page of what the tab shows: the subject's records of the tab's categories that are
    public today (through the publicity rules), or its list entries in force, newest first.
    `total`: the tab's count from subject_tab_counts, if the caller has it."""
    if tab.register == "commitments":
        return disclosure.subject_commitments(
            subject_id, today=today, offset=offset, limit=limit, total=total
        )
    if tab.list_kind:
        return disclosure.subject_list_entries(
            subject_id, tab.list_kind, today=today, offset=offset, limit=limit
        )
    if not tab.categories:
        return disclosure.RecordPage([], 0, offset, limit)
    if len(tab.categories) == 1:
        return disclosure.subject_records(
            subject_id, tab.categories[0], today=today, offset=offset, limit=limit, total=total
        )
    items, total = [], 0
    for code in tab.categories:  # several categories: small lists, concatenated
        page = disclosure.subject_records(subject_id, code, today=today, offset=0, limit=200)
        items += page.items
        total += page.total
    return disclosure.RecordPage(items[offset : offset + limit], total, offset, limit)


def subject_former_names(subject: Subject) -> list[str]:
    if subject.kind == SubjectKind.PERSON:
        return []
    return list(subject.former_names.order_by("-used_until").values_list("name", flat=True))


@dataclass(frozen=True)
class PublicGrade:
    """A grade the portal shows: the result under a public scorecard and what its grades mean."""

    grade: scoring.Grade
    bands: list[dict]  # [{"grade", "name", "min", "range"}], best first

    def as_dict(self) -> dict:
        g = self.grade
        return {
            "scorecard": g.scorecard,
            "scorecard_name": g.scorecard_name,
            "sector": g.sector,
            "grade": g.grade,
            "as_of": g.as_of.isoformat(),
            "bands": [
                {"grade": b["grade"], "name": b["name"], "range": b["range"]} for b in self.bands
            ],
        }


def _band_ranges(bands: list[dict]) -> list[dict]:
    """Each band with its range in words: "90 分及以上", "75 分(含)至 90 分", "60 分以下"."""
    out = []
    upper = None
    for band in bands:
        low = band["min"]
        if low is None:
            text = _("%(high)s 分以下") % {"high": upper} if upper is not None else ""
        elif upper is None:
            text = _("%(low)s 分及以上") % {"low": low}
        else:
            text = _("%(low)s 分(含)至 %(high)s 分") % {"low": low, "high": upper}
        out.append({**band, "range": text})
        upper = low
    return out


def public_grades(subject: Subject) -> list[PublicGrade]:
    """The subject's current grades under the scorecards marked public (公共信用综合评价 and the
    public sector ones), general first. Never a natural person's (个人信用积分 is never
    public): a person gets none. Two queries."""
    if subject.kind == SubjectKind.PERSON:
        return []
    grades = scoring.current_grades(subject, public_only=True)
    bands = scoring.grade_bands(grades)
    return [PublicGrade(g, _band_ranges(bands.get(g.scorecard, []))) for g in grades]
