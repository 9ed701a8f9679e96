"""The commitments app's step in the records-changed flow (records.changes.SUBSCRIBERS)."""

from __future__ import annotations

from pubcredit.commitments.services import category_id, commitments_from_records
from pubcredit.lists import changes


def records_changed(event) -> dict[str, int] | None:
    """CN (信用承诺) records become, update or withdraw their commitments
    (`services.commitments_from_records`, judged on `event.today`); a breach lists the subject
    through the lists services, which the flow's flags step then refreshes. Returns the counts,
    or None when no changed record is a CN record."""
    cn = category_id()
    return changes.records_step(event, {cn} if cn is not None else set(), commitments_from_records)
