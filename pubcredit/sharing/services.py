"""信息共享 (issue 19, part 4): department systems query a subject's records and list entries.

Rules:
- action "sharing.query" (部门报送员 keys, the centre, the administrator; docs/roles.md);
- a stated purpose (查询事由, at least accounts.services.PURPOSE_MIN_LENGTH characters) is
  required; every query is logged as a SharingQuery (who, department, subject, categories,
  purpose, rows) in the same transaction that reads the answer;
- only shareable categories are answered: the catalogue's 公开属性 (Category.publicity_class)
  公开 or 共享; 授权查询 categories need the subject's authorisation and are never shared here;
  a list is shareable when its list type has no category or a shareable one;
- a caller without "subjects.view_person" gets the public, masked view of every row (persons'
  names and every ID number masked, as publicity.public renders them); a caller with it gets the
  full rows, and a look at a natural person is logged through subjects.access.

Statistics (`statistics`): queries by department and by category over a period, and the sharing
rate = shareable active catalogue categories ÷ all active catalogue categories.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, F, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from pubcredit.accounts.permissions import Principal
from pubcredit.accounts.services import PURPOSE_MIN_LENGTH
from pubcredit.catalog.models import Category, PublicityClass, SubjectKind
from pubcredit.core import identifiers
from pubcredit.intake.models import Submission
from pubcredit.lists.models import EntryStatus, ListEntry
from pubcredit.publicity.public import _text, category_fields, public_fields
from pubcredit.records.models import Record, RecordStatus
from pubcredit.sharing.models import SharingQuery, SharingQueryCategory
from pubcredit.subjects.access import log_person_access
from pubcredit.subjects.masking import display_name, mask_code, mask_person_name
from pubcredit.subjects.models import Subject
from pubcredit.subjects.services import person_id_index

SHAREABLE_CLASSES = (PublicityClass.PUBLIC, PublicityClass.SHARED)


class SharingRefused(ValidationError):
    """The query cannot be answered (no purpose, unknown category); one Chinese sentence."""


# --------------------------------------------------------------------------- scope


def shareable_categories():
    """The active catalogue categories other systems may query."""
    return Category.objects.filter(active=True, publicity_class__in=SHAREABLE_CLASSES)


def sharing_rate() -> dict:
    """{"shareable", "total", "rate"}: shareable active categories ÷ all active categories
    (rate in percent with one decimal, None when the catalogue is empty)."""
    total = Category.objects.filter(active=True).count()
    shareable = shareable_categories().count()
    rate = round(100 * shareable / total, 1) if total else None
    return {"shareable": shareable, "total": total, "rate": rate}


def clean_purpose(purpose: str | None) -> str:
    purpose = " ".join((purpose or "").split())
    if len(purpose) < PURPOSE_MIN_LENGTH:
        raise SharingRefused(
            _("共享查询必须说明查询事由(purpose,至少 %(n)d 个字)。") % {"n": PURPOSE_MIN_LENGTH}
        )
    return purpose[:255]


def parse_categories(value: str | list[str] | None) -> list[str]:
    """ "CF,XK" or ["CF", "XK"] → ["CF", "XK"] (empty: all shareable categories); unknown
    codes are refused."""
    if isinstance(value, str):
        value = value.split(",")
    codes = [c.strip() for c in (value or []) if c and c.strip()]
    known = set(Category.objects.filter(code__in=codes).values_list("code", flat=True))
    unknown = [c for c in codes if c not in known]
    if unknown:
        raise SharingRefused(_("未知的信息类别编码:%(c)s") % {"c": "、".join(unknown)})
    return list(dict.fromkeys(codes))


def resolve_subject(principal: Principal, ref: str) -> Subject | None:
    """The subject a sharing query names: its id in the subject register, its 统一社会信用代码,
    or a person's 身份证号 (found through the blind index, never stored in clear). A plain id
    names a natural person only for a caller who may see persons."""
    ref = (ref or "").strip().upper()
    if not ref:
        return None
    if ref.isascii() and ref.isdigit() and len(ref) <= 12:
        qs = Subject.objects.filter(pk=int(ref))
        if not principal.can("subjects.view_person"):
            qs = qs.exclude(kind=SubjectKind.PERSON)
        return qs.first()
    ric = identifiers.check_ric(ref)
    if ric.valid:
        return Subject.objects.filter(id_index=person_id_index(ric.normalized)).first()
    uscc = identifiers.check_uscc(ref)
    if uscc.valid:
        return Subject.objects.filter(uscc=uscc.normalized).first()
    return None


# --------------------------------------------------------------------------- answers


@dataclass
class Answer:
    query: SharingQuery
    subject: dict
    categories: list[str]
    not_shareable: list[str]
    items: list[dict]


def _subject_out(subject: Subject, masked: bool) -> dict:
    person = subject.kind == SubjectKind.PERSON
    name = mask_person_name(subject.name) if person and masked else subject.name
    return {
        "id": subject.pk,
        "kind": subject.kind,
        "name": name,
        "uscc": subject.uscc or "",
        "id_number": subject.id_masked if person else "",
    }


def _scope(requested: list[str]) -> tuple[set[int], list[str], list[str]]:
    """(ids of the categories to answer, their codes, requested codes not shareable)."""
    shareable = dict(shareable_categories().values_list("code", "pk"))
    if not requested:
        return set(shareable.values()), sorted(shareable), []
    answer = [c for c in requested if c in shareable]
    refused = [c for c in requested if c not in shareable]
    return {shareable[c] for c in answer}, answer, refused


def _log(
    principal: Principal,
    *,
    kind: str,
    subject: Subject,
    purpose: str,
    codes: list[str],
    per_category: dict[int, int],
    rows: int,
    masked: bool,
    client_address=None,
) -> SharingQuery:
    query = SharingQuery.objects.create(
        at=timezone.now(),
        kind=kind,
        actor=principal.user,
        api_key=principal.api_key,
        actor_label=principal.label[:150],
        department_id=principal.department_id,
        subject=subject,
        categories=codes,
        purpose=purpose,
        rows=rows,
        masked=masked,
    )
    SharingQueryCategory.objects.bulk_create(
        SharingQueryCategory(query=query, category_id=cid, rows=n)
        for cid, n in per_category.items()
    )
    if subject.kind == SubjectKind.PERSON and not masked:
        log_person_access(
            principal,
            subject,
            purpose=purpose,
            what=_("共享查询:%(k)s") % {"k": SharingQuery.Kind(kind).label},
            client_address=client_address,
        )
    return query


def _record_out(record: Record, masked: bool) -> dict:
    category, fields = category_fields(record.category_id)
    if masked:
        rendered = [
            {"code": f.code, "label": f.label, "value": f.value}
            for f in public_fields(record, fields, include_subject=True)
        ]
    else:
        rendered = [
            {"code": f.code, "label": f.name, "value": _text(record.data.get(f.code))}
            for f in fields
            if record.data.get(f.code) not in (None, "", [])
        ]
    source = getattr(record, "submission_source", None) or Submission.Source.LOCAL
    return {
        "id": record.pk,
        "category": category.code,
        "category_name": category.name,
        "department": record.department.name if record.department_id else "",
        "decision_date": record.decision_date.isoformat() if record.decision_date else None,
        "source": source,
        "source_label": str(Submission.Source(source).label),
        "fields": rendered,
    }


@transaction.atomic
def query_records(
    principal: Principal,
    subject: Subject,
    *,
    purpose: str,
    categories: list[str] | None = None,
    client_address=None,
) -> Answer:
    """The subject's current (有效) records of the shareable categories asked for, logged."""
    principal.require("sharing.query")
    purpose = clean_purpose(purpose)
    ids, codes, refused = _scope(categories or [])
    masked = not principal.can("subjects.view_person")
    records = list(
        Record.objects.filter(subject=subject, status=RecordStatus.ACTIVE, category_id__in=ids)
        .select_related("department")
        .annotate(submission_source=F("submission__source"))
        .order_by("-decision_date", "-id")
    )
    # Every category asked about counts as queried, with or without rows.
    per_category: dict[int, int] = dict.fromkeys(ids, 0)
    for r in records:
        per_category[r.category_id] = per_category.get(r.category_id, 0) + 1
    query = _log(
        principal,
        kind=SharingQuery.Kind.RECORDS,
        subject=subject,
        purpose=purpose,
        codes=codes,
        per_category=per_category,
        rows=len(records),
        masked=masked,
        client_address=client_address,
    )
    items = [_record_out(r, masked) for r in records]
    return Answer(query, _subject_out(subject, masked), codes, refused, items)


@transaction.atomic
def query_lists(
    principal: Principal,
    subject: Subject,
    *,
    purpose: str,
    categories: list[str] | None = None,
    client_address=None,
) -> Answer:
    """The subject's list entries now published (已公示) of shareable list types, logged. A list
    type is shareable when it has no catalogue category or a shareable one; `categories`
    narrows to list types of those catalogue categories."""
    principal.require("sharing.query")
    purpose = clean_purpose(purpose)
    ids, codes, refused = _scope(categories or [])
    masked = not principal.can("subjects.view_person")
    scope = Q(list_type__category_id__in=ids)
    if not categories:
        scope |= Q(list_type__category__isnull=True)
    entries = list(
        ListEntry.objects.filter(scope, subject=subject, status=EntryStatus.PUBLISHED)
        .select_related("list_type", "identified_by")
        .order_by("-decided_on", "-id")
    )
    per_category: dict[int, int] = dict.fromkeys(ids, 0) if categories else {}
    for e in entries:
        if e.list_type.category_id:
            cid = e.list_type.category_id
            per_category[cid] = per_category.get(cid, 0) + 1
    query = _log(
        principal,
        kind=SharingQuery.Kind.LISTS,
        subject=subject,
        purpose=purpose,
        codes=codes,
        per_category=per_category,
        rows=len(entries),
        masked=masked,
        client_address=client_address,
    )
    person = subject.kind == SubjectKind.PERSON
    items = [
        {
            "id": e.pk,
            "list_type": e.list_type.code,
            "list_name": e.list_type.name,
            "kind": e.list_type.kind,
            "subject_name": mask_person_name(e.subject_name)
            if person and masked
            else e.subject_name,
            "identified_by": e.identified_by.name if e.identified_by_id else "",
            "document_number": mask_code(e.document_number)
            if masked and person
            else e.document_number,
            "decided_on": e.decided_on.isoformat(),
            "valid_from": e.valid_from.isoformat(),
            "valid_to": e.valid_to.isoformat() if e.valid_to else None,
            "basis": e.basis,
        }
        for e in entries
    ]
    return Answer(query, _subject_out(subject, masked), codes, refused, items)


# --------------------------------------------------------------------------- statistics


def statistics(start: dt.date, end: dt.date, *, breakdowns: bool = True) -> dict:
    """Sharing from `start` to `end` (both inclusive, local dates): queries and rows by
    department (the caller's; "" for the centre's own), by category (both left out, as empty
    lists, when `breakdowns` is false: the dashboard's card), the totals and the rate."""
    tz = timezone.get_current_timezone()
    since = dt.datetime.combine(start, dt.time.min, tzinfo=tz)
    until = dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min, tzinfo=tz)
    queries = SharingQuery.objects.filter(at__gte=since, at__lt=until)
    if not breakdowns:
        totals = queries.aggregate(queries=Count("id"), rows=Sum("rows"))
        return {
            "start": start.isoformat(),
            "end": end.isoformat(),
            "queries": totals["queries"] or 0,
            "rows": totals["rows"] or 0,
            "by_department": [],
            "by_category": [],
            "rate": sharing_rate(),
        }
    by_department = [
        {
            "department": row["department__code"] or "",
            "department_name": row["department__name"] or _("信用中心及其他"),
            "queries": row["queries"],
            "rows": row["rows"] or 0,
        }
        for row in queries.values("department__code", "department__name")
        .annotate(queries=Count("id"), rows=Sum("rows"))
        .order_by("-queries", "department__code")
    ]
    by_category = [
        {
            "category": row["category__code"],
            "category_name": row["category__name"],
            "queries": row["queries"],
            "rows": row["rows"] or 0,
        }
        for row in SharingQueryCategory.objects.filter(query__at__gte=since, query__at__lt=until)
        .values("category__code", "category__name")
        .annotate(queries=Count("query_id"), rows=Sum("rows"))
        .order_by("-queries", "category__code")
    ]
    totals = queries.aggregate(queries=Count("id"), rows=Sum("rows"))
    return {
        "start": start.isoformat(),
        "end": end.isoformat(),
        "queries": totals["queries"] or 0,
        "rows": totals["rows"] or 0,
        "by_department": by_department,
        "by_category": by_category,
        "rate": sharing_rate(),
    }


def recent_queries(start: dt.date, end: dt.date, limit: int = 50) -> list[dict]:
    """The latest queries of the period, for the console's log table (a person's name masked:
    reading the log is no look at the person)."""
    tz = timezone.get_current_timezone()
    since = dt.datetime.combine(start, dt.time.min, tzinfo=tz)
    until = dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min, tzinfo=tz)
    rows = (
        SharingQuery.objects.filter(at__gte=since, at__lt=until)
        .select_related("department", "subject")
        .order_by("-at", "-id")[:limit]
    )
    return [
        {
            "at": q.at,
            "actor": q.actor_label,
            "department": q.department.name if q.department_id else "",
            "subject": display_name(q.subject),
            "kind": q.get_kind_display(),
            "categories": "、".join(q.categories),
            "purpose": q.purpose,
            "rows": q.rows,
        }
        for q in rows
    ]
