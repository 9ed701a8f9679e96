"""import_catalogue / export_catalogue: counts, idempotency, audit, atomicity, round trips."""

import filecmp
import json
import shutil

import pytest
from django.core.exceptions import PermissionDenied

from pubcredit.accounts.models import AuditEvent
from pubcredit.accounts.permissions import PUBLIC
from pubcredit.catalog import datafiles, services
from pubcredit.catalog.datafiles import DATA_DIR, CatalogueError
from pubcredit.catalog.models import Category, CodeItem, CodeList, Department, Field, Region
from pubcredit.testing import reference

pytestmark = pytest.mark.django_db

FILES = [
    "regions.json",
    "codelists.json",
    "departments.json",
    "categories/_catalogue.json",
    "categories/XK.json",
    "categories/CF.json",
    "categories/CN.json",
    "categories/SXJL.json",
    "categories/YZSX.json",
    "categories/SXBZXR.json",
    "categories/XZGXF.json",
    "categories/JYYC.json",
    "categories/NSXYDJ.json",
    "categories/SHZZPG.json",
    "categories/GYXW.json",
    "categories/JZFW.json",
    "categories/JZSC.json",
    "duties.json",
]


def _wipe_catalogue():
    """Leave the database as fresh as after `migrate` (the catalogue and the reference data that
    refers to it: list types, measures, rules)."""
    reference.clear()
    assert not Department.objects.exists() and not Region.objects.exists()


def test_first_import_creates_everything_with_one_audit_event_each(empty_reference, system):
    assert not services.catalogue_loaded()
    counts = services.import_catalogue(system)
    data = datafiles.read_catalogue()
    expected = {
        "regions": len(data.regions),
        "codelists": len(data.codelists),
        "codeitems": sum(len(c["items"]) for c in data.codelists),
        "categories": len(data.categories),
        "fields": sum(len(c["fields"]) for c in data.categories),
        "departments": len(data.departments),
        "duties": 42,  # catalog/data/duties.json
    }
    assert counts == {k: {"created": n, "updated": 0, "unchanged": 0} for k, n in expected.items()}
    assert Region.objects.count() == expected["regions"]
    assert Department.objects.count() == expected["departments"]
    assert AuditEvent.objects.count() == sum(expected.values())
    event = AuditEvent.objects.get(
        object_type="catalog.department", object_id=str(Department.objects.get(code="ZB-XZSP").pk)
    )
    assert event.action == "catalog.create_department"
    assert event.before is None
    assert event.after["uscc"] == Department.objects.get(code="ZB-XZSP").uscc
    assert "ZB-SCJG" in event.after["submits_for"]
    assert event.actor_label == "test"
    assert services.catalogue_loaded()


def test_second_import_changes_nothing(catalogue, system):
    events = AuditEvent.objects.count()
    counts = services.import_catalogue(system)
    for kind, c in counts.items():
        assert c["created"] == 0 and c["updated"] == 0, kind
        assert c["unchanged"] == catalogue[kind]["created"], kind
    assert AuditEvent.objects.count() == events


def test_references_are_resolved(catalogue):
    zhangdian = Region.objects.get(code="370303")
    assert zhangdian.parent_id == "370300" and zhangdian.parent.parent_id == "370000"
    centre = Department.objects.get(code="ZB-XYZX-370303")
    assert centre.district_id == "370303" and centre.parent.code == "ZB-XYZX"
    assert centre.level == Department.Level.DISTRICT
    xzsp = Department.objects.get(code="ZB-XZSP")
    assert "ZB-SCJG" in set(xzsp.submits_for.values_list("code", flat=True))
    cf = Category.objects.get(code="CF")
    assert cf.parent.code == "ML03"
    fine = cf.fields.get(code="CF_NR_FK")
    assert fine.decimal_places == 6 and fine.unit == "万元"
    assert cf.fields.get(code="CF_CFLB").codelist.code == "penalty_type"
    assert list(cf.fields.order_by("sort_order").values_list("code", flat=True))[:2] == [
        "CF_XDR_MC",
        "CF_XDR_LB",
    ]


def test_export_after_import_is_byte_identical(catalogue, tmp_path):
    paths = services.export_catalogue(tmp_path)
    assert sorted(str(p.relative_to(tmp_path)) for p in paths) == sorted(FILES)
    for rel in FILES:
        assert (tmp_path / rel).read_bytes() == (DATA_DIR / rel).read_bytes(), rel


def test_changed_file_updates_only_that_row_with_before_and_after(catalogue, system, tmp_path):
    target = tmp_path / "data"
    shutil.copytree(DATA_DIR, target)
    doc = json.loads((target / "departments.json").read_text(encoding="utf-8"))
    row = next(d for d in doc["departments"] if d["code"] == "ZB-STHJ")
    row["short_name"] = "市环境局"
    row["submits_for"] = ["ZB-SLJ"]
    (target / "departments.json").write_text(datafiles.dump_json(doc), encoding="utf-8")

    events = AuditEvent.objects.count()
    counts = services.import_catalogue(system, target)
    assert counts["departments"]["updated"] == 1
    assert sum(c["updated"] + c["created"] for c in counts.values()) == 1
    assert AuditEvent.objects.count() == events + 1
    event = AuditEvent.objects.latest("id")
    assert event.action == "catalog.update_department"
    assert event.before["short_name"] == "市生态环境局" and event.before["submits_for"] == []
    assert event.after["short_name"] == "市环境局" and event.after["submits_for"] == ["ZB-SLJ"]


def test_admin_edit_survives_export_and_reimport_into_fresh_database(catalogue, system, tmp_path):
    field = Field.objects.get(category__code="CF", code="CF_WFXW")
    field.synonyms = [*field.synonyms, "违法行为种类"]
    field.max_length = 1000
    field.save()
    item = CodeItem.objects.get(codelist__code="commitment_type", value="其他")
    item.synonyms = ["其它", "其他类型"]
    item.save()
    paths = services.export_catalogue(tmp_path)
    assert not filecmp.cmp(tmp_path / "categories/CF.json", DATA_DIR / "categories/CF.json")
    assert filecmp.cmp(tmp_path / "categories/XK.json", DATA_DIR / "categories/XK.json")
    assert len(paths) == len(FILES)

    _wipe_catalogue()
    assert not services.catalogue_loaded()
    services.import_catalogue(system, tmp_path)
    again = Field.objects.get(category__code="CF", code="CF_WFXW")
    assert again.max_length == 1000 and again.synonyms[-1] == "违法行为种类"
    assert CodeItem.objects.get(codelist__code="commitment_type", value="其他").synonyms == [
        "其它",
        "其他类型",
    ]
    # and the whole catalogue round-trips again
    second = tmp_path / "second"
    services.export_catalogue(second)
    for rel in FILES:
        assert (second / rel).read_bytes() == (tmp_path / rel).read_bytes(), rel


def test_category_with_first_fields_moves_to_its_own_file(catalogue, tmp_path):
    rating = Category.objects.get(code="GGXYPJ")
    Field.objects.create(category=rating, code="PJ_MC", name="主体名称", sort_order=1)
    services.export_catalogue(tmp_path)
    own = json.loads((tmp_path / "categories/GGXYPJ.json").read_text(encoding="utf-8"))
    assert [f["code"] for f in own["fields"]] == ["PJ_MC"]
    rest = json.loads((tmp_path / "categories/_catalogue.json").read_text(encoding="utf-8"))
    assert "GGXYPJ" not in {c["code"] for c in rest["categories"]}
    assert datafiles.read_catalogue(tmp_path).categories  # still a valid catalogue


def test_invalid_files_write_nothing(empty_reference, system, tmp_path):
    target = tmp_path / "data"
    shutil.copytree(DATA_DIR, target)
    doc = json.loads((target / "categories/XK.json").read_text(encoding="utf-8"))
    doc["fields"][0]["codelist"] = "missing"
    (target / "categories/XK.json").write_text(datafiles.dump_json(doc), encoding="utf-8")
    with pytest.raises(CatalogueError) as exc:
        services.import_catalogue(system, target)
    assert "missing" in str(exc.value)
    assert Region.objects.count() == 0 and AuditEvent.objects.count() == 0


def test_failure_late_in_the_import_rolls_everything_back(empty_reference, system, tmp_path):
    target = tmp_path / "data"
    shutil.copytree(DATA_DIR, target)
    doc = json.loads((target / "categories/CN.json").read_text(encoding="utf-8"))
    doc["fields"][-1]["name"] = "备" * 200  # longer than Field.name allows; caught at save time
    (target / "categories/CN.json").write_text(datafiles.dump_json(doc), encoding="utf-8")
    with pytest.raises(CatalogueError) as exc:
        services.import_catalogue(system, target)
    assert "CN" in str(exc.value) and "BZ" in str(exc.value)
    assert Region.objects.count() == 0
    assert CodeList.objects.count() == 0
    assert AuditEvent.objects.count() == 0


def test_import_needs_catalogue_permission(empty_reference):
    with pytest.raises(PermissionDenied):
        services.import_catalogue(PUBLIC)
    assert Region.objects.count() == 0


def test_rows_absent_from_the_files_are_kept(catalogue, system):
    extra = Department.objects.create(
        code="ZB-TEST", name="测试部门", uscc="11370300MA0000000X", level="city"
    )
    services.import_catalogue(system)
    assert Department.objects.filter(pk=extra.pk).exists()


# --------------------------------------------------------------------------- reporting duties


def test_export_then_import_changes_nothing(catalogue, system, tmp_path):
    services.export_catalogue(tmp_path)
    events = AuditEvent.objects.count()
    counts = services.import_catalogue(system, tmp_path)
    assert counts["duties"] == {"created": 0, "updated": 0, "unchanged": 42}
    assert all(c["created"] == 0 and c["updated"] == 0 for c in counts.values())
    assert AuditEvent.objects.count() == events


def test_a_duty_changed_in_the_admin_shows_in_the_export(catalogue, system, client, tmp_path):
    """A new version of 公安局's penalty duty from 2027 (the old one ending the day before), made
    in the admin, is exported with both versions' dates, and the export imports back."""
    from django.urls import reverse

    from pubcredit.accounts.models import User
    from pubcredit.catalog.models import ReportingDuty

    client.force_login(User.objects.create_superuser("root", "root@example.com", "x"))
    old = ReportingDuty.objects.get(department__code="ZB-GAJ", category__code="CF")
    form = {
        "department": old.department_id,
        "category": old.category_id,
        "channel": "any",
        "rhythm": "within",
        "workdays": "7",
        "monthday": "",
        "effective_from": "2021-01-01",
        "effective_to": "2026-12-31",
        "note": old.note,
    }
    change = reverse("admin:catalog_reportingduty_change", args=[old.pk])
    assert client.post(change, form).status_code == 302
    form.update(
        channel="api", workdays="5", effective_from="2027-01-01", effective_to="", note="接口推送"
    )
    assert client.post(reverse("admin:catalog_reportingduty_add"), form).status_code == 302

    services.export_catalogue(tmp_path)
    doc = json.loads((tmp_path / "duties.json").read_text(encoding="utf-8"))
    police = [r for r in doc["duties"] if (r["department"], r["category"]) == ("ZB-GAJ", "CF")]
    assert police == [
        {
            "department": "ZB-GAJ",
            "category": "CF",
            "channel": "any",
            "rhythm": "within",
            "workdays": 7,
            "monthday": None,
            "effective_from": "2021-01-01",
            "effective_to": "2026-12-31",
            "note": "双公示:行政处罚决定作出之日起 7 个工作日内上网公示",
        },
        {
            "department": "ZB-GAJ",
            "category": "CF",
            "channel": "api",
            "rhythm": "within",
            "workdays": 5,
            "monthday": None,
            "effective_from": "2027-01-01",
            "effective_to": None,
            "note": "接口推送",
        },
    ]
    assert len(doc["duties"]) == 43
    shipped = json.loads((DATA_DIR / "duties.json").read_text(encoding="utf-8"))
    assert doc["_meta"] == shipped["_meta"]
    others = [r for r in doc["duties"] if r["department"] != "ZB-GAJ"]
    assert others == [r for r in shipped["duties"] if r["department"] != "ZB-GAJ"]
    # The file reads back: importing it over the database changes nothing.
    counts = services.import_catalogue(system, tmp_path)
    assert counts["duties"] == {"created": 0, "updated": 0, "unchanged": 43}
