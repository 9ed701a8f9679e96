# ruff: noqa: F811 (pytest fixtures imported from the kits)
"""Console pages of credit lists: the entries list (scoped by "lists.identify"), the entry page
with its history and documents, the 认定 form (subject by 统一社会信用代码 or 身份证号, documents
uploaded with the entry) and the 移出 form."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from pubcredit.accounts.models import AuditEvent, Role
from pubcredit.lists.models import EntrySource, EntryStatus, ListEntry, ListEntryDocument
from pubcredit.lists.tests.filekit import (  # noqa: F401 (fixtures)
    _fast_password_hasher,
    clerk_user,
    department,
    list_csv,
    make_user,
    media,
    org_row,
    ric,
    today,
    uscc,
    world,
)
from pubcredit.measures.applicability import applicable_measures
from pubcredit.testing.listkit import identify, seeded  # noqa: F401 (fixtures)

pytestmark = pytest.mark.django_db

LIST = reverse("console:lists:entry_list")
IDENTIFY = reverse("console:lists:identify")
PDF = b"%PDF-1.4 decision of the department\n%%EOF\n"
RECENT = today() - dt.timedelta(days=10)


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def org(seeded, system):
    from pubcredit.subjects.services import register_subject

    return register_subject(system, kind="org", name="淄博认定测试有限公司", uscc=uscc(501))


@pytest.fixture
def person(seeded, system):
    from pubcredit.subjects.services import register_subject

    return register_subject(system, kind="person", name="赵建国", id_number=ric(502))


@pytest.fixture
def rsj_clerk(seeded):
    return clerk_user("ZB-RSJ")


def decision(**values) -> dict:
    data = {
        "list_type": "BLK_WAGE_ARREARS",
        "subject": uscc(501),
        "basis": "《保障农民工工资支付条例》第四十八条:拖欠农民工工资数额较大",
        "document_number": "淄人社失信〔2025〕7号",
        "decided_on": (today() - dt.timedelta(days=3)).isoformat(),
        "valid_from": "",
        "valid_to": "",
        "documents": [SimpleUploadedFile("认定决定书.pdf", PDF, "application/pdf")],
    }
    data.update(values)
    return data


# --------------------------------------------------------------------------- who may


@pytest.mark.parametrize("role", [Role.WINDOW_CLERK, Role.DISTRICT_ADMIN])
def test_roles_without_lists_identify_are_refused(seeded, system, org, role):
    extra = {"district_id": "370303"} if role == Role.DISTRICT_ADMIN else {}
    if role == Role.DISTRICT_ADMIN:
        from pubcredit.catalog.models import Region

        Region.objects.get_or_create(code="370303", defaults={"name": "张店区", "level": "county"})
    client = logged_in(make_user(f"u-{role}", role, **extra))
    entry = identify(system, org, "BLK_WAGE_ARREARS", decided_on=RECENT, today=today())
    for url in (
        LIST,
        IDENTIFY,
        reverse("console:lists:entry_detail", args=[entry.pk]),
    ):
        assert client.get(url).status_code == 403, url
    assert client.post(IDENTIFY, decision()).status_code == 403
    remove = reverse("console:lists:entry_remove", args=[entry.pk])
    assert client.post(remove, {"reason": "试图移出"}).status_code == 403
    entry.refresh_from_db()
    assert entry.status == EntryStatus.PUBLISHED
    # …and the navigation does not offer the pages.
    assert LIST not in client.get(reverse("console:dashboard")).content.decode()


def test_anonymous_visitors_are_sent_to_the_login(seeded):
    response = Client().get(LIST)
    assert response.status_code == 302 and "login" in response["Location"]


def test_a_department_clerk_sees_and_removes_only_its_departments_entries(
    seeded, system, org, rsj_clerk, make_subject
):
    own = identify(
        system,
        org,
        "BLK_WAGE_ARREARS",
        department=department("ZB-RSJ"),
        decided_on=RECENT,
        today=today(),
    )
    other_subject = make_subject(name="淄博别家有限公司")
    other = identify(
        system, other_subject, "BLK_FOOD_DRUG", department=department("ZB-SCJG"), today=today()
    )
    client = logged_in(rsj_clerk)
    html = client.get(LIST).content.decode()
    assert "淄博认定测试有限公司" in html and "淄博别家有限公司" not in html
    assert "信用名单" in client.get(reverse("console:dashboard")).content.decode()
    assert client.get(reverse("console:lists:entry_detail", args=[own.pk])).status_code == 200
    assert client.get(reverse("console:lists:entry_detail", args=[other.pk])).status_code == 404
    response = client.post(
        reverse("console:lists:entry_remove", args=[other.pk]), {"reason": "不是本部门的"}
    )
    assert response.status_code == 404
    other.refresh_from_db()
    assert other.status == EntryStatus.PUBLISHED
    # The credit centre sees both.
    staff = logged_in(make_user("centre", Role.CENTRE_STAFF))
    html = staff.get(LIST).content.decode()
    assert "淄博认定测试有限公司" in html and "淄博别家有限公司" in html


def test_filters_by_kind_type_and_status(seeded, system, org, make_subject):
    identify(system, org, "BLK_WAGE_ARREARS", decided_on=RECENT, today=today())
    red = make_subject(name="淄博红名单有限公司")
    identify(system, red, "RED_TAX_A", decided_on=RECENT, today=today())
    gone = make_subject(name="淄博已移出有限公司")
    from pubcredit.lists.services import remove_entry

    remove_entry(
        system,
        identify(system, gone, "BLK_FOOD_DRUG", decided_on=RECENT, today=today()),
        "认定撤销",
    )
    client = logged_in(make_user("centre", Role.CENTRE_STAFF))

    def names(**params) -> set[str]:
        html = client.get(LIST, params).content.decode()
        return {
            n
            for n in ("淄博认定测试有限公司", "淄博红名单有限公司", "淄博已移出有限公司")
            if n in html
        }

    assert names(kind="red") == {"淄博红名单有限公司"}
    assert names(kind="black") == {"淄博认定测试有限公司", "淄博已移出有限公司"}
    assert names(list_type="BLK_FOOD_DRUG") == {"淄博已移出有限公司"}
    assert names(status="published") == {"淄博认定测试有限公司", "淄博红名单有限公司"}
    assert names(status="removed") == {"淄博已移出有限公司"}
    assert names(q=uscc(501)) == {"淄博认定测试有限公司"}
    assert names(q="红名单") == {"淄博红名单有限公司"}


# --------------------------------------------------------------------------- 认定


def test_identify_by_uscc_stores_the_documents_and_shows_the_history(seeded, org, rsj_clerk, media):
    client = logged_in(rsj_clerk)
    page = client.get(IDENTIFY)
    assert page.status_code == 200
    html = page.content.decode()
    assert "拖欠农民工工资失信联合惩戒对象" in html and 'name="department"' not in html
    second = SimpleUploadedFile("送达回证.jpg", b"\xff\xd8\xff jpeg", "image/jpeg")
    data = decision(
        documents=[SimpleUploadedFile("认定决定书.pdf", PDF, "application/pdf"), second],
        department="ZB-SCJG",  # not offered to a clerk; ignored
    )
    response = client.post(IDENTIFY, data)
    entry = ListEntry.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("console:lists:entry_detail", args=[entry.pk])
    assert entry.identified_by.code == "ZB-RSJ"
    assert (entry.source, entry.status) == (EntrySource.CONSOLE, EntryStatus.PUBLISHED)
    assert entry.document_number == "淄人社失信〔2025〕7号"
    assert entry.valid_from == today() - dt.timedelta(days=3)
    assert entry.created_by == rsj_clerk.username
    documents = list(ListEntryDocument.objects.filter(entry=entry).order_by("id"))
    assert [d.name for d in documents] == ["认定决定书.pdf", "送达回证.jpg"]
    with documents[0].file.open("rb") as fh:
        assert fh.read() == PDF
    assert documents[0].file.name.startswith(f"lists/{entry.pk}/")
    assert AuditEvent.objects.filter(action="lists.identify", object_id=str(entry.pk)).exists()
    assert [h.code for h in applicable_measures(entry.subject_id, None, today()).hits] == [
        "BLK_WAGE_ARREARS"
    ]

    html = client.get(response["Location"]).content.decode()
    assert "已认定" in html  # the success message
    assert "淄人社失信〔2025〕7号" in html and "认定决定书.pdf" in html
    assert "变更历史" in html and "已公示" in html and rsj_clerk.username in html
    download = client.get(
        reverse("console:lists:document_download", args=[entry.pk, documents[0].pk])
    )
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == PDF
    assert "attachment" in download["Content-Disposition"]
    # Another department's clerk cannot fetch the document.
    stranger = logged_in(clerk_user("ZB-SCJG"))
    url = reverse("console:lists:document_download", args=[entry.pk, documents[0].pk])
    assert stranger.get(url).status_code == 404


def test_identify_a_person_by_id_number_shows_the_person_masked(seeded, person, rsj_clerk, media):
    client = logged_in(rsj_clerk)
    response = client.post(IDENTIFY, decision(subject=ric(502).lower()))
    assert response.status_code == 302, response.content.decode()
    entry = ListEntry.objects.get()
    assert entry.subject == person
    detail = client.get(response["Location"]).content.decode()
    listing = client.get(LIST).content.decode()
    for html in (detail, listing):
        assert "赵**" in html and person.id_masked in html
        assert "赵建国" not in html and ric(502) not in html


def test_centre_staff_identify_for_the_list_types_authority_or_a_chosen_department(
    seeded, org, media
):
    client = logged_in(make_user("centre", Role.CENTRE_STAFF))
    assert 'name="department"' in client.get(IDENTIFY).content.decode()
    assert client.post(IDENTIFY, decision()).status_code == 302
    assert ListEntry.objects.get().identified_by.code == "ZB-RSJ"  # the list type's authority


def test_identify_form_errors(seeded, system, org, person, rsj_clerk, media):
    client = logged_in(rsj_clerk)

    def errors(**values) -> str:
        response = client.post(IDENTIFY, decision(**values))
        assert response.status_code == 422
        return response.content.decode()

    unknown = uscc(599)
    assert f"主体库中没有统一社会信用代码为 {unknown} 的主体" in errors(subject=unknown)
    bad = uscc(501)[:-1] + ("0" if uscc(501)[-1] != "0" else "1")
    assert "校验" in errors(subject=bad)
    assert "请上传认定决定书等认定材料" in errors(documents=[])
    assert "类型不支持" in errors(
        documents=[SimpleUploadedFile("a.exe", b"MZ", "application/octet-stream")]
    )
    assert "请填写认定依据" in errors(basis="")
    assert "认定日期不能晚于今天" in errors(decided_on=(today() + dt.timedelta(days=1)).isoformat())
    assert "不适用于自然人" in errors(list_type="RED_TAX_A", subject=ric(502))
    assert "有效期至不能早于有效期自" in errors(
        valid_from=today().isoformat(), valid_to=(today() - dt.timedelta(days=10)).isoformat()
    )
    assert not ListEntry.objects.exists() and not ListEntryDocument.objects.exists()
    # Identified once; a second identification for an overlapping period is refused.
    assert client.post(IDENTIFY, decision()).status_code == 302
    assert "有效期重叠" in errors()
    assert ListEntry.objects.count() == 1


# --------------------------------------------------------------------------- 移出


def test_remove_with_a_reason_ends_the_entry_and_shows_in_its_history(
    seeded, system, org, rsj_clerk
):
    entry = identify(
        system,
        org,
        "BLK_WAGE_ARREARS",
        department=department("ZB-RSJ"),
        decided_on=RECENT,
        today=today(),
    )
    client = logged_in(rsj_clerk)
    url = reverse("console:lists:entry_remove", args=[entry.pk])
    missing = client.post(url, {"reason": " "})
    assert missing.status_code == 422 and "请填写移出原因" in missing.content.decode()
    assert client.get(url).status_code == 405
    response = client.post(url, {"reason": "已足额支付拖欠工资,信用修复后移出"})
    assert response.status_code == 302
    entry.refresh_from_db()
    assert entry.status == EntryStatus.REMOVED
    assert entry.status_reason == "已足额支付拖欠工资,信用修复后移出"
    assert not applicable_measures(org.pk, None, today()).hits
    html = client.get(response["Location"]).content.decode()
    assert "已移出" in html and "已足额支付拖欠工资,信用修复后移出" in html
    assert 'action="' + url + '"' not in html  # no second removal
    again = client.post(url, {"reason": "再次移出"})
    assert again.status_code == 302
    page = client.get(again["Location"]).content.decode()
    assert "只有公示中的条目可以移出" in page


def test_a_clerk_uploads_a_black_list_file_in_the_console(world, media):
    """The list categories are offered on the upload page; the clerk confirms the proposed
    mapping, the file is loaded, and its entry links back to the submission."""
    from pubcredit.catalog.models import Category
    from pubcredit.intake.models import Submission

    user = clerk_user("ZB-RSJ")
    client = logged_in(user)
    upload = reverse("console:intake:upload")
    html = client.get(upload).content.decode()
    for name in (
        "守信激励对象名单(红名单)",
        "严重失信主体名单",
        "失信被执行人信息",
        "经营异常名录",
    ):
        assert name in html, name
    row = org_row(503, "ZB-RSJ", MD_LX="拖欠农民工工资失信联合惩戒对象")
    data = list_csv("YZSX", [row])
    yzsx = Category.objects.get(code="YZSX")
    response = client.post(
        upload,
        {
            "department": department("ZB-RSJ").pk,
            "category": yzsx.pk,
            "file": SimpleUploadedFile("拖欠工资失信名单.csv", data, "text/csv"),
        },
    )
    assert response.status_code == 302 and "/mapping/" in response["Location"]
    assert "名单类型" in client.get(response["Location"]).content.decode()
    confirm = {f"col-{i}": code for i, code in enumerate(row)}
    response = client.post(response["Location"], confirm)
    submission = Submission.objects.get()
    assert response["Location"] == reverse("console:intake:submission_detail", args=[submission.pk])
    assert (submission.status, submission.accepted) == (Submission.Status.DONE, 1)
    entry = ListEntry.objects.get()
    assert entry.list_type.code == "BLK_WAGE_ARREARS" and entry.identified_by.code == "ZB-RSJ"
    html = client.get(reverse("console:lists:entry_detail", args=[entry.pk])).content.decode()
    assert "归集报送" in html and "淄博名单测试503有限公司" in html
    assert reverse("console:intake:submission_detail", args=[submission.pk]) in html
    assert "第 2 行" in html
