"""Subject register services: register, rename, find.

Writes (`register_subject`, `rename_subject`) run in one transaction, require "subjects.change"
and write their audit event there. `find_subject` is a read: it takes an optional queryset so
callers can pass one narrowed by `restrict(...)`.

How name search stays fast with a million subjects (`find_subject(name=...)`):
1. exact: `name_norm = ?` on Subject and on FormerName (both b-tree indexed);
2. indexed probes on `Subject.name_key` — the distinctive part of the name (字号 + business
   words, without leading place names, brackets and the legal form; see names.name_key):
   equality, then prefixes of 4, 3 and 2 characters, each capped at PROBE_LIMIT rows. On
   PostgreSQL `startswith` uses the varchar_pattern_ops index Django builds for an indexed
   CharField; on SQLite it is written as a range, which the binary-collated index serves;
3. only when nothing close (≥ FALLBACK_BELOW) was found and nothing starts with the query's key:
   one-wrong-character probes `^key[:i].key[i+1:4]` (index-bounded by key[:i]), and if those
   find nothing either, one capped substring probe `name_key LIKE '%key[1:4]%' LIMIT n` for a
   wrong first character — the only probe that may scan the table (measured ≈0.2–0.35 s on
   1M rows, and only for a name nothing resembles).
The few hundred candidate rows at most are scored in Python with rapidfuzz on match_key (full
comparable name) and name_key; all names are never loaded. Fuzzy search covers current names;
former names match exactly.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from rapidfuzz import fuzz

from pubcredit.accounts.audit import record_event, snapshot
from pubcredit.accounts.permissions import Principal
from pubcredit.catalog.models import SubjectKind
from pubcredit.core import identifiers
from pubcredit.subjects import crypto, keys, names, tally
from pubcredit.subjects.models import FormerName, Subject

RIC_TYPE = "身份证"
ID_TYPES = (
    RIC_TYPE,
    "护照号",
    "港澳居民来往内地通行证",
    "台湾居民来往大陆通行证",
    "外国人永久居留身份证",
)
PROBE_LIMIT = 200
FALLBACK_BELOW = 80.0


# --------------------------------------------------------------------------- person identifiers


def person_id_index(normalized: str, id_type: str = RIC_TYPE) -> str:
    """Blind index of a person's document number. A 身份证号 is indexed as is; other document
    types are prefixed with their type so a passport number cannot collide with an ID number."""
    if id_type in ("", RIC_TYPE):
        return crypto.blind_index(normalized)
    return crypto.blind_index(f"{id_type}:{normalized}")


def person_id_fields(id_number: str, id_type: str = RIC_TYPE) -> dict:
    """The stored columns for a person's document number: `id_cipher`, `id_index`,
    `id_masked` (never the clear value). Validates a 身份证号; raises ValidationError."""
    id_type = id_type or RIC_TYPE
    if id_type == RIC_TYPE:
        result = identifiers.check_ric(id_number)
        if not result.valid:
            raise ValidationError({"id_number": result.errors})
        normalized = result.normalized
    else:
        normalized = identifiers.normalize_identifier(id_number)
        if not normalized:
            raise ValidationError({"id_number": [_("证件号码不能为空。")]})
        if len(normalized) > 32:
            raise ValidationError({"id_number": [_("证件号码过长(不超过 32 位)。")]})
    return {
        "id_cipher": crypto.encrypt_id(normalized),
        "id_index": person_id_index(normalized, id_type),
        "id_masked": crypto.mask_id(normalized),
    }


# --------------------------------------------------------------------------- register


def _clean_name(name: str) -> tuple[str, str]:
    name = " ".join((name or "").split())
    if not name:
        raise ValidationError({"name": [_("名称不能为空。")]})
    if len(name) > 200:
        raise ValidationError({"name": [_("名称过长(不超过 200 字)。")]})
    norm = names.normalize_name(name)
    if not norm:
        raise ValidationError({"name": [_("名称不能只由标点或空格组成。")]})
    return name, norm[:200]


def _coerce_date(value, field_name: str) -> dt.date | None:
    if value in (None, ""):
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip().replace("/", "-"))
    except ValueError:
        raise ValidationError(
            {field_name: [_("日期格式应为 YYYY-MM-DD:%(v)s") % {"v": value}]}
        ) from None


@transaction.atomic
def register_subject(
    principal: Principal,
    *,
    kind: str,
    name: str,
    uscc: str | None = None,
    id_number: str | None = None,
    id_type: str = RIC_TYPE,
    region: str = "",
    legal_representative: str = "",
    established_on=None,
    reason: str = "",
) -> Subject:
    """Register a subject and return it.

    Guarantees:
    - organisations and 个体工商户 carry a valid USCC (when one is given) whose category fits the
      kind (92 ⇔ 个体工商户); a natural person never carries a USCC and must have a document
      number, which is stored only as ciphertext + blind index + masked form;
    - `name_norm`, `name_key`, `org_category` and `region` (USCC positions 3–8, or the ID's
      address code, unless given) are filled;
    - idempotent: if the identifier (USCC, or the person's document number) is already
      registered, the existing subject is returned UNCHANGED and nothing is written (a different
      name is not applied; call `rename_subject` for that). Registering an identifier that
      exists with another kind is refused. An organisation without a USCC is matched on kind +
      normalised name among subjects without a USCC;
    - one audit event "subjects.register" for a new subject, in the same transaction, and the
      subject counted in the kept counts of the register (`tally`);
    - on Citus, its identifier's key row (`subjects.keys`) written in the same transaction: the
      key table's primary key decides a race of two registrations of the same identifier (the
      loser returns the winner's subject), and a check finds the subject on one shard.
    Raises ValidationError with Chinese messages.
    """
    principal.require("subjects.change")
    if kind not in SubjectKind.values:
        raise ValidationError({"kind": [_("主体类别无效:%(v)s") % {"v": kind}]})
    name, norm = _clean_name(name)
    established_on = _coerce_date(established_on, "established_on")
    region = (region or "").strip()
    if len(region) > 6:
        raise ValidationError({"region": [_("行政区划代码最多 6 位。")]})
    values: dict = {
        "kind": kind,
        "name": name,
        "name_norm": norm,
        "name_key": names.name_keys([norm])[0][:200],
        "legal_representative": (legal_representative or "").strip()[:100],
        "established_on": established_on,
    }

    if kind == SubjectKind.PERSON:
        if uscc:
            raise ValidationError({"uscc": [_("自然人不能登记统一社会信用代码。")]})
        if not id_number:
            raise ValidationError({"id_number": [_("自然人必须填写证件号码。")]})
        if id_type and id_type not in ID_TYPES and not id_type.startswith("其他"):
            raise ValidationError({"id_type": [_("证件类型无效:%(v)s") % {"v": id_type}]})
        id_type = id_type or RIC_TYPE
        id_values = person_id_fields(id_number, id_type)
        existing = keys.find(Subject.objects, "id_index", id_values["id_index"]).first()
        if existing is not None:
            return _existing(existing, kind)
        values.update(id_values, id_type=id_type, org_category="")
        if not region and id_type == RIC_TYPE:
            region = identifiers.normalize_identifier(id_number)[:6]
        lookup = ("id_index", id_values["id_index"])
    else:
        if id_number:
            raise ValidationError(
                {"id_number": [_("组织和个体工商户以统一社会信用代码登记,不填写证件号码。")]}
            )
        if uscc:
            result = identifiers.check_uscc(uscc)
            if not result.valid:
                raise ValidationError({"uscc": result.errors})
            code = result.normalized
            expected_kind = identifiers.subject_kind_for_uscc(code)
            if expected_kind != kind:
                if kind == SubjectKind.INDIVIDUAL_BUSINESS:
                    msg = _("个体工商户的统一社会信用代码应以 92 开头,实为 %(p)s。")
                else:
                    msg = _(
                        "以 %(p)s 开头的统一社会信用代码属于个体工商户,主体类别应为个体工商户。"
                    )
                raise ValidationError({"kind": [msg % {"p": code[:2]}]})
            existing = keys.find(Subject.objects, "uscc", code).first()
            if existing is not None:
                return _existing(existing, kind)
            values.update(uscc=code, org_category=code[:2])
            region = region or code[2:8]
            lookup = ("uscc", code)
        else:
            existing = Subject.objects.filter(kind=kind, uscc__isnull=True, name_norm=norm).first()
            if existing is not None:
                return existing
            lookup = None
    values["region"] = region

    subject = Subject(**values)
    try:
        # A savepoint: a concurrent insert of the same identifier. Elsewhere the register's
        # unique index refuses the second; on Citus the key table's primary key does (its key
        # written in the same transaction, subjects.keys), and the duplicate is rolled back.
        with transaction.atomic():
            subject.save()
            if lookup and not keys.claim(*lookup, subject.pk):
                raise IntegrityError(f"subjects_subjectkey: {lookup[0]} already registered")
    except IntegrityError:
        existing = keys.find(Subject.objects, *lookup).first() if lookup else None
        if existing is None:
            raise
        return _existing(existing, kind)
    tally.add_subject(subject)
    record_event(principal, "subjects.register", subject, after=snapshot(subject), reason=reason)
    return subject


def _existing(subject: Subject, kind: str) -> Subject:
    if subject.kind != kind:
        raise ValidationError(
            {
                "kind": [
                    _("该号码已登记为“%(kind)s”主体:%(name)s")
                    % {"kind": subject.get_kind_display(), "name": subject.name}
                ]
            }
        )
    return subject


# --------------------------------------------------------------------------- rename


@transaction.atomic
def rename_subject(
    principal: Principal,
    subject: Subject,
    new_name: str,
    *,
    reason: str,
    effective: dt.date | None = None,
) -> Subject:
    """Change a subject's name, keeping the old one as a FormerName (曾用名) used until the day
    before `effective` (default: today). Requires a reason; refuses a "new" name equal to the
    current one after normalisation. Writes "subjects.rename" with before/after."""
    principal.require("subjects.change")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": [_("更名必须填写原因。")]})
    name, norm = _clean_name(new_name)
    effective = _coerce_date(effective, "effective") or timezone.localdate()
    subject = Subject.objects.select_for_update().get(pk=subject.pk)
    if norm == subject.name_norm:
        raise ValidationError({"name": [_("新名称与现名称相同。")]})
    before = snapshot(subject)
    former, created = FormerName.objects.get_or_create(
        subject=subject,
        name=subject.name,
        defaults={"name_norm": subject.name_norm, "used_until": effective - dt.timedelta(days=1)},
    )
    if not created:
        former.used_until = effective - dt.timedelta(days=1)
        former.save(update_fields=["used_until"])
    subject.name = name
    subject.name_norm = norm
    subject.name_key = names.name_keys([norm])[0][:200]
    subject.save(update_fields=["name", "name_norm", "name_key", "updated_at"])
    after = snapshot(subject)
    after["former_name"] = former.name
    record_event(principal, "subjects.rename", subject, before=before, after=after, reason=reason)
    return subject


# --------------------------------------------------------------------------- find


@dataclass(frozen=True)
class Candidate:
    subject: Subject
    score: float
    reason: str


@dataclass
class SubjectMatch:
    """`subject`: the exact hit (identifier, or a unique exact normalised name), else None.
    `candidates`: best first, scores 0–100; includes the exact hit."""

    subject: Subject | None = None
    candidates: list[Candidate] = field(default_factory=list)


def _prefix_filter(field_name: str, prefix: str) -> Q:
    # SQLite's LIKE is case-insensitive and does not use a BINARY index; a range does.
    if connection.vendor == "sqlite":
        return Q(**{f"{field_name}__gte": prefix, f"{field_name}__lt": prefix + "\U0010ffff"})
    return Q(**{f"{field_name}__startswith": prefix})


def _score(query_mk: str, query_key: str, cand_name_norm: str, cand_key: str) -> tuple[float, str]:
    """0–100 and a reason: 100 for equal match keys; else the best of the full-name ratio, the
    name-key ratio (×0.95: place or legal form differ) and, for a query that is the beginning
    of the candidate's key (someone typed only the 字号), 60 plus up to 35 by coverage."""
    cand_mk = names.match_key_of_normalized(cand_name_norm)
    if cand_mk == query_mk:
        return 100.0, _("名称一致(仅书写形式不同)")
    if query_key and query_key == cand_key:
        return 95.0, _("字号一致,地区或组织形式不同")
    score = fuzz.ratio(query_mk, cand_mk)
    if query_key and cand_key:
        score = max(score, fuzz.ratio(query_key, cand_key) * 0.95)
        if len(query_key) >= 2 and cand_key.startswith(query_key):
            prefix_score = 60.0 + 35.0 * len(query_key) / len(cand_key)
            if prefix_score > score:
                return round(prefix_score, 1), _("名称以所查字号开头")
    return round(score, 1), _("名称相近")


def find_subject(
    *,
    uscc: str | None = None,
    id_number: str | None = None,
    name: str | None = None,
    kinds: list[str] | tuple[str, ...] | None = None,
    limit: int = 10,
    id_type: str = RIC_TYPE,
    queryset: QuerySet | None = None,
) -> SubjectMatch:
    """Find a subject by identifier and/or name (see the module docstring for the approach).

    An identifier hit wins and is returned alone (on Citus found through the key table:
    `subjects.keys.find`, one shard, then the subject's shard). Otherwise, by name: a unique exact match of the
    normalised name (current, else former) is `subject` with score 100; every other candidate is
    scored with rapidfuzz, best first, at most `limit`. `queryset` (e.g. restricted by scope)
    bounds every lookup."""
    qs = queryset if queryset is not None else Subject.objects.all()
    if kinds:
        qs = qs.filter(kind__in=list(kinds))
    limit = max(1, min(int(limit), 100))

    if uscc:
        code = identifiers.normalize_identifier(uscc)
        hit = keys.find(qs, "uscc", code).first() if code else None
        if hit is not None:
            return SubjectMatch(hit, [Candidate(hit, 100.0, _("统一社会信用代码一致"))])
    if id_number:
        normalized = identifiers.normalize_identifier(id_number)
        if normalized:
            hit = keys.find(qs, "id_index", person_id_index(normalized, id_type)).first()
            if hit is not None:
                return SubjectMatch(hit, [Candidate(hit, 100.0, _("证件号码一致"))])
    if not name or not names.normalize_name(name):
        return SubjectMatch()
    return _find_by_name(qs, name, limit)


def _find_by_name(qs: QuerySet, name: str, limit: int) -> SubjectMatch:
    norm = names.normalize_name(name)[:200]
    query_key = names.name_keys([norm])[0]
    query_mk = names.match_key_of_normalized(norm)

    scored: dict[int, tuple[float, str]] = {}
    current = list(qs.filter(name_norm=norm).values_list("pk", flat=True)[: limit + 1])
    for pk in current:
        scored[pk] = (100.0, _("名称一致"))
    former = list(
        qs.filter(former_names__name_norm=norm)
        .exclude(pk__in=current)
        .values_list("pk", flat=True)
        .distinct()[: limit + 1]
    )
    for pk in former:
        scored[pk] = (100.0, _("与曾用名一致"))
    exact_pk = None
    if len(current) == 1:
        exact_pk = current[0]
    elif not current and len(former) == 1:
        exact_pk = former[0]

    if query_key:
        rows: dict[int, tuple[str, str]] = {}
        for probe in _indexed_probes(query_key):
            if len(rows) >= PROBE_LIMIT * 2:
                break  # the narrower probes already gave enough to rank
            _collect(rows, qs.filter(probe))
        best = max((_score(query_mk, query_key, n, k)[0] for n, k in rows.values()), default=0)
        prefix_hit = any(k.startswith(query_key) for _n, k in rows.values())
        if best < FALLBACK_BELOW and not prefix_hit and len(query_key) >= 3:
            before = len(rows)
            for probe in _typo_probes(query_key):
                _collect(rows, qs.filter(probe))
            if len(rows) == before:
                # nothing within one wrong character after the first: the bounded scan
                _collect(rows, qs.filter(name_key__contains=query_key[1:4]))
        for pk, (cand_norm, cand_key) in rows.items():
            if pk not in scored:
                scored[pk] = _score(query_mk, query_key, cand_norm, cand_key)

    ranked = sorted(scored.items(), key=lambda item: (-item[1][0], item[0]))[:limit]
    subjects = Subject.objects.in_bulk([pk for pk, _score in ranked])
    candidates = [
        Candidate(subjects[pk], score, reason) for pk, (score, reason) in ranked if pk in subjects
    ]
    exact = subjects.get(exact_pk) if exact_pk is not None else None
    return SubjectMatch(exact, candidates)


def _collect(rows: dict, queryset: QuerySet) -> None:
    for pk, cand_norm, cand_key in queryset.values_list("pk", "name_norm", "name_key")[
        :PROBE_LIMIT
    ]:
        rows.setdefault(pk, (cand_norm, cand_key))


def _indexed_probes(key: str) -> list[Q]:
    """Equality and prefix probes on the indexed name_key, most specific first."""
    probes = [Q(name_key=key)]
    probes += [_prefix_filter("name_key", key[:n]) for n in (4, 3, 2) if len(key) >= n]
    return probes


def _typo_probes(key: str) -> list[Q]:
    """One wrong character among the first four (the 字号): `^key[:i].key[i+1:4]` for i ≥ 1,
    bounded by the indexed prefix key[:i]. (A wrong FIRST character is left to the capped
    substring probe on key[1:4], which may scan the table and so runs only when these fail.)"""
    probes = []
    head = key[:4]
    for i in range(1, len(head) - 1):
        pattern = "^" + re.escape(head[:i]) + "." + re.escape(head[i + 1 :])
        probes.append(_prefix_filter("name_key", head[:i]) & Q(name_key__regex=pattern))
    return probes


# --------------------------------------------------------------------------- maintenance


def backfill_name_keys(batch_size: int = 5000) -> int:
    """Fill `name_key` for rows a bulk loader inserted without it (db_default ""). Returns the
    number of rows updated. Safe to re-run."""
    updated = 0
    while True:
        rows = list(
            Subject.objects.filter(name_key="")
            .exclude(name_norm="")
            .values_list("pk", "name_norm")[:batch_size]
        )
        if not rows:
            return updated
        keys = names.name_keys([norm for _, norm in rows])
        objs = [
            Subject(pk=pk, name_key=key or norm[:2])
            for (pk, norm), key in zip(rows, keys, strict=True)
        ]
        with transaction.atomic():
            Subject.objects.bulk_update(objs, ["name_key"], batch_size=1000)
        updated += len(objs)
