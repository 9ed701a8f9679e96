"""信用报告 from the portal: anyone downloads an organisation's report (channel 门户网站), never a
person's (404); rate-limited per client address with a Chinese 429 page."""

from __future__ import annotations

import hashlib

import pytest

from pubcredit.publicity.public import subject_ref
from pubcredit.reports.models import Report
from pubcredit.testing.factories import make_org, make_person, make_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def org(db):
    make_world()
    return make_org("淄博门户报告有限公司", serial=21)


def _download(client, subject, address="127.0.0.1", **form):
    return client.post(
        f"/subjects/{subject_ref(subject)}/report/",
        {"kind": "standard", **form},
        REMOTE_ADDR=address,
    )


def test_the_organisation_page_offers_both_reports(client, org):
    text = client.get(f"/subjects/{org.pk}/").content.decode()
    assert "下载信用报告" in text
    assert 'value="standard"' in text and 'value="no_violation"' in text
    assert f'action="/subjects/{org.pk}/report/"' in text


def test_anyone_downloads_an_organisations_report(client, org):
    response = _download(client, org)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    data = b"".join(response.streaming_content)
    assert data.startswith(b"%PDF")
    report = Report.objects.get()
    assert hashlib.sha256(data).hexdigest() == report.pdf_sha256
    assert (report.channel, report.requested_by, report.client_address) == (
        "portal",
        "public",
        "127.0.0.1",
    )
    assert report.number in response["Content-Disposition"]


def test_a_no_violation_report_from_the_portal(client, org):
    response = _download(
        client, org, kind="no_violation", period_from="2024-01-01", period_to="2025-12-31"
    )
    assert response.status_code == 200
    report = Report.objects.get()
    assert report.kind == "no_violation"
    assert (str(report.period_from), str(report.period_to)) == ("2024-01-01", "2025-12-31")

    bad = _download(
        client, org, kind="no_violation", period_from="2025-01-01", period_to="2024-01-01"
    )
    assert bad.status_code == 400 and "起始日期不能晚于截止日期" in bad.content.decode()
    assert Report.objects.count() == 1


def test_never_a_persons_report(client, org):
    person = make_person("赵门户", seq=777)
    page = client.get(f"/subjects/{subject_ref(person)}/")
    assert page.status_code == 200 and "下载信用报告" not in page.content.decode()
    assert _download(client, person).status_code == 404
    # A person's plain id never resolves either.
    assert client.post(f"/subjects/{person.pk}/report/", {"kind": "standard"}).status_code == 404
    assert not Report.objects.exists()


def test_downloads_are_rate_limited_per_address(client, org, settings):
    settings.PUBCREDIT_PUBLIC_REPORT_RATE = "2/60"
    assert _download(client, org).status_code == 200
    assert _download(client, org).status_code == 200
    refused = _download(client, org)
    assert refused.status_code == 429
    text = refused.content.decode()
    assert "下载信用报告过于频繁" in text and "每 60 秒最多下载 2 份信用报告" in text
    assert int(refused["Retry-After"]) >= 1
    assert Report.objects.count() == 2
    # Another address is not held back.
    assert _download(client, org, address="10.0.0.9").status_code == 200


def test_a_get_is_not_a_download(client, org):
    assert client.get(f"/subjects/{org.pk}/report/").status_code == 405
