"""List services: identify (认定), remove (移出), expire, entries arriving through intake, and the
seed import of list types.

Every write runs in one transaction, checks the principal, writes a `ListEntryEvent` for each
status change and an audit event, and announces the subjects whose entries changed
(`changes.entries_changed`: the check read model of those subjects is refreshed in the same
transaction), so a check never sees a list change before it is committed nor misses it after.

Permissions: identifying and removing entries needs "lists.identify"; a department-scoped
principal (部门报送员) acts only for its own department (谁认定、谁移出). Importing list types
needs "lists.change".

How entries arrive through intake: a `ListType` names the catalogue `category` that carries its
entries (e.g. SXBZXR 失信被执行人信息, YZSX 严重失信主体名单, SXJL 红名单). After records of such a
category are loaded, `entries_from_records(record_ids)` turns each into (or updates) one entry:
- list type: the one whose `record_match` condition holds for the record's data; else the only
  active list type of the category; else the list type whose code or name equals the value of
  the record's field with role "list_type" (名单类型); records matching none, and records whose
  subject kind the list type does not accept, are skipped;
- subject, name, 认定部门 (= the submitting department), decided_on (= decision date),
  valid_from (record's valid_from or decision date), valid_to (record's valid_to, else the list
  type's default validity);
- basis from the fields with role legal_basis / reason / content, document number from the
  field with role document_number (else the business key);
- 移出 through intake: a record whose field with role "removal_date" (移出日期) is filled ends
  its entry: valid_to becomes at most the day before the removal date, and once that date has
  come (removal date ≤ today) the published entry is removed, its reason the field with role
  "removal_reason" (移出原因) and the date;
- the status follows the record's dates at every (re)submission: an entry whose (new) valid_to
  lies before today is expired at once; an expired entry whose validity a resubmission extends
  past today is published again (both with their events);
- a withdrawn or expired record removes its published entry; a removed entry (in the console,
  by a removal date or by a withdrawal) stays removed when the record is submitted again: to
  list the subject again, submit a new 认定 (a new document number, i.e. a new record).
"""

from __future__ import annotations

import calendar
import datetime as dt
import json
from pathlib import Path

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from pubcredit.accounts.audit import record_event, snapshot
from pubcredit.accounts.permissions import Principal, restrict
from pubcredit.catalog import conditions
from pubcredit.catalog.models import Category, Department, Field
from pubcredit.core import invalidation
from pubcredit.core.drafting import take_out_markers
from pubcredit.lists import changes, signals
from pubcredit.lists.models import (
    EntrySource,
    EntryStatus,
    ListEntry,
    ListEntryDocument,
    ListEntryEvent,
    ListKind,
    ListType,
)
from pubcredit.records.models import Record, RecordStatus

ENTRY_ACTION = "lists.identify"
DATA_DIR = Path(__file__).resolve().parent / "data"
# What an entry's 认定 and its status set (written together by intake and the demo loader).
ENTRY_DECISION_FIELDS = (
    "list_type_id",
    "subject_id",
    "subject_name",
    "identified_by_id",
    "basis",
    "document_number",
    "decided_on",
    "valid_from",
    "valid_to",
    "status",
    "status_reason",
    "status_changed_at",
)
LIST_TYPES_FILE = DATA_DIR / "list_types.json"


# --------------------------------------------------------------------------- dates


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day `months` later (the month's last day when it has fewer days)."""
    month0 = day.month - 1 + months
    year, month = day.year + month0 // 12, month0 % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def default_valid_to(list_type: ListType, valid_from: dt.date) -> dt.date | None:
    """Last valid day under the list type's default validity (12 months from 2024-03-05 →
    valid through 2025-03-04); None when the list type has none (valid until removed)."""
    if not list_type.default_validity_months:
        return None
    return add_months(valid_from, list_type.default_validity_months) - dt.timedelta(days=1)


def active_entries_q(today: dt.date | None = None, *, prefix: str = "") -> Q:
    """Entries that hit on `today`: published, valid_from ≤ today ≤ valid_to (inclusive; no
    valid_to = until removed), and their list type in force that day. Use on ListEntry querysets
    (or pass `prefix="list_entries__"` etc. from a related model)."""
    day = today or timezone.localdate()
    p = prefix
    return (
        Q(**{f"{p}status": EntryStatus.PUBLISHED, f"{p}valid_from__lte": day})
        & (Q(**{f"{p}valid_to__isnull": True}) | Q(**{f"{p}valid_to__gte": day}))
        & in_force_q(day, prefix=f"{p}list_type__")
    )


def in_force_q(day: dt.date, *, prefix: str = "") -> Q:
    """Rows with `active` and an effective window (`effective_from` / `effective_to`, inclusive,
    empty = open) in force on `day`: list types, measures (as `ListType.in_force_on`)."""
    p = prefix
    return (
        Q(**{f"{p}active": True})
        & (Q(**{f"{p}effective_from__isnull": True}) | Q(**{f"{p}effective_from__lte": day}))
        & (Q(**{f"{p}effective_to__isnull": True}) | Q(**{f"{p}effective_to__gte": day}))
    )


# --------------------------------------------------------------------------- helpers


def _event(entry: ListEntry, from_status: str, to_status: str, by: str, reason: str, at):
    return ListEntryEvent(
        entry=entry,
        from_status=from_status,
        to_status=to_status,
        at=at,
        by=by[:150],
        reason=reason[:512],
    )


def _refresh(subject_ids) -> None:
    changes.entries_changed(subject_ids)


def _announce_published(entries: list[ListEntry]) -> None:
    if not entries:
        return
    entry_ids = [e.pk for e in entries]
    subject_ids = sorted({e.subject_id for e in entries})
    kinds = {e.list_type.kind for e in entries}
    transaction.on_commit(
        lambda: signals.entries_published.send(
            sender=ListEntry, entry_ids=entry_ids, subject_ids=subject_ids, kinds=kinds
        )
    )


def _announce_ended(entry_ids: list[int], subject_ids, status: str) -> None:
    if not entry_ids:
        return
    subject_ids = sorted(set(subject_ids))
    transaction.on_commit(
        lambda: signals.entries_ended.send(
            sender=ListEntry, entry_ids=entry_ids, subject_ids=subject_ids, status=status
        )
    )


def _entry_snapshot(entry: ListEntry) -> dict:
    return snapshot(entry, exclude=("created_at", "updated_at"))


# --------------------------------------------------------------------------- console: 认定 / 移出


@transaction.atomic
def identify_entry(
    principal: Principal,
    *,
    list_type: ListType,
    subject,
    basis: str,
    decided_on: dt.date,
    valid_from: dt.date | None = None,
    valid_to: dt.date | None = None,
    document_number: str = "",
    department=None,
    documents=(),
    today: dt.date | None = None,
) -> ListEntry:
    """Put `subject` on `list_type` (认定 in the console).

    Guarantees: the principal may identify list entries ("lists.identify") and, when
    department-scoped, acts
    for its own department; the list type is active and in force on the decision date and
    accepts the subject's kind; a basis (认定依据) is given; valid_from defaults to the decision
    date and valid_to to the list type's default validity (None = until removed); the subject is
    not already on this list for an overlapping period. The entry is published (expired at once
    when its validity already ended), with its event, audit event, documents (uploaded files)
    and refreshed check read model, all in one transaction. Raises ValidationError (Chinese
    messages by field) or PermissionDenied."""
    principal.require(ENTRY_ACTION)
    day = today or timezone.localdate()
    department = department if department is not None else principal.department
    if principal.is_department_scoped and (
        department is None or department.pk != principal.department_id
    ):
        raise PermissionDenied(_("部门报送员只能以本部门名义认定名单。"))
    errors: dict[str, list[str]] = {}
    basis = (basis or "").strip()
    if not basis:
        errors.setdefault("basis", []).append(_("请填写认定依据。"))
    if not decided_on:
        errors.setdefault("decided_on", []).append(_("请填写认定日期。"))
    if decided_on and decided_on > day:
        errors.setdefault("decided_on", []).append(_("认定日期不能晚于今天。"))
    if department is None:
        errors.setdefault("department", []).append(_("请选择认定部门。"))
    if decided_on and not list_type.in_force_on(decided_on):
        errors.setdefault("list_type", []).append(
            _("名单“%(name)s”在 %(day)s 未启用或不在有效期内。")
            % {"name": list_type.name, "day": decided_on.isoformat()}
        )
    if not list_type.accepts_kind(subject.kind):
        errors.setdefault("subject", []).append(
            _("名单“%(name)s”不适用于%(kind)s。")
            % {"name": list_type.name, "kind": subject.get_kind_display()}
        )
    if errors:
        raise ValidationError(errors)
    valid_from = valid_from or decided_on
    if valid_to is None:
        valid_to = default_valid_to(list_type, valid_from)
    # Serialise identifications of one subject so two clerks cannot both pass the overlap check.
    list(type(subject).objects.select_for_update().filter(pk=subject.pk).values_list("pk"))
    if valid_to is not None and valid_to < valid_from:
        raise ValidationError({"valid_to": [_("有效期至不能早于有效期自。")]})
    _refuse_overlap(list_type, subject.pk, valid_from, valid_to)

    now = timezone.now()
    status = EntryStatus.PUBLISHED
    entry = ListEntry.objects.create(
        list_type=list_type,
        subject=subject,
        subject_name=subject.name,
        identified_by=department,
        basis=basis,
        document_number=(document_number or "").strip(),
        decided_on=decided_on,
        valid_from=valid_from,
        valid_to=valid_to,
        status=status,
        status_changed_at=now,
        source=EntrySource.CONSOLE,
        created_by=principal.label[:150],
    )
    events = [_event(entry, "", EntryStatus.PUBLISHED, principal.label, _("认定"), now)]
    if valid_to is not None and valid_to < day:
        entry.status = EntryStatus.EXPIRED
        entry.status_reason = _("有效期已届满")
        entry.save(update_fields=["status", "status_reason"])
        events.append(
            _event(
                entry,
                EntryStatus.PUBLISHED,
                EntryStatus.EXPIRED,
                principal.label,
                entry.status_reason,
                now,
            )
        )
    ListEntryEvent.objects.bulk_create(events)
    for upload in documents or ():
        ListEntryDocument.objects.create(entry=entry, file=upload, name=upload.name[:255])
    record_event(principal, "lists.identify", entry, after=_entry_snapshot(entry))
    _refresh([subject.pk])
    if entry.status == EntryStatus.PUBLISHED:
        _announce_published([entry])
    return entry


def _refuse_overlap(list_type, subject_id, valid_from, valid_to, exclude_pk=None) -> None:
    qs = ListEntry.objects.filter(
        list_type=list_type, subject_id=subject_id, status=EntryStatus.PUBLISHED
    ).filter(Q(valid_to__isnull=True) | Q(valid_to__gte=valid_from))
    if valid_to is not None:
        qs = qs.filter(valid_from__lte=valid_to)
    if exclude_pk:
        qs = qs.exclude(pk=exclude_pk)
    clash = qs.first()
    if clash is not None:
        raise ValidationError(
            {
                "subject": [
                    _("该主体已在名单“%(name)s”中(%(start)s 起),有效期重叠,不能重复认定。")
                    % {"name": list_type.name, "start": clash.valid_from.isoformat()}
                ]
            }
        )


@transaction.atomic
def remove_entry(principal: Principal, entry: ListEntry, reason: str) -> ListEntry:
    """Take a published entry off its list (移出) with a reason.

    Guarantees: the principal may identify list entries ("lists.identify") and, when
    department-scoped, the
    entry was identified by its department; only a published entry can be removed (a removed or
    expired one raises ValidationError); the status change, its event, the audit event and the
    refreshed check read model commit together. From then on the entry never hits."""
    principal.require(ENTRY_ACTION)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": [_("请填写移出原因。")]})
    if not restrict(ListEntry.objects.filter(pk=entry.pk), principal, ENTRY_ACTION).exists():
        raise PermissionDenied(_("只能移出本部门认定的名单条目。"))
    entry = ListEntry.objects.select_for_update().select_related("list_type").get(pk=entry.pk)
    if entry.status != EntryStatus.PUBLISHED:
        raise ValidationError(
            _("名单条目当前为“%(status)s”,只有公示中的条目可以移出。")
            % {"status": entry.get_status_display()}
        )
    before = _entry_snapshot(entry)
    now = timezone.now()
    entry.status = EntryStatus.REMOVED
    entry.status_reason = reason[:512]
    entry.status_changed_at = now
    entry.save(update_fields=["status", "status_reason", "status_changed_at", "updated_at"])
    ListEntryEvent.objects.create(
        entry=entry,
        from_status=EntryStatus.PUBLISHED,
        to_status=EntryStatus.REMOVED,
        at=now,
        by=principal.label[:150],
        reason=reason[:512],
    )
    record_event(
        principal, "lists.remove", entry, before=before, after=_entry_snapshot(entry), reason=reason
    )
    _refresh([entry.subject_id])
    _announce_ended([entry.pk], [entry.subject_id], EntryStatus.REMOVED)
    return entry


@transaction.atomic
def expire_entries(today: dt.date | None = None, principal: Principal | None = None) -> int:
    """The daily sweep: published entries whose validity ended before `today` (valid_to <
    today) become expired, each with an event; one audit event summarises the run. Idempotent:
    a second run on the same day changes nothing and writes nothing. Returns the number of
    entries expired."""
    principal = principal or Principal.system("lists expire")
    day = today or timezone.localdate()
    rows = list(
        ListEntry.objects.select_for_update()
        .filter(status=EntryStatus.PUBLISHED, valid_to__lt=day)
        .values_list("id", "subject_id")
    )
    if not rows:
        return 0
    ids = [r[0] for r in rows]
    now = timezone.now()
    reason = _("有效期已届满")
    for i in range(0, len(ids), 5000):
        ListEntry.objects.filter(pk__in=ids[i : i + 5000]).update(
            status=EntryStatus.EXPIRED, status_reason=reason, status_changed_at=now, updated_at=now
        )
    ListEntryEvent.objects.bulk_create(
        (
            ListEntryEvent(
                entry_id=eid,
                from_status=EntryStatus.PUBLISHED,
                to_status=EntryStatus.EXPIRED,
                at=now,
                by=principal.label[:150],
                reason=reason,
            )
            for eid in ids
        ),
        batch_size=2000,
    )
    record_event(
        principal,
        "lists.expire",
        object_type="lists.listentry",
        object_repr=_("名单条目到期"),
        after={"day": day.isoformat(), "count": len(ids), "entry_ids": ids[:1000]},
    )
    subject_ids = [r[1] for r in rows]
    _refresh(subject_ids)
    _announce_ended(ids, subject_ids, EntryStatus.EXPIRED)
    return len(ids)


# --------------------------------------------------------------------------- intake


def list_category_ids() -> frozenset[int]:
    """The catalogue categories whose records become list entries (an active list type names
    them): what the records flow's lists step looks for."""
    return frozenset(
        ListType.objects.filter(active=True, category__isnull=False)
        .values_list("category_id", flat=True)
        .distinct()
    )


def _list_types_by_category() -> dict[int, list[ListType]]:
    out: dict[int, list[ListType]] = {}
    for lt in ListType.objects.filter(active=True, category__isnull=False).order_by(
        "sort_order", "code"
    ):
        out.setdefault(lt.category_id, []).append(lt)
    return out


def _role_codes(category_ids) -> dict[int, dict[str, str]]:

    out: dict[int, dict[str, str]] = {}
    for cat, role, code in (
        Field.objects.filter(category_id__in=category_ids)
        .exclude(role="")
        .values_list("category_id", "role", "code")
    ):
        out.setdefault(cat, {}).setdefault(role, code)
    return out


def _match_list_type(candidates: list[ListType], data: dict, roles: dict[str, str]):
    for lt in candidates:
        if lt.record_match and conditions.evaluate(lt.record_match, data):
            return lt
    plain = [lt for lt in candidates if not lt.record_match]
    if len(plain) == 1 and len(candidates) == 1:
        return plain[0]
    value = data.get(roles.get("list_type", ""), None)
    if value:
        value = str(value).strip()
        for lt in candidates:
            if value in (lt.code, lt.name):
                return lt
    return None


def _record_basis(record, roles: dict[str, str], category_name: str) -> str:
    for role in ("legal_basis", "reason", "content"):
        value = record.data.get(roles.get(role, ""), None)
        if value not in (None, ""):
            return str(value)
    return _("%(category)s(%(department)s报送)") % {
        "category": category_name,
        "department": record.department.name,
    }


def _record_date(value) -> dt.date | None:
    """A date as intake stores it in a record's JSON ("YYYY-MM-DD"); None when empty or not a
    date."""
    if value in (None, ""):
        return None
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip()[:10])
    except ValueError:
        return None


def _removal(data: dict, roles: dict[str, str]) -> tuple[dt.date | None, str]:
    """(removal date, removal reason as stored on the entry) of a record's data."""
    day = _record_date(data.get(roles.get("removal_date", "")))
    if day is None:
        return None, ""
    reason = str(data.get(roles.get("removal_reason", ""), "") or "").strip()
    text = _("%(reason)s(移出日期 %(day)s)") % {
        "reason": reason or _("报送单位报送移出"),
        "day": day.isoformat(),
    }
    return day, text[:512]


@transaction.atomic
def entries_from_records(
    record_ids, *, principal: Principal | None = None, today: dt.date | None = None
) -> dict[str, int]:
    """Create or update the list entries of the given records (see module docstring for the
    mapping). Records of categories no list type carries are ignored; records without a linked
    subject (awaiting review) are skipped and counted. Set-based: bulk inserts and updates, one
    audit event per call. Returns counts {"created", "updated", "removed", "unchanged",
    "skipped"} ("removed": published entries this call removed, by a withdrawal or a removal
    date)."""

    principal = principal or Principal.system("lists intake")
    day = today or timezone.localdate()
    counts = dict.fromkeys(("created", "updated", "removed", "unchanged", "skipped"), 0)
    by_category = _list_types_by_category()
    if not by_category:
        return counts
    records = list(
        Record.objects.filter(pk__in=list(record_ids), category_id__in=list(by_category))
        .select_related("category", "department")
        .order_by("id")
    )
    if not records:
        return counts
    roles = _role_codes({r.category_id for r in records})
    existing = {
        e.record_id: e
        for e in ListEntry.objects.select_for_update().filter(record_id__in=[r.pk for r in records])
    }
    now = timezone.now()
    by = principal.label[:150]
    to_create: list[ListEntry] = []
    # What each new entry becomes right after its creation: (status, reason) or None.
    create_status: dict[int, tuple[str, str]] = {}
    to_update: list[ListEntry] = []
    events: list[ListEntryEvent] = []
    ended: dict[str, list[ListEntry]] = {EntryStatus.REMOVED: [], EntryStatus.EXPIRED: []}
    republished: list[ListEntry] = []
    touched_subjects: set[int] = set()

    def transition(entry: ListEntry, to_status: str, reason: str) -> None:
        events.append(_event(entry, entry.status, to_status, by, reason, now))
        entry.status = to_status
        entry.status_reason = reason[:512]
        entry.status_changed_at = now

    for record in records:
        entry = existing.get(record.pk)
        live = record.status == RecordStatus.ACTIVE
        if not live:
            if entry is not None and entry.status == EntryStatus.PUBLISHED:
                transition(
                    entry,
                    EntryStatus.REMOVED,
                    _("来源记录%(status)s") % {"status": record.get_status_display()},
                )
                to_update.append(entry)
                ended[EntryStatus.REMOVED].append(entry)
                touched_subjects.add(entry.subject_id)
                counts["removed"] += 1
            else:
                counts["unchanged"] += 1
            continue
        if record.subject_id is None:
            counts["skipped"] += 1
            continue
        cat_roles = roles.get(record.category_id, {})
        data = record.data or {}
        lt = _match_list_type(by_category[record.category_id], data, cat_roles)
        if lt is None or (record.subject_kind and not lt.accepts_kind(record.subject_kind)):
            counts["skipped"] += 1
            continue
        decided_on = record.decision_date or record.valid_from or record.received_at.date()
        valid_from = record.valid_from or decided_on
        valid_to = record.valid_to or default_valid_to(lt, valid_from)
        removal_on, removal_reason = _removal(data, cat_roles)
        if removal_on is not None:
            last_day = removal_on - dt.timedelta(days=1)
            valid_to = last_day if valid_to is None else min(valid_to, last_day)
        if valid_to is not None and valid_to < valid_from:
            valid_to = valid_from
        # The status the record's dates call for today.
        if removal_on is not None and removal_on <= day:
            target = (EntryStatus.REMOVED, removal_reason)
        elif valid_to is not None and valid_to < day:
            target = (EntryStatus.EXPIRED, _("有效期已届满"))
        else:
            target = (EntryStatus.PUBLISHED, "")
        docno = str(data.get(cat_roles.get("document_number", ""), "") or "")
        values = {
            "list_type_id": lt.pk,
            "subject_id": record.subject_id,
            "subject_name": record.subject_name,
            "identified_by_id": record.department_id,
            "basis": _record_basis(record, cat_roles, record.category.name),
            "document_number": (docno or record.business_key)[:128],
            "decided_on": decided_on,
            "valid_from": valid_from,
            "valid_to": valid_to,
        }
        if entry is None:
            entry = ListEntry(
                **values,
                record_id=record.pk,
                source=EntrySource.INTAKE,
                status=EntryStatus.PUBLISHED,
                status_changed_at=now,
                created_by=by,
            )
            entry._list_type = lt
            to_create.append(entry)
            if target[0] != EntryStatus.PUBLISHED:
                create_status[record.pk] = target
            touched_subjects.add(record.subject_id)
            counts["created"] += 1
            continue
        changed = {k: v for k, v in values.items() if getattr(entry, k) != v}
        previous_subject = entry.subject_id
        for k, v in changed.items():
            setattr(entry, k, v)
        # Removed stays removed; otherwise the status follows the dates.
        moved = None
        if entry.status == EntryStatus.PUBLISHED and target[0] != EntryStatus.PUBLISHED:
            moved = target[0]
            transition(entry, *target)
            ended[moved].append(entry)
        elif entry.status == EntryStatus.EXPIRED and target[0] == EntryStatus.PUBLISHED:
            moved = EntryStatus.PUBLISHED
            transition(entry, EntryStatus.PUBLISHED, _("有效期已变更,恢复公示"))
            entry.list_type = lt
            republished.append(entry)
        if not changed and moved is None:
            counts["unchanged"] += 1
            continue
        to_update.append(entry)
        touched_subjects.update({previous_subject, record.subject_id})
        counts["removed" if moved == EntryStatus.REMOVED else "updated"] += 1

    if to_create:
        ListEntry.objects.bulk_create(to_create, batch_size=2000)
        if to_create[0].pk is None:  # backends without RETURNING on bulk insert
            pks = dict(
                ListEntry.objects.filter(
                    record_id__in=[e.record_id for e in to_create]
                ).values_list("record_id", "pk")
            )
            for e in to_create:
                e.pk = pks[e.record_id]
        for e in to_create:
            events.append(_event(e, "", EntryStatus.PUBLISHED, by, _("归集报送"), now))
            if e.record_id in create_status:
                transition(e, *create_status[e.record_id])
                to_update.append(e)
    if to_update:
        for e in to_update:
            e.updated_at = now
        ListEntry.objects.bulk_update(
            to_update, [*ENTRY_DECISION_FIELDS, "updated_at"], batch_size=1000
        )
    ListEntryEvent.objects.bulk_create(events, batch_size=2000)
    if counts["created"] or counts["updated"] or counts["removed"]:
        record_event(
            principal,
            "lists.intake",
            object_type="lists.listentry",
            object_repr=_("归集名单条目"),
            after={**counts, "records": len(records)},
        )
    _refresh(touched_subjects)
    published = [e for e in to_create if e.status == EntryStatus.PUBLISHED]
    for e in published:
        e.list_type = e._list_type
    _announce_published(published + republished)
    for status, gone in ended.items():
        _announce_ended([e.pk for e in gone], [e.subject_id for e in gone], status)
    return counts


# --------------------------------------------------------------------------- seed import

LIST_TYPE_FIELDS = (
    "name",
    "kind",
    "authority_name",
    "legal_basis",
    "default_validity_months",
    "subject_kinds",
    "record_match",
    "effective_from",
    "effective_to",
    "active",
    "note",
    "sort_order",
)


class SeedError(ValueError):
    """A seed file is malformed; the message (Chinese) lists every problem."""


def _review(values: dict) -> None:
    """Drafting markers ([UNCONFIRMED …]) never reach the public name or legal basis of a list
    type (the portal's 联合奖惩 pages and public API): they go to the admin note and flag the
    type 待核实 (`needs_review`). A list type stays as active as the file says: entries of a list
    in force must keep hitting credit checks while an administrator checks the wording."""
    take_out_markers(values, (("name", "名单名称"), ("legal_basis", "认定依据")))


def read_list_types(path: Path | str | None = None) -> list[dict]:
    path = Path(path or LIST_TYPES_FILE)
    document = json.loads(path.read_text(encoding="utf-8"))
    rows = document.get("list_types") if isinstance(document, dict) else None
    if not isinstance(rows, list):
        raise SeedError(_("%s:缺少 list_types 数组") % path.name)
    problems = []
    seen = set()
    kinds = set(ListKind.values)
    for i, row in enumerate(rows, 1):
        code = row.get("code")
        where = f"{path.name} 第 {i} 项({code or '无编码'})"
        if not code or not str(code).isascii():
            problems.append(_("%s:编码应为英文") % where)
        if code in seen:
            problems.append(_("%s:编码重复") % where)
        seen.add(code)
        if row.get("kind") not in kinds:
            problems.append(_("%s:名单类别应为 red、black 或 watch") % where)
        if not str(row.get("legal_basis", "")).strip():
            problems.append(_("%s:缺少认定依据") % where)
        if not row.get("name"):
            problems.append(_("%s:缺少名称") % where)
        if row.get("record_match") is not None:
            problems.extend(
                f"{where}:{p}" for p in conditions.validate_condition(row["record_match"])
            )
    if problems:
        raise SeedError("\n".join(problems))
    return rows


@transaction.atomic
def import_list_types(principal: Principal, path: Path | str | None = None) -> dict[str, int]:
    """Upsert the list types of the seed file by code (default: lists/data/list_types.json).
    Idempotent: a second run changes nothing and writes no audit event. Types absent from the
    file are left alone (deactivate them instead: entries refer to them). Departments and
    categories are resolved by code; an unknown code is an error. Returns {"created",
    "updated", "unchanged"}."""
    # One rebuild of the caches derived from list types (the measures rules) for the whole file.
    with invalidation.coalesced():
        return _import_list_types(principal, path)


def _import_list_types(principal: Principal, path) -> dict[str, int]:

    principal.require("lists.change")
    rows = read_list_types(path)
    departments = {d.code: d for d in Department.objects.all()}
    categories = {c.code: c for c in Category.objects.all()}
    problems = []
    for row in rows:
        if row.get("authority") and row["authority"] not in departments:
            problems.append(
                _("%(code)s:未知的认定部门编码 %(dept)s")
                % {"code": row["code"], "dept": row["authority"]}
            )
        if row.get("category") and row["category"] not in categories:
            problems.append(
                _("%(code)s:未知的信息类别编码 %(cat)s")
                % {"code": row["code"], "cat": row["category"]}
            )
    if problems:
        raise SeedError("\n".join(problems))
    counts = dict.fromkeys(("created", "updated", "unchanged"), 0)
    existing = {lt.code: lt for lt in ListType.objects.all()}
    for row in rows:
        values = {k: row.get(k) for k in LIST_TYPE_FIELDS if k in row}
        for key in ("effective_from", "effective_to"):
            if values.get(key):
                values[key] = dt.date.fromisoformat(values[key])
        values["authority_name"] = values.get("authority_name") or ""
        _review(values)
        values["subject_kinds"] = values.get("subject_kinds") or []
        values["authority_id"] = departments[row["authority"]].pk if row.get("authority") else None
        values["category_id"] = categories[row["category"]].pk if row.get("category") else None
        lt = existing.get(row["code"])
        if lt is None:
            lt = ListType.objects.create(code=row["code"], **values)
            record_event(principal, "lists.type_create", lt, after=snapshot(lt))
            counts["created"] += 1
            continue
        changed = {k: v for k, v in values.items() if getattr(lt, k) != v}
        if not changed:
            counts["unchanged"] += 1
            continue
        before = snapshot(lt)
        for k, v in changed.items():
            setattr(lt, k, v)
        lt.save()
        record_event(principal, "lists.type_update", lt, before=before, after=snapshot(lt))
        counts["updated"] += 1
    return counts
