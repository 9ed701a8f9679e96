"""The publicity app's step in the records-changed flow (records.changes.SUBSCRIBERS)."""

from __future__ import annotations

from pubcredit.publicity.services import refresh_publicity


def records_changed(event) -> dict | None:
    """Recompute the publicity of the changed records (`services.refresh_publicity`: set-based,
    only differing rows written, one PublicityEvent per change with `event.reason`), judged on
    `event.today`. A submission's load is selected by its records' submission index. Returns
    the refresh's counts."""

    if event.record_ids is None:
        return refresh_publicity(
            submission_id=event.submission_id, today=event.today, reason=event.reason
        )
    if not len(event.record_ids):
        return None
    return refresh_publicity(event.record_ids, today=event.today, reason=event.reason)
