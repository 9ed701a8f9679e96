"""load_demo, the demo accounts, and the `demo` and `setup` commands, on the database under
test (SQLite by default, PostgreSQL with DATABASE_URL)."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import re

import polars as pl
import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError

from pubcredit.accounts.models import AccessLog, AuditEvent, Role, User
from pubcredit.accounts.permissions import Principal
from pubcredit.catalog.models import Region
from pubcredit.core import identifiers
from pubcredit.demo import services
from pubcredit.demo.generate import generate_subjects
from pubcredit.demo.models import DemoLoad
from pubcredit.demo.services import DEMO_ACCOUNTS, DEMO_PASSWORD, load_demo
from pubcredit.subjects import crypto, names
from pubcredit.subjects.models import FormerName, Subject
from pubcredit.subjects.services import person_id_index
from pubcredit.testing.democity import committed_city

pytestmark = pytest.mark.django_db


@pytest.fixture
def system():
    return Principal.system("test")


def _loaded_digest() -> str:
    """A hash of the loaded demo content, independent of ids, timestamps and the random AES
    nonces: ciphertexts are decrypted and the clear number hashed in."""
    load = DemoLoad.objects.get()
    h = hashlib.sha256()
    fields = (
        "kind",
        "org_category",
        "name",
        "name_norm",
        "uscc",
        "id_index",
        "id_masked",
        "id_type",
        "region",
        "legal_representative",
        "established_on",
    )
    for row in Subject.objects.order_by("id").values("id", "id_cipher", *fields):
        clear = crypto.decrypt_id(row["id_cipher"]) if row["id_cipher"] is not None else None
        h.update(repr((row["id"] - load.first_id, clear, *(row[f] for f in fields))).encode())
    for row in FormerName.objects.order_by("subject_id", "name").values_list(
        "subject_id", "name", "name_norm", "used_until"
    ):
        h.update(repr((row[0] - load.first_id, *row[1:])).encode())
    return h.hexdigest()


@pytest.fixture(scope="class")
def city(django_db_setup, django_db_blocker, _worker_media):
    """One demo city of 800 subjects (seed 11) for the tests that only read it."""
    with committed_city(
        django_db_blocker,
        lambda system: load_demo(system, subjects=800, seed=11),
        MEDIA_ROOT=_worker_media,
    ) as summary:
        yield summary


@pytest.mark.xdist_group("demo-city")
class TestOneLoadedCity:
    """What one load_demo writes, read by each test (the city is loaded once for the class)."""

    def test_load_demo_writes_the_generated_city(self, city):
        summary = city
        assert Subject.objects.count() == 800 == summary["subjects"]
        load = DemoLoad.objects.get()
        assert (load.first_id, load.last_id, load.seed) == (
            summary["first_id"],
            summary["last_id"],
            11,
        )
        ids = list(Subject.objects.order_by("id").values_list("id", flat=True))
        assert ids == list(range(load.first_id, load.last_id + 1))  # one contiguous block
        assert FormerName.objects.count() == summary["former_names"] == load.former_names > 0
        assert sum(summary["by_kind"].values()) == 800
        assert sum(summary["by_district"].values()) == 800
        assert Region.objects.filter(code="370303").exists()  # the catalogue was imported first

        # Exactly what the generator produced (order, names, codes), with normalised names.
        generated = pl.concat([c.subjects for c in generate_subjects(800, 11)])
        stored = list(Subject.objects.order_by("id").values_list("name", "uscc", "region", "kind"))
        assert stored == list(generated.select("name", "uscc", "region", "kind").iter_rows())
        for s in Subject.objects.all()[:200]:
            assert s.name_norm == names.normalize_name(s.name)
            if any(f.name == "name_key" for f in Subject._meta.concrete_fields):
                assert s.name_key == names.name_key(s.name)
        for f in FormerName.objects.select_related("subject")[:50]:
            assert f.subject.org_category == "91"
            assert f.name_norm == names.normalize_name(f.name)

        events = AuditEvent.objects.filter(action="demo.load")
        assert events.count() == 1
        assert events.get().after["subjects"] == 800

    def test_person_ids_are_never_stored_in_clear(self, city):
        persons = Subject.objects.filter(kind="person")
        assert persons.count() > 100
        clear_ids = set()
        for p in persons:
            clear = crypto.decrypt_id(p.id_cipher)
            assert identifiers.check_ric(clear).valid
            assert p.id_index == person_id_index(clear)
            assert p.id_masked == crypto.mask_id(clear) and "*" in p.id_masked
            assert p.uscc is None and p.id_type == "身份证"
            assert bytes(p.id_cipher).find(clear.encode()) == -1
            clear_ids.add(clear)
        # No clear number anywhere in the register's text columns, nor in the audit trail.
        text_fields = [
            f.attname
            for f in Subject._meta.concrete_fields
            if f.get_internal_type() in ("CharField", "TextField")
        ]
        for row in Subject.objects.values_list(*text_fields):
            for value in row:
                assert value not in clear_ids
                assert not any(c in (value or "") for c in list(clear_ids)[:50])
        for event in AuditEvent.objects.all():
            blob = repr((event.before, event.after, event.object_repr))
            assert not any(c in blob for c in clear_ids)
        # Organisations have no person identifier.
        orgs = Subject.objects.exclude(kind="person")
        assert not orgs.filter(id_cipher__isnull=False).exists()
        assert not orgs.filter(id_index__isnull=False).exists()


def test_loaded_rows_are_deterministic_and_seed_dependent(system):
    load_demo(system, subjects=400, seed=21)
    first = _loaded_digest()
    load_demo(system, subjects=400, seed=21, replace=True)
    assert _loaded_digest() == first
    assert Subject.objects.count() == 400
    load_demo(system, subjects=400, seed=22, replace=True)
    assert _loaded_digest() != first
    assert DemoLoad.objects.count() == 1
    assert AuditEvent.objects.filter(action="demo.remove").count() == 2


def test_a_second_load_is_refused_without_replace(system):
    load_demo(system, subjects=300, seed=1)
    events = AuditEvent.objects.count()
    with pytest.raises(ValidationError) as exc:
        load_demo(system, subjects=300, seed=2)
    assert "演示数据已经加载" in exc.value.messages[0]
    assert "--replace" in exc.value.messages[0]
    assert Subject.objects.count() == 300
    assert AuditEvent.objects.count() == events


def test_replace_is_refused_when_other_data_refers_to_demo_subjects(system):
    load_demo(system, subjects=300, seed=1)
    person = Subject.objects.filter(kind="person").first()
    AccessLog.objects.create(actor_label="test", subject=person, purpose="信用核查测试")
    with pytest.raises(ValidationError) as exc:
        load_demo(system, subjects=300, seed=2, replace=True)
    assert "不能替换" in exc.value.messages[0]
    assert Subject.objects.filter(pk=person.pk).exists()
    assert DemoLoad.objects.get().seed == 1


def test_bad_sizes_and_principals_are_refused(system):
    for n in (0, -5, services.MAX_SUBJECTS + 1):
        with pytest.raises(ValidationError):
            load_demo(system, subjects=n)
    from django.core.exceptions import PermissionDenied

    staff = Principal(role=Role.CENTRE_STAFF, label="staff")
    with pytest.raises(PermissionDenied):
        load_demo(staff, subjects=10)
    assert not Subject.objects.exists()


def test_demo_accounts_have_roles_scopes_and_are_idempotent(system, settings):
    settings.DEBUG = True  # demo accounts exist only on a developer's laptop
    load_demo(system, subjects=100, seed=1)
    users = {u.username: u for u in User.objects.filter(username__startswith="demo_")}
    assert set(users) == {a.username for a in DEMO_ACCOUNTS}
    roles = {u.role for u in users.values()}
    staff_roles = set(Role.values) - {Role.PLATFORM_ADMIN, Role.PUBLIC}
    assert roles == staff_roles
    assert users["demo_clerk"].department.code == "ZB-SCJG"
    assert users["demo_district"].district_id == "370303"
    assert all(u.check_password(DEMO_PASSWORD) for u in users.values())
    # 信易贷: demo_bank works for the demo bank, demo_enterprise stands (approved) for the
    # first organisation.
    from pubcredit.financing.models import BindingStatus, EnterpriseBinding, InstitutionMember
    from pubcredit.subjects.models import Subject

    member = InstitutionMember.objects.get(user=users["demo_bank"])
    assert member.institution.name == "演示商业银行淄博分行"
    assert member.institution.products.count() == 1
    binding = EnterpriseBinding.objects.get(user=users["demo_enterprise"])
    first_org = Subject.objects.filter(kind="org").exclude(uscc="").order_by("pk").first()
    assert (binding.subject, binding.status) == (first_org, BindingStatus.APPROVED)

    users["demo_window"].set_password("changed-by-user-1")
    users["demo_window"].save()
    before = AuditEvent.objects.count()
    again = services.ensure_demo_accounts(system)
    assert not any(a["created"] for a in again)
    assert AuditEvent.objects.count() == before
    assert User.objects.get(username="demo_window").check_password("changed-by-user-1")


def test_background_errors_reach_the_caller():
    def items():
        yield 1
        raise RuntimeError("boom")

    got = []
    with pytest.raises(RuntimeError, match="boom"):
        with services._Background(items()) as produced:
            for item in produced:
                got.append(item)
    assert got == [1]


# --------------------------------------------------------------------------- commands


def test_demo_command_prints_a_summary_and_refuses_a_second_load(settings):
    settings.DEBUG = True
    out = io.StringIO()
    call_command("demo", subjects=250, seed=5, stdout=out)
    text = out.getvalue()
    assert "已加载演示数据:250 个主体" in text
    assert "张店区" in text and DEMO_PASSWORD in text
    with pytest.raises(CommandError) as exc:
        call_command("demo", subjects=250, seed=5, stdout=io.StringIO())
    assert exc.value.returncode == 1
    assert "已经加载" in str(exc.value)
    with pytest.raises(CommandError) as exc:
        call_command("demo", subjects=0, stdout=io.StringIO())
    assert exc.value.returncode == 2


def _state() -> dict:
    return {
        "users": sorted(User.objects.values_list("username", "password")),
        "subjects": Subject.objects.count(),
        "former_names": FormerName.objects.count(),
        "events": AuditEvent.objects.count(),
        "regions": Region.objects.count(),
        "loads": DemoLoad.objects.count(),
    }


def test_setup_is_idempotent_and_prints_the_logins(settings, tmp_path, monkeypatch):
    settings.VAR_DIR = tmp_path
    settings.DEBUG = True  # as `make run` serves
    monkeypatch.delenv("PUBCREDIT_SITE_URL", raising=False)
    monkeypatch.setenv("PORT", "8123")
    out = io.StringIO()
    call_command("setup", demo_subjects=300, stdout=out)
    first = out.getvalue()
    state = _state()
    assert state["subjects"] == 300 and state["loads"] == 1
    assert "已导入节假日安排" in first
    from pubcredit.holidays.services import is_workday

    assert is_workday(dt.date(2026, 10, 10))  # an adjusted working Saturday, from the table
    assert not is_workday(dt.date(2026, 10, 1))

    password = re.search(r"管理员密码:  (\S+)", first).group(1)
    admin = User.objects.get(username="admin")
    assert admin.check_password(password)
    assert admin.role == Role.PLATFORM_ADMIN
    for text in (
        "站点地址",
        "http://127.0.0.1:8123/",
        "管理员账号:  admin",
        password,
        "demo_clerk",
    ):
        assert text in first, text

    out = io.StringIO()
    call_command("setup", demo_subjects=300, stdout=out)
    second = out.getvalue()
    assert _state() == state  # nothing new
    assert password not in second and "changepassword admin" in second
    assert "demo_window" in second and DEMO_PASSWORD in second
    assert "已创建" not in second and "已加载" not in second and "已导入" not in second


def test_setup_loads_no_demo_into_a_register_that_has_subjects(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    Subject.objects.create(kind="org", name="已有主体", name_norm="已有主体", region="370303")
    out = io.StringIO()
    call_command("setup", demo_subjects=300, stdout=out)
    assert Subject.objects.count() == 1
    assert not DemoLoad.objects.exists()
    assert "演示账号" not in out.getvalue()
    assert "admin" in out.getvalue()


def test_setup_reloads_when_the_demo_rows_were_deleted_by_hand(settings, tmp_path, system):
    settings.VAR_DIR = tmp_path
    load_demo(system, subjects=100, seed=1)
    # By hand, what refers to the subjects first (commitments, records, list entries).
    from pubcredit.commitments.demo import remove_demo_commitments
    from pubcredit.demo.record_loading import remove_demo_records

    load = DemoLoad.objects.get()
    remove_demo_commitments(load.first_id, load.last_id)
    remove_demo_records(load.first_id, load.last_id)
    FormerName.objects.all().delete()
    Subject.objects.all().delete()  # the DemoLoad marker stays behind
    call_command("setup", demo_subjects=150, stdout=io.StringIO())
    assert Subject.objects.count() == 150
    assert DemoLoad.objects.get().subjects == 150
