"""`pubcredit departments` (a contract) and `pubcredit catalog …`."""

import io
import json
import shutil

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from pubcredit.catalog import datafiles
from pubcredit.catalog.datafiles import DATA_DIR
from pubcredit.catalog.models import Department, Region
from pubcredit.testing.loadkit import cf_csv, cf_row

pytestmark = pytest.mark.django_db


def run(*args) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def _check_contract(rows):
    assert isinstance(rows, list) and len(rows) == 48
    codes = [r["code"] for r in rows]
    assert codes == sorted(codes)
    for r in rows:
        assert list(r) == ["code", "name", "uscc", "level", "district"]
        assert r["level"] in ("city", "district")
        assert len(r["uscc"]) == 18
        if r["level"] == "city":
            assert r["district"] is None
        else:
            assert r["district"] in {
                "370302",
                "370303",
                "370304",
                "370305",
                "370306",
                "370321",
                "370322",
                "370323",
            }
    assert sum(r["level"] == "district" for r in rows) == 8


def test_departments_json_contract(catalogue):
    out, _ = run("departments", "--json")
    rows = json.loads(out)
    _check_contract(rows)
    db = {d.code: d for d in Department.objects.all()}
    for r in rows:
        d = db[r["code"]]
        assert (d.name, d.uscc, d.level, d.district_id) == (
            r["name"],
            r["uscc"],
            r["level"],
            r["district"],
        )
    assert "淄博市市场监督管理局" in out  # UTF-8, not \\u escapes


def test_departments_json_follows_the_database(catalogue):
    Department.objects.filter(code="ZB-HG").update(active=False)
    Department.objects.filter(code="ZB-SCJG").update(name="淄博市市场监管局(改)")
    rows = json.loads(run("departments", "--json")[0])
    assert "ZB-HG" not in {r["code"] for r in rows}
    assert {r["code"]: r["name"] for r in rows}["ZB-SCJG"] == "淄博市市场监管局(改)"


SCJG = {"name": "淄博市市场监督管理局", "uscc": "11370300001229237C"}  # shipped ZB-SCJG


def scjg_penalty(n: int) -> dict:
    row = cf_row(n)
    row.update(CF_CFJG=SCJG["name"], CF_CFJGDM=SCJG["uscc"])
    row.update(CF_SJLY=SCJG["name"], CF_SJLYDM=SCJG["uscc"])
    return row


def test_departments_before_setup_are_the_ones_intake_accepts(empty_reference, tmp_path):
    # A machine before `pubcredit setup`: the first listing loads the shipped catalogue, so the
    # departments it lists are in the database intake reads.
    out, err = run("departments", "--json")
    _check_contract(json.loads(out))
    assert "已导入随程序发布的目录和部门" in err
    assert Department.objects.filter(active=True).count() == 48
    assert run("departments", "--json") == (out, "")  # imported once

    path = tmp_path / "cf.csv"
    path.write_bytes(cf_csv([scjg_penalty(1)]))
    out, _ = run("intake", str(path), "--department", "ZB-SCJG", "--category", "CF", "--json")
    result = json.loads(out)
    assert (result["rows"], result["accepted"], result["rejected"]) == (1, 1, 0)


def test_intake_before_setup_accepts_a_shipped_department(empty_reference, tmp_path):
    path = tmp_path / "cf.csv"
    path.write_bytes(cf_csv([scjg_penalty(2)], headers="codes"))
    out, _ = run("intake", str(path), "--department", "ZB-SCJG", "--category", "CF", "--json")
    assert json.loads(out)["accepted"] == 1
    assert Department.objects.filter(code="ZB-SCJG").exists()


def test_departments_table(catalogue):
    out, _ = run("departments")
    lines = out.splitlines()
    assert lines[0].split()[:3] == ["部门编码", "部门名称", "统一社会信用代码"]
    assert any("ZB-XYZX-370303" in line and "370303" in line and "区县级" in line for line in lines)
    assert lines[-1] == "共 48 个部门"


def test_catalog_import_export_check(db, tmp_path):
    out, _ = run("catalog", "check")
    assert "数据文件无误" in out and "部门 48 个" in out and "报送责任 42 条" in out
    out, _ = run("catalog", "import")
    assert "行政区划:新增" in out and "报送责任:新增 0,更新 0,未变 42" in out
    out, _ = run("catalog", "import", "--json")
    counts = json.loads(out)
    assert all(c["created"] == 0 and c["updated"] == 0 for c in counts.values())
    out, _ = run("catalog", "export", "--dir", str(tmp_path))
    assert len(out.splitlines()) == 18  # 5 files (duties.json too) + 13 categories with fields
    for rel in ("regions.json", "categories/CF.json", "departments.json", "duties.json"):
        assert (tmp_path / rel).read_bytes() == (DATA_DIR / rel).read_bytes()


def test_catalog_import_reports_bad_files_with_exit_code_2(empty_reference, tmp_path):
    target = tmp_path / "data"
    shutil.copytree(DATA_DIR, target)
    doc = json.loads((target / "regions.json").read_text(encoding="utf-8"))
    doc["regions"][5]["parent"] = "999999"
    (target / "regions.json").write_text(datafiles.dump_json(doc), encoding="utf-8")
    with pytest.raises(CommandError) as exc:
        run("catalog", "import", "--dir", str(target))
    assert exc.value.returncode == 2
    assert "999999" in str(exc.value)
    assert Region.objects.count() == 0
    with pytest.raises(CommandError) as exc:
        run("catalog", "check", "--dir", str(tmp_path / "nowhere"))
    assert exc.value.returncode == 2 and "文件不存在" in str(exc.value)


def test_catalog_regions_regenerates_the_file(tmp_path):
    out, _ = run("catalog", "regions", "--dir", str(tmp_path))
    assert "已写入" in out and "380 个区划" in out
    assert (tmp_path / "regions.json").read_bytes() == (DATA_DIR / "regions.json").read_bytes()
