"""Subjects registered, kept: `SubjectTally` counts the register per kind × district, so that
the big screen never counts a million subjects on a page view.

Kept with deltas by the register's writers, in their transaction:
- `add_registered(frame)`: subjects just registered — one by `services.register_subject`, in
  bulk by intake (`intake.linking`: by identifier, and organisations known by name only);
- `move(kind, old, new)`: a subject's district corrected (the admin);
- `add_range(first_id, last_id, sign)`: the subjects of an id range counted in (the demo city's
  bulk load) or out (before the demo deletes them).
Subjects are never deleted otherwise, and their kind never changes.

`rebuild_subject_tally` recomputes the counts from the register (one grouped query, answered by
the (kind, region) index alone) with the same numbers: `pubcredit bulletins rebuild`.
"""

from __future__ import annotations

import polars as pl
from django.db import transaction
from django.db.models import Count, Sum

from pubcredit.core import tallies
from pubcredit.subjects.models import Subject, SubjectTally

KEYS = ("kind", "region")
_SCHEMA = {"kind": pl.String, "region": pl.String, "n": pl.Int64}


def add_registered(frame: pl.DataFrame) -> int:
    """Count in the subjects of `frame` (columns kind, region; one row per subject, or grouped
    with a count `n`). Returns the number of keys changed."""
    if frame.height == 0:
        return 0
    if "n" not in frame.columns:
        frame = frame.select("kind", "region").with_columns(n=pl.lit(1, dtype=pl.Int64))
    return tallies.add(
        SubjectTally, KEYS, frame.select("kind", pl.col("region").fill_null(""), "n")
    )


def add_subject(subject: Subject) -> int:
    """Count in one subject just registered."""
    return add_registered(
        pl.DataFrame(
            {"kind": [subject.kind], "region": [subject.region or ""]},
            schema={"kind": pl.String, "region": pl.String},
        )
    )


def move(kind: str, old: str, new: str) -> int:
    """A subject of `kind` moved from district `old` to `new`."""
    if (old or "") == (new or ""):
        return 0
    frame = pl.DataFrame(
        [(kind, old or "", -1), (kind, new or "", 1)], schema=_SCHEMA, orient="row"
    )
    return tallies.add(SubjectTally, KEYS, frame)


def _grouped(queryset) -> pl.DataFrame:
    rows = queryset.order_by().values_list("kind", "region").annotate(n=Count("*"))
    return pl.DataFrame(list(rows), schema=_SCHEMA, orient="row")


def add_range(first_id: int, last_id: int, sign: int = 1) -> int:
    """Count the subjects with ids in [first_id, last_id] in (`sign` 1) or out (-1)."""
    frame = _grouped(Subject.objects.filter(pk__gte=first_id, pk__lte=last_id))
    return tallies.add(SubjectTally, KEYS, frame.with_columns(pl.col("n") * sign))


@transaction.atomic
def rebuild_subject_tally() -> int:
    """Recompute SubjectTally from the register, replacing the kept rows (held against the
    writers meanwhile, core.tallies.lock). Returns the rows written."""
    tallies.lock(SubjectTally)
    return tallies.replace(SubjectTally, KEYS, _grouped(Subject.objects.all()))


def by_kind() -> dict[str, int]:
    """{kind: subjects registered}."""
    rows = SubjectTally.objects.order_by().values_list("kind").annotate(total=Sum("n"))
    return {kind: int(total) for kind, total in rows if total}


def by_region(codes: list[str]) -> dict[str, int]:
    """{district code: subjects registered} for `codes` (districts without any are absent)."""
    rows = (
        SubjectTally.objects.filter(region__in=codes)
        .order_by()
        .values_list("region")
        .annotate(total=Sum("n"))
    )
    return {region: int(total) for region, total in rows if total}
