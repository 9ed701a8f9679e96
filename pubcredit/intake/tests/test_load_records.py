# ruff: noqa: F811 (pytest fixtures imported from loadkit)
"""The set-based loader: idempotence, versioning, subject linking, the review queue, and
all-or-nothing, on a frame shaped like the engine's accepted rows."""

import datetime as dt

import pytest
from django.db import transaction

from pubcredit.intake import linking, loading
from pubcredit.intake.models import MatchReview
from pubcredit.records import writing
from pubcredit.records.models import Record, RecordVersion, SubjectLink
from pubcredit.subjects import crypto
from pubcredit.subjects.models import Subject
from pubcredit.testing.loadkit import (  # noqa: F401 (fixtures)
    accepted_frame,
    cf,
    cf_row,
    department,
    make_ric,
    make_submission,
    make_uscc,
)

pytestmark = pytest.mark.django_db


def load(submission, rows, **kwargs):
    with transaction.atomic():
        return loading.load_accepted(submission, accepted_frame(rows, **kwargs))


def test_first_load_inserts_records_and_creates_subjects(make_submission):
    rows = [cf_row(i) for i in range(5)]
    result = load(make_submission(), rows)
    assert (result.inserted, result.updated, result.unchanged) == (5, 0, 0)
    assert result.subjects_created == 5
    assert Record.objects.count() == 5
    record = Record.objects.get(business_key=f"淄市监罚〔2024〕3号|{make_uscc(3)}|")
    assert record.version == 1
    assert record.subject.uscc == make_uscc(3)
    assert record.subject.name == "淄博测试3有限公司"
    assert record.subject.kind == "org"
    assert record.subject.region == "370303"
    assert record.subject_link == SubjectLink.USCC
    assert record.data["CF_NR_FK"] == "0.200000"
    assert record.data["CF_JDRQ"] == "2024-03-05"
    assert record.decision_date == dt.date(2024, 3, 5)
    assert record.valid_to == dt.date(2025, 3, 5)
    assert record.source_row == 5
    assert "CF_XDR_ZJHM" not in record.data  # empty values are not stored


def test_same_content_twice_changes_nothing(make_submission):
    rows = [cf_row(i) for i in range(4)]
    load(make_submission(), rows)
    before = {r.pk: (r.version, r.updated_at, r.submission_id) for r in Record.objects.all()}
    result = load(make_submission(), rows, first_row=10)
    assert (result.inserted, result.updated, result.unchanged) == (0, 0, 4)
    assert RecordVersion.objects.count() == 0
    after = {r.pk: (r.version, r.updated_at, r.submission_id) for r in Record.objects.all()}
    assert after == before


def test_changed_row_makes_version_two_and_keeps_version_one(make_submission):
    first = make_submission()
    load(first, [cf_row(1), cf_row(2)])
    second = make_submission()
    result = load(second, [cf_row(1, fine="0.500000", content="罚款人民币伍仟元"), cf_row(2)])
    assert (result.inserted, result.updated, result.unchanged) == (0, 1, 1)
    record = Record.objects.get(business_key__startswith="淄市监罚〔2024〕1号")
    assert record.version == 2
    assert record.data["CF_NR_FK"] == "0.500000"
    assert record.submission == second
    old = RecordVersion.objects.get(record=record)
    assert old.version == 1
    assert old.data["CF_NR_FK"] == "0.200000"
    assert old.data["CF_NR"] == "罚款人民币贰仟元"
    assert old.submission == first
    assert old.subject_id == record.subject_id
    # The unchanged one kept its version and its first submission.
    other = Record.objects.get(business_key__startswith="淄市监罚〔2024〕2号")
    assert (other.version, other.submission) == (1, first)
    # A third, again changed, submission: version 3, two versions in history.
    load(make_submission(), [cf_row(1, fine="0.600000")])
    assert sorted(
        RecordVersion.objects.filter(record=record).values_list("version", flat=True)
    ) == [
        1,
        2,
    ]
    record.refresh_from_db()
    assert record.version == 3


def test_existing_subject_linked_by_uscc_and_by_id_number(make_submission, system):
    from pubcredit.subjects.services import register_subject

    org = register_subject(system, kind="org", name="淄博宏达有限公司", uscc=make_uscc(7))
    person = register_subject(system, kind="person", name="李四", id_number=make_ric(8))
    rows = [
        cf_row(7, name="淄博宏达(有限)公司"),
        cf_row(8, name="李四", kind="自然人", id_number=make_ric(8)),
        cf_row(9, name="王五", kind="自然人", id_number=make_ric(9, "19900101")),
    ]
    result = load(make_submission(), rows)
    assert result.subjects_created == 1  # 王五
    by_row = {r.source_row: r for r in Record.objects.all()}
    assert by_row[2].subject == org and by_row[2].subject_link == SubjectLink.USCC
    assert by_row[3].subject == person and by_row[3].subject_link == SubjectLink.ID_NUMBER
    wang = by_row[4].subject
    assert wang.kind == "person" and wang.uscc is None
    assert wang.id_index and wang.id_masked == "370303********" + make_ric(9, "19900101")[-4:]
    assert crypto.decrypt_id(wang.id_cipher) == make_ric(9, "19900101")
    assert wang.region == "370303"


def test_subject_registered_meanwhile_is_linked_not_duplicated(
    make_submission, system, monkeypatch
):
    """Another load registers a subject between this load's classification and its insert of
    new subjects: the insert skips it (ON CONFLICT) and the row is linked to that subject."""
    from pubcredit.subjects.services import register_subject

    classify = writing.RecordsWriter.classify
    meanwhile = {}

    def classify_then_register(self):
        found = classify(self)
        meanwhile["org"] = register_subject(
            system, kind="org", name="淄博测试1有限公司", uscc=make_uscc(1)
        )
        return found

    monkeypatch.setattr(writing.RecordsWriter, "classify", classify_then_register)
    result = load(make_submission(), [cf_row(i) for i in range(3)])
    assert result.subjects_created == 2
    assert Subject.objects.count() == 3
    by_row = {r.source_row: r for r in Record.objects.all()}
    assert by_row[3].subject == meanwhile["org"]
    assert by_row[2].subject.uscc == make_uscc(0)
    assert by_row[4].subject.uscc == make_uscc(2)


def test_id_numbers_never_stored_in_clear(make_submission):
    ric = make_ric(5)
    load(make_submission(), [cf_row(5, name="赵六", kind="自然人", id_number=ric)])
    record = Record.objects.get()
    assert record.data["CF_XDR_ZJHM"] == crypto.mask_id(ric)
    assert ric not in record.business_key
    assert ric not in str(record.data) and ric not in str(record.original)
    assert (
        crypto.decrypt_id(__import__("base64").urlsafe_b64decode(record.sealed["CF_XDR_ZJHM"]))
        == ric
    )


def test_originals_kept_where_they_differ(make_submission):
    rows = [cf_row(1) | {"BZ": None}, cf_row(2) | {"BZ": None}]
    originals = {0: {"CF_JDRQ": "2024年3月5日", "CF_CFJG": "淄博市市场监督管理局", "BZ": " "}}
    load(make_submission(), rows, originals=originals)
    first = Record.objects.get(source_row=2)
    assert first.original == {"CF_JDRQ": "2024年3月5日"}
    assert first.original_value("CF_JDRQ") == "2024年3月5日"
    assert first.original_value("CF_CFJG") == "淄博市市场监督管理局"
    assert Record.objects.get(source_row=3).original == {}


def test_name_only_rows_exact_match_links_uncertain_goes_to_review(make_submission, system):
    from pubcredit.subjects.services import register_subject

    exact = register_subject(system, kind="org", name="淄博永安商贸有限公司", uscc=make_uscc(21))
    register_subject(system, kind="org", name="淄博永盛商贸有限公司", uscc=make_uscc(22))
    rows = [
        cf_row(1, name="淄博永安商贸有限公司", uscc=None),  # exact normalised name
        cf_row(2, name="淄博永安商贸有限责任公司", uscc=None),  # same name, legal form spelled out
        cf_row(3, name="淄博永昌商贸有限公司", uscc=None),  # only similar: review
        cf_row(4, name="完全不同的名字合作社", uscc=None),  # nothing similar: new subject
        cf_row(5, name="张三", kind="自然人", id_number=None),  # a person without a number
    ]
    rows[4]["CF_XDR_ZJHM"] = None
    result = load(make_submission(), rows)
    by_row = {r.source_row: r for r in Record.objects.all()}
    assert by_row[2].subject == exact and by_row[2].subject_link == SubjectLink.NAME
    assert by_row[3].subject == exact and by_row[3].subject_link == SubjectLink.FUZZY
    assert by_row[4].subject is None and by_row[4].subject_link == SubjectLink.REVIEW
    assert by_row[5].subject.name == "完全不同的名字合作社"
    assert by_row[5].subject_link == SubjectLink.NEW
    assert by_row[6].subject is None and by_row[6].subject_link == SubjectLink.REVIEW
    assert result.review == 2
    review = MatchReview.objects.get(record=by_row[4])
    assert review.status == MatchReview.Status.OPEN
    assert review.candidates and review.candidates[0]["score"] < 100
    assert {c["name"] for c in review.candidates} >= {"淄博永安商贸有限公司"}
    # Loading the same file again opens no second review.
    load(make_submission(), rows)
    assert MatchReview.objects.count() == 2


@pytest.mark.parametrize("step", [(writing, "classify"), (linking, "open_reviews")])
def test_crash_mid_load_leaves_nothing(make_submission, monkeypatch, step):
    """A failure after staging (before any record is written) or after the records were
    written (before the reviews) rolls the whole load back."""
    load(make_submission(), [cf_row(1)])
    before = (Record.objects.count(), Subject.objects.count(), RecordVersion.objects.count())

    def boom(*args, **kwargs):
        raise RuntimeError("simulated crash mid-load")

    monkeypatch.setattr(*step, boom)
    with pytest.raises(RuntimeError), transaction.atomic():
        loading.load_accepted(
            make_submission(), accepted_frame([cf_row(1, fine="0.9"), cf_row(2), cf_row(3)])
        )
    after = (Record.objects.count(), Subject.objects.count(), RecordVersion.objects.count())
    assert after == before


def test_duplicate_business_keys_are_refused(make_submission):
    with pytest.raises(loading.LoadError), transaction.atomic():
        loading.load_accepted(make_submission(), accepted_frame([cf_row(1), cf_row(1)]))
    assert Record.objects.count() == 0
