"""What is public today, as the publicity rules decide it (`pubcredit.publicity.services`).

The portal never decides publicity itself: every record it shows comes through these calls,
which read the publicity read model. They are gathered here so the pages and the public API ask
the same questions the same way, and render what they get with `publicity.public`.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass

from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _

from pubcredit.catalog.models import Category, SubjectKind
from pubcredit.commitments.queries import public_commitments
from pubcredit.intake.models import Submission
from pubcredit.lists import services as list_services
from pubcredit.lists.models import ListEntry
from pubcredit.publicity import services as publicity_services
from pubcredit.publicity.models import Publicity
from pubcredit.publicity.public import PublicField, PublicRecord, public_record_joined
from pubcredit.records.models import Record
from pubcredit.subjects.masking import redact_id_numbers
from pubcredit.subjects.names import mask_person_name


def today_or(day: dt.date | None) -> dt.date:
    return day or timezone.localdate()


@dataclass(frozen=True)
class RecordPage:
    items: list[PublicRecord]
    total: int
    offset: int
    limit: int


def _render(record, *, include_subject: bool) -> PublicRecord:
    return public_record_joined(record, include_subject=include_subject)


def attach_sources(records) -> None:
    """Set `data_source` (intake Submission.Source) on each record: one query for the page's
    submissions handed down (下发), none joined into the page query itself."""
    ids = {r.submission_id for r in records}
    handed_down = dict(
        Submission.objects.filter(pk__in=ids)
        .exclude(source=Submission.Source.LOCAL)
        .values_list("pk", "source")
    )
    for r in records:
        r.data_source = handed_down.get(r.submission_id, Submission.Source.LOCAL)


def _category_codes() -> dict[int, str]:
    now = time.monotonic()
    if now - _CATEGORIES["at"] > 300 or not _CATEGORIES["codes"]:
        _CATEGORIES["codes"] = dict(Category.objects.values_list("pk", "code"))
        _CATEGORIES["at"] = now
    return _CATEGORIES["codes"]


_CATEGORIES: dict = {"at": 0.0, "codes": {}}


def _category_id(code: str) -> int | None:
    found = next((pk for pk, c in _category_codes().items() if c == code), None)
    if found is None:  # a category created since the map was read
        _CATEGORIES["at"] = 0.0
        found = next((pk for pk, c in _category_codes().items() if c == code), None)
    return found


def clear_caches() -> None:
    """Forget the process-level catalogue caches (tests; after a catalogue import)."""
    _CATEGORIES["at"] = 0.0
    _CATEGORIES["codes"] = {}


def subject_counts(subject_id: int, today: dt.date | None = None) -> dict[str, int]:
    """{category code: records of the subject public today}: one grouped count over the
    publicity read model, filtered by the publicity service's own "public on a day" test."""
    rows = (
        Publicity.objects.filter(
            publicity_services.is_public_q(today_or(today), prefix=""), subject_id=subject_id
        )
        .order_by()
        .values("category_id")
        .annotate(n=Count("pk"))
        .values_list("category_id", "n")
    )
    codes = _category_codes()
    return {codes.get(category_id, str(category_id)): n for category_id, n in rows}


def subject_records(
    subject_id: int,
    category_code: str,
    *,
    today: dt.date | None = None,
    offset: int = 0,
    limit: int = 20,
    total: int | None = None,
) -> RecordPage:
    """One page of the subject's records of a category that are public today, newest first.
    `total`, when the caller already counted them (subject_counts), saves a second count."""
    category_id = _category_id(category_code)
    if category_id is None:
        return RecordPage([], 0, offset, limit)
    # The category by id (not by code through a join): the read model carries it.
    qs = publicity_services.public_records(subject_id, today=today_or(today))
    qs = qs.filter(publicity__category_id=category_id)
    if total is None:
        total = qs.count()
    rows = list(qs[offset : offset + limit]) if offset < total else []
    attach_sources(rows)
    return RecordPage([_render(r, include_subject=False) for r in rows], total, offset, limit)


def publicity_list(
    *,
    category: str | None = None,
    department: str | None = None,
    since: dt.date | None = None,
    today: dt.date | None = None,
    offset: int = 0,
    limit: int = 20,
    count_cap: int = 10_000,
) -> RecordPage:
    """One page of the 双公示 publicity list (latest first). The total is counted up to
    `count_cap` (a city's full list has hundreds of thousands of rows)."""
    qs = publicity_services.publicity_lists(
        department=department, category=category, since=since, today=today_or(today)
    )
    total = qs[:count_cap].count()
    rows = list(qs[offset : offset + limit]) if offset < total else []
    items = []
    attach_sources([p.record for p in rows])
    for publicity in rows:
        record = publicity.record
        # The list row carries category, department and publicity: reuse them on the record.
        record.publicity = publicity
        record.department = publicity.department
        items.append(_render(record, include_subject=True))
    return RecordPage(items, total, offset, limit)


def public_record_detail(record_id: int, today: dt.date | None = None) -> PublicRecord | None:
    """One record if it is public today, else None."""
    record = (
        Record.objects.filter(publicity_services.is_public_q(today_or(today)), pk=record_id)
        .select_related("publicity", "department")
        .first()
    )
    if record is None:
        return None
    attach_sources([record])
    return _render(record, include_subject=True)


# --------------------------------------------------------------------------- credit lists


def subject_list_counts(subject_id: int, today: dt.date | None = None) -> dict[str, int]:
    """{list kind (red / black / watch): the subject's entries in force today}."""
    rows = (
        ListEntry.objects.filter(
            list_services.active_entries_q(today_or(today)), subject_id=subject_id
        )
        .order_by()
        .values("list_type__kind")
        .annotate(n=Count("pk"))
        .values_list("list_type__kind", "n")
    )
    return dict(rows)


def subject_list_entries(
    subject_id: int,
    kind: str,
    *,
    today: dt.date | None = None,
    offset: int = 0,
    limit: int = 20,
) -> RecordPage:
    """One page of the subject's entries in force today on lists of `kind` (red 守信激励 /
    black 严重失信主体名单), newest decision first, rendered like records."""
    qs = (
        ListEntry.objects.filter(
            list_services.active_entries_q(today_or(today)),
            subject_id=subject_id,
            list_type__kind=kind,
        )
        .select_related("list_type", "identified_by", "subject")
        .order_by("-decided_on", "-id")
    )
    total = qs.count()
    rows = list(qs[offset : offset + limit]) if offset < total else []
    return RecordPage([public_list_entry(e) for e in rows], total, offset, limit)


def public_list_entry(entry) -> PublicRecord:
    """A list entry as the public sees it (a person's name masked, text scrubbed)."""
    person = entry.subject.kind == SubjectKind.PERSON
    authority = entry.identified_by.name if entry.identified_by else entry.list_type.authority_name
    values = [
        ("list_type", _("名单名称"), entry.list_type.name),
        ("document_number", _("认定文书号"), entry.document_number),
        ("authority", _("认定部门"), authority),
        ("decided_on", _("认定日期"), entry.decided_on.isoformat()),
        ("valid_from", _("有效期自"), entry.valid_from.isoformat()),
        ("valid_to", _("有效期至"), entry.valid_to.isoformat() if entry.valid_to else _("长期")),
        ("basis", _("认定依据"), entry.basis),
        ("legal_basis", _("名单依据"), entry.list_type.legal_basis),
    ]
    fields = [
        PublicField(code, str(label), redact_id_numbers(str(v))) for code, label, v in values if v
    ]
    summary = [
        f for f in fields if f.code in ("list_type", "document_number", "decided_on", "valid_to")
    ]
    return PublicRecord(
        id=entry.pk,
        category=entry.list_type.code,
        category_name=entry.list_type.name,
        subject_name=mask_person_name(entry.subject_name) if person else entry.subject_name,
        subject_kind=entry.subject.kind,
        subject_ref=None if person else str(entry.subject_id),
        department=authority or "",
        decision_date=entry.decided_on.isoformat(),
        summary=summary,
        fields=fields,
        publicity_start=entry.valid_from.isoformat(),
        publicity_end=entry.valid_to.isoformat() if entry.valid_to else "",
    )


# --------------------------------------------------------------------------- credit commitments


def subject_commitment_count(subject_id: int, today: dt.date | None = None) -> int:
    """The subject's commitments in the public register today (可向社会公开, made by today)."""
    return public_commitments(subject_id, today_or(today)).order_by().count()


def subject_commitments(
    subject_id: int,
    *,
    today: dt.date | None = None,
    offset: int = 0,
    limit: int = 20,
    total: int | None = None,
) -> RecordPage:
    """One page of the subject's public commitments, newest first, rendered like records."""
    qs = public_commitments(subject_id, today_or(today))
    if total is None:
        total = qs.count()
    rows = list(qs[offset : offset + limit]) if offset < total else []
    return RecordPage([public_commitment(c) for c in rows], total, offset, limit)


def public_commitment(commitment) -> PublicRecord:
    """A commitment as the public sees it: a person's name masked (张*), the committer's own
    identifiers left to the subject's header, no signer, every text scrubbed of 身份证号."""
    c = commitment
    person = c.committer_kind == SubjectKind.PERSON
    values = [
        ("CN_CNBM", _("承诺编码"), c.code),
        ("CN_CNLX", _("承诺类型"), c.get_commitment_type_display()),
        ("CN_CNSY", _("承诺事由"), c.reason),
        ("CN_CNNR", _("承诺内容"), c.content),
        ("CN_WNZR", _("违诺责任"), c.liability),
        ("CN_ZCRQ", _("承诺作出日期"), c.made_on.isoformat()),
        ("CN_YXQ", _("承诺有效期"), c.valid_to.isoformat() if c.valid_to else _("长期")),
        ("CN_SLDW", _("承诺受理单位"), c.department.name),
        ("MATTER", _("替代的审批事项"), c.matter.name if c.matter_id else ""),
        ("CN_LXZT", _("承诺履行状态"), c.get_performance_display()),
        ("CN_WLXNR", _("未履行的承诺内容"), c.unfulfilled_content),
        ("CN_ZJNR", _("违诺责任追究内容"), c.liability_enforced),
        ("CN_RDRQ", _("履行状态认定日期"), c.assessed_on.isoformat() if c.assessed_on else ""),
        ("CN_RDDW", _("履行状态认定单位"), c.assessor.name if c.assessor_id else ""),
        ("BZ", _("备注"), c.remark),
    ]
    fields = [
        PublicField(code, str(label), redact_id_numbers(str(v))) for code, label, v in values if v
    ]
    summary = [f for f in fields if f.code in ("CN_CNLX", "CN_CNBM", "CN_ZCRQ", "CN_LXZT")]
    return PublicRecord(
        id=c.pk,
        category="CN",
        category_name=str(_("信用承诺")),
        subject_name=mask_person_name(c.committer_name) if person else c.committer_name,
        subject_kind=c.committer_kind,
        subject_ref=None if person else str(c.subject_id),
        department=c.department.name,
        decision_date=c.made_on.isoformat(),
        summary=summary,
        fields=fields,
        publicity_start=c.made_on.isoformat(),
        publicity_end=c.valid_to.isoformat() if c.valid_to else "",
    )
