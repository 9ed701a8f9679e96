# ruff: noqa: F811 (pytest fixtures imported from loadkit)
"""Record services: withdrawal (audited, scoped, history kept) and history."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from pubcredit.accounts.models import AuditEvent, Role, User
from pubcredit.accounts.permissions import Principal, restrict
from pubcredit.catalog.models import Department
from pubcredit.intake import loading
from pubcredit.records import services
from pubcredit.records.models import Record, RecordStatus
from pubcredit.testing.loadkit import (  # noqa: F401 (fixtures)
    accepted_frame,
    cf,
    cf_row,
    department,
    make_submission,
)

pytestmark = pytest.mark.django_db


def load(submission, rows):
    with transaction.atomic():
        return loading.load_accepted(submission, accepted_frame(rows))


def clerk(department: Department, name: str = "clerk") -> Principal:
    user = User.objects.create_user(name, role=Role.DEPARTMENT_CLERK, department=department)
    return Principal.of(user)


def test_withdraw_sets_status_keeps_content_and_audits(make_submission, department):
    load(make_submission(), [cf_row(1)])
    record = Record.objects.get()
    content = (record.version, record.content_hash, record.data)
    withdrawn = services.withdraw_record(clerk(department), record, "决定已被撤销")
    assert withdrawn.status == RecordStatus.WITHDRAWN
    assert withdrawn.status_reason == "决定已被撤销"
    assert withdrawn.status_changed_at is not None
    record.refresh_from_db()
    assert (record.version, record.content_hash, record.data) == content
    event = AuditEvent.objects.get(action="records.withdraw")
    assert event.before["status"] == "active" and event.after["status"] == "withdrawn"
    assert event.reason == "决定已被撤销"
    assert "data" not in event.after  # bulky and personal content stays out of the trail
    with pytest.raises(ValidationError):
        services.withdraw_record(clerk(department, "clerk2"), record, "again")


def test_withdraw_requires_reason_and_own_department(make_submission, department):
    load(make_submission(), [cf_row(1)])
    record = Record.objects.get()
    with pytest.raises(ValidationError):
        services.withdraw_record(clerk(department), record, "  ")
    other = Department.objects.exclude(pk=department.pk).first()
    with pytest.raises(PermissionDenied):
        services.withdraw_record(clerk(other, "other"), record, "不是我的")
    window = Principal.of(User.objects.create_user("w", role=Role.WINDOW_CLERK))
    with pytest.raises(PermissionDenied):
        services.withdraw_record(window, record, "无权")
    record.refresh_from_db()
    assert record.status == RecordStatus.ACTIVE


def test_withdrawn_record_stays_withdrawn_when_resubmitted(make_submission, department, system):
    load(make_submission(), [cf_row(1)])
    record = Record.objects.get()
    services.withdraw_record(system, record, "撤销")
    result = load(make_submission(), [cf_row(1, fine="0.3")])
    assert result.updated == 1
    record.refresh_from_db()
    assert record.status == RecordStatus.WITHDRAWN and record.version == 2


def test_history_lists_current_then_replaced_versions(make_submission):
    first, second, third = make_submission(), make_submission(), make_submission()
    load(first, [cf_row(1, fine="0.1")])
    load(second, [cf_row(1, fine="0.2")])
    load(third, [cf_row(1, fine="0.3")])
    history = services.record_history(Record.objects.get())
    assert [(v.version, v.current, v.data["CF_NR_FK"]) for v in history] == [
        (3, True, "0.3"),
        (2, False, "0.2"),
        (1, False, "0.1"),
    ]
    assert [v.submission_id for v in history] == [third.pk, second.pk, first.pk]
    assert history[1].superseded_at is not None and history[0].superseded_at is None


def test_records_scoped_by_department(make_submission, department):
    load(make_submission(), [cf_row(1), cf_row(2)])
    mine = restrict(Record.objects.all(), clerk(department), "records.view")
    other = Department.objects.exclude(pk=department.pk).first()
    theirs = restrict(Record.objects.all(), clerk(other, "o"), "records.view")
    assert mine.count() == 2 and theirs.count() == 0
