"""The register's kept counts (SubjectTally) follow its writers — registration, the admin's
district correction, intake registering subjects in bulk, the demo city loaded and replaced —
and a rebuild from the register gives the same numbers."""

import datetime as dt

import polars as pl
import pytest
from django.db import transaction
from django.test import Client

from pubcredit.accounts.models import User
from pubcredit.core.identifiers import ric_check_char, uscc_check_char
from pubcredit.demo.services import load_demo
from pubcredit.intake import loading
from pubcredit.subjects.models import Subject, SubjectTally
from pubcredit.subjects.services import register_subject
from pubcredit.subjects.tally import by_kind, by_region, rebuild_subject_tally
from pubcredit.testing.loadkit import accepted_frame, cf_row

pytestmark = pytest.mark.django_db


def uscc(region: str, n: int) -> str:
    body = f"91{region}MA3C{n:05d}"
    return body + uscc_check_char(body)


def ric(region: str, n: int) -> str:
    body = f"{region}19800101{n:03d}"
    return body + ric_check_char(body)


def kept() -> dict:
    return {
        (kind, region): n
        for kind, region, n in SubjectTally.objects.exclude(n=0).values_list("kind", "region", "n")
    }


def test_registration_the_admin_and_intake_keep_the_counts(system, catalogue):
    register_subject(system, kind="org", name="淄博甲有限公司", uscc=uscc("370303", 1))
    register_subject(system, kind="org", name="淄博甲有限公司", uscc=uscc("370303", 1))  # known
    register_subject(system, kind="person", name="张三", id_number=ric("370302", 1))
    moved = register_subject(system, kind="org", name="淄博乙有限公司", uscc=uscc("370303", 2))
    assert kept() == {("org", "370303"): 2, ("person", "370302"): 1}

    # The admin corrects 乙's district to 临淄 (370305).
    root = User.objects.create_superuser(username="root", password="x", email="r@example.org")
    client = Client()
    client.force_login(root)
    response = client.post(
        f"/admin/subjects/subject/{moved.pk}/change/",
        {
            "region": "370305",
            "legal_representative": "",
            "established_on": "",
            "former_names-TOTAL_FORMS": "0",
            "former_names-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert kept() == {("org", "370303"): 1, ("org", "370305"): 1, ("person", "370302"): 1}

    # Intake registers a company of 淄川 (370302) by its USCC, a person of 张店 by ID number and
    # an organisation known by its name only (no district); a row of 甲 finds it registered.
    from pubcredit.catalog.models import Category, Department
    from pubcredit.intake.models import Submission

    submission = Submission.objects.create(
        department=Department.objects.get(code="ZB-SCJG"),
        category=Category.objects.get(code="CF"),
        channel=Submission.Channel.CLI,
        filename="t.csv",
        sha256="0" * 64,
        status=Submission.Status.LOADING,
    )
    rows = [
        cf_row(1, uscc=uscc("370302", 3), name="淄博丙有限公司"),
        cf_row(2, kind="自然人", id_number=ric("370303", 2), name="李四"),
        cf_row(3, uscc=None, name="淄博丁商贸有限公司"),
        cf_row(4, uscc=uscc("370303", 1), name="淄博甲有限公司"),
    ]
    with transaction.atomic():
        result = loading.load_accepted(submission, accepted_frame(rows))
    assert result.subjects_created == 3
    assert kept() == {
        ("org", "370303"): 1,
        ("org", "370305"): 1,
        ("org", "370302"): 1,
        ("org", ""): 1,
        ("person", "370302"): 1,
        ("person", "370303"): 1,
    }
    assert by_kind() == {"org": 4, "person": 2}
    assert by_region(["370302", "370303", "370304"]) == {"370302": 2, "370303": 2}

    incremental = kept()
    assert rebuild_subject_tally() == 6
    assert kept() == incremental


def test_the_demo_city_counts_its_subjects_and_takes_them_back_when_replaced(system, catalogue):
    load_demo(system, subjects=40, seed=3, records=False, as_of=dt.date(2026, 10, 1))
    register = pl.DataFrame(
        list(Subject.objects.values_list("kind", "region")),
        schema={"kind": pl.String, "region": pl.String},
        orient="row",
    )
    expected = {(k, r): n for k, r, n in register.group_by("kind", "region").len().iter_rows()}
    assert sum(expected.values()) == 40
    assert kept() == expected
    load_demo(system, subjects=25, seed=4, records=False, replace=True)
    assert sum(kept().values()) == Subject.objects.count() == 25
    incremental = kept()
    rebuild_subject_tally()
    assert kept() == incremental
