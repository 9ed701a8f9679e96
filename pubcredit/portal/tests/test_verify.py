"""报告核验 on the portal: /verify/<number> (the printed address) and the upload form."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from pubcredit.accounts.models import Role
from pubcredit.accounts.permissions import Principal
from pubcredit.reports import services
from pubcredit.reports.models import Report, ReportChannel
from pubcredit.testing.factories import make_org, make_person, make_world

pytestmark = pytest.mark.django_db

UNKNOWN = "XYBG20260101ABCDEFGHJKMN"


@pytest.fixture
def issued(system):
    return services.issue(system, make_org("淄博门户核验有限公司"), channel=ReportChannel.PORTAL)


def _upload(client, data: bytes, name: str = "report.pdf"):
    return client.post(
        "/verify/", {"pdf": SimpleUploadedFile(name, data, content_type="application/pdf")}
    )


def test_the_printed_address_shows_a_valid_report(client, issued, settings):
    settings.PUBCREDIT_PUBLIC_URL = "https://credit.example"
    path = services.verify_url(issued.number).removeprefix("https://credit.example")
    assert path == f"/verify/{issued.number}"
    response = client.get(path)
    assert response.status_code == 200
    html = response.content.decode()
    assert '<p class="verdict-mark" id="verify-verdict">有效</p>' in html
    assert "淄博门户核验有限公司" in html
    assert issued.pdf_sha256 in html
    assert (timezone.localdate() + dt.timedelta(days=30)).isoformat() in html
    assert "出具后该主体的公共信用信息未发生变化" in html
    assert 'id="verify-upload-form"' in html
    assert "no-cache" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]


def test_slashed_and_lower_case_addresses_lead_to_the_report(client, issued):
    response = client.get(f"/verify/{issued.number}/")
    assert response.status_code == 301 and response["Location"] == f"/verify/{issued.number}"
    response = client.get(f"/verify/{issued.number.lower()}")
    assert response.status_code == 302 and response["Location"] == f"/verify/{issued.number}"
    response = client.get("/verify/", {"number": f" {issued.number.lower()} "})
    assert response.status_code == 302 and response["Location"] == f"/verify/{issued.number}"


def test_expired_and_unknown_reports(client, issued):
    Report.objects.filter(pk=issued.pk).update(
        valid_until=timezone.localdate() - dt.timedelta(days=3)
    )
    html = client.get(f"/verify/{issued.number}").content.decode()
    assert '<p class="verdict-mark" id="verify-verdict">已过期</p>' in html
    response = client.get(f"/verify/{UNKNOWN}")
    assert response.status_code == 404
    assert '<p class="verdict-mark" id="verify-verdict">不存在</p>' in response.content.decode()
    response = client.get("/verify/", {"number": "随便写的"})
    assert response.status_code == 404 and "不存在" in response.content.decode()


def test_a_persons_report_is_verified_masked(client):
    world = make_world()
    staff = Principal.of(world.users[Role.CENTRE_STAFF])
    report = services.issue(staff, make_person("王小明"), purpose="本人申请出具报告")
    html = client.get(f"/verify/{report.number}").content.decode()
    assert "王**" in html and "王小明" not in html


def test_upload_of_the_issued_file_and_of_a_tampered_one(client, issued):
    data = issued.pdf.read()
    html = _upload(client, data).content.decode()
    assert '<p class="verdict-mark" id="upload-verdict">文件一致</p>' in html
    assert f"该文件与本平台出具的报告 {issued.number} 完全一致,未被篡改" in html

    at = data.index(b"(pubcredit)") + len("(pubcredi")
    tampered = data[:at] + b"X" + data[at + 1 :]
    html = _upload(client, tampered).content.decode()
    assert '<p class="verdict-mark" id="upload-verdict">核验未通过</p>' in html
    assert "文件在出具后已被修改" in html
    assert f'href="/verify/{issued.number}"' in html  # the report it claims to be


def test_uploads_that_are_refused_with_a_clear_message(client, issued):
    html = _upload(client, "一份表格".encode(), "x.xlsx").content.decode()
    assert "该文件不是 PDF 文件" in html
    html = client.post("/verify/", {}).content.decode()
    assert "请选择要核验的 PDF 报告文件" in html
    big = b"%PDF-1.4\n" + b"0" * (20 * 1024 * 1024 + 1)
    html = _upload(client, big).content.decode()
    assert "文件超过 20 MB" in html


def test_the_verify_pages_are_rate_limited(client, issued, settings):
    settings.PUBCREDIT_PUBLIC_RATE = "3/60"
    for _ in range(3):
        assert client.get(f"/verify/{issued.number}").status_code == 200
    response = client.get(f"/verify/{issued.number}")
    assert response.status_code == 429 and "请求过于频繁" in response.content.decode()
    assert _upload(client, issued.pdf.read()).status_code == 429
    assert client.get(f"/verify/{issued.number}", REMOTE_ADDR="10.0.0.9").status_code == 200


def test_the_public_json_of_a_report(client, issued, settings):
    settings.PUBCREDIT_PUBLIC_URL = "https://credit.example"
    response = client.get(f"/api/v1/public/reports/{issued.number}")
    assert response.status_code == 200
    body = response.json()
    assert body["number"] == issued.number and body["subject_name"] == "淄博门户核验有限公司"
    assert body["valid"] is True and body["status"] == "有效"
    assert body["valid_until"] == (timezone.localdate() + dt.timedelta(days=30)).isoformat()
    assert body["pdf_sha256"] == issued.pdf_sha256
    assert body["changed"] is False
    assert body["verify_url"] == f"https://credit.example/verify/{issued.number}"
    response = client.get(f"/api/v1/public/reports/{UNKNOWN}")
    assert response.status_code == 404 and response.json()["code"] == "not_found"
