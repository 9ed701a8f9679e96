"""The bulletins step of the records-changed flow: keep the aggregation statistics
(`DepartmentMonthMetric`, bulletins.metrics) and the records in force (`RecordTally`,
`ViolationTally`, bulletins.tallies) current, set based, over the records just written,
withdrawn or relinked."""

from __future__ import annotations

from pubcredit.bulletins import metrics, tallies
from pubcredit.records.changes import Change, RecordsChanged


def records_changed(event: RecordsChanged) -> dict[str, int]:
    if event.change == Change.LOADED:
        return {
            "metrics": metrics.add_written(event.records(), event.category_id),
            "tallies": tallies.add_loaded(event),
        }
    if event.change == Change.WITHDRAWN:
        return {
            "metrics": metrics.add_withdrawn(event.records()),
            "tallies": tallies.add_withdrawn(event),
        }
    # A relinked record changes no aggregation count; it moves between districts.
    return {"metrics": 0, "tallies": tallies.add_relinked(event)}
