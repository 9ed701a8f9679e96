"""Record services: withdrawing a record, linking it to its subject, reading its history.

Records are written in bulk by `records.writing` (intake's loads, the demo), never one by one
here; what a person does to a record later is a status change with its own audit event, or the
confirmation of its subject, never an edit of the statement itself. Every change here ends with
the records-changed flow (records.changes), in the same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from pubcredit.accounts.audit import record_event, snapshot
from pubcredit.accounts.permissions import Principal, restrict
from pubcredit.records.changes import RecordsChanged, records_changed
from pubcredit.records.models import Record, RecordStatus, RecordVersion, SubjectLink

# Snapshots for the audit trail leave out the bulky and the encrypted parts of a record.
_SNAPSHOT_EXCLUDE = ("data", "original", "sealed")


@transaction.atomic
def withdraw_record(principal: Principal, record: Record, reason: str) -> Record:
    """Withdraw (撤回) a record: its status becomes 已撤回 with the reason and time; its content,
    versions and history stay as they were (records are never deleted).

    Guarantees: only a principal with "records.submit" whose scope covers the record (a
    部门报送员 only for its own department's records) may do it; a reason is required; the
    record is locked while it changes, so a concurrent withdrawal or load is not lost; one audit
    event "records.withdraw" with the state before and after, in the same transaction.
    Withdrawing an already withdrawn record is refused. A later submission of the same business
    key does not bring it back (status is only changed by people). What derives from the record
    (publicity, list entry, commitment, flags) ends in the same transaction (records.changes).
    """
    principal.require("records.submit")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": [_("撤回记录必须填写原因。")]})
    scoped = restrict(Record.objects.all(), principal, "records.submit")
    locked = scoped.select_for_update().filter(pk=record.pk).first()
    if locked is None:
        raise PermissionDenied(_("无权撤回其他部门报送的记录。"))
    if locked.status == RecordStatus.WITHDRAWN:
        raise ValidationError({"status": [_("该记录已撤回。")]})
    before = snapshot(locked, exclude=_SNAPSHOT_EXCLUDE)
    locked.status = RecordStatus.WITHDRAWN
    locked.status_reason = reason[:512]
    locked.status_changed_at = timezone.now()
    locked.save(update_fields=["status", "status_reason", "status_changed_at"])
    record_event(
        principal,
        "records.withdraw",
        locked,
        before=before,
        after=snapshot(locked, exclude=_SNAPSHOT_EXCLUDE),
        reason=reason,
    )
    records_changed(RecordsChanged.withdrawn([locked.pk]))
    return locked


@transaction.atomic
def link_subject(record_id: int, subject, link: str = SubjectLink.MANUAL) -> Record:
    """Link the record to `subject` (a name match confirmed by staff: link 人工确认) without
    touching its content or version, and let what derives from the record follow its new subject
    (records.changes) in the same transaction; the event names the subject the record had
    before (`previous_subjects`), which the steps counting records by subject move it from. The
    caller checks permissions and writes the audit event of the decision. Returns the record,
    locked for the rest of the transaction."""
    record = Record.objects.select_for_update().get(pk=record_id)
    previous = record.subject_id
    record.subject = subject
    record.subject_link = link
    record.save(update_fields=["subject", "subject_link"])
    records_changed(RecordsChanged.saved([record.pk], previous_subjects={record.pk: previous}))
    return record


@dataclass(frozen=True)
class VersionView:
    """One version of a record as history shows it; `current` marks the record's live row."""

    version: int
    content_hash: str
    data: dict
    original: dict
    subject_id: int | None
    subject_name: str
    submission_id: int
    source_row: int
    received_at: object
    recorded_at: object
    superseded_at: object | None
    current: bool


def record_history(record: Record) -> list[VersionView]:
    """Every version of `record`, newest first: the current row, then the versions it replaced
    (RecordVersion), each with the submission and file row it came from and when it was
    replaced. Read-only; callers restrict which records a principal may see."""
    current = VersionView(
        version=record.version,
        content_hash=record.content_hash,
        data=record.data,
        original=record.original,
        subject_id=record.subject_id,
        subject_name=record.subject_name,
        submission_id=record.submission_id,
        source_row=record.source_row,
        received_at=record.received_at,
        recorded_at=record.updated_at,
        superseded_at=None,
        current=True,
    )
    older = [
        VersionView(
            version=v.version,
            content_hash=v.content_hash,
            data=v.data,
            original=v.original,
            subject_id=v.subject_id,
            subject_name=v.subject_name,
            submission_id=v.submission_id,
            source_row=v.source_row,
            received_at=v.received_at,
            recorded_at=v.created_at,
            superseded_at=v.superseded_at,
            current=False,
        )
        for v in RecordVersion.objects.filter(record=record).order_by("-version")
    ]
    return [current, *older]
