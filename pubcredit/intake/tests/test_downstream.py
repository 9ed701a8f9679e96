# ruff: noqa: F811 (pytest fixtures imported from loadkit)
"""下发 (issue 19): data handed down by the provincial or national platform is marked with its
source (service, CLI, push API) and arrives from a watched drop folder once per file."""

import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from pubcredit.accounts.models import Role
from pubcredit.accounts.services import issue_api_key
from pubcredit.intake import services
from pubcredit.intake.models import Submission
from pubcredit.records.models import Record
from pubcredit.testing.loadkit import (  # noqa: F401 (fixtures)
    cf,
    cf_csv,
    cf_row,
    department,
    media,
)

pytestmark = pytest.mark.django_db


def rows_for(department, first=1, n=2):
    return [cf_row(i, source_uscc=department.uscc) for i in range(first, first + n)]


def test_source_defaults_to_local_and_is_stored(system, department, cf, media):
    data = cf_csv(rows_for(department))
    local = services.submit_file(
        system, department=department, category=cf, source=data, filename="a.csv", channel="cli"
    )
    assert local.source == "local"
    national = services.submit_file(
        system,
        department=department,
        category=cf,
        source=cf_csv(rows_for(department, first=10)),
        filename="b.csv",
        channel="cli",
        data_source="national",
    )
    assert national.status == Submission.Status.DONE
    assert Submission.objects.get(pk=national.pk).source == "national"
    assert Record.objects.filter(submission=national).count() == 2


def test_unknown_source_refused(system, department, cf, media):
    with pytest.raises(services.SubmissionRefused):
        services.submit_file(
            system,
            department=department,
            category=cf,
            source=b"x",
            filename="a.csv",
            channel="cli",
            data_source="galactic",
        )
    assert Submission.objects.count() == 0


def test_cli_source_flag(department, cf, media, tmp_path, capsys):
    path = tmp_path / "national.csv"
    path.write_bytes(cf_csv(rows_for(department)))
    call_command(
        "intake",
        str(path),
        department=department.code,
        category="CF",
        source="provincial",
        json=True,
    )
    out = json.loads(capsys.readouterr().out)
    assert out["source"] == "provincial"
    assert Submission.objects.get(pk=out["submission"]).source == "provincial"


def test_push_api_source(system, client, department, cf, media):
    _key, clear = issue_api_key(
        system, name="市场监管报送系统", role=Role.DEPARTMENT_CLERK, department=department
    )
    body = {"category": "CF", "source": "national", "rows": []}
    body["rows"] = [
        {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in r.items()}
        for r in rows_for(department)
    ]
    response = client.post(
        "/api/v1/records",
        body,
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {clear}",
    )
    assert response.status_code == 201, response.content
    assert response.json()["source"] == "national"
    assert Submission.objects.get().source == "national"
    bad = client.post(
        "/api/v1/records",
        {**body, "source": "mars"},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {clear}",
    )
    assert bad.status_code == 422


def watch(folder, department):
    call_command(
        "intake",
        "watch",
        str(folder),
        department=department.code,
        category="CF",
        source="national",
        once=True,
    )


def test_watch_submits_each_file_once_and_moves_it(department, cf, media, tmp_path, capsys):
    drop = tmp_path / "drop"
    drop.mkdir()
    first = cf_csv(rows_for(department, 1, 2))
    (drop / "list-1.csv").write_bytes(first)
    (drop / "broken.xlsx").write_bytes(b"PK\x03\x04 not a workbook")
    (drop / "still-copying.csv.part").write_bytes(b"half")
    watch(drop, department)
    assert sorted(p.name for p in (drop / "done").iterdir()) == ["list-1.csv"]
    assert sorted(p.name for p in (drop / "failed").iterdir()) == [
        "broken.xlsx",
        "broken.xlsx.error.txt",
    ]
    assert (drop / "failed" / "broken.xlsx.error.txt").read_text(encoding="utf-8").strip()
    assert (drop / "still-copying.csv.part").exists()  # a file being written is left alone
    done = Submission.objects.get(filename="list-1.csv")
    assert (done.source, done.channel, done.inserted) == ("national", "folder", 2)

    # The same bytes again (under another name) are skipped; a new file is submitted.
    (drop / "list-1-again.csv").write_bytes(first)
    (drop / "list-2.csv").write_bytes(cf_csv(rows_for(department, 5, 3)))
    capsys.readouterr()
    watch(drop, department)
    lines = capsys.readouterr().out.strip().splitlines()
    outcomes = {line.split("\t")[0]: line.split("\t")[1] for line in lines}
    assert outcomes == {"list-1-again.csv": "skipped", "list-2.csv": "submitted"}
    assert Submission.objects.filter(filename__startswith="list-1").count() == 1
    assert Submission.objects.filter(source="national", status="done").count() == 2
    assert Record.objects.count() == 5
    assert not any(p.is_file() and p.suffix == ".csv" for p in drop.iterdir())


def test_watch_unknown_department_exits(department, cf, tmp_path):
    with pytest.raises((SystemExit, CommandError)):
        call_command("intake", "watch", str(tmp_path), department="NOPE", category="CF", once=True)


def test_source_shown_to_readers(client, system, reference, media):
    """A record handed down by the national platform carries a small 国家下发 label on the
    portal's publicity list, record page and subject page, and on the console's subject page;
    the city's own record carries none."""
    from pubcredit.accounts.models import Role
    from pubcredit.catalog.models import Category, Department
    from pubcredit.subjects.models import Subject
    from pubcredit.testing.factories import make_user
    from pubcredit.testing.portalkit import make_uscc, penalty

    cf = Category.objects.get(code="CF")
    department = Department.objects.get(code="ZB-SCJG")
    national_uscc, local_uscc = make_uscc(8101), make_uscc(8102)
    for n, uscc, source in ((8101, national_uscc, "national"), (8102, local_uscc, "local")):
        row = penalty(n, name=f"淄博下发测试{n}有限公司", uscc=uscc)
        sub = services.submit_rows(
            system,
            department=department,
            category=cf,
            rows=[{k: v for k, v in row.items() if v is not None}],
            data_source=source,
        )
        assert sub.accepted == 1, sub.summary()
    national = Record.objects.get(subject__uscc=national_uscc)
    local = Record.objects.get(subject__uscc=local_uscc)

    listing = client.get("/disclosure/", {"category": "CF"}).content.decode()
    assert listing.count('class="flag flag-source">国家下发<') == 1
    page = client.get(f"/disclosure/records/{national.pk}/").content.decode()
    assert 'class="flag flag-source">国家下发<' in page
    assert "国家下发" not in client.get(f"/disclosure/records/{local.pk}/").content.decode()
    subject = Subject.objects.get(uscc=national_uscc)
    portal_subject = client.get(f"/subjects/{subject.pk}/", {"tab": "penalties"}).content.decode()
    assert 'class="flag flag-source">国家下发<' in portal_subject

    client.force_login(make_user(Role.CENTRE_STAFF, "centre-down"))
    console = client.get(f"/console/subjects/{subject.pk}/").content.decode()
    assert "<td>国家下发</td>" in console
    other = client.get(f"/console/subjects/{local.subject_id}/").content.decode()
    assert "<td>国家下发</td>" not in other and "<td>本级</td>" in other


def test_scheduled_scan_of_configured_folders(department, cf, media, tmp_path, settings):
    from pubcredit.intake.tasks import scan_watch_folders_task

    drop = tmp_path / "provincial"
    drop.mkdir()
    (drop / "p.csv").write_bytes(cf_csv(rows_for(department, 30, 1)))
    settings.PUBCREDIT_INTAKE_WATCH_FOLDERS = [
        {
            "path": str(drop),
            "department": department.code,
            "category": "CF",
            "source": "provincial",
        },
        {"path": str(tmp_path / "missing"), "department": department.code, "category": "CF"},
    ]
    results = scan_watch_folders_task.call()
    assert [(r["file"], r["outcome"]) for r in results] == [("p.csv", "submitted")]
    assert Submission.objects.get().source == "provincial"
    assert scan_watch_folders_task.call() == []  # the folder is empty now
