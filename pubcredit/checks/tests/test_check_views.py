"""Console pages of credit checks: the window page (type or scan a code), the result with its
feedback form, the printable 核查结果 sheet, batches, notifications and statistics."""

from __future__ import annotations

import io

import pytest
from django.test import Client
from django.urls import reverse

from pubcredit.checks.models import CheckFeedback, CreditCheck
from pubcredit.testing.checkkit import (  # noqa: F401 (fixtures)
    accounts_fixture,
    black_now,
    person_fixture,
)

pytestmark = pytest.mark.usefixtures("seeded")


@pytest.fixture
def clerk_client(accounts):
    client = Client()
    client.force_login(accounts["clerk"])
    return client


def test_window_check_by_scanned_code_shows_result_and_prints(clerk_client, system, make_subject):
    company = make_subject()
    black_now(system, company)
    page = clerk_client.get(reverse("console:checks:window"))
    assert page.status_code == 200
    assert "政府采购" in page.content.decode()
    # A scanner types the code with spaces/lower case; it is recognised as a USCC.
    scanned = " ".join([company.uscc[:9], company.uscc[9:].lower()])
    response = clerk_client.post(
        reverse("console:checks:window"), {"query": scanned, "matter": "GOV_PROCUREMENT"}
    )
    check = CreditCheck.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("console:checks:result", args=[check.pk])
    assert check.channel == "window" and check.client == "市政务服务中心公共资源交易窗口"
    html = clerk_client.get(response["Location"]).content.decode()
    assert "该主体在严重失信主体名单内" in html
    assert "限制参与政府采购" in html
    assert "法律法规和政策依据" in html
    sheet = clerk_client.get(reverse("console:checks:print", args=[check.pk])).content.decode()
    assert "信用核查结果单" in sheet
    assert check.number in sheet
    assert check.checked_at.astimezone().strftime("%Y-%m-%d") in sheet
    assert 'id="print-button"' in sheet


def test_window_matter_list_shows_chinese_names_not_codes(clerk_client):
    html = clerk_client.get(reverse("console:checks:window")).content.decode()
    assert '<option value="GOV_PROCUREMENT">政府采购</option>' in html
    assert '<option value="CIVIL_SERVICE_HIRING">公职人员录用</option>' in html
    # The stable English codes are the submitted values only, never the text a clerk reads.
    assert "(GOV_PROCUREMENT)" not in html
    assert ">GOV_PROCUREMENT" not in html


def test_window_errors_are_shown_in_chinese(clerk_client, make_subject, person):
    company = make_subject()
    wrong = company.uscc[:-1] + ("0" if company.uscc[-1] != "0" else "1")
    html = clerk_client.post(
        reverse("console:checks:window"), {"query": wrong, "matter": "GOV_PROCUREMENT"}
    ).content.decode()
    assert "校验" in html and not CreditCheck.objects.exists()
    _subject, ric = person()
    response = clerk_client.post(
        reverse("console:checks:window"), {"query": ric, "matter": "EXIT_ENTRY"}
    )
    assert response.status_code == 302
    assert CreditCheck.objects.get().query_kind == "id"
    assert ric not in clerk_client.get(response["Location"]).content.decode()


def test_feedback_from_the_result_page_counts_in_statistics(
    clerk_client, accounts, system, make_subject
):
    company = make_subject()
    black_now(system, company)
    clerk_client.post(
        reverse("console:checks:window"), {"query": company.uscc, "matter": "GOV_PROCUREMENT"}
    )
    check = CreditCheck.objects.get()
    response = clerk_client.post(
        reverse("console:checks:feedback", args=[check.pk]),
        {"applied_P_RESTRICT_PROCUREMENT": "yes", "note_P_RESTRICT_PROCUREMENT": "不予受理"},
    )
    assert response.status_code == 302
    row = CheckFeedback.objects.get()
    assert row.applied and row.note == "不予受理" and row.user == accounts["clerk"]

    centre = Client()
    centre.force_login(accounts["centre"])
    html = centre.get(reverse("console:checks:stats")).content.decode()
    assert "市政务服务中心公共资源交易窗口" in html
    assert 'id="cases-chart"' in html and 'id="cases-data"' in html
    assert 'id="cases-punishment">1<' in html
    assert "echarts.min.js" in html


def test_batch_upload_page(clerk_client, system, make_subject, django_capture_on_commit_callbacks):
    company = make_subject()
    f = io.BytesIO(f"统一社会信用代码\n{company.uscc}\n".encode())
    f.name = "名单.csv"
    with django_capture_on_commit_callbacks(execute=True):
        response = clerk_client.post(
            reverse("console:checks:batches"), {"file": f, "matter": "HONOURS"}
        )
    assert response.status_code == 302
    html = clerk_client.get(reverse("console:checks:batches")).content.decode()
    assert "名单.csv" in html and "下载结果" in html
    from pubcredit.checks.models import CheckBatch

    batch = CheckBatch.objects.get()
    download = clerk_client.get(reverse("console:checks:batch_download", args=[batch.pk]))
    assert download.status_code == 200
    assert company.uscc.encode() in b"".join(download.streaming_content)


def test_notifications_page_and_mark_read(clerk_client, accounts, system, make_subject):
    from pubcredit.checks.notices import notify_checkers

    company = make_subject()
    clerk_client.post(
        reverse("console:checks:window"), {"query": company.uscc, "matter": "HONOURS"}
    )
    entry = black_now(system, company)
    notify_checkers([entry.pk])
    html = clerk_client.get(reverse("console:checks:notifications")).content.decode()
    assert company.name in html and "未读" in html
    from pubcredit.checks.models import CheckNotification

    note = CheckNotification.objects.get()
    clerk_client.post(reverse("console:checks:notifications"), {"ids": [str(note.pk)]})
    note.refresh_from_db()
    assert note.read_at is not None and note.read_by == "window1"


def test_pages_need_the_checks_role(accounts):
    client = Client()
    client.force_login(accounts["submitter"])
    assert client.get(reverse("console:checks:window")).status_code == 403
    clerk = Client()
    clerk.force_login(accounts["clerk"])
    html = clerk.get(reverse("console:dashboard")).content.decode()
    assert reverse("console:checks:window") in html  # the nav lists the page
    other = Client()
    other.force_login(accounts["clerk2"])
    assert other.get(reverse("console:checks:result", args=[999999])).status_code == 404
