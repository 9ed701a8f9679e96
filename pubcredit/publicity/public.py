"""What the public may see of a subject or a record: the one place that renders them for the
portal's pages and its public API, so both mask exactly the same way.

Rules (architecture.md, "Personal data"; brief §6):
- a natural person's name is shown masked (张*), the 身份证号 as first 6 + last 4, and a person
  is never reachable by a guessable address: a person's page is addressed by a signed,
  expiring reference handed out only by an exact ID-number search (`subject_ref`);
- catalogue fields marked 不公开 are never rendered; fields marked 脱敏公开 are masked;
- every text value is scrubbed of anything that looks like an 18-digit 身份证号 with a valid
  check character (a department may have typed one into 违法事实), as a last line of defence.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from django.core import signing
from django.utils.translation import gettext as _

from pubcredit.catalog.models import Category, Field, Region, SubjectKind
from pubcredit.catalog.regions import SEED_CITY
from pubcredit.intake.models import Submission
from pubcredit.publicity.models import last_public_day
from pubcredit.subjects.masking import mask_code, public_name, redact_id_numbers
from pubcredit.subjects.models import Subject
from pubcredit.subjects.names import mask_person_name

PERSON_REF_SALT = "pubcredit.portal.person-ref"
# A person's page link from an ID-number search stays valid this long.
PERSON_REF_SECONDS = 2 * 3600

# --------------------------------------------------------------------------- references


def subject_ref(subject: Subject) -> str:
    """The public address of a subject: its id for an organisation, a signed expiring token for
    a natural person (so persons cannot be enumerated)."""
    if subject.kind == SubjectKind.PERSON:
        return "p-" + signing.dumps(subject.pk, salt=PERSON_REF_SALT, compress=False)
    return str(subject.pk)


class RefExpired(Exception):
    """A person's page link that was valid once but has expired."""


def resolve_subject_ref(ref: str) -> Subject | None:
    """The subject a public reference names, or None. A plain id never resolves to a person.
    Raises RefExpired for a person's link past PERSON_REF_SECONDS."""
    ref = (ref or "").strip()
    if ref.isascii() and ref.isdigit() and len(ref) <= 18:
        return Subject.objects.filter(pk=int(ref)).exclude(kind=SubjectKind.PERSON).first()
    if ref.startswith("p-"):
        try:
            pk = signing.loads(ref[2:], salt=PERSON_REF_SALT, max_age=PERSON_REF_SECONDS)
        except signing.SignatureExpired:
            raise RefExpired() from None
        except signing.BadSignature:
            return None
        if not isinstance(pk, int):
            return None
        return Subject.objects.filter(pk=pk, kind=SubjectKind.PERSON).first()
    return None


# --------------------------------------------------------------------------- regions

_REGION_CACHE: dict = {"at": 0.0, "names": {}}
_REGION_TTL = 300


def region_names() -> dict[str, str]:
    """Region code → name, cached in the process for a few minutes."""
    now = time.monotonic()
    if now - _REGION_CACHE["at"] > _REGION_TTL or not _REGION_CACHE["names"]:
        _REGION_CACHE["names"] = dict(Region.objects.values_list("code", "name"))
        _REGION_CACHE["at"] = now
    return _REGION_CACHE["names"]


_DISTRICTS: dict = {"at": 0.0, "choices": {}}


def district_choices(city: str = SEED_CITY) -> list[tuple[str, str]]:
    """The city's districts and counties (GB/T 2260 codes), for the search filter; cached in
    the process for a few minutes."""
    now = time.monotonic()
    hit = _DISTRICTS["choices"].get(city)
    if hit is None or now - _DISTRICTS["at"] > _REGION_TTL:
        hit = list(
            Region.objects.filter(parent_id=city, level=Region.Level.COUNTY, valid_to__isnull=True)
            .order_by("code")
            .values_list("code", "name")
        )
        _DISTRICTS["choices"][city] = hit
        _DISTRICTS["at"] = now
    return hit


def clear_caches() -> None:
    """Forget the process-level caches of regions, districts and category fields."""
    _REGION_CACHE.update(at=0.0, names={})
    _DISTRICTS.update(at=0.0, choices={})
    _FIELDS_CACHE.clear()


# --------------------------------------------------------------------------- subjects


@dataclass(frozen=True)
class PublicSubject:
    ref: str
    kind: str
    kind_label: str
    name: str
    uscc: str
    id_masked: str
    id_type: str
    region: str
    region_name: str
    legal_representative: str
    established_on: str
    former_names: list[str] | None = None  # None: not looked up (search results)

    @property
    def is_person(self) -> bool:
        return self.kind == SubjectKind.PERSON

    def as_dict(self) -> dict:
        data = {
            "ref": self.ref,
            "kind": self.kind,
            "kind_label": self.kind_label,
            "name": self.name,
            "region": self.region,
            "region_name": self.region_name,
        }
        if self.is_person:
            data |= {"id_type": self.id_type, "id_masked": self.id_masked}
        else:
            data |= {
                "uscc": self.uscc,
                "legal_representative": self.legal_representative,
                "established_on": self.established_on or None,
            }
            if self.former_names is not None:
                data["former_names"] = self.former_names
        return data


def public_subject(subject: Subject, *, former_names: list[str] | None = None) -> PublicSubject:
    """The public view of a subject (masked for a natural person)."""
    person = subject.kind == SubjectKind.PERSON
    return PublicSubject(
        ref=subject_ref(subject),
        kind=subject.kind,
        kind_label=str(SubjectKind(subject.kind).label)
        if subject.kind in SubjectKind.values
        else "",
        name=public_name(subject.name, subject.kind),
        uscc="" if person else (subject.uscc or ""),
        id_masked=mask_code(subject.id_masked) if person else "",
        id_type=(subject.id_type or _("身份证")) if person else "",
        region=subject.region or "",
        region_name=region_names().get(subject.region or "", ""),
        legal_representative="" if person else redact_id_numbers(subject.legal_representative),
        established_on=subject.established_on.isoformat() if subject.established_on else "",
        former_names=None if person or former_names is None else list(former_names),
    )


# --------------------------------------------------------------------------- records

# Roles of the fields listed in a record's one-line summary, in display order.
SUMMARY_ROLES = (
    "document_title",
    "document_number",
    "penalty_types",
    "licence_type",
    "commitment_type",
    "decision_date",
    "valid_to",
    "authority_name",
)
# Roles that describe the subject: shown in the subject's header, not repeated per record.
SUBJECT_ROLES = frozenset(
    {
        "subject_name",
        "subject_kind",
        "subject_uscc",
        "subject_id_type",
        "subject_id_number",
        "subject_code",
        "subject_registration_number",
        "subject_org_code",
        "subject_tax_number",
        "subject_institution_number",
        "subject_social_org_number",
        "legal_representative_id_type",
    }
)

_FIELDS_CACHE: dict = {}
_FIELDS_TTL = 60


def category_fields(category_id: int) -> tuple[Category, list[Field]]:
    """A category and its fields in order, cached in the process for a minute."""
    now = time.monotonic()
    hit = _FIELDS_CACHE.get(category_id)
    if hit is None or now - hit[0] > _FIELDS_TTL:
        category = Category.objects.prefetch_related("fields").get(pk=category_id)
        hit = (now, category, list(category.fields.all()))
        _FIELDS_CACHE[category_id] = hit
    return hit[1], hit[2]


@dataclass(frozen=True)
class PublicField:
    code: str
    label: str
    value: str


@dataclass(frozen=True)
class PublicRecord:
    id: int
    category: str
    category_name: str
    subject_name: str
    subject_kind: str
    subject_ref: str | None
    department: str
    decision_date: str
    summary: list[PublicField]
    fields: list[PublicField]
    publicity_start: str = ""
    publicity_end: str = ""
    # For the repair and objection links of a penalty: the first day a repair may be applied
    # for (ISO date, "" when there is no minimum period) and the publicity state ("objection"
    # while an objection is verified: shown with the flag 异议处理中).
    repair_from: str = ""
    publicity_state: str = ""
    # Where the record came from (intake Submission.Source): "local", or "provincial" /
    # "national" for data handed down (下发), shown as a small label (e.g. 国家下发).
    source: str = "local"

    @property
    def source_label(self) -> str:
        """ "省级下发" / "国家下发" for data handed down; "" for the city's own."""
        if not self.source or self.source == Submission.Source.LOCAL:
            return ""
        return str(dict(Submission.Source.choices).get(self.source, ""))

    def as_dict(self) -> dict:
        return {
            "id": self.id,
            "category": self.category,
            "category_name": self.category_name,
            "subject_name": self.subject_name,
            "subject_kind": self.subject_kind,
            "subject_ref": self.subject_ref,
            "department": self.department,
            "decision_date": self.decision_date or None,
            "publicity_start": self.publicity_start or None,
            "publicity_end": self.publicity_end or None,
            "fields": [{"code": f.code, "label": f.label, "value": f.value} for f in self.fields],
        }


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return "、".join(_text(v) for v in value if v not in (None, ""))
    if isinstance(value, bool):
        return _("是") if value else _("否")
    return str(value)


PERSON_LABELS = frozenset({SubjectKind.PERSON.value, str(SubjectKind.PERSON.label), "自然人"})


def record_is_person(record, fields: list[Field]) -> bool:
    """Whether a record is about a natural person: by the kind intake stored, or by the record's
    own 行政相对人类别 field (in doubt, the record is treated as a person's and masked)."""
    if record.subject_kind == SubjectKind.PERSON:
        return True
    if record.subject_kind:
        return False
    kind_codes = [f.code for f in fields if f.role == "subject_kind"]
    return not kind_codes or any(
        str(record.data.get(code) or "") in PERSON_LABELS or not record.data.get(code)
        for code in kind_codes
    )


def public_fields(record, fields: list[Field], *, include_subject: bool) -> list[PublicField]:
    """The record's publishable fields, masked and scrubbed."""
    person = record_is_person(record, fields)
    out = []
    for f in fields:
        if f.disclosure == Field.Disclosure.HIDDEN:
            continue
        if not include_subject and f.role in SUBJECT_ROLES:
            continue
        raw = record.data.get(f.code)
        if raw in (None, "", []):
            continue
        value = _text(raw)
        if f.type == Field.Type.ID_NUMBER or f.disclosure == Field.Disclosure.MASKED:
            value = mask_code(value)
        elif f.role == "subject_name" and person:
            value = mask_person_name(value)
        elif f.role == "legal_representative" and person:
            continue  # a person has no legal representative; never show a second name
        out.append(PublicField(f.code, f.name, redact_id_numbers(value)))
    return out


def _iso(day) -> str:
    return day.isoformat() if day else ""


def public_record(
    record,
    *,
    include_subject: bool = False,
    department_name: str = "",
    publicity_start=None,
    publicity_end=None,
    repair_from=None,
    publicity_state: str = "",
    source: str = "",
) -> PublicRecord:
    """The public view of one record (`include_subject`: keep the subject's own fields, for
    lists that show records of many subjects). `publicity_end` is the window's stored end (the
    first day no longer public); the record shows its last public day, inclusive, as the credit
    check does (`publicity.models.last_public_day`)."""
    category, fields = category_fields(record.category_id)
    rendered = public_fields(record, fields, include_subject=include_subject)
    by_role = {f.role: f.code for f in fields if f.role}
    summary_codes = [by_role[r] for r in SUMMARY_ROLES if r in by_role]
    by_code = {f.code: f for f in rendered}
    summary = [by_code[c] for c in summary_codes if c in by_code]
    person = record_is_person(record, fields)
    ref = None
    if record.subject_id and not person:
        ref = str(record.subject_id)
    return PublicRecord(
        id=record.pk,
        category=category.code,
        category_name=category.name,
        subject_name=mask_person_name(record.subject_name) if person else record.subject_name,
        subject_kind=SubjectKind.PERSON.value if person else record.subject_kind,
        subject_ref=ref,
        department=department_name,
        decision_date=record.decision_date.isoformat() if record.decision_date else "",
        summary=summary,
        fields=rendered,
        publicity_start=_iso(publicity_start),
        publicity_end=_iso(last_public_day(publicity_end)),
        repair_from=_iso(repair_from),
        publicity_state=publicity_state or "",
        source=source or "local",
    )


def public_record_joined(record, *, include_subject: bool = False) -> PublicRecord:
    """`public_record` of a record read with its publicity row and department joined in (as
    `publicity.services.public_records` returns them): the window, the repair date and the
    state come from the read model; the source from `record.data_source` when the caller set it
    (portal.disclosure.attach_sources). What the portal's pages and the credit reports render."""
    publicity = getattr(record, "publicity", None)
    department = getattr(record, "department", None)
    return public_record(
        record,
        include_subject=include_subject,
        department_name=getattr(department, "name", "") if department else "",
        publicity_start=getattr(publicity, "start", None),
        publicity_end=getattr(publicity, "end", None),
        repair_from=getattr(publicity, "repair_from", None),
        publicity_state=getattr(publicity, "state", ""),
        source=getattr(record, "data_source", "") or "",
    )
