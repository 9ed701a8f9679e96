"""The bulletins step of the records-changed flow: keep the aggregation statistics
(`DepartmentMonthMetric`) current, set based, over the records just written or withdrawn."""

from __future__ import annotations

from pubcredit.bulletins import metrics
from pubcredit.records.changes import Change, RecordsChanged


def records_changed(event: RecordsChanged) -> dict[str, int]:
    if event.change == Change.LOADED:
        return {"metrics": metrics.add_written(event.records(), event.category_id)}
    if event.change == Change.WITHDRAWN:
        return {"metrics": metrics.add_withdrawn(event.records())}
    return {"metrics": 0}  # relinking a record's subject changes no count
