"""The lists app's step in the records-changed flow (records.changes.SUBSCRIBERS)."""

from __future__ import annotations

from pubcredit.lists import changes
from pubcredit.lists.services import entries_from_records, list_category_ids


def records_changed(event) -> dict[str, int] | None:
    """Records of a list category (ListType.category) become, update, expire or remove their
    entries (`services.entries_from_records`, judged on `event.today`). The subjects whose
    entries changed are left in `event.effects` for the flow's flags step. Returns the counts,
    or None when no changed record is of a list category."""

    categories = list_category_ids()
    if not event.may_concern(categories):
        return None
    ids = list(event.records().filter(category_id__in=categories).values_list("pk", flat=True))
    if not ids:
        return None
    with changes.collected() as subjects:
        counts = entries_from_records(ids, today=event.today)
    event.effects.setdefault(changes.ENTRY_SUBJECTS, set()).update(subjects)
    return counts
