"""Reporting duties (报送责任) shipped as catalogue data and imported with it."""

import json

import pytest

from pubcredit.catalog.datafiles import DATA_DIR, CatalogueError
from pubcredit.catalog.duties import DUTIES_FILE, import_duties, read_duties
from pubcredit.catalog.models import ReportingDuty

pytestmark = pytest.mark.django_db


def test_the_shipped_duties_are_imported_with_the_catalogue(reference):
    assert reference["catalogue"]["duties"] == {"created": 42, "updated": 0, "unchanged": 0}
    duty = ReportingDuty.objects.get(department__code="ZB-SCJG", category__code="CF")
    assert (duty.rhythm, duty.workdays, duty.effective_to) == ("within", 7, None)
    monthly = ReportingDuty.objects.get(department__code="ZB-ZYFY", category__code="SXBZXR")
    assert (monthly.rhythm, monthly.monthday) == ("monthly", 5)


def test_importing_again_changes_nothing(reference, system):
    counts = import_duties(system, DATA_DIR / DUTIES_FILE)
    assert counts == {"created": 0, "updated": 0, "unchanged": 42}


def test_a_new_version_from_a_later_date_is_a_new_row(reference, system, tmp_path):
    doc = json.loads((DATA_DIR / DUTIES_FILE).read_text(encoding="utf-8"))
    doc["duties"].append(
        {
            "department": "ZB-SCJG",
            "category": "CF",
            "channel": "api",
            "rhythm": "within",
            "workdays": 5,
            "effective_from": "2027-01-01",
        }
    )
    path = tmp_path / DUTIES_FILE
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    assert import_duties(system, path)["created"] == 1
    assert (
        ReportingDuty.objects.filter(department__code="ZB-SCJG", category__code="CF").count() == 2
    )


def test_bad_rows_are_named_by_row_and_field(reference, system, tmp_path):
    path = tmp_path / DUTIES_FILE
    rows = [
        {
            "department": "ZB-SCJG",
            "category": "CF",
            "rhythm": "within",
            "effective_from": "2026-13-01",
        },
        {
            "department": "ZB-NONE",
            "category": "CF",
            "rhythm": "monthly",
            "monthday": 5,
            "effective_from": "2026-01-01",
        },
    ]
    path.write_text(json.dumps({"duties": rows}), encoding="utf-8")
    with pytest.raises(CatalogueError) as bad_date:
        read_duties(path)
    assert "duties.json 第 1 条 effective_from:日期“2026-13-01”应为 YYYY-MM-DD" in str(
        bad_date.value
    )
    rows[0]["effective_from"] = "2026-01-01"
    path.write_text(json.dumps({"duties": rows}), encoding="utf-8")
    with pytest.raises(CatalogueError) as unknown:
        import_duties(system, path)
    assert "第 2 条 department:部门编码 ZB-NONE 不存在" in str(unknown.value)
    rows[1]["department"] = "ZB-STHJ"
    path.write_text(json.dumps({"duties": rows}), encoding="utf-8")
    with pytest.raises(CatalogueError) as incomplete:
        import_duties(system, path)
    assert "第 1 条 workdays:按决定日期报送的责任须填写工作日数" in str(incomplete.value)
