"""The commitments app's step in the records-changed flow (records.changes.SUBSCRIBERS)."""

from __future__ import annotations

from pubcredit.commitments.services import category_id, commitments_from_records
from pubcredit.lists import changes


def records_changed(event) -> dict[str, int] | None:
    """CN (信用承诺) records become, update or withdraw their commitments
    (`services.commitments_from_records`, judged on `event.today`). A breach it records lists
    the subject through the lists services: those subjects are left in `event.effects` for the
    flow's flags step. Returns the counts, or None when no changed record is a CN record."""

    cn = category_id()
    if cn is None or not event.may_concern({cn}):
        return None
    ids = list(event.records().filter(category_id=cn).values_list("pk", flat=True))
    if not ids:
        return None
    with changes.collected() as subjects:
        counts = commitments_from_records(ids, today=event.today)
    event.effects.setdefault(changes.ENTRY_SUBJECTS, set()).update(subjects)
    return counts
