"""Lists API (/api/v1/lists/): list types (public catalogue data), list entries for staff and
department systems, 认定 and 移出. Thin: parse, call the services, shape the answer. Entries are
restricted by the caller's scope (a department's clerk or key sees its own department's
entries); natural persons' names are masked."""

from __future__ import annotations

import datetime as dt

from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Router, Schema, Status
from ninja.errors import HttpError

from pubcredit.accounts.permissions import restrict
from pubcredit.catalog.models import Department, SubjectKind
from pubcredit.core.apitypes import Id, Offset
from pubcredit.lists import services
from pubcredit.lists.models import EntryStatus, ListEntry, ListType
from pubcredit.subjects.models import Subject
from pubcredit.subjects.names import mask_person_name

router = Router(tags=["信用名单"])

VIEW_ACTION = "records.view"


class ListTypeOut(Schema):
    code: str
    name: str
    kind: str
    authority: str
    legal_basis: str
    default_validity_months: int | None
    subject_kinds: list[str]
    category: str | None
    active: bool


class EntryEventOut(Schema):
    at: dt.datetime
    from_status: str
    to_status: str
    by: str
    reason: str


class EntryOut(Schema):
    id: int
    list_type: str
    list_type_name: str
    kind: str
    subject_id: int
    subject_name: str
    identified_by: str | None
    basis: str
    document_number: str
    decided_on: dt.date
    valid_from: dt.date
    valid_to: dt.date | None
    status: str
    status_reason: str
    source: str
    record_id: int | None


class EntryDetailOut(EntryOut):
    events: list[EntryEventOut]


class EntryPage(Schema):
    count: int
    items: list[EntryOut]


class IdentifyIn(Schema):
    list_type: str
    subject_id: Id
    basis: str
    decided_on: dt.date
    valid_from: dt.date | None = None
    valid_to: dt.date | None = None
    document_number: str = ""
    department: str | None = None


class RemoveIn(Schema):
    reason: str


def _entry_out(e: ListEntry) -> dict:
    name = e.subject_name
    if e.subject.kind == SubjectKind.PERSON:
        name = mask_person_name(name)
    return {
        "id": e.pk,
        "list_type": e.list_type.code,
        "list_type_name": e.list_type.name,
        "kind": e.list_type.kind,
        "subject_id": e.subject_id,
        "subject_name": name,
        "identified_by": e.identified_by.name if e.identified_by_id else None,
        "basis": e.basis,
        "document_number": e.document_number,
        "decided_on": e.decided_on,
        "valid_from": e.valid_from,
        "valid_to": e.valid_to,
        "status": e.status,
        "status_reason": e.status_reason,
        "source": e.source,
        "record_id": e.record_id,
    }


def _entries(request):
    qs = restrict(ListEntry.objects.all(), request.principal, VIEW_ACTION)
    return qs.select_related("list_type", "identified_by", "subject")


@router.get("/types", response=list[ListTypeOut], auth=None, summary="名单类型")
def list_types(request, kind: str | None = None):
    """Every list type (守信激励 red, 严重失信主体名单 black, 重点关注 watch) with its issuing
    authority, legal basis and default validity."""
    qs = ListType.objects.select_related("authority", "category")
    if kind:
        qs = qs.filter(kind=kind)
    return [
        {
            "code": t.code,
            "name": t.name,
            "kind": t.kind,
            "authority": t.authority_label,
            "legal_basis": t.legal_basis,
            "default_validity_months": t.default_validity_months,
            "subject_kinds": t.subject_kinds,
            "category": t.category.code if t.category_id else None,
            "active": t.active,
        }
        for t in qs
    ]


@router.get("/entries", response=EntryPage, summary="名单条目")
def list_entries(
    request,
    subject_id: Id | None = None,
    list_type: str | None = None,
    status: str | None = None,
    kind: str | None = None,
    active_on: dt.date | None = None,
    limit: int = 50,
    offset: Offset = 0,
):
    """Entries visible to the caller, newest decision first; filter by subject, list type
    code, status (published / expired / removed), kind, or "active on a day" (`active_on`)."""
    request.principal.require(VIEW_ACTION)
    if not 1 <= limit <= 500 or offset < 0:
        raise HttpError(400, _("limit 应在 1–500 之间,offset 不能为负。"))
    qs = _entries(request)
    if subject_id is not None:
        qs = qs.filter(subject_id=subject_id)
    if list_type:
        qs = qs.filter(list_type__code=list_type)
    if status:
        if status not in EntryStatus.values:
            raise HttpError(400, _("status 应为 published、expired 或 removed。"))
        qs = qs.filter(status=status)
    if kind:
        qs = qs.filter(list_type__kind=kind)
    if active_on:
        qs = qs.filter(services.active_entries_q(active_on))
    qs = qs.order_by("-decided_on", "-id")
    return {"count": qs.count(), "items": [_entry_out(e) for e in qs[offset : offset + limit]]}


@router.get("/entries/{entry_id}", response=EntryDetailOut, summary="名单条目详情(含变更历史)")
def get_entry(request, entry_id: Id):
    request.principal.require(VIEW_ACTION)
    entry = get_object_or_404(_entries(request), pk=entry_id)
    events = [
        {
            "at": ev.at,
            "from_status": ev.from_status,
            "to_status": ev.to_status,
            "by": ev.by,
            "reason": ev.reason,
        }
        for ev in entry.events.order_by("at", "id")
    ]
    return {**_entry_out(entry), "events": events}


@router.post("/entries", response={201: EntryOut}, summary="认定名单条目")
def identify(request, payload: IdentifyIn):
    """认定: put a subject on a list with basis and decision date (validity defaults to the list
    type's). A department's clerk or key identifies for its own department only."""
    principal = request.principal
    principal.require(services.ENTRY_ACTION)
    list_type = ListType.objects.filter(code=payload.list_type).first()
    if list_type is None:
        raise HttpError(404, _("名单类型 %(code)s 不存在。") % {"code": payload.list_type})
    subject = get_object_or_404(Subject, pk=payload.subject_id)
    department = None
    if payload.department:
        department = Department.objects.filter(code=payload.department).first()
        if department is None:
            raise HttpError(404, _("部门 %(code)s 不存在。") % {"code": payload.department})
    entry = services.identify_entry(
        principal,
        list_type=list_type,
        subject=subject,
        basis=payload.basis,
        decided_on=payload.decided_on,
        valid_from=payload.valid_from,
        valid_to=payload.valid_to,
        document_number=payload.document_number,
        department=department,
    )
    entry = _entries(request).get(pk=entry.pk) if principal.can(VIEW_ACTION) else entry
    return Status(201, _entry_out(entry))


@router.post("/entries/{entry_id}/remove", response=EntryOut, summary="移出名单")
def remove(request, entry_id: Id, payload: RemoveIn):
    principal = request.principal
    principal.require(services.ENTRY_ACTION)
    entry = get_object_or_404(
        restrict(ListEntry.objects.all(), principal, services.ENTRY_ACTION), pk=entry_id
    )
    entry = services.remove_entry(principal, entry, payload.reason)
    return _entry_out(
        ListEntry.objects.select_related("list_type", "identified_by", "subject").get(pk=entry.pk)
    )
