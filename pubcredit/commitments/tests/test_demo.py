"""The demo city's commitments: bulk-written, proportional, a few breached with their
watch-list entries, removed with the demo subjects on --replace."""

from __future__ import annotations

import re

import pytest

from pubcredit.commitments.assessment import BREACH_LIST_TYPE
from pubcredit.commitments.demo import DEMO_LABEL, DEMO_STEP
from pubcredit.commitments.models import (
    BREACHES,
    Commitment,
    CommitmentEvent,
    CommitmentSerial,
    Performance,
)
from pubcredit.commitments.queries import commitments_in_force
from pubcredit.lists.models import ListEntry

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_passwords")]


def test_demo_commitments(system):
    from pubcredit.demo.services import load_demo
    from pubcredit.measures.models import SubjectFlags

    summary = load_demo(system, subjects=2000, seed=4)
    assert summary["commitments"]["commitments"] == 2000 // DEMO_STEP == Commitment.objects.count()
    qs = Commitment.objects.all()
    assert qs.filter(created_by=DEMO_LABEL).count() == qs.count()
    assert qs.values("subject_id").distinct().count() == qs.count()
    assert all(re.fullmatch(r"\d{20}", c) for c in qs.values_list("code", flat=True))
    performances = set(qs.values_list("performance", flat=True))
    assert {Performance.PENDING, Performance.FULL} <= performances
    breached = qs.filter(performance__in=BREACHES)
    assert 0 < breached.count() == summary["commitments"]["breaches"] < 20
    entries = ListEntry.objects.filter(list_type__code=BREACH_LIST_TYPE)
    assert set(entries.values_list("document_number", flat=True)) == set(
        breached.values_list("code", flat=True)
    )
    assert SubjectFlags.objects.filter(subject_id__in=breached.values("subject_id")).exists()
    for c in breached:
        assert c.unfulfilled_content and c.liability_enforced and c.assessed_on
    persons = qs.filter(committer_kind="person")
    assert persons.exists() and not persons.exclude(committer_code__contains="*").exists()
    assert CommitmentEvent.objects.count() == qs.count()
    # Counters are past every demo code: the next signing gets a new serial.
    for c in qs[:20]:
        serial = CommitmentSerial.objects.get(region=c.code[:6], day=c.made_on)
        assert serial.last >= int(c.code[14:])
    some = list(qs.exclude(performance__in=BREACHES).values_list("subject_id", flat=True)[:50])
    assert commitments_in_force(some)  # some are in force today

    again = load_demo(system, subjects=2000, seed=4, replace=True)
    assert again["commitments"]["commitments"] == Commitment.objects.count() == 250
    breach_entries = ListEntry.objects.filter(list_type__code=BREACH_LIST_TYPE)
    assert breach_entries.count() == again["commitments"]["breaches"]
