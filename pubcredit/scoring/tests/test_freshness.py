"""Grades follow the facts: withdrawn, repaired and expired facts stop counting, and the grade
is recomputed by the flow or hook of the change itself (no explicit computation here)."""

from __future__ import annotations

import datetime as dt

import pytest

from pubcredit.testing import portalkit, scorekit
from pubcredit.testing.listkit import identify
from pubcredit.testing.loadkit import make_uscc
from pubcredit.testing.scorekit import result, sources

pytestmark = pytest.mark.django_db

CARD = "SCORE_PUBLIC"


def _penalised(system, n: int):
    uscc = make_uscc(400 + n)
    portalkit.submit(
        system, "CF", [portalkit.penalty(1, name=f"淄博修复测试{n}有限公司", uscc=uscc, fine="5")]
    )
    subject = portalkit.subject_of(uscc)
    assert sources(result(subject, CARD)) == {"CF_GENERAL": [-4]}
    from pubcredit.records.models import Record

    return subject, Record.objects.get(subject=subject)


def test_a_withdrawn_record_stops_counting(scorecards, system):
    from pubcredit.records.services import withdraw_record

    subject, record = _penalised(system, 1)
    withdraw_record(system, record, "报送有误")
    row = result(subject, CARD)
    assert (float(row.score), sources(row)) == (80, {})


def test_a_repaired_record_stops_counting_and_counts_again_when_revoked(scorecards, system):
    from pubcredit.publicity.models import PublicityMark
    from pubcredit.publicity.services import add_mark, lift_mark
    from pubcredit.scoring.services import history

    subject, record = _penalised(system, 2)
    mark = add_mark(system, record, PublicityMark.Kind.REPAIRED, "信用修复决定")
    assert (float(result(subject, CARD).score), sources(result(subject, CARD))) == (80, {})
    # An objection mark is not a repair: nothing changes.
    add_mark(system, record, PublicityMark.Kind.OBJECTION, "异议处理中")
    assert float(result(subject, CARD).score) == 80
    lift_mark(system, mark, "违背信用修复承诺,撤销修复")
    assert sources(result(subject, CARD)) == {"CF_GENERAL": [-4]}
    assert [h["score"] for h in history(subject, CARD)] == [76, 80, 76]


def test_an_expired_list_entry_stops_counting_through_the_expiry_sweep(
    scorecards, system, make_subject
):
    from pubcredit.lists.models import ListEntry
    from pubcredit.lists.services import expire_entries

    subject = make_subject()
    today = scorekit.today()
    entry = identify(
        system, subject, "RED_CONTRACT", decided_on=today - dt.timedelta(days=400), today=today
    )
    assert sources(result(subject, CARD)) == {"LIST_RED": [5]}
    # Its validity ends yesterday (a correction made without the services: no hook ran).
    ListEntry.objects.filter(pk=entry.pk).update(valid_to=today - dt.timedelta(days=1))
    assert sources(result(subject, CARD)) == {"LIST_RED": [5]}
    assert expire_entries(today) == 1
    assert sources(result(subject, CARD)) == {}


def test_an_expired_record_does_not_count(scorecards, system):
    from pubcredit.records.models import Record, RecordStatus
    from pubcredit.scoring.services import compute_subjects

    subject, record = _penalised(system, 3)
    Record.objects.filter(pk=record.pk).update(status=RecordStatus.EXPIRED)
    compute_subjects([subject.pk])
    assert sources(result(subject, CARD)) == {}


def test_a_removed_entry_stops_counting(scorecards, system, make_subject):
    from pubcredit.lists.services import remove_entry

    subject = make_subject()
    today = scorekit.today()
    entry = identify(
        system,
        subject,
        "WATCH_ABNORMAL_OPERATION",
        decided_on=today - dt.timedelta(days=9),
        today=today,
    )
    assert result(subject, CARD).grade == "C"
    remove_entry(system, entry, "已履行公示义务,申请移出")
    row = result(subject, CARD)
    assert (float(row.score), row.grade, sources(row)) == (80, "B", {})


def test_a_large_change_is_recomputed_by_tasks_on_commit(
    scorecards, system, make_subject, monkeypatch, django_capture_on_commit_callbacks
):
    from pubcredit.scoring import services

    monkeypatch.setattr(services, "INLINE_MAX", 1)
    subjects = [make_subject() for _ in range(3)]
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        done = services.recompute_later([s.pk for s in subjects])
    assert done == {"subjects": 3, "inline": 0, "tasks": 1}
    assert all(result(s, CARD) is None for s in subjects)
    for callback in callbacks:
        callback()  # the commit: the task runs (immediate backend in tests)
    assert [float(result(s, CARD).score) for s in subjects] == [80, 80, 80]
