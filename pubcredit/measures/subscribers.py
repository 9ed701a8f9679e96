"""The measures app's steps in the hooks of lower layers: the credit-check read model
(SubjectFlags) follows the list entries it is made of."""

from __future__ import annotations

from pubcredit.lists import changes
from pubcredit.measures.services import refresh_subject_flags


def records_changed(event) -> int | None:
    """Step "flags" of the records-changed flow (records.changes.SUBSCRIBERS): rewrite the flags
    of the subjects whose list entries the flow's earlier steps changed (collected in
    `event.effects`). Returns how many of them now have a row, or None when none changed."""

    subjects = event.effects.get(changes.ENTRY_SUBJECTS)
    if not subjects:
        return None
    return refresh_subject_flags(subjects)


def entries_changed(event: changes.EntriesChanged) -> int:
    """Subscriber of lists.changes.ENTRIES_CHANGED: rewrite the flags of these subjects."""

    return refresh_subject_flags(event.subject_ids)
