"""The `SubjectFlags` read model that makes credit checks cheap (measures.applicability reads it):
one row per subject with a published list entry, holding those entries.

`refresh_subject_flags(subject_ids)` rewrites the read model rows of those subjects from the
facts; the list services call it in the transaction that changes an entry, the publicity
services must call it for the subjects whose publicity rows they changed.
`rebuild_subject_flags()` rebuilds the whole table (after a bulk load).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone

from pubcredit.lists.models import EntryStatus, ListEntry
from pubcredit.measures.models import SubjectFlags
from pubcredit.subjects.models import Subject

CHUNK = 2000  # subjects per rewrite


def _iso(value: dt.date | None) -> str | None:
    return value.isoformat() if value else None


def _entry_facts(subject_ids: list[int]) -> dict[int, list[dict]]:
    facts: dict[int, list[dict]] = {}
    rows = (
        ListEntry.objects.filter(subject_id__in=subject_ids, status=EntryStatus.PUBLISHED)
        .values_list(
            "id",
            "subject_id",
            "list_type_id",
            "valid_from",
            "valid_to",
            "decided_on",
            "identified_by__name",
            "document_number",
        )
        .order_by("id")
    )
    for eid, sid, lt, vf, vt, decided, authority, docno in rows:
        facts.setdefault(sid, []).append(
            {
                "id": eid,
                "type": lt,
                "from": _iso(vf),
                "to": _iso(vt),
                "decided_on": _iso(decided),
                "authority": authority or "",
                "document_number": docno,
            }
        )
    return facts


@transaction.atomic
def refresh_subject_flags(subject_ids: Iterable[int]) -> int:
    """Rewrite the read model rows of these subjects from their published list entries.
    Idempotent; runs in the caller's transaction when there is one, so the read model commits
    with the facts (the list services call it). Returns the number of subjects that now have a
    row."""
    ids = sorted({int(s) for s in subject_ids if s is not None})
    if not ids:
        return 0
    now = timezone.now()
    written = 0
    for i in range(0, len(ids), CHUNK):
        chunk = ids[i : i + CHUNK]
        entries = _entry_facts(chunk)
        with_facts = sorted(entries)
        kinds = dict(Subject.objects.filter(id__in=with_facts).values_list("id", "kind"))
        SubjectFlags.objects.filter(subject_id__in=chunk).delete()
        SubjectFlags.objects.bulk_create(
            SubjectFlags(
                subject_id=sid,
                subject_kind=kinds.get(sid, ""),
                entries=entries[sid],
                refreshed_at=now,
            )
            for sid in with_facts
        )
        written += len(with_facts)
    return written


def rebuild_subject_flags() -> int:
    """Rebuild the whole read model (after a bulk load or a repair of the table): every subject
    with a published entry, and no row for any other subject. Chunked."""
    ids = set(
        ListEntry.objects.filter(status=EntryStatus.PUBLISHED)
        .values_list("subject_id", flat=True)
        .distinct()
    )
    stale = set(SubjectFlags.objects.values_list("subject_id", flat=True))
    return refresh_subject_flags(ids | stale)
