"""分级分类监管 lists: ratios from the shipped file, departments' fields, the list and its
summary per grade (hand-computed on a small fixture), the xlsx, the console page and the API
for each role.

The fixture (results written directly: the list reads current results, however computed), under
公共信用综合评价 (ratios A 3 %, B 10 %, C 30 %, D 100 %):

    grade  张店区 370303   淄川区 370302   total   to inspect
    A      2              0               2       ceil(2 × 3 %)   = 1
    B      8              3               11      ceil(11 × 10 %) = 2
    C      3              1               4       ceil(4 × 30 %)  = 2
    D      1              0               1       ceil(1 × 100 %) = 1
                                          18                      6
plus a person graded D (never listed) and a retired (non-current) result (never counted).
市场监管 (ZB-SCJG) supervises every one of the 18. 税务 (ZB-SWU, no field row: by reports) has
reported an active record of one B, a withdrawn record of one A (not counted) and identified a
published list entry of the D: its list is that B and that D. 商务 (ZB-SWJ) supervises 家政服务:
two subjects with results under that scorecard (A and C).
"""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone
from python_calamine import CalamineWorkbook

from pubcredit.accounts.models import Role
from pubcredit.accounts.permissions import Principal
from pubcredit.catalog.models import Department, Region, SubjectKind
from pubcredit.scoring import supervision
from pubcredit.scoring.models import InspectionRatio
from pubcredit.scoring.policyfile import import_supervision
from pubcredit.subjects.models import Subject
from pubcredit.testing.loadkit import make_uscc
from pubcredit.testing.scorekit import graded

pytestmark = pytest.mark.django_db

PASSWORD = "Secret-pass-1"
ZHANGDIAN, ZICHUAN = "370303", "370302"


_n = iter(range(7000, 8000))


def _org(name, region=ZHANGDIAN, kind=SubjectKind.ORG):
    n = next(_n)
    prefix = "92" if kind == SubjectKind.INDIVIDUAL_BUSINESS else "91"
    return Subject.objects.create(
        kind=kind, name=name, name_norm=name, uscc=make_uscc(n, prefix), region=region
    )


def _record(subject, department, *, status="active"):
    from pubcredit.catalog.models import Category
    from pubcredit.records.models import Record

    now = timezone.now()
    return Record.objects.create(
        category=Category.objects.get(code="XK"),
        department=department,
        business_key=f"K-{subject.pk}-{status}",
        subject=subject,
        subject_name=subject.name,
        content_hash="x",
        status=status,
        submission_id=1,
        source_row=1,
        received_at=now,
        created_at=now,
        updated_at=now,
    )


@pytest.fixture
def city(scorecards, system):
    import_supervision(system)
    scjg = Department.objects.get(code="ZB-SCJG")
    swu = Department.objects.get(code="ZB-SWU")
    made = {"A": [], "B": [], "C": [], "D": []}
    plan = [("A", ZHANGDIAN, 2), ("B", ZHANGDIAN, 8), ("B", ZICHUAN, 3)]
    plan += [("C", ZHANGDIAN, 3), ("C", ZICHUAN, 1), ("D", ZHANGDIAN, 1)]
    for grade, region, count in plan:
        for i in range(count):
            kind = SubjectKind.INDIVIDUAL_BUSINESS if (grade, i) == ("B", 0) else SubjectKind.ORG
            subject = _org(f"淄博{grade}{region}{i}有限公司", region, kind)
            score = {"A": 92, "B": 80, "C": 65, "D": 40}[grade]
            graded(subject, "SCORE_PUBLIC", grade, score)
            made[grade].append(subject)
    formula = made["C"][0]
    formula.name = "=HYPERLINK(1)公司"
    formula.save()
    person = Subject.objects.create(kind=SubjectKind.PERSON, name="张三", name_norm="张三")
    graded(person, "SCORE_PUBLIC", "D", 10)
    graded(made["A"][0], "SCORE_PUBLIC", "D", 30, current=False)  # history: not counted
    # 税务: a B it reported (active), an A it reported (withdrawn), the D it put on a list
    _record(made["B"][1], swu)
    _record(made["A"][1], swu, status="withdrawn")
    from pubcredit.lists.models import ListEntry, ListType

    ListEntry.objects.create(
        list_type=ListType.objects.filter(kind="black").first(),
        subject=made["D"][0],
        subject_name=made["D"][0].name,
        identified_by=swu,
        basis="认定",
        decided_on=timezone.localdate(),
        valid_from=timezone.localdate(),
    )
    # 家政服务
    graded(made["A"][0], "SECTOR_HOUSEKEEPING", "A", 95)
    graded(made["C"][1], "SECTOR_HOUSEKEEPING", "C", 70)
    return {"made": made, "person": person, "scjg": scjg, "swu": swu, "formula": formula}


def _centre():
    return Principal(role=Role.CENTRE_STAFF, label="centre")


def _counts(summary):
    return [(g["grade"], g["count"], g["ratio"], g["inspect"]) for g in summary["grades"]]


# --------------------------------------------------------------------------- ratios


def test_the_shipped_ratios_are_data_flagged_for_review(scorecards, system):
    import_supervision(system)
    rows = InspectionRatio.objects.filter(scorecard__code="SCORE_PUBLIC")
    assert {r.grade: r.ratio for r in rows} == {
        "A": Decimal("3"),
        "B": Decimal("10"),
        "C": Decimal("30"),
        "D": Decimal("100"),
    }
    row = rows.get(grade="A")
    assert row.needs_review and "UNCONFIRMED" not in row.basis and "待核实" in row.note
    assert InspectionRatio.objects.count() == 12


def test_ratios_are_versioned_by_date(scorecards, system):
    import_supervision(system)
    card = InspectionRatio.objects.filter(scorecard__code="SCORE_PUBLIC").first().scorecard
    today = timezone.localdate()
    later = today + dt.timedelta(days=10)
    InspectionRatio.objects.filter(scorecard=card, grade="D").update(
        effective_to=later - dt.timedelta(days=1)
    )
    InspectionRatio.objects.create(scorecard=card, grade="D", ratio=50, effective_from=later)
    assert supervision.ratios_in_force(card, today)["D"] == Decimal("100")
    assert supervision.ratios_in_force(card, later)["D"] == Decimal("50")
    assert supervision.ratios_in_force(card, later)["A"] == Decimal("3")


def test_reimport_changes_nothing_and_an_edit_is_audited(scorecards, system):
    from pubcredit.accounts.models import AuditEvent

    first = import_supervision(system)
    assert first["ratios"]["created"] == 12 and first["fields"]["created"] == 3
    events = AuditEvent.objects.count()
    again = import_supervision(system)
    assert again["ratios"] == {"created": 0, "updated": 0, "unchanged": 12}
    assert AuditEvent.objects.count() == events
    InspectionRatio.objects.filter(scorecard__code="SCORE_PUBLIC", grade="B").update(ratio=20)
    third = import_supervision(system)
    assert third["ratios"]["updated"] == 1
    assert AuditEvent.objects.filter(action="scoring.inspectionratio_update").count() == 1


# --------------------------------------------------------------------------- the list


def test_market_regulation_lists_every_market_subject(city):
    selection = supervision.select(_centre(), "ZB-SCJG")
    assert selection.scorecard.code == "SCORE_PUBLIC"
    summary = supervision.summary(selection)
    assert _counts(summary) == [
        ("A", 2, Decimal("3"), 1),
        ("B", 11, Decimal("10"), 2),
        ("C", 4, Decimal("30"), 2),
        ("D", 1, Decimal("100"), 1),
    ]
    assert (summary["count"], summary["inspect"]) == (18, 6)
    ids = {r["subject_id"] for r in supervision.page(selection, limit=100)["items"]}
    assert city["person"].pk not in ids
    assert len(ids) == 18


def test_a_district_and_a_grade_filter(city):
    selection = supervision.select(_centre(), "ZB-SCJG", district=ZICHUAN, grades=["C"])
    assert _counts(supervision.summary(selection)) == [
        ("A", 0, Decimal("3"), 0),
        ("B", 3, Decimal("10"), 1),
        ("C", 1, Decimal("30"), 1),
        ("D", 0, Decimal("100"), 0),
    ]
    items = supervision.page(selection)["items"]
    assert [(r["subject_id"], r["grade"], r["region_name"]) for r in items] == [
        (city["made"]["C"][3].pk, "C", "淄川区")
    ]


def test_a_department_without_a_field_sees_what_it_reported(city):
    selection = supervision.select(_centre(), "ZB-SWU")
    made = city["made"]
    items = supervision.page(selection)["items"]
    assert [r["subject_id"] for r in items] == sorted([made["B"][1].pk, made["D"][0].pk])
    assert [r["ratio"] for r in items] == [Decimal("10"), Decimal("100")]
    assert supervision.summary(selection)["inspect"] == 2  # ceil(1 × 10 %) + ceil(1 × 100 %)


def test_a_sector_department_lists_its_sector(city):
    selection = supervision.select(_centre(), "ZB-SWJ")
    assert selection.scorecard.code == "SECTOR_HOUSEKEEPING"
    assert [(r["grade"], r["score"]) for r in supervision.page(selection)["items"]] == [
        ("A", Decimal("95.00")),
        ("C", Decimal("70.00")),
    ]
    # under the public scorecard 商务 has reported nobody
    other = supervision.select(_centre(), "ZB-SWJ", scorecard="SCORE_PUBLIC")
    assert supervision.summary(other)["count"] == 0


def test_pages_follow_the_cursor(city):
    selection = supervision.select(_centre(), "ZB-SCJG")
    seen, after = [], None
    while True:
        got = supervision.page(selection, after=after, limit=5)
        seen += [r["subject_id"] for r in got["items"]]
        after = got["next"]
        if after is None:
            break
    assert len(seen) == 18 and seen == sorted(seen)


# --------------------------------------------------------------------------- the xlsx


def test_the_download_has_every_row_and_the_summary(city):
    selection = supervision.select(_centre(), "ZB-SCJG")
    book = CalamineWorkbook.from_filelike(io.BytesIO(supervision.workbook(selection)))
    assert book.sheet_names == ["监管对象", "分级汇总"]
    rows = book.get_sheet_by_name("监管对象").to_python()
    assert rows[0] == [
        "统一社会信用代码",
        "名称",
        "主体类别",
        "所在区县",
        "信用等级",
        "分值",
        "评价基准日",
        "抽查比例(%)",
    ]
    assert len(rows) == 1 + 18
    d = city["made"]["D"][0]
    (row,) = [r for r in rows if r[0] == d.uscc]
    assert row[1:6] == [d.name, "法人及非法人组织", "张店区", "D", 40.0]
    assert row[7] == 100.0
    names = [r[1] for r in rows]
    assert "'=HYPERLINK(1)公司" in names and "=HYPERLINK(1)公司" not in names
    assert "张三" not in names and "张*" not in names
    summary = book.get_sheet_by_name("分级汇总").to_python()
    assert summary[1][:5] == ["A", "优秀", 2.0, 3.0, 1.0]
    assert summary[4][:5] == ["D", "较差", 1.0, 100.0, 1.0]
    assert summary[5][0] == "合计" and summary[5][2] == 18.0 and summary[5][4] == 6.0


# --------------------------------------------------------------------------- roles


def _user(django_user_model, role, **scope):
    user = django_user_model.objects.create_user(f"u_{role}", password=PASSWORD, role=role, **scope)
    client = Client()
    client.force_login(user)
    return client


API = "/api/v1/scoring/supervision"


def test_the_api_for_each_role(city, django_user_model):
    scjg = city["scjg"]
    admin = _user(django_user_model, Role.PLATFORM_ADMIN)
    centre = _user(django_user_model, Role.CENTRE_STAFF)
    clerk = _user(django_user_model, Role.DEPARTMENT_CLERK, department=scjg)
    district = _user(
        django_user_model, Role.DISTRICT_ADMIN, district=Region.objects.get(code=ZICHUAN)
    )
    window = _user(django_user_model, Role.WINDOW_CLERK)
    bank = _user(django_user_model, Role.BANK_USER)

    assert Client().get(f"{API}?department=ZB-SCJG").status_code == 401
    for client in (admin, centre):
        body = client.get(f"{API}?department=ZB-SWU").json()
        assert (body["count"], body["inspect"]) == (2, 2)
    body = clerk.get(f"{API}?department=ZB-SCJG&limit=10").json()
    assert body["scorecard"]["code"] == "SCORE_PUBLIC"
    assert [g["inspect"] for g in body["summary"]] == [1, 2, 2, 1]
    assert len(body["items"]) == 10 and body["next"] == body["items"][-1]["subject_id"]
    rest = clerk.get(f"{API}?department=ZB-SCJG&limit=10&after={body['next']}").json()
    assert len(rest["items"]) == 8 and rest["next"] is None
    assert clerk.get(f"{API}?department=ZB-SWU").status_code == 404
    # the district administrator: its district's subjects only, of any department
    body = district.get(f"{API}?department=ZB-SCJG").json()
    assert body["district"] == ZICHUAN
    assert (body["count"], body["inspect"]) == (4, 2)
    assert {i["region"] for i in body["items"]} == {ZICHUAN}
    assert district.get(f"{API}?department=ZB-SCJG&district={ZHANGDIAN}").status_code == 404
    assert window.get(f"{API}?department=ZB-SCJG").status_code == 403
    assert bank.get(f"{API}?department=ZB-SCJG").status_code == 403
    assert centre.get(f"{API}?department=NOPE").status_code == 404
    assert centre.get(f"{API}?department=ZB-SCJG&scorecard=SCORE_PERSON").status_code == 422
    body = centre.get(f"{API}?department=ZB-SCJG&grade=D&grade=A").json()
    assert sorted(i["grade"] for i in body["items"]) == ["A", "A", "D"]
    assert all(i["name"] != "张三" for i in body["items"])


def test_the_console_page_and_download(city, django_user_model):
    clerk = _user(django_user_model, Role.DEPARTMENT_CLERK, department=city["scjg"])
    page = clerk.get("/console/supervision/?department=ZB-SWU")  # a clerk: its own, always
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="supervision-count">18<' in html and 'id="supervision-inspect">6<' in html
    assert "/console/supervision/" in clerk.get("/console/").content.decode()  # navigation
    download = clerk.get("/console/supervision/download.xlsx?grade=D")
    assert download.status_code == 200
    book = CalamineWorkbook.from_filelike(io.BytesIO(download.content))
    assert len(book.get_sheet_by_name("监管对象").to_python()) == 1 + 1

    centre = _user(django_user_model, Role.CENTRE_STAFF)
    assert (
        'id="supervision-count">2<'
        in centre.get("/console/supervision/?department=ZB-SWU").content.decode()
    )
    assert "请选择部门" in centre.get("/console/supervision/").content.decode()
    window = _user(django_user_model, Role.WINDOW_CLERK)
    assert window.get("/console/supervision/").status_code == 403


def test_a_list_beyond_the_download_limit_is_cut_and_says_so(city, monkeypatch, django_user_model):
    monkeypatch.setattr(supervision, "XLSX_MAX_ROWS", 5)
    client = _user(django_user_model, Role.CENTRE_STAFF)
    page = client.get("/console/supervision/?department=ZB-SCJG").content.decode()
    assert 'id="download-cut"' in page
    assert (
        'id="download-cut"'
        not in client.get("/console/supervision/?department=ZB-SCJG&grade=D").content.decode()
    )
    selection = supervision.select(_centre(), "ZB-SCJG")
    book = CalamineWorkbook.from_filelike(io.BytesIO(supervision.workbook(selection)))
    assert len(book.get_sheet_by_name("监管对象").to_python()) == 1 + 5
    summary = book.get_sheet_by_name("分级汇总").to_python()
    assert summary[5][2] == 18.0  # the summary still counts every subject
    assert summary[-1][0] == "说明" and "18" in summary[-1][1]
    grade_b = supervision.select(_centre(), "ZB-SCJG", grades=["B"])
    book = CalamineWorkbook.from_filelike(io.BytesIO(supervision.workbook(grade_b)))
    assert "11" in book.get_sheet_by_name("分级汇总").to_python()[-1][1]  # B: 11 listed, 5 kept


def test_the_admin_edits_ratios_and_fields_with_audit(scorecards, system, django_user_model):
    from pubcredit.accounts.models import AuditEvent
    from pubcredit.scoring.models import Scorecard, SupervisionField

    import_supervision(system)
    client = _user(django_user_model, Role.CENTRE_STAFF)
    card = Scorecard.objects.get(code="SCORE_PUBLIC")
    later = (timezone.localdate() + dt.timedelta(days=30)).isoformat()
    form = {"scorecard": card.pk, "ratio": "50", "effective_from": later, "effective_to": ""}
    form |= {"basis": "新比例", "note": ""}
    refused = client.post("/admin/scoring/inspectionratio/add/", {**form, "grade": "E"})
    assert refused.status_code == 200 and "没有 E 级" in refused.content.decode()
    added = client.post("/admin/scoring/inspectionratio/add/", {**form, "grade": "D"})
    assert added.status_code == 302
    assert AuditEvent.objects.filter(action="scoring.inspectionratio_create").count() == 13
    assert supervision.ratios_in_force(card, dt.date.fromisoformat(later))["D"] == 50
    assert supervision.ratios_in_force(card)["D"] == 100

    field = SupervisionField.objects.get(department__code="ZB-SWJ")
    url = f"/admin/scoring/supervisionfield/{field.pk}/change/"
    change = {"department": field.department_id, "by_reports": "on", "note": ""}
    bad = client.post(url, {**change, "scorecards": '["NOPE"]'})
    assert bad.status_code == 200 and "NOPE" in bad.content.decode()
    good = client.post(url, {**change, "scorecards": '["SECTOR_HOUSEKEEPING", "SCORE_PUBLIC"]'})
    assert good.status_code == 302
    assert AuditEvent.objects.filter(action="scoring.supervisionfield_update").count() == 1
    assert supervision.field_of(field.department).scorecards == (
        "SECTOR_HOUSEKEEPING",
        "SCORE_PUBLIC",
    )


def test_an_inconsistent_policy_file_is_refused_whole(scorecards, tmp_path):
    import json

    from django.core.management import CommandError, call_command

    bad = {
        "ratios": [
            {"scorecard": "SCORE_PUBLIC", "effective_from": "2026-01-01", "grades": {"E": 5}},
            {"scorecard": "NOPE", "effective_from": "2026-01-01", "grades": {"A": 5}},
        ],
        "fields": [{"department": "ZB-NONE", "scorecards": ["SCORE_PUBLIC"]}],
    }
    path = tmp_path / "supervision.json"
    path.write_text(json.dumps(bad), encoding="utf-8")
    with pytest.raises(CommandError) as caught:
        call_command("scoring", "import", "--supervision", str(path))
    assert caught.value.returncode == 2
    message = str(caught.value)
    assert "没有 E 级" in message and "NOPE" in message and "ZB-NONE" in message
    assert not InspectionRatio.objects.exists()
