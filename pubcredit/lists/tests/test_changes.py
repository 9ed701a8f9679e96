"""What follows a change of list entries (lists.changes): the flags of the subjects concerned,
in the same transaction; inside the records flow, once, at the flow's flags step."""

import datetime as dt

import pytest

from pubcredit.lists import changes
from pubcredit.lists.models import ListEntry
from pubcredit.measures.models import SubjectFlags
from pubcredit.records.changes import RecordsChanged, records_changed
from pubcredit.testing.listkit import identify, make_record

pytestmark = pytest.mark.django_db


def test_the_hook_is_declared_with_its_subscribers():
    assert [s.name for s in changes.SUBSCRIBERS] == ["flags", "scoring"]
    assert changes.ENTRIES_CHANGED.subscribers == changes.SUBSCRIBERS
    assert all(callable(s.resolve()) for s in changes.SUBSCRIBERS)


def test_a_list_service_refreshes_the_flags_through_the_hook(seeded, make_subject, system):
    subject = make_subject()
    identify(system, subject, "BLK_WAGE_ARREARS")
    assert SubjectFlags.objects.get(subject=subject).entries[0]["type"]
    assert changes.entries_changed([]) is None
    # No scorecard is loaded in these tests: the scoring step has nothing to do (None).
    assert changes.entries_changed([subject.pk]) == {"flags": 1, "scoring": None}


def test_collected_changes_are_left_to_the_caller(seeded, make_subject, system):
    subject = make_subject()
    with changes.collected() as subjects:
        identify(system, subject, "BLK_WAGE_ARREARS")
    assert subjects == {subject.pk}
    assert not SubjectFlags.objects.exists()  # the collector refreshes them, not the service
    changes.entries_changed(subjects)
    assert SubjectFlags.objects.filter(subject=subject).exists()


def test_records_flow_lists_then_flags(seeded, make_subject):
    subject = make_subject()
    record = make_record(
        subject,
        "YZSX",
        data={"MD_LX": "拖欠农民工工资失信联合惩戒对象"},
        department_code="ZB-RSJ",
        decision_date=dt.date(2025, 1, 10),
        flow=False,
    )
    assert not ListEntry.objects.exists()  # the ORM alone derives nothing
    results = records_changed(RecordsChanged.saved([record.pk]))
    assert results["lists"]["created"] == 1
    assert results["commitments"] is None  # not a CN record
    assert results["flags"] == 1
    entry = ListEntry.objects.get(record=record)
    flags = SubjectFlags.objects.get(subject=subject)
    assert [e["id"] for e in flags.entries] == [entry.pk]
