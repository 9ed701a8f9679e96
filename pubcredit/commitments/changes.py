"""What happens when commitments are assessed: the `CommitmentsAssessed` hook.

`assessment.assess_commitment` (履行状态认定 in the console or the API) calls
`commitments_assessed(...)` in its transaction, after the breach effects; the subscribers below
bring what derives from fulfilment up to date in that same transaction (core.hooks). Commitments
that change through intake (CN records) are covered by the records-changed flow instead, whose
later steps see them. The subscribers sit in higher layers, so they are named by dotted path.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from pubcredit.core.hooks import Hook, Subscriber


@dataclass(frozen=True)
class CommitmentsAssessed:
    """These commitments (of these subjects) got a new fulfilment (承诺履行状态)."""

    commitment_ids: frozenset[int]
    subject_ids: frozenset[int]


SUBSCRIBERS: tuple[Subscriber, ...] = (
    Subscriber(
        "scoring",
        "pubcredit.scoring.subscribers.commitments_assessed",
        "Recompute the credit grades of the subjects: commitments kept and broken are "
        "indicators (scoring.services.recompute_later).",
    ),
)

COMMITMENTS_ASSESSED = Hook("commitments assessed", SUBSCRIBERS)


def commitments_assessed(commitments: Iterable) -> dict[str, Any] | None:
    """Run the subscribers for these Commitment rows (in the caller's transaction)."""
    rows = list(commitments)
    if not rows:
        return None
    return COMMITMENTS_ASSESSED.run(
        CommitmentsAssessed(frozenset(c.pk for c in rows), frozenset(c.subject_id for c in rows))
    )
