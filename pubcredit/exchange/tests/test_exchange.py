"""上报 export, push and 下发 import (issue 19 items 2, 5's command line and 6).

Expected values are the fixture's own (what the test submitted), never read back from the
export."""

from __future__ import annotations

import datetime as dt
import io
import json

import pytest
from django.core.management import call_command
from django.utils import timezone

from pubcredit.catalog.models import Category, Department
from pubcredit.exchange import exporting, pushing
from pubcredit.exchange.models import BatchStatus, ExchangeEndpoint, ExportBatch
from pubcredit.intake import services as intake
from pubcredit.intake.models import Submission
from pubcredit.lists.models import EntrySource, EntryStatus, ListEntry
from pubcredit.lists.services import identify_entry, remove_entry
from pubcredit.records.models import Record, RecordStatus
from pubcredit.records.services import withdraw_record
from pubcredit.subjects import crypto
from pubcredit.subjects.services import register_subject
from pubcredit.testing.loadkit import make_ric, make_uscc
from pubcredit.testing.webhooks import Receiver

DEPT = "ZB-SCJG"
PERSON_ID = make_ric(7)
USCC_A, USCC_B, USCC_C, USCC_X = (make_uscc(n) for n in (1, 2, 3, 4))
USCC_L1, USCC_L2 = make_uscc(5), make_uscc(6)


def cf(n: int, name: str, *, uscc=None, person_id=None, content="罚款人民币贰仟元") -> dict:
    person = person_id is not None
    return {
        "CF_XDR_MC": name,
        "CF_XDR_LB": "自然人" if person else "法人及非法人组织",
        "CF_XDR_SHXYM": None if person else uscc,
        "CF_FRDB": None if person else "张三",
        "CF_XDR_ZJLX": "身份证" if person else None,
        "CF_XDR_ZJHM": person_id,
        "CF_WSH": f"淄市监罚〔2026〕{n}号",
        "CF_WFXW": "违反《中华人民共和国食品安全法》",
        "CF_SY": "经营超过保质期的食品",
        "CF_YJ": "《中华人民共和国食品安全法》第一百二十四条",
        "CF_CFLB": "罚款",
        "CF_NR": content,
        "CF_NR_FK": "0.2",
        "CF_JDRQ": "2026-11-02",
        "CF_YXQ": "2027-11-02",
        "CF_CFJG": "淄博市市场监督管理局",
        "CF_CFJGDM": Department.objects.get(code=DEPT).uscc,
        "CF_SJLY": "淄博市市场监督管理局",
        "CF_SJLYDM": Department.objects.get(code=DEPT).uscc,
    }


def submit(system, rows, code="CF"):
    sub = intake.submit_rows(
        system,
        department=Department.objects.get(code=DEPT),
        category=Category.objects.get(code=code),
        rows=rows,
    )
    assert sub.status == "done" and sub.rejected == 0, (sub.error_message, sub.rejected)
    return sub


def record(wsh_n: int) -> Record:
    return Record.objects.get(category__code="CF", data__CF_WSH=f"淄市监罚〔2026〕{wsh_n}号")


def run(*args) -> dict:
    out = io.StringIO()
    call_command("exchange", *args, "--json", stdout=out)
    return json.loads(out.getvalue())


def rows_of(directory, stem) -> list[dict]:
    return json.loads((directory / f"{stem}.json").read_text(encoding="utf-8"))


# --------------------------------------------------------------------------- round trip


def make_source(system):
    """A: new; B: corrected (v2); P: a person's; C: withdrawn; two console list entries, one
    removed."""
    first = cf(1, "淄博甲有限公司", uscc=USCC_A)
    first["CF_SY"] = "=HYPERLINK(1)经营超过保质期的食品"  # a formula-looking text
    submit(system, [first, cf(2, "淄博乙有限公司", uscc=USCC_B)])
    submit(system, [cf(3, "淄博丙有限公司", uscc=USCC_C), cf(4, "王五", person_id=PERSON_ID)])
    submit(system, [cf(2, "淄博乙有限公司", uscc=USCC_B, content="罚款人民币叁仟元")])
    withdraw_record(system, record(3), "文书号填错")
    today = timezone.localdate()
    market = Department.objects.get(code=DEPT)
    from pubcredit.lists.models import ListType

    wage = ListType.objects.get(code="BLK_WAGE_ARREARS")
    s1 = register_subject(system, kind="org", name="淄博名单一有限公司", uscc=USCC_L1)
    s2 = register_subject(system, kind="org", name="淄博名单二有限公司", uscc=USCC_L2)
    common = dict(list_type=wage, basis="拖欠农民工工资认定书", department=market)
    identify_entry(system, subject=s1, decided_on=today - dt.timedelta(days=3), **common)
    gone = identify_entry(system, subject=s2, decided_on=today - dt.timedelta(days=2), **common)
    remove_entry(system, gone, "已全额支付")


EXPECTED_RECORDS = {
    # (文书号, subject name, status, 处罚内容)
    ("淄市监罚〔2026〕1号", "淄博甲有限公司", RecordStatus.ACTIVE, "罚款人民币贰仟元"),
    ("淄市监罚〔2026〕2号", "淄博乙有限公司", RecordStatus.ACTIVE, "罚款人民币叁仟元"),
    ("淄市监罚〔2026〕3号", "淄博丙有限公司", RecordStatus.WITHDRAWN, "罚款人民币贰仟元"),
    ("淄市监罚〔2026〕4号", "王五", RecordStatus.ACTIVE, "罚款人民币贰仟元"),
}
EXPECTED_ENTRIES = {
    ("BLK_WAGE_ARREARS", "淄博名单一有限公司", EntryStatus.PUBLISHED),
    ("BLK_WAGE_ARREARS", "淄博名单二有限公司", EntryStatus.REMOVED),
}


def current_records():
    return {
        (r.data["CF_WSH"], r.subject_name, r.status, r.data["CF_NR"])
        for r in Record.objects.filter(category__code="CF")
    }


def console_entries():
    return {
        (e.list_type.code, e.subject_name, e.status)
        for e in ListEntry.objects.filter(source=EntrySource.CONSOLE).select_related("list_type")
    }


@pytest.mark.django_db(transaction=True)
def test_round_trip_into_an_empty_database(system, tmp_path):
    make_source(system)
    assert current_records() == EXPECTED_RECORDS  # the fixture is what it says
    out = tmp_path / "batch"
    exported = run("export", "--since", "2000-01-01T00:00:00+08:00", "--out", str(out))
    assert exported["batch"] == "B000001"
    assert (exported["records"], exported["list_entries"], exported["withdrawals"]) == (3, 1, 2)

    # The files: national field codes, the operations, the document number in clear.
    cf_rows = {r["CF_WSH"]: r for r in rows_of(out, "CF")}
    assert cf_rows["淄市监罚〔2026〕1号"]["CZLX"] == "新增"
    assert cf_rows["淄市监罚〔2026〕2号"]["BBH"] == "2"
    assert cf_rows["淄市监罚〔2026〕3号"]["CZLX"] == "撤销"
    assert cf_rows["淄市监罚〔2026〕3号"]["CXYY"] == "文书号填错"
    assert cf_rows["淄市监罚〔2026〕4号"]["CF_XDR_ZJHM"] == PERSON_ID
    for suffix in ("csv", "xlsx", "json"):
        assert (out / f"CF.{suffix}").is_file() and (out / f"MD.{suffix}").is_file()
    csv_text = (out / "CF.csv").read_text(encoding="utf-8")
    assert "CF_XDR_MC" in csv_text.splitlines()[0]
    assert "'=HYPERLINK(1)" in csv_text  # formula_safe in the spreadsheet files only
    assert cf_rows["淄市监罚〔2026〕1号"]["CF_SY"] == "=HYPERLINK(1)经营超过保质期的食品"

    call_command("flush", interactive=False, verbosity=0)  # a second, empty platform
    assert not Record.objects.exists() and not ListEntry.objects.exists()

    imported = run("import", str(out))
    assert imported["batch"] == "B000001"
    assert (imported["records"], imported["list_entries"], imported["withdrawals"]) == (3, 1, 2)
    assert current_records() == EXPECTED_RECORDS
    assert console_entries() == EXPECTED_ENTRIES
    assert record(1).data["CF_SY"] == "=HYPERLINK(1)经营超过保质期的食品"
    withdrawn = record(3)
    assert withdrawn.status_reason == "文书号填错"
    person = record(4)
    assert person.subject.id_index == crypto.blind_index(PERSON_ID)
    assert person.data["CF_XDR_ZJHM"] == crypto.mask_id(PERSON_ID)

    # The import's submissions are marked as handed down (国家下发).
    sources = set(
        Submission.objects.filter(pk__in=imported["submissions"]).values_list("source", flat=True)
    )
    assert sources == {"national"}

    # Importing the same batch again changes nothing.
    again = run("import", str(out))
    assert again["records"] == 3
    assert current_records() == EXPECTED_RECORDS
    assert console_entries() == EXPECTED_ENTRIES
    assert ListEntry.objects.filter(source=EntrySource.CONSOLE).count() == 2


# --------------------------------------------------------------------------- watermark, push


@pytest.fixture
def endpoint(db, settings):
    settings.PUBCREDIT_WEBHOOK_ALLOW_PRIVATE = True  # the receiver listens on loopback
    with Receiver(statuses=(503, 200, 200)) as server:
        ExchangeEndpoint.objects.create(name="省平台", url=server.url, token="s3cret")
        yield server


def test_send_twice_one_batch_and_the_watermark_moves_on_the_receipt(system, endpoint, tmp_path):
    submit(system, [cf(11, "淄博丁有限公司", uscc=USCC_X)])
    first = exporting.export_batch(out=tmp_path / "a")
    again = exporting.export_batch(out=tmp_path / "b")
    assert (again.pk, again.batch_id, again.digest) == (first.pk, "B000001", first.digest)
    assert ExportBatch.objects.count() == 1
    assert first.since == exporting.EPOCH and first.records == 1

    # First attempt: 503 → recorded, retried later (back-off); second: 200 → acknowledged.
    tried = pushing.push(first.pk)
    assert tried.status == BatchStatus.PENDING and tried.attempt_count == 1
    assert tried.attempts[0]["status_code"] == 503
    assert tried.next_attempt_at > timezone.now() + dt.timedelta(seconds=20)
    assert pushing.push_due() == 0  # not due yet
    assert pushing.push_due(now=timezone.now() + dt.timedelta(minutes=1)) == 1
    done = ExportBatch.objects.get(pk=first.pk)
    assert done.status == BatchStatus.ACKNOWLEDGED and done.receipt["status_code"] == 200
    assert len(endpoint.requests) == 2
    heads = [r["headers"] for r in endpoint.requests]
    assert {h["x-pubcredit-batch"] for h in heads} == {"B000001"}
    assert {h["x-pubcredit-digest"] for h in heads} == {first.digest}
    assert heads[0]["authorization"] == "Bearer s3cret"
    body = json.loads(endpoint.requests[1]["body"])
    (row,) = body["files"]["CF"]
    assert (row["CZLX"], row["CF_XDR_SHXYM"], row["CF_WSH"]) == (
        "新增",
        USCC_X,
        "淄市监罚〔2026〕11号",
    )

    # The watermark is the acknowledged batch's end: nothing new → an empty next batch; a
    # correction and a withdrawal travel as such.
    assert exporting.watermark() == done.until
    submit(system, [cf(11, "淄博丁有限公司", uscc=USCC_X, content="罚款人民币伍仟元")])
    second = exporting.export_batch(out=tmp_path / "c")
    assert second.batch_id == "B000002" and second.since == done.until
    (row,) = rows_of(tmp_path / "c", "CF")
    assert (row["CZLX"], row["BBH"], row["CF_NR"]) == ("变更", "2", "罚款人民币伍仟元")
    withdraw_record(system, record(11), "重复报送")
    third = exporting.export_batch(out=tmp_path / "d")
    # B000002 was never acknowledged: it is superseded by one covering the same range.
    assert third.batch_id == "B000003" and third.since == done.until
    assert ExportBatch.objects.get(pk=second.pk).status == BatchStatus.SUPERSEDED
    (row,) = rows_of(tmp_path / "d", "CF")
    assert (row["CZLX"], row["CXYY"]) == ("撤销", "重复报送")
    assert (third.records, third.withdrawals) == (0, 1)


def test_a_loopback_endpoint_is_refused_without_the_intranet_setting(system, db, tmp_path):
    with Receiver() as server:
        ExchangeEndpoint.objects.create(name="省平台", url=server.url, token="t")
        batch = exporting.export_batch(out=tmp_path)
        tried = pushing.push(batch.pk)
    assert server.requests == []
    assert tried.status == BatchStatus.PENDING
    assert tried.attempts[0]["error"].startswith("refused")


def test_import_refuses_a_directory_without_a_manifest(tmp_path, db):
    with pytest.raises(SystemExit) as exit_:
        run("import", str(tmp_path))
    assert exit_.value.code == 2


def test_accepted_then_acknowledged_later_and_the_daily_job(system, db, settings, tmp_path):
    settings.PUBCREDIT_WEBHOOK_ALLOW_PRIVATE = True
    assert pushing.exchange_push_task.call() == "no endpoint"
    with Receiver(statuses=(202,)) as server:
        ExchangeEndpoint.objects.create(name="国家平台", url=server.url, token="t")
        assert pushing.exchange_push_task.call() == "no changes: 0 attempted"
        assert not ExportBatch.objects.exists()
        submit(system, [cf(21, "淄博戊有限公司", uscc=USCC_X)])
        assert pushing.exchange_push_task.call() == "B000001: 1 attempted"
    batch = ExportBatch.objects.get()
    assert batch.status == BatchStatus.SENT and exporting.watermark() == exporting.EPOCH
    receipt = tmp_path / "receipt.json"
    receipt.write_text('{"code": "0", "message": "接收成功"}', encoding="utf-8")
    done = run("acknowledge", "B000001", "--receipt", str(receipt))
    assert done["status"] == BatchStatus.ACKNOWLEDGED
    batch.refresh_from_db()
    assert batch.receipt == {"code": "0", "message": "接收成功"}
    assert exporting.watermark() == batch.until
