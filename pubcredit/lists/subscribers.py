"""The lists app's step in the records-changed flow (records.changes.SUBSCRIBERS)."""

from __future__ import annotations

from pubcredit.lists import changes
from pubcredit.lists.services import entries_from_records, list_category_ids


def records_changed(event) -> dict[str, int] | None:
    """Records of a list category (ListType.category) become, update, expire or remove their
    entries (`services.entries_from_records`, judged on `event.today`). Returns the counts, or
    None when no changed record is of a list category."""
    return changes.records_step(event, list_category_ids(), entries_from_records)
