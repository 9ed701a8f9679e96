"""The measures app's steps in the hooks of lower layers: the credit-check read model
(SubjectFlags) follows the list entries it is made of."""

from __future__ import annotations

from pubcredit.lists import changes


def entries_changed(event: changes.EntriesChanged) -> int:
    """Subscriber of lists.changes.ENTRIES_CHANGED: rewrite the flags of these subjects."""
    from pubcredit.measures.services import refresh_subject_flags

    return refresh_subject_flags(event.subject_ids)
