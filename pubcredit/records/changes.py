"""What happens when records change: the `RecordsChanged` event and, in `SUBSCRIBERS`, everything
that follows from it, in the order it runs.

The records services are the one writer of records (`records.writing`: a submission's load and
the demo's bulk write; `records.services`: withdrawal, relinking a record to its subject). After
each write they call `records_changed(event)`, inside the transaction of the write. Each
subscriber then does its set-based work as one step (a savepoint) of that same transaction: a
failing step raises, and the write with every step before it rolls back. Nothing is connected to
model signals: the list below is the whole story.

Following a submission from upload to the portal, the lists, commitments and the credit-check
flags: intake stores and parses the file (intake.services.process_submission), its loader writes
the accepted rows through `records.writing.RecordsWriter`, which ends with
`RecordsChanged(LOADED, submission=…)`, and then, in this order:

1. publicity  — the records' publicity windows (公示期) and their events: what the portal shows;
2. lists      — records of a category that carries list entries become, or update, entries;
3. commitments — CN (信用承诺) records become, or update, commitments (a breach may list the
   subject on the watch list through the lists services);
4. flags      — the credit-check read model (measures' SubjectFlags) of the subjects whose list
   entries steps 2 and 3 changed;
5. bulletins  — the aggregation statistics (归集统计) per department × category × month, and
   the records in force by category, district, month and violation type (the dashboards);
6. scoring    — the credit grades (信用评价) of the subjects concerned.

Subscribers sit in higher layers than records (which must not import them): they are named by
dotted path and imported when the flow runs (`core.hooks`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from pubcredit.core.hooks import Hook, Subscriber
from pubcredit.records.models import Record


class Change(StrEnum):
    LOADED = "loaded"  # new records and new versions written by one load (a submission, the demo)
    SAVED = "saved"  # records changed one at a time (relinked to their subject)
    WITHDRAWN = "withdrawn"  # records withdrawn (撤回): their derived state ends


@dataclass(frozen=True)
class RecordsChanged:
    """Records were written. Which ones: `record_ids` when given (a range is kept as a range);
    else the records whose current version the submission `submission_id` brought into the key
    space (`department_id`, `category_id`), which subscribers select by the records'
    (department, category, submission) index instead of carrying a million ids around.

    `today`: the day derived state is judged on (None: today in Asia/Shanghai; the demo judges
    on its as-of day). `reason`: recorded on the publicity events ("intake", "record_saved",
    "demo"). `effects`: what a step leaves for a later one within one run (the lists and
    commitments steps add the subjects whose list entries they changed under
    `effects["entry_subjects"]`, which the flags step reads).

    `previous_subjects`: for SAVED by a relink (`records.services.link_subject`), the subject
    each record had before, as (record id, subject id or None) pairs, so that a step counting
    records by their subject (the bulletins' district tallies) can take the record off its
    previous subject; empty for every other change."""

    change: Change
    record_ids: Sequence[int] | None = None
    submission_id: int | None = None
    department_id: int | None = None
    category_id: int | None = None
    today: dt.date | None = None
    reason: str = ""
    previous_subjects: tuple[tuple[int, int | None], ...] = ()
    effects: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.record_ids is None and None in (
            self.submission_id,
            self.department_id,
            self.category_id,
        ):
            raise ValueError("RecordsChanged needs record_ids or a submission's key space")
        if self.record_ids is not None and not isinstance(self.record_ids, range | tuple):
            object.__setattr__(self, "record_ids", tuple(int(i) for i in self.record_ids))
        if not isinstance(self.previous_subjects, tuple):
            pairs = dict(self.previous_subjects or {}).items()  # a mapping or pairs
            object.__setattr__(self, "previous_subjects", tuple(sorted(pairs)))

    @classmethod
    def loaded(cls, *, submission_id: int, department_id: int, category_id: int) -> RecordsChanged:
        """What one submission's load wrote."""
        return cls(
            Change.LOADED,
            submission_id=submission_id,
            department_id=department_id,
            category_id=category_id,
            reason="intake",
        )

    @classmethod
    def saved(
        cls, record_ids: Sequence[int], previous_subjects: Mapping[int, int | None] | None = None
    ) -> RecordsChanged:
        """Records changed one at a time; `previous_subjects` ({record id: the subject it had
        before}) when they were relinked to another subject."""
        return cls(
            Change.SAVED,
            record_ids=record_ids,
            reason="record_saved",
            previous_subjects=tuple(sorted((previous_subjects or {}).items())),
        )

    @classmethod
    def withdrawn(cls, record_ids: Sequence[int]) -> RecordsChanged:
        return cls(Change.WITHDRAWN, record_ids=record_ids, reason="record_saved")

    def records(self):
        """The changed records (a queryset; narrow it further before reading rows)."""

        if self.record_ids is None:
            return Record.objects.filter(
                department_id=self.department_id,
                category_id=self.category_id,
                submission_id=self.submission_id,
            )
        ids = self.record_ids
        if isinstance(ids, range) and ids.step == 1:
            return Record.objects.filter(pk__gte=ids.start, pk__lt=ids.stop)
        return Record.objects.filter(pk__in=list(ids))

    def may_concern(self, category_ids) -> bool:
        """False when the event is known to be about none of `category_ids` (a load is about one
        category), so that a subscriber for other categories returns at once."""
        if not category_ids:
            return False
        return self.category_id is None or self.category_id in category_ids


# The flow, in order. Each entry names its step, the function it runs (dotted path: the
# subscribers sit in higher layers) and what it does.
SUBSCRIBERS: tuple[Subscriber, ...] = (
    Subscriber(
        "publicity",
        "pubcredit.publicity.subscribers.records_changed",
        "Recompute the records' publicity windows (公示期: tier, start, end, state) from the "
        "rules and facts, writing a PublicityEvent per change: what the portal and the checks "
        "show. Set-based (publicity.services.refresh_publicity).",
    ),
    Subscriber(
        "lists",
        "pubcredit.lists.subscribers.records_changed",
        "Records of the categories that carry list entries (ListType.category) become, update, "
        "expire or remove their red/black/watch-list entries (lists.services."
        "entries_from_records); the subjects whose entries changed go to `effects`.",
    ),
    Subscriber(
        "commitments",
        "pubcredit.commitments.subscribers.records_changed",
        "CN (信用承诺) records become, update or withdraw their commitments "
        "(commitments.services.commitments_from_records); a breach lists the subject through the "
        "lists services, whose subjects go to `effects` too.",
    ),
    Subscriber(
        "flags",
        "pubcredit.measures.subscribers.records_changed",
        "Rewrite the credit-check read model (measures.SubjectFlags) of the subjects whose list "
        "entries the steps above changed, so a check never sees the entries without them.",
    ),
    Subscriber(
        "bulletins",
        "pubcredit.bulletins.subscribers.records_changed",
        "Add the written or withdrawn record versions to the aggregation statistics "
        "(bulletins.DepartmentMonthMetric: per department × category × month, written, first "
        "reports, corrections, on time against the reporting duty, completeness, withdrawn), "
        "with one aggregate query over the changed records (bulletins.metrics); and the "
        "records in force to their kept counts (bulletins.RecordTally per category × "
        "district × decision month, ViolationTally per 违法行为类型): +1 for a record written, "
        "-1 for the version it superseded or a withdrawal, a relinked record moved from its "
        "previous subject's district (bulletins.tallies).",
    ),
    Subscriber(
        "scoring",
        "pubcredit.scoring.subscribers.records_changed",
        "Recompute the credit grades (scoring.ScoreResult) of the changed records' subjects and "
        "of those whose entries or commitments the steps above changed, once everything they "
        "count is current (scoring.services.recompute_later: in this transaction when few, "
        "else background tasks on commit).",
    ),
)

RECORDS_CHANGED = Hook("records changed", SUBSCRIBERS)


def records_changed(
    event: RecordsChanged, timings: dict[str, float] | None = None
) -> dict[str, Any]:
    """Run the flow (`SUBSCRIBERS`, in order) for `event`, each step in its own savepoint of the
    caller's transaction (or of a new one). Called by the records services after every write of
    records; an exception in a step propagates and rolls the write back with it. Returns each
    step's result by name (e.g. the publicity refresh's counts under "publicity"); `timings`,
    when given, receives each step's seconds by name."""
    return RECORDS_CHANGED.run(event, timings)
