"""Fixtures for the publicity tests: the real catalogue and rules, and records made directly
with the ORM, followed by the records-changed flow (records.changes) as a records service would
run it, so each has its publicity computed."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from django.utils import timezone

from pubcredit.testing.loadkit import make_uscc

_counter = itertools.count(1)


@pytest.fixture
def rules(reference):
    """The shipped publicity rules (the session's reference data); returns the counts of the
    session's import into the empty database."""
    return reference["publicity"]


@pytest.fixture
def no_publicity_rules(db):
    """The publicity rules deleted inside the test's transaction: the database as before they
    are imported (tests of the import, and of a platform without rules)."""
    from pubcredit.testing import reference

    reference.clear("publicity")


@pytest.fixture
def departments(catalogue):
    from pubcredit.catalog.models import Department

    return {d.code: d for d in Department.objects.all()}


@pytest.fixture
def categories(catalogue):
    from pubcredit.catalog.models import Category

    return {c.code: c for c in Category.objects.all()}


@pytest.fixture
def subject(db):
    from pubcredit.subjects.models import Subject

    return Subject.objects.create(
        kind="org", name="淄博测试有限公司", name_norm="淄博测试有限公司", uscc=make_uscc(1)
    )


@pytest.fixture
def make_record(rules, departments, categories, subject):
    """make_record(category="CF", decision=date, types=["罚款"], fine="0.5", department="ZB-SCJG",
    **data) → Record (its publicity already computed for today)."""
    from pubcredit.intake.models import Submission
    from pubcredit.records.changes import RecordsChanged, records_changed
    from pubcredit.records.models import Record

    submissions = {}

    def submission_for(department, category):
        key = (department.pk, category.pk)
        if key not in submissions:
            n = next(_counter)
            submissions[key] = Submission.objects.create(
                department=department,
                category=category,
                channel=Submission.Channel.CLI,
                filename=f"test-{n}.csv",
                sha256=f"{n:064d}",
                status=Submission.Status.DONE,
            )
        return submissions[key]

    def make(
        category: str = "CF",
        *,
        decision: dt.date = dt.date(2024, 3, 5),
        types=("罚款",),
        fine: str | None = "0.5",
        department: str = "ZB-SCJG",
        kind: str = "org",
        valid_to: dt.date | None = None,
        subject_obj=None,
        **data,
    ):
        n = next(_counter)
        dept = departments[department]
        cat = categories[category]
        if category == "CF":
            payload = {
                "CF_WSH": f"淄罚〔2024〕{n}号",
                "CF_CFLB": list(types) if types is not None else None,
                "CF_NR_FK": fine,
                "CF_WFXW": "违反《中华人民共和国食品安全法》",
                "CF_YJ": "《中华人民共和国食品安全法》第一百二十四条",
                "CF_JDRQ": decision.isoformat(),
                "CF_CFJG": dept.name,
            }
        else:
            payload = {
                "XK_WSH": f"淄许〔2024〕{n}号",
                "XK_JDRQ": decision.isoformat(),
                "XK_YXQZI": valid_to.isoformat() if valid_to else None,
                "XK_ZT": "有效",
            }
        payload.update(data)
        now = timezone.now()
        record = Record.objects.create(
            category=cat,
            department=dept,
            business_key=f"key-{n}",
            subject=subject if subject_obj is None else subject_obj,
            subject_name="淄博测试有限公司",
            subject_kind=kind,
            content_hash=f"{n:032d}",
            data={k: v for k, v in payload.items() if v is not None},
            decision_date=decision,
            valid_from=decision if category == "XK" else None,
            valid_to=valid_to,
            submission=submission_for(dept, cat),
            source_row=n,
            received_at=now,
            created_at=now,
            updated_at=now,
        )
        records_changed(RecordsChanged.saved([record.pk]))
        return record

    return make


# The day the tests judge publicity on (records are made relative to it, not to the real clock).
TODAY = dt.date(2026, 7, 1)


@pytest.fixture
def window():
    """window(record, today=TODAY) → the record's Publicity row, recomputed for `today`."""
    from pubcredit.publicity.models import Publicity
    from pubcredit.publicity.services import refresh_publicity

    def get(record, today: dt.date = TODAY):
        refresh_publicity([record.pk], today=today)
        return Publicity.objects.select_related("regime").get(pk=record.pk)

    return get
