"""Measures and matters as data: legal basis required, seed import idempotent, the matters
command contract, audited admin saves."""

import json

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.db import IntegrityError, transaction

from pubcredit.accounts.models import AuditEvent, Role, User
from pubcredit.accounts.permissions import Principal
from pubcredit.measures import catalogue
from pubcredit.measures.models import Matter, Measure

pytestmark = pytest.mark.django_db


def test_a_measure_without_legal_basis_is_refused(seeded):
    measure = Measure(code="P_X", name="无依据的措施", kind="punishment", measure_class=2)
    for blank in ("", "   "):
        measure.legal_basis = blank
        with pytest.raises(ValidationError) as exc:
            measure.full_clean()
        assert "legal_basis" in exc.value.message_dict
    measure.legal_basis = ""
    with pytest.raises(IntegrityError), transaction.atomic():
        measure.save()


def test_a_punishment_needs_its_class_and_a_reward_its_category(seeded):
    punishment = Measure(code="P_Y", name="y", kind="punishment", legal_basis="某法第一条")
    with pytest.raises(ValidationError) as exc:
        punishment.full_clean()
    assert "measure_class" in exc.value.message_dict
    with pytest.raises(IntegrityError), transaction.atomic():
        punishment.save()
    reward = Measure(code="R_Y", name="y", kind="reward", legal_basis="某法第一条")
    with pytest.raises(ValidationError) as exc:
        reward.full_clean()
    assert "incentive_category" in exc.value.message_dict


def test_record_conditions_are_validated_and_normalised(seeded):
    measure = Measure(
        code="P_Z",
        name="z",
        kind="punishment",
        measure_class=2,
        legal_basis="某法第一条",
        record_conditions=[{"category": "CF", "tier_in": ["严重", "serious"]}],
    )
    measure.full_clean()
    assert measure.record_conditions == [{"category": "CF", "tier_in": ["serious"]}]
    for bad in (
        {"category": "CF"},
        [{"tier_in": ["严重"]}],
        [{"category": "CF", "tier_in": ["很严重"]}],
        [{"category": "CF", "publicity_state": "ended"}],
        [{"category": "CF", "colour": "red"}],
    ):
        measure.record_conditions = bad
        with pytest.raises(ValidationError) as exc:
            measure.full_clean()
        assert "record_conditions" in exc.value.message_dict


def test_seed_file_without_legal_basis_is_refused(seeded, system, tmp_path):
    doc = json.loads(catalogue.DATA_FILE.read_text(encoding="utf-8"))
    doc["measures"][0]["legal_basis"] = ""
    doc["measures"][1]["list_types"] = ["NO_SUCH_LIST"]
    path = tmp_path / "m.json"
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(catalogue.SeedError, match="措施必须有法律、法规或政策依据"):
        catalogue.import_measures(system, path)
    doc["measures"][0]["legal_basis"] = "某法"
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(catalogue.SeedError, match="NO_SUCH_LIST"):
        catalogue.import_measures(system, path)


def test_import_is_idempotent_and_audited(seeded, system, tmp_path):
    before = AuditEvent.objects.count()
    counts = catalogue.import_measures(system)
    assert counts["matters"]["unchanged"] == Matter.objects.count()
    assert counts["measures"] == {"created": 0, "updated": 0, "unchanged": Measure.objects.count()}
    assert AuditEvent.objects.count() == before
    doc = json.loads(catalogue.DATA_FILE.read_text(encoding="utf-8"))
    doc["measures"][0]["matters"] = ["GOV_PROCUREMENT"]
    path = tmp_path / "m.json"
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    counts = catalogue.import_measures(system, path)
    assert counts["measures"]["updated"] == 1
    event = AuditEvent.objects.get(action="measures.update")
    assert event.after["matters"] == ["GOV_PROCUREMENT"]
    assert event.before["matters"] != event.after["matters"]


def test_import_needs_measures_change(seeded):
    window = Principal(role=Role.WINDOW_CLERK, label="w")
    with pytest.raises(PermissionDenied):
        catalogue.import_measures(window)


def test_seeded_measures_all_have_legal_basis_and_departments(seeded):
    for measure in Measure.objects.prefetch_related("departments"):
        assert measure.legal_basis.strip(), measure.code
        assert measure.departments.exists(), measure.code
        assert measure.code.isascii()


def test_matters_command_contract(seeded, capsys):
    call_command("matters", "--json")
    rows = json.loads(capsys.readouterr().out)
    assert isinstance(rows, list) and len(rows) >= 10
    assert all(set(row) == {"code", "name"} for row in rows)
    codes = [row["code"] for row in rows]
    assert len(set(codes)) == len(codes) and all(c.isascii() for c in codes)
    for code in ("GOV_PROCUREMENT", "BIDDING", "ADMIN_LICENSING", "FISCAL_FUNDS", "HONOURS"):
        assert code in codes
    assert {"code": "CIVIL_SERVICE_HIRING", "name": "公职人员录用"} in rows
    Matter.objects.filter(code="HONOURS").update(active=False)
    call_command("matters", "--json")
    assert "HONOURS" not in {row["code"] for row in json.loads(capsys.readouterr().out)}


def test_measures_command_import_json(seeded, capsys):
    call_command("measures", "import", "--json")
    counts = json.loads(capsys.readouterr().out)
    assert counts["measures"]["created"] == 0


def test_admin_pages_render_and_saves_are_audited(seeded, client):
    admin = User.objects.create_user("centre", password="pw", role=Role.CENTRE_STAFF)
    client.force_login(admin)
    measure = Measure.objects.get(code="P_RESTRICT_PROCUREMENT")
    for url in (
        "/admin/measures/measure/",
        f"/admin/measures/measure/{measure.pk}/change/",
        "/admin/measures/matter/",
        "/admin/lists/listtype/",
        "/admin/lists/listentry/",
        "/admin/measures/subjectflags/",
    ):
        assert client.get(url).status_code == 200, url
    window = User.objects.create_user("window", password="pw", role=Role.WINDOW_CLERK)
    client.force_login(window)
    assert client.get("/admin/measures/measure/").status_code in (302, 403)
