"""States over time: licences, withdrawal and supersession, the sweep, overrides, marks and the
portal's queries."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command

from pubcredit.accounts.models import AuditEvent, Role, User
from pubcredit.accounts.permissions import Principal
from pubcredit.publicity import services
from pubcredit.publicity.models import (
    Publicity,
    PublicityEvent,
    PublicityMark,
    PublicityState,
    Tier,
    TierOverride,
)
from pubcredit.publicity.tests.conftest import TODAY

pytestmark = pytest.mark.django_db

D = dt.date
S = PublicityState


def events(record):
    return list(
        PublicityEvent.objects.filter(record=record)
        .order_by("id")
        .values_list("from_state", "to_state", "reason")
    )


def clerk(department, name="clerk") -> Principal:
    user = User.objects.create_user(name, role=Role.DEPARTMENT_CLERK, department=department)
    return Principal.of(user)


# --------------------------------------------------------------------------- licences


def test_licence_public_while_valid(make_record, window):
    licence = make_record("XK", decision=D(2025, 1, 10), valid_to=D(2026, 7, 31))
    row = window(licence)
    assert (row.tier, row.regime, row.start, row.end) == ("", None, D(2025, 1, 10), D(2026, 8, 1))
    assert row.state == S.PUBLIC and row.last_day == D(2026, 7, 31)
    assert window(licence, today=D(2026, 7, 31)).state == S.PUBLIC  # the last valid day
    assert window(licence, today=D(2026, 8, 1)).state == S.ENDED  # the day after 有效期至
    assert window(licence, today=D(2025, 1, 9)).state == S.PENDING  # before the decision


def test_licence_long_term_and_invalid(make_record, window):
    forever = window(make_record("XK", decision=D(2020, 1, 1), valid_to=D(2099, 12, 31)))
    assert forever.end is None and forever.state == S.PUBLIC
    assert forever.is_public_on(D(2090, 1, 1))
    cancelled = window(make_record("XK", decision=D(2025, 1, 1), valid_to=None, XK_ZT="无效"))
    assert cancelled.state == S.EXPIRED


# --------------------------------------------------------------------------- record changes


def test_withdrawn_record_is_no_longer_public(make_record, departments):
    from pubcredit.records.services import withdraw_record

    record = make_record(decision=TODAY - dt.timedelta(days=30))
    assert Publicity.objects.get(pk=record.pk).state == S.PUBLIC
    withdraw_record(clerk(departments["ZB-SCJG"]), record, "决定已被撤销")
    row = Publicity.objects.get(pk=record.pk)
    assert row.state == S.WITHDRAWN
    assert events(record)[-1] == ("public", "withdrawn", "record_saved")
    assert not services.public_records(record.subject_id).filter(pk=record.pk).exists()


def test_expired_record_is_not_public(make_record, window):
    record = make_record(decision=D(2026, 5, 6))
    record.status = "expired"
    record.save(update_fields=["status"])
    assert window(record).state == S.EXPIRED


def test_superseded_version_recomputes_the_window(make_record, window):
    record = make_record(decision=D(2026, 5, 6), types=["罚款"], fine="5")
    assert window(record).tier == Tier.GENERAL
    # A corrected version arrives: the licence was in fact revoked.
    record.data = {**record.data, "CF_CFLB": ["罚款", "吊销许可证件"]}
    record.version = 2
    record.save()
    row = window(record)
    assert row.tier == Tier.SERIOUS and row.end == D(2029, 5, 6)
    assert row.record_version == 2
    assert PublicityEvent.objects.filter(record=record, tier=Tier.SERIOUS).count() == 1


def test_intake_load_refreshes_publicity(catalogue, rules, departments, categories):
    from django.db import transaction

    from pubcredit.intake import loading
    from pubcredit.intake.models import Submission
    from pubcredit.records.models import Record
    from pubcredit.testing.loadkit import accepted_frame, cf_row

    submission = Submission.objects.create(
        department=departments["ZB-SCJG"],
        category=categories["CF"],
        channel=Submission.Channel.CLI,
        filename="a.csv",
        sha256="a" * 64,
        status=Submission.Status.LOADING,
    )
    rows = [cf_row(i, decision=D(2026, 5, 6)) for i in range(1, 4)]
    with transaction.atomic():
        loading.load_accepted(submission, accepted_frame(rows))
        # The load's write ran the records flow in its transaction: no save of the submission
        # (nor any model signal) is needed for publicity to follow.
        assert Publicity.objects.count() == 3
    assert Publicity.objects.count() == Record.objects.count() == 3
    assert set(PublicityEvent.objects.values_list("reason", flat=True)) == {"intake"}


# --------------------------------------------------------------------------- sweep


def test_sweep_ends_publicity_once_and_keeps_history(make_record):
    ends_soon = make_record(decision=D(2025, 7, 10), fine="5")  # Order 58: end 2028-07-10
    licence = make_record("XK", decision=D(2025, 1, 1), valid_to=D(2026, 12, 31))
    services.refresh_publicity(today=TODAY)
    assert Publicity.objects.get(pk=ends_soon.pk).state == S.PUBLIC

    first = services.sweep_publicity(D(2027, 1, 1))
    assert first == {"today": "2027-01-01", "ended": 1, "started": 0}
    row = Publicity.objects.get(pk=licence.pk)
    assert row.state == S.ENDED and row.ended_at is not None
    assert events(licence)[-1] == ("public", "ended", "sweep")

    snapshot = list(Publicity.objects.order_by("pk").values())
    n_events = PublicityEvent.objects.count()
    second = services.sweep_publicity(D(2027, 1, 1))
    assert second["ended"] == 0
    assert list(Publicity.objects.order_by("pk").values()) == snapshot
    assert PublicityEvent.objects.count() == n_events
    sweeps = AuditEvent.objects.filter(action="publicity.sweep").order_by("id")
    assert [e.after["ended"] for e in sweeps] == [1, 0]

    services.sweep_publicity(D(2028, 7, 10))
    assert Publicity.objects.get(pk=ends_soon.pk).state == S.ENDED
    assert not services.public_records(ends_soon.subject_id, today=D(2028, 7, 10)).exists()


def test_sweep_starts_pending_records(make_record):
    record = make_record(decision=D(2026, 5, 6), fine="5")
    services.refresh_publicity(today=D(2026, 5, 1))
    assert Publicity.objects.get(pk=record.pk).state == S.PENDING
    result = services.sweep_publicity(D(2026, 5, 6))
    assert result["started"] == 1
    row = Publicity.objects.get(pk=record.pk)
    assert row.state == S.PUBLIC and row.published_at is not None


def test_sweep_command_moves_the_clock(make_record, capsys):
    import json

    record = make_record(decision=D(2025, 7, 10), fine="5")
    call_command("publicity", "sweep", "--today", "2028-07-10")
    out = json.loads(capsys.readouterr().out)
    assert out["ended"] == 1
    assert Publicity.objects.get(pk=record.pk).state == S.ENDED
    with pytest.raises(Exception) as exc:
        call_command("publicity", "sweep", "--today", "2028-13-01")
    assert "日期" in str(exc.value)


def test_sweep_task(make_record):
    from pubcredit.publicity.tasks import sweep_publicity_task

    make_record(decision=D(2025, 7, 10), fine="5")
    result = sweep_publicity_task.enqueue("2028-07-10")
    assert result.return_value["ended"] == 1


# --------------------------------------------------------------------------- overrides and marks


def test_department_sets_the_tier(make_record, departments, window):
    record = make_record(decision=D(2026, 5, 6), types=["警告"], fine=None)
    assert window(record).state == S.NOT_PUBLISHED
    principal = clerk(departments["ZB-SCJG"])
    row = services.set_tier(principal, record, Tier.SERIOUS, "情节严重,造成重大社会影响")
    row = window(record)
    assert (row.tier, row.tier_source, row.rule) == (Tier.SERIOUS, "override", "override")
    assert (row.repair_from, row.end) == (D(2027, 5, 6), D(2029, 5, 6))
    assert row.state == S.PUBLIC
    event = AuditEvent.objects.get(action="publicity.set_tier")
    assert event.before["override"] is None and event.after["override"] == Tier.SERIOUS
    assert event.after["publicity"]["tier"] == Tier.SERIOUS
    assert event.reason == "情节严重,造成重大社会影响"

    # Withdrawing the setting: the rules apply again, the old setting stays as history.
    services.set_tier(principal, record, None, "认定有误")
    assert window(record).tier == Tier.MINOR
    assert TierOverride.objects.filter(record=record).count() == 1
    assert TierOverride.objects.get(record=record).revoked_at is not None


def test_set_tier_checks(make_record, departments):
    record = make_record(decision=D(2026, 5, 6))
    with pytest.raises(PermissionDenied):
        services.set_tier(clerk(departments["ZB-YJGL"]), record, Tier.SERIOUS, "理由")
    principal = clerk(departments["ZB-SCJG"], "c2")
    with pytest.raises(ValidationError):
        services.set_tier(principal, record, Tier.SERIOUS, " ")
    with pytest.raises(ValidationError):
        services.set_tier(principal, record, "huge", "理由")
    with pytest.raises(ValidationError):
        services.set_tier(principal, record, None, "理由")  # nothing to withdraw
    licence = make_record("XK", decision=D(2026, 1, 1), valid_to=D(2027, 1, 1))
    with pytest.raises(ValidationError):
        services.set_tier(principal, licence, Tier.SERIOUS, "理由")
    centre = Principal.of(User.objects.create_user("centre", role=Role.CENTRE_STAFF))
    with pytest.raises(PermissionDenied):
        services.set_tier(centre, record, Tier.SERIOUS, "理由")


def test_marks_repair_and_objection(make_record, system):
    record = make_record(decision=TODAY - dt.timedelta(days=10))
    objection = services.add_mark(system, record, "objection", "企业对处罚内容提出异议")
    row = Publicity.objects.get(pk=record.pk)
    assert row.state == S.OBJECTION
    assert services.public_records(record.subject_id).filter(pk=record.pk).exists()
    with pytest.raises(ValidationError):
        services.add_mark(system, record, "objection", "again")
    services.lift_mark(system, objection, "异议不成立")
    assert Publicity.objects.get(pk=record.pk).state == S.PUBLIC
    services.add_mark(system, record, PublicityMark.Kind.REPAIRED, "信用修复申请已通过")
    assert Publicity.objects.get(pk=record.pk).state == S.REPAIRED
    assert not services.public_records(record.subject_id).exists()
    assert [e[1] for e in events(record)][-4:] == ["public", "objection", "public", "repaired"]


# --------------------------------------------------------------------------- queries


def test_queries_for_the_portal(make_record, departments, categories, subject):
    from pubcredit.subjects.models import Subject

    other = Subject.objects.create(kind="org", name="别家", name_norm="别家")
    a = make_record(decision=D(2026, 6, 1), fine="5")
    b = make_record(decision=D(2026, 6, 20), fine="5", department="ZB-YJGL")
    minor = make_record(decision=D(2026, 6, 2), types=["警告"], fine=None)  # not published
    lic = make_record("XK", decision=D(2026, 5, 1), valid_to=D(2030, 1, 1))
    make_record(decision=D(2026, 6, 5), fine="5", subject_obj=other)
    services.refresh_publicity(today=TODAY)

    mine = services.public_records(subject.pk, today=TODAY)
    assert list(mine) == [b, a, lic]
    assert list(services.public_records(subject.pk, "CF", today=TODAY)) == [b, a]
    assert minor not in mine
    assert services.public_counts(subject.pk, today=TODAY) == {"CF": 2, "XK": 1}
    # Between two sweeps the date test alone keeps ended rows out.
    assert list(services.public_records(subject.pk, "XK", today=D(2030, 1, 1))) == [lic]
    assert list(services.public_records(subject.pk, "XK", today=D(2030, 1, 2))) == []

    lists = services.publicity_lists(today=TODAY)
    assert [p.record_id for p in lists][:2] == [b.pk, lists[1].record_id]
    assert [p.start for p in lists] == sorted((p.start for p in lists), reverse=True)
    by_dept = services.publicity_lists(department="ZB-YJGL", today=TODAY)
    assert [p.record_id for p in by_dept] == [b.pk]
    by_cat = services.publicity_lists(category=categories["XK"], today=TODAY)
    assert [p.record_id for p in by_cat] == [lic.pk]
    since = services.publicity_lists(since=D(2026, 6, 2), department=departments["ZB-SCJG"].pk)
    assert all(p.start >= D(2026, 6, 2) for p in since)
    assert services.publicity_of(a).tier == Tier.GENERAL
    assert Publicity.objects.filter(services.is_public_q(TODAY, prefix="")).count() == 4


def test_without_rules_penalties_are_not_published(
    catalogue, no_publicity_rules, departments, categories, db
):
    """Before the rules are imported nothing breaks: penalties wait unpublished (no regime
    applies), licences follow their validity."""
    from pubcredit.intake.models import Submission
    from pubcredit.records.models import Record

    def make(code, n, **values):
        now = dt.datetime.now(dt.UTC)
        sub = Submission.objects.create(
            department=departments["ZB-SCJG"],
            category=categories[code],
            channel=Submission.Channel.CLI,
            filename=f"{code}.csv",
            sha256=str(n) * 64,
        )
        return Record.objects.create(
            category=categories[code],
            department=departments["ZB-SCJG"],
            business_key=f"k{n}",
            subject_name="某公司",
            content_hash="0" * 32,
            submission=sub,
            source_row=2,
            received_at=now,
            created_at=now,
            updated_at=now,
            **values,
        )

    penalty = make("CF", 1, data={"CF_CFLB": ["罚款"]}, decision_date=D(2026, 5, 6))
    licence = make("XK", 2, data={}, decision_date=D(2026, 5, 6), valid_to=D(2027, 1, 1))
    services.refresh_publicity(today=TODAY)
    assert Publicity.objects.get(pk=penalty.pk).state == S.NOT_PUBLISHED
    assert Publicity.objects.get(pk=licence.pk).state == S.PUBLIC


def test_first_fill_rebuilds_the_indexes(make_record, monkeypatch):
    """A full refresh into an empty read model defers its indexes (PostgreSQL) and leaves every
    index in place afterwards, with the same rows as a refresh row by row."""
    from django.db import connection

    from pubcredit.publicity.models import Publicity as P

    for i in range(3):
        make_record(decision=D(2026, 5, 1 + i))
    expected = sorted(P.objects.values_list("pk", "state", "end"))
    P.objects.all().delete()
    PublicityEvent.objects.all().delete()
    monkeypatch.setattr(services, "INITIAL_FILL_RECORDS", 1)
    result = services.refresh_publicity()
    assert result["created"] == 3
    assert sorted(P.objects.values_list("pk", "state", "end")) == expected
    with connection.cursor() as cursor:
        names = set(connection.introspection.get_constraints(cursor, P._meta.db_table))
    assert {i.name for i in P._meta.indexes} <= names
