"""What happens when list entries change: the `EntriesChanged` hook and its subscribers.

Every lists service that creates, changes, expires or removes entries (identify_entry,
remove_entry, expire_entries, entries_from_records) and every bulk writer of entries (the demo)
calls `entries_changed(subject_ids)` in the transaction that changed them; the subscribers below
then bring what derives from the entries up to date in that same transaction, so a credit check
never sees a list change before it is committed nor misses it after.

Inside the records-changed flow (records.changes) the lists and commitments steps collect the
subjects instead (`collected()`), and the flow's own flags and scoring steps refresh them once.

After commit, the Django signals of lists.signals (`entries_published`, `entries_ended`) tell
whoever listens (notices to recent checkers): those are notifications, not derived state.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from pubcredit.core.hooks import Hook, Subscriber

# The key under which the records flow's steps leave the subjects whose entries they changed
# (RecordsChanged.effects).
ENTRY_SUBJECTS = "entry_subjects"


@dataclass(frozen=True)
class EntriesChanged:
    """The list entries of these subjects changed (created, updated, expired or removed)."""

    subject_ids: frozenset[int]


SUBSCRIBERS: tuple[Subscriber, ...] = (
    Subscriber(
        "flags",
        "pubcredit.measures.subscribers.entries_changed",
        "Rewrite the credit-check read model (measures.SubjectFlags) of these subjects from "
        "their published entries.",
    ),
    Subscriber(
        "scoring",
        "pubcredit.scoring.subscribers.entries_changed",
        "Recompute these subjects' credit grades (list entries are indicators and direct "
        "downgrades): scoring.services.recompute_later.",
    ),
)

ENTRIES_CHANGED = Hook("list entries changed", SUBSCRIBERS)

_collecting: ContextVar[set[int] | None] = ContextVar("lists_entries_collecting", default=None)


def entries_changed(subject_ids: Iterable[int | None]) -> dict[str, Any] | None:
    """Tell the subscribers that these subjects' entries changed (in the caller's transaction).
    Inside `collected()` the subjects are only collected. Returns the subscribers' results."""
    ids = frozenset(int(s) for s in subject_ids if s is not None)
    if not ids:
        return None
    pending = _collecting.get()
    if pending is not None:
        pending.update(ids)
        return None
    return ENTRIES_CHANGED.run(EntriesChanged(ids))


@contextmanager
def collected() -> Iterator[set[int]]:
    """Within this block, `entries_changed` collects the subjects into the yielded set instead of
    running the subscribers: the caller takes them over (the records flow's flags step)."""
    pending: set[int] = set()
    token = _collecting.set(pending)
    try:
        yield pending
    finally:
        _collecting.reset(token)


def records_step(event, category_ids, apply) -> dict[str, int] | None:
    """One records-flow step that turns the event's records of `category_ids` into list entries
    or other facts that list subjects (`apply(record_ids, today=...)`): the subjects whose entries
    it changed are left in `event.effects` for the flow's flags step instead of refreshing their
    flags now. Returns `apply`'s counts, or None when no changed record is of those categories."""
    if not event.may_concern(category_ids):
        return None
    ids = list(event.records().filter(category_id__in=category_ids).values_list("pk", flat=True))
    if not ids:
        return None
    with collected() as subjects:
        counts = apply(ids, today=event.today)
    event.effects.setdefault(ENTRY_SUBJECTS, set()).update(subjects)
    return counts
