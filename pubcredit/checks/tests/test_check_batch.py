"""Batch checks: a file in, one result row per input row out, same rules as a single check,
every real check logged, persons masked, limits enforced."""

from __future__ import annotations

import io

import polars as pl
import pytest
from django.test import Client

from pubcredit.checks import batch as check_batch
from pubcredit.checks.models import CheckBatch, CreditCheck
from pubcredit.testing.checkkit import (  # noqa: F401 (fixtures)
    accounts_fixture,
    black_now,
    person_fixture,
    principal_of,
)

pytestmark = pytest.mark.usefixtures("seeded")


def upload(client, clear, content: bytes, filename: str, matter: str = ""):
    f = io.BytesIO(content)
    f.name = filename
    data = {"file": f}
    if matter:
        data["matter"] = matter
    return client.post("/api/v1/checks/batches", data, HTTP_AUTHORIZATION=f"Bearer {clear}")


def read_result(client, clear, batch_id) -> tuple[pl.DataFrame, str]:
    response = client.get(
        f"/api/v1/checks/batches/{batch_id}/result", HTTP_AUTHORIZATION=f"Bearer {clear}"
    )
    assert response.status_code == 200
    content = b"".join(response.streaming_content)
    disposition = response["Content-Disposition"]
    if content[:2] == b"PK":
        return pl.read_excel(io.BytesIO(content), engine="calamine"), disposition
    return pl.read_csv(io.BytesIO(content), infer_schema_length=0), disposition


def test_csv_batch_checks_every_row_with_the_single_check_rules(
    system, make_subject, person, accounts, django_capture_on_commit_callbacks
):
    from pubcredit.subjects.models import Subject

    bad = make_subject(name="淄博批量失信测试有限公司")
    black_now(system, bad)
    clean = make_subject(name="淄博批量守信测试有限公司")
    twin_a = make_subject(name="淄博批量同名有限公司")
    twin_b = make_subject(name="淄博批量同名有限公司X")
    Subject.objects.filter(pk=twin_b.pk).update(name=twin_a.name, name_norm=twin_a.name_norm)
    somebody, ric = person(name="钱多多")
    black_now(system, somebody)
    wrong = clean.uscc[:-1] + ("0" if clean.uscc[-1] != "0" else "1")
    csv = (
        "统一社会信用代码,名称,事项\n"
        f"{bad.uscc},,GOV_PROCUREMENT\n"
        f"{clean.uscc},,政府采购\n"
        f",淄博批量失信测试有限公司,GOV_PROCUREMENT\n"
        f",淄博批量同名有限公司,GOV_PROCUREMENT\n"
        f"{ric},,EXIT_ENTRY\n"
        f"{wrong},,GOV_PROCUREMENT\n"
        f"{clean.uscc},,NO_SUCH\n"
        ",,GOV_PROCUREMENT\n"
        f"{bad.uscc.lower()},,\n"
    ).encode()
    client, clear = Client(), accounts["bank"][1]
    with django_capture_on_commit_callbacks(execute=True):
        response = upload(client, clear, csv, "待核查.csv", matter="FINANCING")
    assert response.status_code == 200, response.content
    batch_id = response.json()["id"]
    status = client.get(
        f"/api/v1/checks/batches/{batch_id}", HTTP_AUTHORIZATION=f"Bearer {clear}"
    ).json()
    assert status["status"] == "done", status
    assert status["rows"] == 9 and status["progress"] == 100
    assert status["result_url"].endswith(f"/batches/{batch_id}/result")

    result, disposition = read_result(client, clear, batch_id)
    assert "attachment" in disposition
    assert result.height == 9
    rows = result.to_dicts()
    assert [r["行号"] for r in rows] == [str(n) for n in range(2, 11)]
    assert rows[0]["核查结论"] == "适用惩戒措施" and "限制参与政府采购" in rows[0]["惩戒措施"]
    assert rows[0]["命中信息"].startswith("失信被执行人")
    assert rows[1]["核查结论"] == "未发现失信信息" and rows[1]["核查事项"] == "政府采购"
    assert rows[2]["匹配结果"] == "名称一致(唯一)" and rows[2]["核查结论"] == "适用惩戒措施"
    assert rows[3]["核查结论"] == "名称未能唯一确定主体" and not rows[3]["惩戒措施"]
    assert rows[4]["主体名称"] == "钱**"
    assert rows[4]["查询内容"] == ric[:6] + "********" + ric[-4:]
    assert "限制出境" in rows[4]["惩戒措施"] or rows[4]["惩戒措施"]
    assert rows[5]["核查结论"] == "号码或事项无效" and not rows[5]["核查编号"]
    assert rows[6]["核查结论"] == "号码或事项无效" and "NO_SUCH" in rows[6]["说明"]
    assert rows[7]["核查结论"] == "号码或事项无效"
    assert rows[8]["核查事项"] == "融资信贷"  # the batch's matter for a row without one
    assert rows[8]["核查结论"] == "适用惩戒措施"
    assert ric not in result.write_csv()

    logged = CreditCheck.objects.filter(batch_id=batch_id)
    assert logged.count() == 6  # rejected rows are reported, not logged as checks
    assert {c.channel for c in logged} == {"batch"}
    assert (
        rows[0]["核查编号"]
        == logged.get(subject_id=bad.pk, matter__code="GOV_PROCUREMENT", query_kind="uscc").number
    )
    assert ric not in "".join(logged.values_list("query_value", flat=True))
    batch = CheckBatch.objects.get(pk=batch_id)
    assert batch.counts["punish"] == 4 and batch.counts["invalid"] == 3


def test_batch_rows_are_logged_like_single_checks(
    system, make_subject, accounts, django_capture_on_commit_callbacks
):
    """A batch row's log is the answer a single check gives, so reading it back, feedback
    (the 联合奖惩 statistics) and notifications work on it alike."""
    bad = make_subject(name="淄博批量留痕测试有限公司")
    black_now(system, bad)
    client, clear = Client(), accounts["bank"][1]
    auth = {"HTTP_AUTHORIZATION": f"Bearer {clear}"}
    csv = f"统一社会信用代码,名称,事项\n{bad.uscc},,FINANCING\n,{bad.name},FINANCING\n".encode()
    with django_capture_on_commit_callbacks(execute=True):
        batch_id = upload(client, clear, csv, "留痕.csv").json()["id"]
    single = client.post(
        "/api/v1/checks",
        {"uscc": bad.uscc, "matter": "FINANCING"},
        content_type="application/json",
        **auth,
    ).json()
    by_code, by_name = CreditCheck.objects.filter(batch_id=batch_id).order_by("pk")

    read = client.get(f"/api/v1/checks/{by_code.pk}", **auth)
    assert read.status_code == 200, read.content
    body = read.json()
    assert body.keys() == single.keys()
    for key in ("matter", "query", "match", "subject", "hits", "punishments", "rewards"):
        assert body[key] == single[key], key
    assert body["conclusion"] == single["conclusion"] and body["outcome"] == "punish"
    assert body["channel"] == "batch" and by_code.result["batch"] == {"id": batch_id, "row": 2}
    # Found by name only: the same caution as a single name check.
    assert by_name.result["match"] == "name_exact"
    assert by_name.result["conclusion"].endswith("名称核查结果请以统一社会信用代码复核。")

    feedback = client.post(
        f"/api/v1/checks/{by_code.pk}/feedback",
        {"items": [{"measure": "P_FINANCIAL_RISK_PRICING", "applied": True}]},
        content_type="application/json",
        **auth,
    )
    assert feedback.status_code == 200, feedback.content
    assert feedback.json()["feedback"][0]["measure"] == "P_FINANCIAL_RISK_PRICING"


def test_a_batch_does_not_assert_a_name_another_subject_used_before(
    system, make_subject, accounts, django_capture_on_commit_callbacks
):
    from pubcredit.subjects.services import rename_subject

    earlier = make_subject(name="淄博批量曾用名测试有限公司")
    rename_subject(system, earlier, "淄博批量曾用名测试新名有限公司", reason="更名")
    black_now(system, make_subject(name="淄博批量曾用名测试有限公司"))
    client, clear = Client(), accounts["bank"][1]
    csv = "名称,事项\n淄博批量曾用名测试有限公司,FINANCING\n".encode()
    with django_capture_on_commit_callbacks(execute=True):
        batch_id = upload(client, clear, csv, "曾用名.csv").json()["id"]
    (row,) = read_result(client, clear, batch_id)[0].to_dicts()
    assert row["匹配结果"] == "名称未能唯一确定主体" and not row["惩戒措施"]
    assert "曾用名" in row["说明"]
    logged = CreditCheck.objects.get(batch_id=batch_id)
    assert logged.subject_id is None and logged.result["match"] == "candidates"


def test_a_batch_lists_the_commitments_in_force(
    system, make_subject, accounts, settings, tmp_path, django_capture_on_commit_callbacks
):
    """As a single check does: each checked subject's commitments in force on the day, in the
    results file and the log; a breached one is not listed, a subject without any shows none."""
    from pubcredit.commitments.assessment import assess_commitment
    from pubcredit.commitments.models import Performance
    from pubcredit.commitments.queries import commitments_in_force
    from pubcredit.testing.commitkit import sign

    settings.MEDIA_ROOT = tmp_path / "media"
    promised = make_subject(name="淄博批量承诺测试有限公司")
    kept = sign(promised)
    broken = sign(promised)
    assess_commitment(
        system,
        broken,
        Performance.NONE,
        reason="经现场核查认定",
        unfulfilled_content="未按期补齐材料",
        liability_enforced="列入重点关注名单",
    )
    plain = make_subject(name="淄博批量无承诺测试有限公司")
    csv = f"统一社会信用代码\n{promised.uscc}\n{plain.uscc}\n".encode()
    client, clear = Client(), accounts["bank"][1]
    with django_capture_on_commit_callbacks(execute=True):
        batch_id = upload(client, clear, csv, "承诺.csv", matter="FINANCING").json()["id"]
    rows = read_result(client, clear, batch_id)[0].to_dicts()
    assert rows[0]["信用承诺"] == f"{kept.code}(主动型,淄博市市场监督管理局)"
    assert not rows[1]["信用承诺"]
    logged = CreditCheck.objects.get(batch_id=batch_id, subject_id=promised.pk)
    assert [c["code"] for c in logged.result["commitments"]] == [kept.code]
    single = commitments_in_force([promised.pk])[promised.pk]  # what a single check lists
    assert [c["code"] for c in single] == [kept.code]


def test_xlsx_batch_gives_an_xlsx_result(
    system, make_subject, accounts, django_capture_on_commit_callbacks
):
    company = make_subject()
    black_now(system, company)
    buffer = io.BytesIO()
    pl.DataFrame({"序号": ["1"], "代码": [company.uscc]}).write_excel(buffer)
    client, clear = Client(), accounts["bank"][1]
    with django_capture_on_commit_callbacks(execute=True):
        response = upload(client, clear, buffer.getvalue(), "list.xlsx", matter="FINANCING")
    batch_id = response.json()["id"]
    result, disposition = read_result(client, clear, batch_id)
    assert ".xlsx" in disposition
    assert result.row(0, named=True)["核查结论"] == "适用惩戒措施"


def test_bad_files_fail_with_a_clear_message(system, accounts, django_capture_on_commit_callbacks):
    principal = principal_of(accounts["bank"][0])
    cases = {
        b"foo,bar\n1,2\n": "没有找到",
        "统一社会信用代码\n91370303MA3C0000X1\n".encode(): "事项",
    }
    for content, message in cases.items():
        with django_capture_on_commit_callbacks(execute=True):
            batch = check_batch.submit_batch(principal, io.BytesIO(content), filename="x.csv")
        batch.refresh_from_db()
        assert batch.status == CheckBatch.Status.FAILED, batch.error_message
        assert message in batch.error_message
    with pytest.raises(Exception) as exc:
        check_batch.submit_batch(principal, io.BytesIO(b"x"), filename="x.pdf")
    assert "xlsx" in str(exc.value)


def test_more_than_the_limit_is_refused(system, accounts, django_capture_on_commit_callbacks):
    principal = principal_of(accounts["bank"][0])
    content = ("名称\n" + "淄博某公司\n" * (check_batch.MAX_ROWS + 1)).encode()
    with django_capture_on_commit_callbacks(execute=True):
        batch = check_batch.submit_batch(
            principal, io.BytesIO(content), filename="big.csv", matter="FINANCING"
        )
    batch.refresh_from_db()
    assert batch.status == CheckBatch.Status.FAILED
    assert "100000" in batch.error_message.replace(",", "")
    assert not CreditCheck.objects.exists()


def test_batches_are_private_to_their_submitter(
    system, accounts, django_capture_on_commit_callbacks
):
    principal = principal_of(accounts["bank"][0])
    with django_capture_on_commit_callbacks(execute=True):
        batch = check_batch.submit_batch(
            principal,
            io.BytesIO("名称\n淄博某公司\n".encode()),
            filename="x.csv",
            matter="FINANCING",
        )
    response = Client().get(
        f"/api/v1/checks/batches/{batch.pk}", HTTP_AUTHORIZATION=f"Bearer {accounts['system'][1]}"
    )
    assert response.status_code == 404


HOSTILE = ('=HYPERLINK("http://evil.example/","点此")', "+1+1", "-2+3", "@SUM(1)")


def _sheet_xml(content: bytes) -> str:
    import zipfile

    with zipfile.ZipFile(io.BytesIO(content)) as book:
        return "".join(
            book.read(name).decode("utf-8")
            for name in book.namelist()
            if name.startswith("xl/worksheets/") or name == "xl/sharedStrings.xml"
        )


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_hostile_cells_come_back_inert(
    suffix, system, accounts, django_capture_on_commit_callbacks
):
    """A name cell that a spreadsheet would run (=, +, -, @) is echoed with a leading ' and
    never as a formula, in the csv and in the xlsx result."""
    frame = pl.DataFrame({"名称": list(HOSTILE), "事项": ["FINANCING"] * len(HOSTILE)})
    buffer = io.BytesIO()
    if suffix == ".csv":
        frame.write_csv(buffer)
    else:
        frame.write_excel(buffer)
    client, clear = Client(), accounts["bank"][1]
    with django_capture_on_commit_callbacks(execute=True):
        response = upload(client, clear, buffer.getvalue(), "hostile" + suffix)
    batch_id = response.json()["id"]
    got = client.get(
        f"/api/v1/checks/batches/{batch_id}/result", HTTP_AUTHORIZATION=f"Bearer {clear}"
    )
    content = b"".join(got.streaming_content)
    result, _disposition = read_result(client, clear, batch_id)
    assert result["查询内容"].to_list() == [
        '\'=HYPERLINK("http://evil.example/","点此")',
        "'+1+1",
        "'-2+3",
        "'@SUM(1)",
    ]
    if suffix == ".xlsx":
        assert content[:2] == b"PK" and "<f>" not in _sheet_xml(content)
    else:
        assert b"\n=" not in content and b",=" not in content
