"""The demo city's licences, penalties and list entries (pubcredit.demo.records): deterministic,
shaped exactly as intake stores records, judged by the publicity rules, and visible where a
newcomer looks after `make run` (the portal and the credit check)."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import re

import numpy as np
import polars as pl
import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command

from pubcredit.accounts.models import AuditEvent
from pubcredit.demo import record_templates
from pubcredit.demo import records as demo_records
from pubcredit.demo import register as demo_register
from pubcredit.demo.generate import generate_subjects
from pubcredit.demo.models import DemoLoad
from pubcredit.demo.services import load_demo

AS_OF = dt.date(2026, 11, 20)
CATALOG = "catalog/data"


@pytest.fixture(autouse=True)
def _fast_password_hasher(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def _catalogue_file(name: str) -> dict:
    from pathlib import Path

    return json.loads((Path(__file__).resolve().parents[2] / CATALOG / name).read_text("utf-8"))


def _departments() -> dict[str, tuple[str, str]]:
    doc = _catalogue_file("departments.json")
    return {d["code"]: (d["name"], d["uscc"]) for d in doc["departments"]}


def _list_types() -> dict[str, demo_records.ListTypeInfo]:
    from pubcredit.lists.services import read_list_types

    return {
        t["code"]: demo_records.ListTypeInfo(
            t["code"],
            t["kind"],
            tuple(t["subject_kinds"] or ()),
            t["default_validity_months"],
            t["authority"] or "",
            t["authority_name"],
            t["legal_basis"],
        )
        for t in read_list_types()
    }


def _generate(n: int, seed: int, as_of: dt.date = AS_OF) -> demo_records.DemoRecords:
    subjects = pl.concat([c.subjects for c in generate_subjects(n, seed)])
    return demo_records.generate_records(
        demo_register.register_from_frame(subjects),
        seed=seed,
        as_of=as_of,
        departments=_departments(),
        list_types=_list_types(),
    )


def _codelist(code: str) -> set[str]:
    doc = _catalogue_file("codelists.json")
    (found,) = [c for c in doc["codelists"] if c["code"] == code]
    return {item["value"] for item in found["items"]}


# --------------------------------------------------------------------------- generation


def test_generation_is_deterministic_and_seed_dependent():
    first = _generate(3000, 5)
    again = _generate(3000, 5)
    for code in ("XK", "CF"):
        assert first.frames[code].height > 0
        assert first.frames[code].equals(again.frames[code])
    assert first.entries.height > 0 and first.entries.equals(again.entries)
    other = _generate(3000, 6)
    assert not other.frames["CF"].equals(first.frames["CF"])
    assert not other.entries.equals(first.entries)


def test_generated_rows_are_plausible():
    generated = _generate(6000, 9)
    cf, xk = generated.frames["CF"], generated.frames["XK"]
    n = 6000
    # A few per hundred subjects, skewed: some subjects carry several records.
    assert 0.015 * n < cf.height <= demo_records.CF_PER_SUBJECT * n
    assert 0.02 * n < xk.height <= demo_records.XK_PER_SUBJECT * n
    assert cf["subject_id"].value_counts()["count"].max() >= 3
    # Values of the catalogue's code lists only.
    penalty_types = _codelist("penalty_type")
    assert set(cf["CF_CFLB"].explode().unique().to_list()) <= penalty_types
    assert set(xk["XK_XKLB"].unique().to_list()) <= _codelist("licence_type")
    assert set(xk["XK_ZT"].unique().to_list()) <= _codelist("licence_status")
    # Document numbers such as 淄市监罚〔2025〕123号, unique per department.
    assert cf["CF_WSH"].str.contains(r"^淄\S+〔20\d\d〕\d+号$").all()
    assert xk["XK_WSH"].str.contains(r"^淄\S+〔20\d\d〕\d+号$").all()
    assert cf.select("department", "CF_WSH").n_unique() == cf.height
    assert xk.select("department", "XK_WSH").n_unique() == xk.height
    # Fines in 万元 as canonical decimals, required exactly when 罚款 is among the types.
    fined = cf.filter(pl.col("CF_CFLB").list.contains("罚款"))
    assert fined["CF_NR_FK"].str.contains(r"^(0|[1-9]\d*)(\.\d*[1-9])?$").all()
    assert cf.filter(~pl.col("CF_CFLB").list.contains("罚款"))["CF_NR_FK"].null_count() == (
        cf.height - fined.height
    )
    # Decision dates over the last ~4 years, never after the day the demo is judged on.
    assert cf["CF_JDRQ"].max() <= AS_OF and cf["CF_JDRQ"].min() >= dt.date(2022, 11, 1)
    # The deciding department of each template; persons only where a template fits them.
    assert set(cf["department"].unique().to_list()) <= {
        t.department for t in record_templates.PENALTIES
    }
    persons = cf.filter(pl.col("kind") == "person")
    assert persons["CF_XDR_ZJHM"].null_count() == 0 and persons["CF_XDR_SHXYM"].null_count() == (
        persons.height
    )
    # A name says what trade a licence fits: catering licences go to eateries.
    catering = xk.filter(pl.col("XK_XKBH").str.starts_with("JY2"))
    assert catering["XK_XDR_MC"].str.contains(record_templates.CATERING + "|餐饮").all()
    # Lists: red and black, some expired.
    statuses = set(generated.entries["status"].unique().to_list())
    assert statuses == {"published", "expired"}
    assert {t[:3] for t in generated.entries["list_type"].unique().to_list()} == {"RED", "BLK"}
    assert generated.entries.select("subject_id", "list_type").n_unique() == (
        generated.entries.height
    )


# --------------------------------------------------------------------------- loading


def _digest() -> str:
    """The loaded records, publicity rows and entries, independent of ids, timestamps and AES
    nonces (sealed values are decrypted)."""
    from pubcredit.lists.models import ListEntry
    from pubcredit.publicity.models import Publicity
    from pubcredit.records.models import Record
    from pubcredit.subjects import crypto

    first = DemoLoad.objects.get().first_id
    h = hashlib.sha256()
    publicity = {
        p["record_id"]: (p["state"], p["tier"], p["start"], p["repair_from"], p["end"])
        for p in Publicity.objects.values(
            "record_id", "state", "tier", "start", "repair_from", "end"
        )
    }
    demo = Record.objects.filter(submission__submitted_by_label=demo_records.DEMO_LABEL)
    rows = demo.order_by("category__code", "department__code", "business_key").values(
        "id",
        "category__code",
        "department__code",
        "business_key",
        "subject_id",
        "subject_kind",
        "content_hash",
        "data",
        "sealed",
        "decision_date",
        "valid_from",
        "valid_to",
        "late",
    )
    for r in rows:
        sealed = {
            k: crypto.decrypt_id(base64.urlsafe_b64decode(v))
            for k, v in (r["sealed"] or {}).items()
        }
        h.update(
            repr(
                (
                    r["category__code"],
                    r["department__code"],
                    r["business_key"],
                    r["subject_id"] - first,
                    r["subject_kind"],
                    r["content_hash"],
                    json.dumps(r["data"], sort_keys=True, ensure_ascii=False),
                    sorted(sealed.items()),
                    r["decision_date"],
                    r["valid_from"],
                    r["valid_to"],
                    r["late"],
                    publicity.get(r["id"]),
                )
            ).encode()
        )
    mine = ListEntry.objects.filter(created_by=demo_records.DEMO_LABEL)
    for e in mine.order_by("list_type__code", "subject_id").values(
        "list_type__code",
        "subject_id",
        "subject_name",
        "basis",
        "document_number",
        "decided_on",
        "valid_from",
        "valid_to",
        "status",
        "identified_by__code",
    ):
        e["subject_id"] -= first
        h.update(repr(sorted(e.items())).encode())
    return h.hexdigest()


@pytest.mark.django_db
def test_loaded_records_and_entries_are_deterministic(system):
    from pubcredit.lists.models import ListEntry
    from pubcredit.records.models import Record

    summary = load_demo(system, subjects=1500, seed=21, as_of=AS_OF)
    assert summary["records"]["records"]["CF"] > 20 and summary["records"]["records"]["XK"] > 30
    assert ListEntry.objects.filter(created_by=demo_records.DEMO_LABEL).exists()
    first = _digest()
    load_demo(system, subjects=1500, seed=21, replace=True, as_of=AS_OF)
    assert _digest() == first
    assert Record.objects.count() == sum(summary["records"]["records"].values())
    load_demo(system, subjects=1500, seed=22, replace=True, as_of=AS_OF)
    assert _digest() != first
    assert AuditEvent.objects.filter(action="demo.remove").count() == 2


@pytest.mark.django_db
def test_records_are_what_intake_stores(system):
    """Resubmitting the demo's records through intake (the department's push API) changes
    nothing: same business keys, same cleaned data, same content hashes; no row rejected."""
    from pubcredit.intake.services import submit_rows
    from pubcredit.records.models import Record
    from pubcredit.subjects import crypto

    load_demo(system, subjects=2500, seed=4, as_of=AS_OF)
    for category, department in (("CF", "ZB-SCJG"), ("XK", "ZB-XZSP")):
        records = list(
            Record.objects.filter(category__code=category, department__code=department)
            .select_related("category", "department")
            .order_by("source_row")
        )
        assert records
        rows = []
        for r in records:
            row = {k: ("、".join(v) if isinstance(v, list) else v) for k, v in r.data.items()}
            for code, cipher in (r.sealed or {}).items():
                row[code] = crypto.decrypt_id(base64.urlsafe_b64decode(cipher))
            rows.append(row)
        submission = submit_rows(
            system, department=records[0].department, category=records[0].category, rows=rows
        )
        summary = submission.summary()
        assert summary["status"] == "done", summary
        assert summary["rejected"] == 0, summary
        assert (summary["inserted"], summary["updated"]) == (0, 0), summary
        assert summary["unchanged"] == len(records)
    # Persons' numbers: masked in the JSON, sealed, keyed by their blind index.
    person = Record.objects.filter(subject_kind="person").exclude(sealed=None).first()
    assert person is not None
    code = next(iter(person.sealed))
    clear = crypto.decrypt_id(base64.urlsafe_b64decode(person.sealed[code]))
    assert person.data[code] == crypto.mask_id(clear) and clear not in person.business_key
    assert person.business_key.endswith(crypto.blind_index(clear))


@pytest.mark.django_db
def test_publicity_shows_every_state(system):
    from django.utils import timezone

    from pubcredit.publicity.models import Publicity
    from pubcredit.records.models import Record

    today = timezone.localdate()
    load_demo(system, subjects=4000, seed=3)
    penalties = Publicity.objects.filter(record__category__code="CF")
    states = set(penalties.values_list("state", flat=True))
    assert {"public", "ended"} <= states
    repairable = penalties.filter(state="public", repair_from__lte=today)
    waiting = penalties.filter(state="public", repair_from__gt=today)
    assert repairable.exists() and waiting.exists()
    assert set(penalties.values_list("tier", flat=True)) >= {"general", "serious"}
    # Every record has its window.
    assert Publicity.objects.count() == Record.objects.count()


@pytest.mark.django_db
def test_replace_refuses_when_a_demo_record_carries_someone_elses_fact(system):
    from pubcredit.publicity.models import PublicityMark
    from pubcredit.publicity.services import add_mark
    from pubcredit.records.models import Record

    load_demo(system, subjects=800, seed=2, as_of=AS_OF)
    record = Record.objects.filter(category__code="CF").first()
    add_mark(system, record, PublicityMark.Kind.OBJECTION, "当事人提出异议")
    with pytest.raises(ValidationError) as exc:
        load_demo(system, subjects=800, seed=2, replace=True, as_of=AS_OF)
    assert "演示信用记录已被其他数据引用" in exc.value.messages[0]
    assert Record.objects.filter(pk=record.pk).exists()


@pytest.mark.django_db
def test_demo_command_reports_the_records():
    from io import StringIO

    out = StringIO()
    call_command("demo", "--subjects", "600", "--seed", "3", "--as-of", "2026-11-20", stdout=out)
    text = out.getvalue()
    assert "信用记录:行政许可" in text and "按 2026-11-20 计算公示状态" in text
    assert "名单条目:" in text
    out = StringIO()
    call_command("demo", "--subjects", "600", "--seed", "3", "--replace", "--json", stdout=out)
    summary = json.loads(out.getvalue())
    from django.utils import timezone

    assert summary["records"]["as_of"] == timezone.localdate().isoformat()  # the default
    assert summary["records"]["records"]["CF"] > 0


@pytest.mark.django_db
def test_demo_without_records(system):
    from pubcredit.records.models import Record

    summary = load_demo(system, subjects=300, seed=1, records=False)
    assert summary["records"] is None and not Record.objects.exists()
    assert summary["search_index"]["indexed"] > 0


# --------------------------------------------------------------------------- after `setup`


@pytest.mark.django_db
def test_after_setup_a_penalty_is_public_and_its_subject_hits(
    empty_reference, client, settings, tmp_path
):
    """What a newcomer sees after `make run`: the publicity rules are in, a demo penalty is on
    the portal, and a credit check of its subject returns it as a hit."""
    from io import StringIO

    from pubcredit.accounts.permissions import Principal
    from pubcredit.checks.services import run_check
    from pubcredit.publicity.models import PublicityRegime
    from pubcredit.publicity.services import is_public_q
    from pubcredit.records.models import Record
    from pubcredit.repair.models import RepairRule

    settings.VAR_DIR = tmp_path
    settings.PUBCREDIT_PUBLIC_RATE = "0"
    out = StringIO()
    call_command("setup", "--demo-subjects", "1500", stdout=out)
    assert "已导入公示期规则" in out.getvalue()
    assert PublicityRegime.objects.exists() and RepairRule.objects.exists()
    # A second run changes nothing.
    events = AuditEvent.objects.count()
    call_command("setup", "--demo-subjects", "1500", stdout=StringIO())
    assert AuditEvent.objects.count() == events

    public = (
        Record.objects.filter(is_public_q(), category__code="CF", subject__kind="org")
        .select_related("subject")
        .order_by("id")
    )
    record = public.first()
    assert record is not None
    page = client.get(f"/subjects/{record.subject_id}/", {"tab": "penalties"})
    assert page.status_code == 200
    assert record.data["CF_WSH"] in page.content.decode()

    result = run_check(
        Principal.system("window"), uscc=record.subject.uscc, matter="ADMIN_LICENSING"
    )
    hits = result.data["hits"]
    assert any(h["ref"] == f"record:{record.pk}" for h in hits), hits
    assert any(h["document_number"] == record.data["CF_WSH"] for h in hits)

    # A black-list entry of the demo hits too, with its measures.
    from pubcredit.lists.models import ListEntry
    from pubcredit.lists.services import active_entries_q

    entry = (
        ListEntry.objects.filter(
            active_entries_q(), list_type__kind="black", subject__kind="org", created_by="演示数据"
        )
        .select_related("subject")
        .first()
    )
    assert entry is not None
    result = run_check(Principal.system("window"), uscc=entry.subject.uscc, matter="BIDDING")
    assert any(h["ref"] == f"entry:{entry.pk}" for h in result.data["hits"])
    assert result.data["punishments"]


def test_document_number_pattern_examples():
    assert re.match(r"^淄\S+〔20\d\d〕\d+号$", "淄市监罚〔2025〕123号")
    assert demo_records._round_yuan(np.array([123.0, 4567.0, 45678.0, 1234567.0])).tolist() == [
        120,
        4600,
        46000,
        1230000,
    ]
