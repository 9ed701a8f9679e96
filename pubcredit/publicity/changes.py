"""What happens when a record's publicity marks change: the `MarksChanged` hook.

`services.add_mark` and `services.lift_mark` (a repair granted or revoked by the repair
workflow, an objection opened or settled) call `marks_changed(record_ids)` in their transaction,
after the record's publicity is recomputed; the subscribers below then bring what derives from
the marks up to date in that same transaction (core.hooks: each a savepoint, a failure rolls
the mark back). They sit in higher layers, so they are named by dotted path.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from pubcredit.core.hooks import Hook, Subscriber


@dataclass(frozen=True)
class MarksChanged:
    """A mark (PublicityMark: repaired, objection) was added to or lifted from these records."""

    record_ids: frozenset[int]


SUBSCRIBERS: tuple[Subscriber, ...] = (
    Subscriber(
        "scoring",
        "pubcredit.scoring.subscribers.marks_changed",
        "Recompute the credit grades of the records' subjects: a repaired record stops "
        "counting, a revoked repair counts again (scoring.services.recompute_later).",
    ),
)

MARKS_CHANGED = Hook("publicity marks changed", SUBSCRIBERS)


def marks_changed(record_ids: Iterable[int]) -> dict[str, Any] | None:
    """Run the subscribers for these records (in the caller's transaction)."""
    ids = frozenset(int(i) for i in record_ids)
    if not ids:
        return None
    return MARKS_CHANGED.run(MarksChanged(ids))
