# ruff: noqa: F811 (pytest fixtures imported from loadkit)
"""The records-changed flow (records.changes): one ordered list of subscribers, run by the records
services after every write of records, each step inside the writing transaction; a failing step
rolls the write back; no model signal drives business effects."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest
from django.db import connection, transaction
from django.db.models.signals import post_save
from django.utils.module_loading import import_string

from pubcredit.accounts.models import AuditEvent
from pubcredit.core.hooks import Hook, Subscriber
from pubcredit.intake import loading
from pubcredit.intake.models import Submission
from pubcredit.publicity.models import Publicity, PublicityEvent
from pubcredit.records import changes, services
from pubcredit.records.changes import RECORDS_CHANGED, Change, RecordsChanged, records_changed
from pubcredit.records.models import Record, RecordStatus, SubjectLink
from pubcredit.subjects.models import Subject
from pubcredit.testing.loadkit import (  # noqa: F401 (fixtures)
    accepted_frame,
    cf,
    cf_csv,
    cf_row,
    department,
    make_submission,
    media,
)

pytestmark = pytest.mark.django_db

STEPS = ["publicity", "lists", "commitments", "flags", "bulletins", "scoring"]


@dataclass(frozen=True)
class Call:
    step: str
    change: str
    record_ids: tuple[int, ...]
    in_transaction: bool


@pytest.fixture
def spy(monkeypatch):
    """Record every step of the flow (its name, the change, the records it can read, whether it
    runs inside a transaction) just before the real subscriber runs."""
    calls: list[Call] = []

    def resolve(subscriber: Subscriber):
        real = import_string(subscriber.path)

        def step(event):
            ids = tuple(sorted(event.records().values_list("pk", flat=True)))
            calls.append(Call(subscriber.name, event.change, ids, connection.in_atomic_block))
            return real(event)

        return step

    monkeypatch.setattr(Subscriber, "resolve", resolve)
    return calls


@pytest.fixture
def failing(monkeypatch):
    """failing(step): that step of the flow raises after the steps before it have run."""

    def make(name: str):
        steps = tuple(
            Subscriber(s.name, f"{__name__}._boom", s.does) if s.name == name else s
            for s in RECORDS_CHANGED.subscribers
        )
        monkeypatch.setattr(RECORDS_CHANGED, "subscribers", steps)

    return make


def _boom(event):
    raise RuntimeError("a step of the flow failed")


def load(submission, rows):
    with transaction.atomic():
        return loading.load_accepted(submission, accepted_frame(rows))


# --------------------------------------------------------------------------- the list


def test_the_flow_is_declared_in_one_place_in_order():
    assert [s.name for s in changes.SUBSCRIBERS] == STEPS
    assert RECORDS_CHANGED.subscribers == changes.SUBSCRIBERS
    for subscriber in changes.SUBSCRIBERS:
        assert callable(subscriber.resolve()), subscriber.path
        assert len(subscriber.does) > 40  # each entry says what it does
    with pytest.raises(ValueError):
        Hook("twice", (changes.SUBSCRIBERS[0], changes.SUBSCRIBERS[0]))


def test_no_model_receiver_drives_business_effects(make_submission, department, cf):
    assert not post_save.has_listeners(Record)
    assert not post_save.has_listeners(Submission)
    submission = make_submission()
    now = submission.received_at
    record = Record.objects.create(
        category=cf,
        department=department,
        business_key="k1",
        subject_name="某公司",
        content_hash="0" * 32,
        data={"CF_CFLB": ["罚款"]},
        decision_date=dt.date(2026, 5, 6),
        submission=submission,
        source_row=2,
        received_at=now,
        created_at=now,
        updated_at=now,
    )
    submission.status = Submission.Status.DONE
    submission.save()
    # Saving through the ORM alone derives nothing: only the records services run the flow.
    assert not Publicity.objects.filter(pk=record.pk).exists()
    records_changed(RecordsChanged.saved([record.pk]))
    assert Publicity.objects.filter(pk=record.pk).exists()


# --------------------------------------------------------------------------- who runs it


def test_a_load_runs_every_step_in_order_each_seeing_the_records(make_submission, spy):
    submission = make_submission()
    result = load(submission, [cf_row(1), cf_row(2), cf_row(3)])
    ids = tuple(sorted(Record.objects.values_list("pk", flat=True)))
    assert [c.step for c in spy] == STEPS
    assert {c.change for c in spy} == {Change.LOADED}
    assert all(c.record_ids == ids and c.in_transaction for c in spy)
    assert Publicity.objects.count() == 3
    assert set(PublicityEvent.objects.values_list("reason", flat=True)) == {"intake"}
    assert "derived" in result.timings
    # Each step's time is reported apart (where a load's derived work went).
    assert {f"derived_{step}" for step in STEPS} <= result.timings.keys()
    # A second load of the same rows changes nothing: the flow sees no record of its own.
    spy.clear()
    again = make_submission()
    load(again, [cf_row(1), cf_row(2), cf_row(3)])
    assert [c.step for c in spy] == STEPS and all(c.record_ids == () for c in spy)


def test_withdrawal_runs_the_flow(make_submission, system, spy):
    load(make_submission(), [cf_row(1)])
    record = Record.objects.get()
    spy.clear()
    services.withdraw_record(system, record, "决定已被撤销")
    assert [(c.step, c.change, c.record_ids) for c in spy] == [
        (step, Change.WITHDRAWN, (record.pk,)) for step in STEPS
    ]
    assert Publicity.objects.get(pk=record.pk).state == "withdrawn"


def test_relinking_runs_the_flow(make_submission, spy):
    load(make_submission(), [cf_row(1)])
    record = Record.objects.get()
    other = Subject.objects.create(
        kind="org", name="淄博另一有限公司", name_norm="淄博另一有限公司"
    )
    spy.clear()
    services.link_subject(record.pk, other)
    assert [(c.step, c.change, c.record_ids) for c in spy] == [
        (step, Change.SAVED, (record.pk,)) for step in STEPS
    ]
    record.refresh_from_db()
    assert (record.subject_id, record.subject_link) == (other.pk, SubjectLink.MANUAL)
    assert Publicity.objects.get(pk=record.pk).subject_id == other.pk


# --------------------------------------------------------------------------- all or nothing


def test_a_failing_step_rolls_back_the_withdrawal(make_submission, system, failing):
    load(make_submission(), [cf_row(1)])
    record = Record.objects.get()
    before = Publicity.objects.get(pk=record.pk)
    events = PublicityEvent.objects.count()
    failing("commitments")  # after publicity and lists have run
    with pytest.raises(RuntimeError):
        services.withdraw_record(system, record, "决定已被撤销")
    record.refresh_from_db()
    assert record.status == RecordStatus.ACTIVE
    row = Publicity.objects.get(pk=record.pk)
    assert (row.state, row.end) == (before.state, before.end)
    assert PublicityEvent.objects.count() == events
    assert not AuditEvent.objects.filter(action="records.withdraw").exists()


def test_a_failing_step_rolls_back_the_load(make_submission, failing):
    failing("flags")  # the last step: every write before it is undone too
    submission = make_submission()
    with pytest.raises(RuntimeError):
        load(submission, [cf_row(1), cf_row(2)])
    assert not Record.objects.exists()
    assert not Publicity.objects.exists() and not PublicityEvent.objects.exists()
    assert not Subject.objects.exists()


def test_a_failing_step_fails_the_submission(system, department, cf, failing, media):
    from pubcredit.intake import services as intake

    failing("publicity")
    rows = [cf_row(1, source_uscc=department.uscc), cf_row(2, source_uscc=department.uscc)]
    submission = intake.submit_file(
        system,
        department=department,
        category=cf,
        source=cf_csv(rows),
        filename="cf.csv",
        channel=Submission.Channel.CLI,
        background=False,
    )
    assert submission.status == Submission.Status.FAILED and submission.failure == "load"
    assert not Record.objects.exists() and not Publicity.objects.exists()


def test_the_flow_alone_is_one_transaction(make_submission, failing):
    """Run outside any transaction, the steps still commit together or not at all."""
    load(make_submission(), [cf_row(1)])
    record = Record.objects.get()
    Publicity.objects.all().delete()
    failing("lists")
    with pytest.raises(RuntimeError):
        records_changed(RecordsChanged.saved([record.pk]))
    assert not Publicity.objects.exists()  # the publicity step before it was rolled back


def test_an_event_names_its_records():
    with pytest.raises(ValueError):
        RecordsChanged(Change.LOADED)
    assert RecordsChanged.saved([3, 1]).record_ids == (3, 1)
    span = RecordsChanged(Change.LOADED, record_ids=range(5, 9))
    assert span.record_ids == range(5, 9)
