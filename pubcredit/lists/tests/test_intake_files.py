# ruff: noqa: F811 (pytest fixtures imported from the kits)
"""Red and black list files pushed through intake as a department clerk uploads them: the list
categories (SXJL, YZSX, SXBZXR, XZGXF, JYYC) accept them, their records become published list
entries in the loading transaction, the entries hit in a credit check, and resubmissions with a
removal date (移出日期) or a new validity end (有效期至) behave as lists/services.py documents."""

from __future__ import annotations

import datetime as dt

import pytest

from pubcredit.catalog import conditions, datafiles
from pubcredit.checks.services import run_check
from pubcredit.intake.models import RowError, Submission
from pubcredit.lists import services
from pubcredit.lists.models import EntrySource, EntryStatus, ListEntry
from pubcredit.lists.tests.filekit import (  # noqa: F401 (fixtures)
    _fast_password_hasher,
    clerk,
    list_csv,
    media,
    org_row,
    person_row,
    ric,
    submit,
    today,
    uscc,
    world,
)
from pubcredit.records.models import Record
from pubcredit.subjects.models import Subject

LIST_CATEGORIES = ("SXJL", "YZSX", "SXBZXR", "XZGXF", "JYYC")
DAY = dt.timedelta(days=1)


def codes(result, key="hits") -> list[str]:
    return [item["code"] for item in result.data[key]]


def events(entry) -> list[tuple[str, str]]:
    return list(entry.events.order_by("at", "id").values_list("from_status", "to_status"))


# --------------------------------------------------------------------------- the catalogue


def test_list_categories_are_complete_and_carry_the_roles_lists_read():
    data = datafiles.read_catalogue()
    cats = {c["code"]: c for c in data.categories}
    for code in LIST_CATEGORIES:
        cat = cats[code]
        assert cat["fields_complete"] and cat["business_key"][0] == "MD_RDWSH", code
        roles = {f["role"]: f for f in cat["fields"]}
        for role in (
            "subject_name",
            "subject_kind",
            "subject_uscc",
            "legal_representative",
            "list_type",
            "document_number",
            "legal_basis",
            "reason",
            "decision_date",
            "valid_from",
            "valid_to",
            "removal_date",
            "removal_reason",
            "authority_name",
            "authority_uscc",
            "source_department_name",
            "source_department_uscc",
        ):
            assert role in roles, (code, role)
        assert roles["list_type"]["code"] == "MD_LX"
        assert roles["removal_reason"]["condition"] == {"field": "MD_YCRQ", "filled": True}
        if "person" in cat["subject_kinds"]:
            assert roles["subject_id_number"]["disclosure"] == "masked"
            assert roles["subject_id_type"]["codelist"] == "id_type"
            assert "MD_XDR_ZJHM" in cat["business_key"]


def test_name_codelists_agree_with_the_list_types():
    """Every list type carried by a category can be named in its 名单类型 field: the value its
    record_match expects is in the field's code list (with the list type's code as item code),
    and a category carrying several list types requires the field."""
    data = datafiles.read_catalogue()
    cats = {c["code"]: c for c in data.categories}
    codelists = {c["code"]: c for c in data.codelists}
    carried: dict[str, list[dict]] = {}
    for lt in services.read_list_types():
        if lt.get("category") and lt.get("active", True):
            carried.setdefault(lt["category"], []).append(lt)
    assert set(LIST_CATEGORIES) <= set(carried)
    for code, types in carried.items():
        by_code = {f["code"]: f for f in cats[code]["fields"]}
        assert cats[code]["fields_complete"], code
        field = next(f for f in by_code.values() if f["role"] == "list_type")
        items = {i["value"]: i for i in codelists[field["codelist"]]["items"]}
        if len(types) > 1:
            assert field["requirement"] == "required", code
        for lt in types:
            match = lt.get("record_match")
            if match is None:
                assert len(types) == 1, (code, lt["code"])
                continue
            for ref, values in conditions.referenced_values(match).items():
                assert ref in by_code, (lt["code"], ref)
                if ref == field["code"]:
                    assert values <= set(items), (lt["code"], values)
                    assert {items[v]["code"] for v in values} == {lt["code"]}


# --------------------------------------------------------------------------- intake


def test_black_list_file_becomes_published_entries_that_hit(world, system):
    rsj = clerk("ZB-RSJ")
    company = org_row(1, "ZB-RSJ", MD_LX="拖欠农民工工资失信联合惩戒对象")
    person = person_row(
        2,
        "ZB-RSJ",
        MD_LX="拖欠农民工工资失信联合惩戒对象",
        MD_YXQZI=today() + dt.timedelta(days=365),
    )
    submission = submit(rsj, "YZSX", list_csv("YZSX", [company, person]))
    assert submission.status == Submission.Status.DONE, submission.error_message
    assert (submission.rows, submission.accepted, submission.rejected) == (2, 2, 0)
    assert Record.objects.filter(submission=submission).count() == 2

    entries = {e.subject.kind: e for e in ListEntry.objects.select_related("subject", "list_type")}
    assert set(entries) == {"org", "person"}
    org = entries["org"]
    assert org.list_type.code == "BLK_WAGE_ARREARS"
    assert (org.source, org.status) == (EntrySource.INTAKE, EntryStatus.PUBLISHED)
    assert org.identified_by.code == "ZB-RSJ"
    assert org.subject.uscc == uscc(1)
    assert org.document_number == company["MD_RDWSH"]
    assert org.basis == "《保障农民工工资支付条例》第四十八条"
    decided = today() - dt.timedelta(days=30)
    assert (org.decided_on, org.valid_from) == (decided, decided)
    assert org.valid_to == services.add_months(decided, 36) - DAY  # the list type's default
    assert events(org) == [("", "published")]
    assert entries["person"].valid_to == today() + dt.timedelta(days=365)
    assert entries["person"].subject.id_masked.startswith("370303")

    by_code = run_check(system, uscc=uscc(1), matter="GOV_PROCUREMENT")
    assert codes(by_code) == ["BLK_WAGE_ARREARS"]
    assert "P_RESTRICT_PROCUREMENT" in codes(by_code, "punishments")
    assert by_code.data["hits"][0]["document_number"] == company["MD_RDWSH"]
    by_id = run_check(system, id_number=ric(2), matter="GOV_PROCUREMENT")
    assert codes(by_id) == ["BLK_WAGE_ARREARS"]
    assert by_id.data["subject"]["name"] == "李**"  # persons masked in the check


def test_red_list_with_header_synonyms_and_list_type_codes(world, system):
    swu = clerk("ZB-SWU")
    row = org_row(
        3,
        "ZB-SWU",
        MD_LX="RED_TAX_A",  # the list type's code is accepted and stored as its name
        MD_RDYJ="《纳税信用管理办法(试行)》第二十九条",
        MD_LRYY="",
    )
    headers = {
        "MD_XDR_MC": "企业名称",
        "MD_XDR_LB": "主体类型",
        "MD_XDR_SHXYM": "社会信用代码",
        "MD_FRDB": "法定代表人姓名",
        "MD_LX": "名单类别",
        "MD_RDWSH": "认定文号",
        "MD_RDYJ": "列入依据",
        "MD_LRYY": "入选理由",
        "MD_RDRQ": "评定日期",
        "MD_RDBM": "认定机关",
        "MD_RDBMDM": "认定机关代码",
        "MD_SJLY": "报送单位",
        "MD_SJLYDM": "报送单位统一社会信用代码",
    }
    submission = submit(swu, "SXJL", list_csv("SXJL", [row], headers=headers))
    assert (submission.status, submission.accepted) == (Submission.Status.DONE, 1)
    assert {c["method"] for c in submission.mapping["columns"]} == {"synonym"}
    record = Record.objects.get(submission=submission)
    assert record.data["MD_LX"] == "A级纳税人"
    entry = ListEntry.objects.get(record=record)
    assert entry.list_type.code == "RED_TAX_A" and entry.list_type.kind == "red"
    assert entry.valid_to == services.add_months(entry.valid_from, 12) - DAY
    result = run_check(system, uscc=uscc(3), matter="TAX_SERVICES")
    assert codes(result) == ["RED_TAX_A"]
    assert "R_TAX_FACILITATION" in codes(result, "rewards")
    assert result.data["outcome"] == "reward"


def test_single_list_categories_need_no_list_type_column(world, system):
    court = clerk("ZB-ZYFY")
    defaulter = org_row(4, "ZB-ZYFY", MD_RDWSH="(2025)鲁03执123号", MD_LRYY="有履行能力而拒不履行")
    del defaulter["MD_LX"]
    headers = {
        "MD_XDR_MC": "被执行人姓名/名称",
        "MD_RDWSH": "案号",
        "MD_LRYY": "失信情形",
        "MD_RDRQ": "发布时间",
        "MD_RDBM": "执行法院",
    }
    done = submit(court, "SXBZXR", list_csv("SXBZXR", [defaulter], headers=headers))
    assert (done.status, done.accepted) == (Submission.Status.DONE, 1), done.error_message
    entry = ListEntry.objects.get(record__submission=done)
    assert entry.list_type.code == "BLK_JUDGMENT_DEFAULTER"
    assert entry.document_number == "(2025)鲁03执123号"

    scjg = clerk("ZB-SCJG")
    abnormal = org_row(5, "ZB-SCJG", MD_RDYJ="《企业信息公示暂行条例》第八条")
    abnormal["MD_LRYY"] = "未按规定报送年度报告"
    del abnormal["MD_LX"]
    done = submit(scjg, "JYYC", list_csv("JYYC", [abnormal]))
    assert (done.status, done.accepted) == (Submission.Status.DONE, 1), done.error_message
    entry = ListEntry.objects.get(record__submission=done)
    assert entry.list_type.code == "WATCH_ABNORMAL_OPERATION"
    assert entry.valid_to is None  # 经营异常名录: until removed
    result = run_check(system, uscc=uscc(5), matter="ROUTINE_SUPERVISION")
    assert codes(result) == ["WATCH_ABNORMAL_OPERATION"]
    assert "P_KEY_SUPERVISION" in codes(result, "punishments")


def test_invalid_rows_are_rejected_with_their_reasons(world):
    rsj = clerk("ZB-RSJ")
    rows = [
        org_row(6, "ZB-RSJ", MD_LX="不存在的名单"),
        org_row(7, "ZB-RSJ", MD_LX=""),  # required: the category carries several lists
        org_row(8, "ZB-RSJ", MD_LX="拖欠农民工工资失信联合惩戒对象", MD_SJLYDM=uscc(99)),
        org_row(
            9,
            "ZB-RSJ",
            MD_LX="拖欠农民工工资失信联合惩戒对象",
            MD_YCRQ=today(),  # a removal date without its reason
        ),
        org_row(10, "ZB-RSJ", MD_LX="拖欠农民工工资失信联合惩戒对象"),
    ]
    submission = submit(rsj, "YZSX", list_csv("YZSX", rows))
    assert (submission.accepted, submission.rejected) == (1, 4)
    found = {
        (e.row, e.field, e.rule)
        for e in RowError.objects.filter(submission=submission, severity="error")
    }
    assert {(2, "MD_LX", "code_value"), (3, "MD_LX", "required")} <= found
    assert (4, "MD_SJLYDM", "source_department") in found
    assert (5, "MD_YCYY", "required_if") in found
    assert ListEntry.objects.get().subject.uscc == uscc(10)


def test_a_department_submits_only_its_own_lists(world):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        submit(
            clerk("ZB-SCJG"),
            "YZSX",
            list_csv("YZSX", [org_row(11, "ZB-RSJ", MD_LX="拖欠农民工工资失信联合惩戒对象")]),
            department_code="ZB-RSJ",
        )
    assert not ListEntry.objects.exists()


# --------------------------------------------------------------------------- resubmissions


def _wage_row(n: int, **values) -> dict:
    return org_row(n, "ZB-RSJ", MD_LX="拖欠农民工工资失信联合惩戒对象", **values)


def test_resubmission_with_a_removal_date_removes_the_entry(world, system):
    rsj = clerk("ZB-RSJ")
    row = _wage_row(12)
    submit(rsj, "YZSX", list_csv("YZSX", [row]))
    entry = ListEntry.objects.get()
    assert codes(run_check(system, uscc=uscc(12), matter="GOV_PROCUREMENT")) == ["BLK_WAGE_ARREARS"]

    removal = {**row, "MD_YCRQ": today(), "MD_YCYY": "已足额支付拖欠的农民工工资"}
    second = submit(rsj, "YZSX", list_csv("YZSX", [removal]))
    assert (second.inserted, second.updated, second.unchanged) == (0, 1, 0)
    entry.refresh_from_db()
    assert entry.status == EntryStatus.REMOVED
    assert entry.status_reason == (f"已足额支付拖欠的农民工工资(移出日期 {today().isoformat()})")
    assert entry.valid_to == today() - DAY
    assert events(entry) == [("", "published"), ("published", "removed")]
    assert codes(run_check(system, uscc=uscc(12), matter="GOV_PROCUREMENT")) == []

    # Submitting the record again without the removal date does not put the subject back.
    third = submit(rsj, "YZSX", list_csv("YZSX", [{**row, "BZ": "重新报送"}]))
    assert third.updated == 1
    entry.refresh_from_db()
    assert entry.status == EntryStatus.REMOVED
    assert codes(run_check(system, uscc=uscc(12), matter="GOV_PROCUREMENT")) == []
    assert ListEntry.objects.count() == 1


def test_a_removal_date_still_to_come_ends_the_validity_the_day_before(world, system):
    rsj = clerk("ZB-RSJ")
    later = today() + dt.timedelta(days=10)
    submit(rsj, "YZSX", list_csv("YZSX", [_wage_row(13, MD_YCRQ=later, MD_YCYY="提前移出")]))
    entry = ListEntry.objects.get()
    assert (entry.status, entry.valid_to) == (EntryStatus.PUBLISHED, later - DAY)
    assert codes(run_check(system, uscc=uscc(13), matter="BIDDING", today=later - DAY)) == [
        "BLK_WAGE_ARREARS"
    ]
    assert codes(run_check(system, uscc=uscc(13), matter="BIDDING", today=later)) == []


def test_resubmission_with_a_new_validity_end_expires_and_republishes(world, system):
    rsj = clerk("ZB-RSJ")
    row = _wage_row(14)
    submit(rsj, "YZSX", list_csv("YZSX", [row]))
    entry = ListEntry.objects.get()

    # Valid through today: hits today, not tomorrow.
    submit(rsj, "YZSX", list_csv("YZSX", [{**row, "MD_YXQZI": today()}]))
    entry.refresh_from_db()
    assert (entry.status, entry.valid_to) == (EntryStatus.PUBLISHED, today())
    assert codes(run_check(system, uscc=uscc(14), matter="BIDDING")) == ["BLK_WAGE_ARREARS"]
    tomorrow = today() + DAY
    assert codes(run_check(system, uscc=uscc(14), matter="BIDDING", today=tomorrow)) == []

    # Shortened into the past: expired at once, with its event.
    submit(rsj, "YZSX", list_csv("YZSX", [{**row, "MD_YXQZI": today() - DAY}]))
    entry.refresh_from_db()
    assert entry.status == EntryStatus.EXPIRED
    assert codes(run_check(system, uscc=uscc(14), matter="BIDDING")) == []
    assert services.expire_entries() == 0  # nothing left for the sweep

    # Extended (e.g. 纳入期限延长): published again.
    extended = today() + dt.timedelta(days=200)
    submit(rsj, "YZSX", list_csv("YZSX", [{**row, "MD_YXQZI": extended}]))
    entry.refresh_from_db()
    assert (entry.status, entry.valid_to) == (EntryStatus.PUBLISHED, extended)
    assert codes(run_check(system, uscc=uscc(14), matter="BIDDING")) == ["BLK_WAGE_ARREARS"]
    assert events(entry) == [
        ("", "published"),
        ("published", "expired"),
        ("expired", "published"),
    ]


def test_resubmission_moving_a_row_to_another_list_type_updates_the_entry(world):
    rsj = clerk("ZB-RSJ")
    row = _wage_row(15)
    submit(rsj, "YZSX", list_csv("YZSX", [row]))
    submit(rsj, "YZSX", list_csv("YZSX", [{**row, "MD_LX": "食品药品安全严重失信主体"}]))
    entry = ListEntry.objects.get()
    assert entry.list_type.code == "BLK_FOOD_DRUG" and entry.status == EntryStatus.PUBLISHED
    assert Subject.objects.filter(uscc=uscc(15)).count() == 1
