"""Entries arriving through intake: records of a list category become list entries — through
`entries_from_records` (what the records flow's lists step calls) and automatically after every
write of records (records.changes: a withdrawal, a submission's load)."""

import datetime as dt

import pytest

from pubcredit.accounts.models import AuditEvent
from pubcredit.lists import services
from pubcredit.lists.models import EntrySource, EntryStatus, ListEntry
from pubcredit.measures.applicability import applicable_measures
from pubcredit.records.models import RecordStatus
from pubcredit.testing.listkit import make_record

pytestmark = pytest.mark.django_db

D = dt.date(2025, 3, 1)


@pytest.fixture
def manual(monkeypatch):
    """Without the lists step of the records flow, so each test drives entries_from_records
    itself."""
    from pubcredit.records.changes import RECORDS_CHANGED

    steps = tuple(s for s in RECORDS_CHANGED.subscribers if s.name != "lists")
    monkeypatch.setattr(RECORDS_CHANGED, "subscribers", steps)


def black_record(subject, list_name="拖欠农民工工资失信联合惩戒对象", **fields):
    fields.setdefault("decision_date", dt.date(2025, 1, 10))
    return make_record(
        subject,
        "YZSX",
        data={"MD_LX": list_name},
        department_code="ZB-RSJ",
        **fields,
    )


def test_records_become_entries_by_list_type_match(seeded, manual, make_subject):
    a, b = make_subject(), make_subject()
    wage = black_record(a, business_key="淄人社失信〔2025〕3号")
    food = black_record(b, "食品药品安全严重失信主体", valid_to=dt.date(2026, 1, 9))
    counts = services.entries_from_records([wage.pk, food.pk], today=D)
    assert counts == {"created": 2, "updated": 0, "removed": 0, "unchanged": 0, "skipped": 0}
    entry = ListEntry.objects.get(record=wage)
    assert entry.list_type.code == "BLK_WAGE_ARREARS"
    assert entry.source == EntrySource.INTAKE and entry.status == EntryStatus.PUBLISHED
    assert entry.identified_by.code == "ZB-RSJ"
    assert (entry.decided_on, entry.valid_from) == (dt.date(2025, 1, 10), dt.date(2025, 1, 10))
    assert entry.valid_to == dt.date(2028, 1, 9)  # the list type's default: 36 months
    assert entry.document_number == "淄人社失信〔2025〕3号"
    assert list(entry.events.values_list("to_status", flat=True)) == ["published"]
    assert ListEntry.objects.get(record=food).valid_to == dt.date(2026, 1, 9)
    assert AuditEvent.objects.filter(action="lists.intake").count() == 1
    # The entry hits in checks at once.
    result = applicable_measures(a.pk, "GOV_PROCUREMENT", D)
    assert [h.code for h in result.hits] == ["BLK_WAGE_ARREARS"]
    # Idempotent.
    again = services.entries_from_records([wage.pk, food.pk], today=D)
    assert again == {"created": 0, "updated": 0, "removed": 0, "unchanged": 2, "skipped": 0}
    assert AuditEvent.objects.filter(action="lists.intake").count() == 1


def test_single_list_type_category_needs_no_match(seeded, manual, make_subject):
    subject = make_subject()
    record = make_record(subject, "SXBZXR", department_code="ZB-ZYFY")
    assert services.entries_from_records([record.pk], today=D)["created"] == 1
    assert ListEntry.objects.get(record=record).list_type.code == "BLK_JUDGMENT_DEFAULTER"


def test_unmatched_unlinked_and_foreign_records(seeded, manual, make_subject):
    subject = make_subject()
    unknown = black_record(subject, "不存在的名单")
    unlinked = black_record(None)
    penalty = make_record(subject, "CF")  # not a list category: ignored
    counts = services.entries_from_records([unknown.pk, unlinked.pk, penalty.pk], today=D)
    assert counts["skipped"] == 2 and counts["created"] == 0
    assert not ListEntry.objects.exists()


def test_changed_and_withdrawn_records(seeded, manual, make_subject):
    subject = make_subject()
    record = black_record(subject)
    services.entries_from_records([record.pk], today=D)
    record.valid_to = dt.date(2025, 12, 31)
    record.save()
    assert services.entries_from_records([record.pk], today=D)["updated"] == 1
    entry = ListEntry.objects.get(record=record)
    assert entry.valid_to == dt.date(2025, 12, 31)
    record.status = RecordStatus.WITHDRAWN
    record.save()
    assert services.entries_from_records([record.pk], today=D)["removed"] == 1
    entry.refresh_from_db()
    assert entry.status == EntryStatus.REMOVED and "撤回" in entry.status_reason
    assert not applicable_measures(subject.pk, None, D).hits


def test_console_removal_survives_resubmission(seeded, manual, make_subject, system):
    subject = make_subject()
    record = black_record(subject)
    services.entries_from_records([record.pk], today=D)
    entry = ListEntry.objects.get(record=record)
    services.remove_entry(system, entry, "信用修复后移出")
    record.data = {**record.data, "BZ": "重新报送"}
    record.save()
    services.entries_from_records([record.pk], today=D)
    entry.refresh_from_db()
    assert entry.status == EntryStatus.REMOVED
    assert not applicable_measures(subject.pk, None, D).hits


def test_record_whose_validity_ended_arrives_expired(seeded, manual, make_subject):
    record = black_record(
        make_subject(), valid_to=dt.date(2024, 12, 31), decision_date=dt.date(2022, 1, 1)
    )
    services.entries_from_records([record.pk], today=D)
    entry = ListEntry.objects.get(record=record)
    assert entry.status == EntryStatus.EXPIRED
    assert list(entry.events.values_list("to_status", flat=True)) == ["published", "expired"]


def test_withdrawn_records_and_loaded_submissions_update_entries(seeded, make_subject, system):
    from pubcredit.records.changes import RecordsChanged, records_changed
    from pubcredit.records.models import Record
    from pubcredit.records.services import withdraw_record

    subject = make_subject()
    record = black_record(subject)  # the records flow after the write creates the entry
    entry = ListEntry.objects.get(record=record)
    assert entry.status == EntryStatus.PUBLISHED
    withdraw_record(system, record, "认定决定被撤销")
    entry.refresh_from_db()
    assert entry.status == EntryStatus.REMOVED
    # A load's flow picks up the records of the submission by its key space.
    bulk = black_record(make_subject())
    # A new version written without the records services: nothing follows by itself.
    Record.objects.filter(pk=bulk.pk).update(decision_date=dt.date(2025, 2, 2))
    assert ListEntry.objects.get(record=bulk).decided_on == dt.date(2025, 1, 10)
    submission = bulk.submission
    records_changed(
        RecordsChanged.loaded(
            submission_id=submission.pk,
            department_id=submission.department_id,
            category_id=submission.category_id,
        )
    )
    assert ListEntry.objects.get(record=bulk).decided_on == dt.date(2025, 2, 2)
