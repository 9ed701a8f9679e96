"""List types and entries: seed import, 认定, 移出, the expiry sweep and validity boundaries."""

import datetime as dt
import json

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.db import IntegrityError, transaction

from pubcredit.accounts.models import AuditEvent, Role, User
from pubcredit.accounts.permissions import Principal
from pubcredit.catalog.models import Department, SubjectKind
from pubcredit.lists import services, signals
from pubcredit.lists.models import EntryStatus, ListEntry, ListEntryEvent, ListKind, ListType
from pubcredit.measures.models import SubjectFlags
from pubcredit.testing.listkit import identify, list_type

pytestmark = pytest.mark.django_db

D = dt.date(2025, 6, 30)


def clerk(department_code: str, name: str = "clerk") -> Principal:
    department = Department.objects.get(code=department_code)
    user = User.objects.create_user(name, role=Role.DEPARTMENT_CLERK, department=department)
    return Principal.of(user)


# --------------------------------------------------------------------------- seed


def test_seed_has_the_city_list_types(seeded):
    counts = {k: ListType.objects.filter(kind=k).count() for k in ListKind.values}
    assert counts == {"red": 12, "black": 7, "watch": 4}
    names = set(ListType.objects.values_list("name", flat=True))
    for name in ("A级纳税人", "食安山东示范单位", "失信被执行人", "拖欠农民工工资失信联合惩戒对象"):
        assert name in names
    assert not ListType.objects.filter(legal_basis="").exists()
    # Every list type is carried by an information category, except the one the commitments
    # service identifies itself (违背信用承诺重点关注对象, from assessments, not from intake).
    assert all(lt.category_id for lt in ListType.objects.exclude(code="WCH_COMMITMENT_BREACH"))


def test_import_is_idempotent(seeded, system):
    before = AuditEvent.objects.count()
    counts = services.import_list_types(system)
    assert counts == {"created": 0, "updated": 0, "unchanged": 23}
    assert AuditEvent.objects.count() == before


def test_import_refuses_a_list_type_without_legal_basis(seeded, system, tmp_path):
    doc = json.loads(services.LIST_TYPES_FILE.read_text(encoding="utf-8"))
    doc["list_types"][0]["legal_basis"] = "  "
    path = tmp_path / "lt.json"
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(services.SeedError, match="缺少认定依据"):
        services.import_list_types(system, path)


def test_list_type_without_legal_basis_is_refused_by_the_database(seeded):
    with pytest.raises(IntegrityError), transaction.atomic():
        ListType.objects.create(code="X", name="X", kind="black", legal_basis="")


def test_import_needs_lists_change():
    window = Principal(role=Role.WINDOW_CLERK, label="w")
    with pytest.raises(PermissionDenied):
        services.import_list_types(window)


def test_lists_command_import_and_bad_date(seeded, capsys):
    call_command("lists", "import", "--json")
    assert json.loads(capsys.readouterr().out) == {"created": 0, "updated": 0, "unchanged": 23}
    with pytest.raises(SystemExit) as exc:
        from django.core.management import execute_from_command_line

        execute_from_command_line(["pubcredit", "lists", "expire", "--date", "2025-13-01"])
    assert exc.value.code == 2
    assert "YYYY-MM-DD" in capsys.readouterr().err


# --------------------------------------------------------------------------- 认定


def test_identify_defaults_validity_and_writes_history(seeded, make_subject, system):
    subject = make_subject()
    entry = identify(system, subject, "BLK_WAGE_ARREARS", decided_on=dt.date(2024, 3, 5))
    assert entry.status == EntryStatus.PUBLISHED
    assert entry.valid_from == dt.date(2024, 3, 5)
    assert entry.valid_to == dt.date(2027, 3, 4)  # 36 months, valid through the day before
    assert entry.identified_by.code == "ZB-RSJ"
    event = ListEntryEvent.objects.get(entry=entry)
    assert (event.from_status, event.to_status) == ("", "published")
    audit = AuditEvent.objects.get(action="lists.identify")
    assert audit.after["list_type_id"] == entry.list_type_id
    flags = SubjectFlags.objects.get(pk=subject.pk)
    assert [e["id"] for e in flags.entries] == [entry.pk]
    assert flags.entries[0]["to"] == "2027-03-04"


def test_identify_until_removed_when_no_default_validity(seeded, make_subject, system):
    entry = identify(system, make_subject(), "WATCH_ABNORMAL_OPERATION")
    assert entry.valid_to is None


def test_identify_refuses_wrong_kind_missing_basis_and_overlap(seeded, make_subject, system):
    person = make_subject(SubjectKind.PERSON)
    with pytest.raises(ValidationError) as exc:
        identify(system, person, "RED_TAX_A")
    assert "不适用于" in str(exc.value.message_dict["subject"])
    org = make_subject()
    with pytest.raises(ValidationError) as exc:
        identify(system, org, "BLK_TAX_MAJOR", basis=" ")
    assert "basis" in exc.value.message_dict
    identify(system, org, "BLK_TAX_MAJOR")
    with pytest.raises(ValidationError, match="不能重复认定"):
        identify(system, org, "BLK_TAX_MAJOR", decided_on=dt.date(2025, 2, 1))
    # Another list is fine.
    identify(system, org, "BLK_FOOD_DRUG")
    assert ListEntry.objects.filter(subject=org).count() == 2


def test_identify_in_the_past_is_expired_at_once(seeded, make_subject, system):
    entry = identify(
        system,
        make_subject(),
        "RED_ENV_GREEN",
        decided_on=dt.date(2020, 1, 1),
        today=dt.date(2025, 6, 1),
    )
    assert entry.status == EntryStatus.EXPIRED
    assert list(entry.events.values_list("to_status", flat=True)) == ["published", "expired"]


def test_department_clerk_identifies_only_for_own_department(seeded, make_subject):
    subject = make_subject()
    own = clerk("ZB-RSJ")
    entry = identify(
        own, subject, "BLK_WAGE_ARREARS", department=Department.objects.get(code="ZB-RSJ")
    )
    assert entry.created_by == "clerk"
    with pytest.raises(PermissionDenied):
        identify(
            own,
            make_subject(),
            "BLK_WAGE_ARREARS",
            department=Department.objects.get(code="ZB-SCJG"),
        )
    window = Principal.of(User.objects.create_user("w", role=Role.WINDOW_CLERK))
    with pytest.raises(PermissionDenied):
        identify(window, make_subject(), "BLK_WAGE_ARREARS")


def test_new_black_entry_is_announced_after_commit(
    seeded, make_subject, system, django_capture_on_commit_callbacks
):
    received = []

    def listener(sender, **kwargs):
        received.append({k: v for k, v in kwargs.items() if k != "signal"})

    signals.entries_published.connect(listener)
    try:
        subject = make_subject()
        with django_capture_on_commit_callbacks(execute=True):
            entry = identify(system, subject, "BLK_JUDGMENT_DEFAULTER")
    finally:
        signals.entries_published.disconnect(listener)
    assert received == [{"entry_ids": [entry.pk], "subject_ids": [subject.pk], "kinds": {"black"}}]


# --------------------------------------------------------------------------- 移出


def test_remove_entry(seeded, make_subject, system):
    subject = make_subject()
    entry = identify(system, subject, "BLK_FOOD_DRUG")
    with pytest.raises(ValidationError):
        services.remove_entry(system, entry, "")
    removed = services.remove_entry(system, entry, "已履行法定义务,提前移出")
    assert removed.status == EntryStatus.REMOVED
    assert removed.status_reason == "已履行法定义务,提前移出"
    event = removed.events.get(to_status="removed")
    assert event.from_status == "published" and event.reason.startswith("已履行")
    assert AuditEvent.objects.get(action="lists.remove").before["status"] == "published"
    assert not SubjectFlags.objects.filter(pk=subject.pk).exists()
    with pytest.raises(ValidationError, match="只有公示中的条目可以移出"):
        services.remove_entry(system, removed, "again")


def test_only_the_identifying_department_removes(seeded, make_subject):
    entry = identify(
        clerk("ZB-RSJ"),
        make_subject(),
        "BLK_WAGE_ARREARS",
        department=Department.objects.get(code="ZB-RSJ"),
    )
    with pytest.raises(PermissionDenied):
        services.remove_entry(clerk("ZB-SCJG", "other"), entry, "不是本部门认定")
    entry.refresh_from_db()
    assert entry.status == EntryStatus.PUBLISHED


# --------------------------------------------------------------------------- validity and expiry


def entry_through(system, subject, last_day: dt.date):
    return identify(
        system,
        subject,
        "BLK_WORK_SAFETY",
        decided_on=dt.date(2025, 1, 1),
        valid_to=last_day,
        today=dt.date(2025, 1, 1),
    )


def test_active_entries_q_is_inclusive_of_the_last_day(seeded, make_subject, system):
    entry = entry_through(system, make_subject(), D)
    active = ListEntry.objects.filter(services.active_entries_q(D))
    assert list(active) == [entry]
    assert not ListEntry.objects.filter(
        services.active_entries_q(D + dt.timedelta(days=1))
    ).exists()
    assert not ListEntry.objects.filter(services.active_entries_q(dt.date(2024, 12, 31))).exists()


def test_active_entries_q_excludes_inactive_list_types(seeded, make_subject, system):
    entry_through(system, make_subject(), D)
    ListType.objects.filter(code="BLK_WORK_SAFETY").update(active=False)
    assert not ListEntry.objects.filter(services.active_entries_q(D)).exists()


def test_expire_sweep_boundaries_history_and_idempotence(seeded, make_subject, system):
    subject = make_subject()
    entry = entry_through(system, subject, D)
    assert services.expire_entries(D) == 0  # valid through D: still published on D
    entry.refresh_from_db()
    assert entry.status == EntryStatus.PUBLISHED
    assert services.expire_entries(D + dt.timedelta(days=1)) == 1
    entry.refresh_from_db()
    assert entry.status == EntryStatus.EXPIRED
    assert list(entry.events.values_list("from_status", "to_status")) == [
        ("", "published"),
        ("published", "expired"),
    ]
    audits = AuditEvent.objects.filter(action="lists.expire")
    assert audits.count() == 1 and audits.get().after["count"] == 1
    events, audits_before = ListEntryEvent.objects.count(), AuditEvent.objects.count()
    assert services.expire_entries(D + dt.timedelta(days=1)) == 0
    assert services.expire_entries(D + dt.timedelta(days=30)) == 0
    assert (ListEntryEvent.objects.count(), AuditEvent.objects.count()) == (events, audits_before)
    assert not SubjectFlags.objects.filter(pk=subject.pk).exists()


def test_expired_or_removed_entry_cannot_be_removed_or_expired_again(seeded, make_subject, system):
    entry = entry_through(system, make_subject(), D)
    services.expire_entries(D + dt.timedelta(days=1))
    entry.refresh_from_db()
    with pytest.raises(ValidationError):
        services.remove_entry(system, entry, "不应可以移出")


def test_expire_command(seeded, make_subject, system, capsys):
    entry_through(system, make_subject(), D)
    call_command("lists", "expire", "--date", (D + dt.timedelta(days=1)).isoformat(), "--json")
    assert json.loads(capsys.readouterr().out) == {"expired": 1}


def test_add_months_clamps_to_month_end():
    assert services.add_months(dt.date(2024, 1, 31), 1) == dt.date(2024, 2, 29)
    assert services.add_months(dt.date(2024, 11, 30), 3) == dt.date(2025, 2, 28)
    assert services.add_months(dt.date(2024, 3, 5), 36) == dt.date(2027, 3, 5)


def test_default_valid_to():
    lt = ListType(default_validity_months=12)
    assert services.default_valid_to(lt, dt.date(2024, 3, 5)) == dt.date(2025, 3, 4)
    assert services.default_valid_to(ListType(default_validity_months=None), D) is None


def test_list_type_helper(seeded):
    assert list_type("RED_TAX_A").authority_label == "国家税务总局淄博市税务局"
    assert list_type("RED_INTEGRITY_PERSON").authority_label == "淄博市精神文明建设委员会办公室"
