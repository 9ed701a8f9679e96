"""Credit evaluation's steps in the hooks of the layers below: every change of what a grade
counts recomputes the grades of the subjects concerned (services.recompute_later: in the same
transaction when few, else in background tasks on commit).

- records changed (records.changes, after every other step): the subjects of the written or
  withdrawn records, and those whose list entries or commitments the flow changed;
- list entries changed (lists.changes, after the flags): 认定, 移出, expiry, bulk writers;
- publicity marks changed (publicity.changes): a repair granted or revoked, an objection;
- commitments assessed (commitments.changes): a fulfilment assessment.
"""

from __future__ import annotations

from pubcredit.lists.changes import ENTRY_SUBJECTS
from pubcredit.records.models import Record
from pubcredit.scoring.models import Scorecard
from pubcredit.scoring.services import recompute_later


def _active() -> bool:
    return Scorecard.objects.filter(active=True).exists()


def records_changed(event) -> dict | None:
    """The records-changed flow's last step (records.changes.SUBSCRIBERS). None when no
    scorecard is active."""
    if not _active():
        return None
    subjects = set(event.effects.get(ENTRY_SUBJECTS, ()))
    subjects.update(
        event.records()
        .filter(subject_id__isnull=False)
        .values_list("subject_id", flat=True)
        .distinct()
    )
    return recompute_later(subjects, as_of=event.today)


def entries_changed(event) -> dict | None:
    """lists.changes.ENTRIES_CHANGED: these subjects' list entries changed."""
    if not _active():
        return None
    return recompute_later(event.subject_ids)


def marks_changed(event) -> dict | None:
    """publicity.changes.MARKS_CHANGED: a repair or objection mark was added or lifted on
    these records."""
    if not _active():
        return None
    subjects = Record.objects.filter(pk__in=list(event.record_ids), subject_id__isnull=False)
    return recompute_later(subjects.values_list("subject_id", flat=True))


def commitments_assessed(event) -> dict | None:
    """commitments.changes.COMMITMENTS_ASSESSED: these subjects' commitments were assessed."""
    if not _active():
        return None
    return recompute_later(event.subject_ids)
